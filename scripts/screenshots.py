"""Take the screenshots of docs/app.md from the real app: `xvfb-run -a python scripts/screenshots.py`.

Runs the app with the bundled default model and sample images, drives it like a user would (drop,
fade, swap matrix, a short training run, the light theme) and saves `QWidget.grab()` images into
docs/images/. Settings go to a temporary file, so the user's own settings are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def wait_until(app, condition, timeout: float = 180.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNG files")
    parser.add_argument("--train-steps", type=int, default=12, help="steps of the short training run shown")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="g2g_shots_"))
    os.environ["G2G_SETTINGS_FILE"] = str(scratch / "settings.ini")
    os.environ.setdefault("G2G_DEVICE", "cpu")

    from PySide6.QtWidgets import QApplication

    from g2g_desktop.core.resources import default_model_path, sample_paths
    from g2g_desktop.ui.app import create_window
    from g2g_desktop.ui.settings import AppSettings
    from g2g_desktop.ui.theme import apply_theme

    if not default_model_path().is_file() or len(sample_paths()) < 2:
        print(f"need the default model ({default_model_path()}) and two sample images: build them first",
              file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = AppSettings()
    apply_theme(app, "dark")

    def shot(widget, name: str) -> None:
        settle(app)
        path = out / name
        widget.grab().save(str(path))
        print(f"wrote {path}")

    # 1. Empty state: no model found.
    empty = create_window(scratch / "no_model.safetensors", settings)
    empty.resize(1100, 700)
    empty.show()
    shot(empty, "empty_state.png")
    empty.close()

    # 2. The grid with the default model and the first two samples.
    window = create_window(default_model_path(), settings)
    window.resize(1400, 900)
    window.show()
    c = window.controller
    wait_until(app, lambda: "grid" in c.last, what="the first grid")
    shot(window, "main_window.png")

    # 3. Fading: image 1 half-way, image 2 extrapolated.
    window.sliders.sliders[0].setValue(50)
    window.sliders.sliders[1].setValue(140)
    wait_until(app, lambda: c.last["grid"].request.alphas == (0.5, 1.4), what="the faded grid")
    shot(window.centralWidget(), "fade_sliders.png")
    c.reset_alphas()

    # 4. All samples: gallery and swap matrix.
    c.open_paths([str(p) for p in sample_paths()[2:]])
    wait_until(app, lambda: len(c.session.images) >= min(5, len(sample_paths())), what="the samples")
    window.tabs.setCurrentWidget(window.matrix_view)
    wait_until(app, lambda: "matrix" in c.last and len(c.last["matrix"].request.image_ids) == len(c.session.images),
               what="the swap matrix")
    shot(window, "swap_matrix.png")
    window.tabs.setCurrentIndex(0)

    # 5. A short training run on the procedural faces with the tiny preset.
    panel = window.training_panel
    window.training_dock.show()
    window.training_dock.raise_()
    form = panel.form
    form.approach.setCurrentIndex(form.approach.findData("naive"))
    form.data.setText("procedural:8:8")
    form.size.setCurrentIndex(0)
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.steps.setValue(args.train_steps)
    form.batch.setValue(4)
    form.preview_every.setValue(2)
    form.out.setText(str(scratch / "run"))
    panel.start()
    wait_until(app, lambda: panel.last_step >= args.train_steps // 2, what="training steps")
    panel.tabs.setCurrentIndex(0)
    shot(window, "training.png")
    panel.tabs.setCurrentIndex(1)
    shot(window.training_dock, "training_preview.png")
    panel.tabs.setCurrentIndex(2)
    shot(window.training_dock, "training_weights.png")
    wait_until(app, lambda: not panel.running(), what="the end of the run")
    panel.tabs.setCurrentIndex(3)
    shot(window.training_dock, "training_log.png")
    panel.tabs.setCurrentIndex(0)

    # 6. The light theme.
    apply_theme(app, "light")
    shot(window, "light_theme.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
