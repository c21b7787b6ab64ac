"""UI test set-up: offscreen Qt, throw-away settings, tiny models and images, and a check that every
worker thread the UI started has ended after each test (the factories they use: tests/ui/factories.py)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")

import pytest
import torch

from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.model_file import save_model
from tests.factories import wait_until
from tests.ui.factories import TINY, FakeDetector, write_image


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """QSettings go to a file of this test only, never the user's settings."""
    monkeypatch.setenv("G2G_SETTINGS_FILE", str(tmp_path / "settings.ini"))


@pytest.fixture(autouse=True)
def no_workers_left():
    """Fail a test that leaves a render, task or training thread running (napari's conftest does this)."""
    yield
    from g2g_desktop.ui.threads import running_workers

    wait_until(lambda: not running_workers(), timeout=20)  # a training run's last checkpoint, on a loaded CI
    assert running_workers() == [], f"worker threads still running: {running_workers()}"


@pytest.fixture
def tiny_model(tmp_path):
    """A random-init tiny FUNIT generator. At plain Kaiming init the identity code barely moves the output
    (pooled class codes of any two images are nearly equal), so the weight matrices of E_B and the MLP are
    scaled up: then a different identity visibly changes the mix, as in a trained model."""
    torch.manual_seed(0)
    generator = FunitGenerator(TINY)
    with torch.no_grad():
        for module in (generator.enc_class_model, generator.mlp):
            for p in module.parameters():
                if p.dim() > 1:
                    p.mul_(3.0)
    path = tmp_path / "tiny.safetensors"
    save_model(path, generator, approach="funit2funit", step=3)
    return path


@pytest.fixture
def procedural_model(tmp_path):
    """A random-init tiny model whose file says it was trained on the procedural faces (alignment off)."""
    torch.manual_seed(0)
    path = tmp_path / "procedural.safetensors"
    save_model(path, FunitGenerator(TINY), approach="funit2funit", provenance={"data": "procedural:8:4"})
    return path


@pytest.fixture
def image_files(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    return [write_image(folder / f"person{i}.png", seed=i) for i in range(3)]


@pytest.fixture
def window(qtbot):
    """A shown main window with throw-away settings and a fake face detector (no MTCNN)."""
    from g2g_desktop.ui.main_window import MainWindow
    from g2g_desktop.ui.settings import AppSettings

    win = MainWindow(AppSettings(), detector=FakeDetector())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training_panel.shutdown()  # a run a test started stops here; `no_workers_left` then waits for its thread
    win.close()
