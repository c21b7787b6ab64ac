"""The last session, kept in QSettings: the model, the images (the pair first) and the training form.

On close the window saves what it shows; on the next start `app.main` reopens it unless the command line
names a model or images (or names only images none of which open: then the last session's come back).
Files that are gone since are skipped and named in one note. Same-person groups are kept as lists of
files. Pasted images have no file and are not kept; a copy of the model being trained is kept as the file
the training dock saved it to (`services.models.model_from_snapshot`). Torch-free, so the start-up can
read it before torch loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

MAX_SESSION_IMAGES = 64


@dataclass
class RestoredSession:
    model: Path | None = None
    images: list[Path] = field(default_factory=list)
    missing_model: str | None = None
    missing_images: list[str] = field(default_factory=list)
    groups: list[list[Path]] = field(default_factory=list)  # same-person groups (of the images that exist)

    def note(self, *, model: bool = True, images: bool = True) -> str:
        """One line naming the files of the parts reopened (`model`, `images`) that are gone, or ""."""
        missing = [self.missing_model] if model and self.missing_model else []
        missing += self.missing_images if images else []
        if not missing:
            return ""
        names = ", ".join(os.path.basename(p) or p for p in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return f"From the last session, {len(missing)} file(s) no longer exist and were skipped: {names}{more}."


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value if v]  # type: ignore[union-attr]


def save_session(
    qsettings: QSettings,
    model: str | os.PathLike | None,
    images: Sequence[str | os.PathLike],
    pair: Sequence[str | os.PathLike] = (),
    groups: Sequence[Sequence[str | os.PathLike]] = (),
) -> None:
    """Remember `model` (None keeps the one saved before) and `images`, with the two of `pair` first, and the
    same-person `groups` (lists of image files)."""
    if model is not None:
        qsettings.setValue("session/model", os.path.abspath(os.fspath(model)))
    ordered = [os.path.abspath(os.fspath(p)) for p in pair]
    ordered += [p for p in (os.path.abspath(os.fspath(i)) for i in images) if p not in ordered]
    qsettings.setValue("session/images", ordered[:MAX_SESSION_IMAGES])
    kept = [[os.path.abspath(os.fspath(p)) for p in group] for group in groups]
    qsettings.setValue("session/groups", json.dumps([g for g in kept if len(g) > 1]))


def restore_session(qsettings: QSettings) -> RestoredSession:
    restored = RestoredSession()
    model = _strings(qsettings.value("session/model"))
    if model:
        if os.path.isfile(model[0]):
            restored.model = Path(model[0])
        else:
            restored.missing_model = model[0]
    for path in _strings(qsettings.value("session/images")):
        if os.path.isfile(path):
            restored.images.append(Path(path))
        else:
            restored.missing_images.append(path)
    try:
        groups = json.loads(str(qsettings.value("session/groups", "[]")))
    except ValueError:  # hand-edited settings: no groups rather than no start
        groups = []
    opened = set(map(str, restored.images))
    for group in groups if isinstance(groups, list) else []:
        kept = [Path(p) for p in group if isinstance(p, str) and p in opened] if isinstance(group, list) else []
        if len(kept) > 1:
            restored.groups.append(kept)
    return restored


# ---------------------------------------------------------------------------------------- forms
def form_values(form: QWidget) -> dict[str, object]:
    """The editable fields of `form` (its attributes that are line edits, combo boxes, spin and check boxes)."""
    values: dict[str, object] = {}
    for name, widget in vars(form).items():
        if isinstance(widget, QLineEdit):
            values[name] = widget.text()
        elif isinstance(widget, QComboBox):
            data = widget.currentData()
            values[name] = widget.currentText() if data is None else data
        elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            values[name] = widget.value()
        elif isinstance(widget, QCheckBox):
            values[name] = widget.isChecked()
    return values


def set_form_values(form: QWidget, values: dict[str, object]) -> None:
    """Put saved `values` back; a name the form no longer has, or a value it no longer offers, is ignored."""
    for name, value in values.items():
        widget = getattr(form, name, None)
        if isinstance(widget, QLineEdit):
            widget.setText(str(value))
        elif isinstance(widget, QComboBox):
            index = widget.findData(value)
            if index < 0:
                index = widget.findData(_number(value))
            if index < 0:
                index = widget.findText(str(value))
            if index >= 0:
                widget.setCurrentIndex(index)
        elif isinstance(widget, QSpinBox):
            number = _number(value)
            if isinstance(number, (int, float)):
                widget.setValue(int(number))
        elif isinstance(widget, QDoubleSpinBox):
            number = _number(value)
            if isinstance(number, (int, float)):
                widget.setValue(float(number))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(value in (True, "true", "1", 1))


def _number(value: object) -> object:
    """INI files give every value back as a string."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                continue
    return value


def save_form(qsettings: QSettings, key: str, form: QWidget) -> None:
    qsettings.beginGroup(f"forms/{key}")
    qsettings.remove("")
    for name, value in form_values(form).items():
        qsettings.setValue(name, value)
    qsettings.endGroup()


def restore_form(qsettings: QSettings, key: str, form: QWidget) -> None:
    qsettings.beginGroup(f"forms/{key}")
    values = {name: qsettings.value(name) for name in qsettings.childKeys()}
    qsettings.endGroup()
    set_form_values(form, values)
