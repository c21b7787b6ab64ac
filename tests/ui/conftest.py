"""UI test set-up: offscreen Qt, throw-away settings, tiny models and images, and a check that every
worker thread the UI started has ended after each test."""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")

import numpy as np
import pytest
import torch
from PIL import Image

from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.model_file import save_model
from trainer.presets import preset_sizes

TINY = FunitGeneratorConfig(**preset_sizes("tiny", "funit2funit")[0], image_size=32)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """QSettings go to a file of this test only, never the user's settings."""
    monkeypatch.setenv("G2G_SETTINGS_FILE", str(tmp_path / "settings.ini"))


@pytest.fixture(autouse=True)
def no_workers_left():
    """Fail a test that leaves a render, task or training thread running (napari's conftest does this)."""
    yield
    from g2g_desktop.ui.threads import running_workers

    deadline = time.monotonic() + 10
    while running_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
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


def write_image(path, seed: int, size=(48, 40)):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (1, 1, 3))
    ramp = np.linspace(0, 1, size[0])[None, :, None]
    pixels = (base * ramp + rng.integers(0, 60, (size[1], size[0], 3))).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
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

    from .test_mix_window import FakeDetector

    win = MainWindow(AppSettings(), detector=FakeDetector())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
