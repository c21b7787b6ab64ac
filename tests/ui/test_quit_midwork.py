"""Closing the window at any moment ends the process at once and cleanly (issue 13, item 3).

Each case runs the real app in a child process (offscreen), starts one kind of long work, made to take
30 s, and closes the window in the middle of it. The process must exit with status 0 within 2 s of the
close and print no abort ("terminate called without an active exception", "QThread: Destroyed while
thread is still running").
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.factories import ROOT

CHILD = ROOT / "tests" / "ui" / "quit_child.py"
EXIT_WITHIN_S = 2.0


@pytest.fixture
def inputs(tmp_path):
    from g2g_desktop.core.model_file import save_model
    from tests.factories import tiny_funit_generator

    model = tmp_path / "tiny.safetensors"
    save_model(model, tiny_funit_generator(), step=1)
    from PIL import Image

    images = []
    for i in range(3):
        path = tmp_path / f"face{i}.png"
        Image.effect_noise((48, 44), 40 + 10 * i).convert("RGB").save(path)
        images.append(path)
    return model, images


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["render", "matrix", "export", "detect", "model", "training", "photos"])
def test_closing_mid_work_exits_zero_within_two_seconds(kind, inputs, tmp_path):
    model, images = inputs
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", G2G_DEVICE="cpu",
               G2G_SETTINGS_FILE=str(tmp_path / "settings.ini"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), kind, str(model), str(images[0]), str(images[1]), str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )
    try:
        for line in proc.stdout:
            if line.strip() == "CLOSING":
                break
        else:
            pytest.fail(f"the child never got to close: {proc.wait(30)} {proc.stderr.read()[-2000:]}")
        closed = time.monotonic()
        code = proc.wait(60)
        took = time.monotonic() - closed
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read()
    print(f"{kind}: exited {took:.2f} s after the close")
    assert code == 0, f"exit status {code}: {stderr[-2000:]}"
    assert "terminate called" not in stderr and "Destroyed while thread" not in stderr, stderr[-2000:]
    assert took < EXIT_WITHIN_S, f"the process took {took:.1f} s to exit after the window closed"
