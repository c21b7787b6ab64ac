"""Persistent settings (QSettings): window geometry, theme, recent files and folders, per-model alignment,
export choices and the folder each kind of file was last saved to.

`G2G_SETTINGS_FILE` points QSettings at an INI file, which the tests set to a temporary file so they
never read or write the user's settings.
"""

from __future__ import annotations

import contextlib
import enum
import os

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "G2G Desktop"
APPLICATION = "g2g-desktop"
MAX_RECENT = 10


class Theme(str, enum.Enum):
    DARK = "dark"
    LIGHT = "light"


class Recent(str, enum.Enum):
    """The recent lists of the File menu."""

    FILES = "files"
    FOLDERS = "folders"
    MODELS = "models"


def open_settings() -> QSettings:
    path = os.environ.get("G2G_SETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class AppSettings:
    """Typed access to the few values the app remembers."""

    def __init__(self, settings: QSettings | None = None):
        self.qsettings = settings or open_settings()

    # ------------------------------------------------------------------ window and theme
    def geometry(self, screen: str) -> QByteArray | None:
        """The window geometry saved on a screen of this size (`startup.screen_size`); None when it was saved on
        another screen (a window and docks sized for 1024×700 would stay that small on a 1600×1000 screen)."""
        value = self.qsettings.value("window/geometry")
        saved_on = self.qsettings.value("window/screen")
        return value if isinstance(value, QByteArray) and saved_on == screen else None

    def set_geometry(self, geometry: QByteArray, state: QByteArray, screen: str) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.setValue("window/screen", screen)

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def theme(self) -> Theme:
        value = self.qsettings.value("appearance/theme", Theme.DARK.value)
        return Theme(value) if value in {t.value for t in Theme} else Theme.DARK

    def set_theme(self, theme: Theme) -> None:
        self.qsettings.setValue("appearance/theme", Theme(theme).value)

    # ------------------------------------------------------------------ recent lists
    def recent(self, kind: Recent) -> list[str]:
        value = self.qsettings.value(f"recent/{Recent(kind).value}", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def add_recent(self, kind: Recent, path: str | os.PathLike) -> None:
        entry = os.path.abspath(os.fspath(path))  # not resolve(): a symlink loop must not raise here
        items = [entry] + [p for p in self.recent(kind) if p != entry]
        self.qsettings.setValue(f"recent/{Recent(kind).value}", items[:MAX_RECENT])

    # ------------------------------------------------------------------ per-model choices
    @staticmethod
    def _model_key(model_path: str | os.PathLike) -> str:
        return "models/" + os.path.abspath(os.fspath(model_path)).replace("/", "|").replace("\\", "|")

    def alignment(self, model_path: str | os.PathLike, default: bool) -> bool:
        value = self.qsettings.value(self._model_key(model_path) + "/align")
        if value is None:
            return default
        return value in (True, "true", "1", 1)

    def set_alignment(self, model_path: str | os.PathLike, on: bool) -> None:
        self.qsettings.setValue(self._model_key(model_path) + "/align", bool(on))

    # ------------------------------------------------------------------ exports
    def last_folder(self, kind: str) -> str:
        """The folder a file of `kind` ("export", …) was last saved to; "" when none."""
        value = self.qsettings.value(f"folders/{kind}", "")
        return value if isinstance(value, str) and os.path.isdir(value) else ""

    def set_last_folder(self, kind: str, folder: str | os.PathLike) -> None:
        self.qsettings.setValue(f"folders/{kind}", os.path.abspath(os.fspath(folder)))

    def export_choices(self) -> dict[str, object]:
        """What the export dialog last used: scale, smooth, labels, both_mixes, frames (missing: defaults)."""
        out: dict[str, object] = {}
        for key in ("scale", "frames"):
            value = self.qsettings.value(f"export/{key}")
            if value is not None:
                with contextlib.suppress(TypeError, ValueError):
                    out[key] = int(value)
        for key in ("smooth", "labels", "both_mixes"):
            value = self.qsettings.value(f"export/{key}")
            if value is not None:
                out[key] = value in (True, "true", "1", 1)
        return out

    def set_export_choices(self, choices: dict[str, object]) -> None:
        for key, value in choices.items():
            self.qsettings.setValue(f"export/{key}", value)

    def sync(self) -> None:
        self.qsettings.sync()
