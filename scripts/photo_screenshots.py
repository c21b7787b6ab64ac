"""Screenshots of the real-photo features (README, docs/photos.md): `python scripts/photo_screenshots.py`.

Opens ../shared/photos/person_a_1.jpg and person_b_1.jpg in the app with the bundled default model and face
alignment on, waits for the identity meter and the Photo tab, and saves `QWidget.grab()` images into
docs/images/ (photo_meter.png, photo_view.png). Offscreen Qt unless a display is set; settings go to a
temporary file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PHOTOS = ROOT.parent / "shared" / "photos"

from scripts.screenshots import settle, wait_until  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNG files")
    parser.add_argument("--photos", default=str(PHOTOS), help="folder with person_a_1.jpg and person_b_1.jpg")
    args = parser.parse_args(argv)
    if "DISPLAY" not in os.environ:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["G2G_SETTINGS_FILE"] = str(Path(tempfile.mkdtemp()) / "settings.ini")
    from PySide6.QtWidgets import QApplication

    from g2g_desktop.core.resources import default_model_path
    from g2g_desktop.ui.main_window import MainWindow
    from g2g_desktop.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(AppSettings())
    window.resize(1400, 900)
    window.show()
    loaded: list[object] = []
    window.controller.modelLoaded.connect(loaded.append)
    window.controller.open_model(default_model_path())
    wait_until(app, lambda: loaded, what="the default model")
    window.session.set_align(True)
    photos = Path(args.photos)
    window.controller.open_paths([photos / "person_a_1.jpg", photos / "person_b_1.jpg"])
    wait_until(app, lambda: window.controller.last.get("grid") is not None, what="the grid")
    wait_until(app, lambda: window.identity_meter.rows[0][1].alphas, what="the identity meter's curves")
    settle(app, 1.0)
    out = Path(args.out)
    window.grab().save(str(out / "photo_meter.png"))
    window.tabs.setCurrentWidget(window.photo_view)
    wait_until(app, lambda: window.photo_view.photos[0] is not None, what="the pasted photos")
    settle(app, 1.0)
    window.grab().save(str(out / "photo_view.png"))
    print("meter:", " | ".join(window.identity_meter.texts()))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
