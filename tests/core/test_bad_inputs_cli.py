"""The bad-input corpus beyond the loader: the face aligner, the `g2g-desktop mix` CLI and a GUI drop.

Same contract as tests/core/test_bad_inputs.py: a file is used, or the user gets one line naming
it; never a traceback, never a hang.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image

from g2g_desktop import cli
from g2g_desktop.core.face_align import MtcnnDetector, prepare_image
from g2g_desktop.core.images import ImageLoadError, display_name, open_image
from tests.factories import ROOT, load_script

CORPUS = load_script("make_bad_inputs")
CASES = [case for case, _ in CORPUS.corpus_cases()]
IDS = [display_name(c.name) for c in CASES]


@pytest.fixture(scope="module")
def detector():
    return MtcnnDetector()


@pytest.fixture(scope="module")
def good_image(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.png"
    Image.new("RGB", (40, 40), (120, 80, 60)).save(path)
    return path


# --------------------------------------------------------------------------- face aligner


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_face_aligner(bad_inputs, detector, case):
    """Images under MTCNN's smallest face (20 px) once made it raise inside torch.cat instead of finding none."""
    root, _ = bad_inputs
    try:
        image = open_image(case.path(root))
    except ImageLoadError:
        return  # the loader's contract is tested elsewhere
    aligned = prepare_image(image, 32, detector=detector)
    assert aligned.crop.size == (32, 32) and aligned.crop.mode == "RGB"
    assert aligned.faces == () and aligned.face_index is None  # no corpus picture shows a face


# --------------------------------------------------------------------------- CLI


def strict_utf8_env() -> dict[str, str]:
    """A console as in a desktop UTF-8 locale: stdout refuses undecodable file names (here Python would
    otherwise fall back to surrogateescape, which hides the problem)."""
    return dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8:strict", PYTHONPATH=str(ROOT))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli_mix(bad_inputs, tiny_model_files, good_image, tmp_path, capsys, case):
    """In-process `main()`: an exception escaping it would be the traceback a user sees."""
    root, _ = bad_inputs
    model, _ = tiny_model_files
    out = tmp_path / "grid.png"
    rc = cli.main(["mix", os.fsdecode(case.path(root)), str(good_image), "-o", str(out), "--model", str(model)])
    captured = capsys.readouterr()
    if rc == 0:
        assert case.expect in ("ok", "either"), f"{case.name!r} was accepted"
        assert Image.open(out).size[0] > 0
        return
    assert case.expect in ("error", "either"), f"{case.name!r} refused: {captured.err}"
    assert rc == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("g2g-desktop: error: "), captured.err
    assert display_name(case.name) in lines[0]
    lines[0].encode("utf-8")


@pytest.mark.timeout(120)
def test_cli_subprocess_non_utf8_input_name(bad_inputs, tiny_model_files, good_image, tmp_path):
    """The real executable: an undecodable input name gives one printable line and exit status 2."""
    root, _ = bad_inputs
    model, _ = tiny_model_files
    env = strict_utf8_env()
    base = [sys.executable, "-m", "g2g_desktop", "mix"]
    broken = os.path.join(os.fsencode(root), b"broken_\xff.png")
    command = [*base, broken, str(good_image), "-o", str(tmp_path / "a.png"), "--model", str(model)]
    proc = subprocess.run(command, capture_output=True, timeout=120, env=env, cwd=tmp_path)
    err = proc.stderr.decode("utf-8")
    assert "Traceback" not in err and proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "broken_\\xff.png" in err, err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["a folder", "in a missing folder", "under a file"])
def test_cli_unwritable_output(tiny_model_files, good_image, tmp_path, capsys, where):
    model, _ = tiny_model_files
    out = {"a folder": tmp_path, "in a missing folder": tmp_path / "no" / "x.png",
           "under a file": good_image / "x.png"}[where]  # fmt: skip
    rc = cli.main(["mix", str(good_image), str(good_image), "-o", str(out), "--model", str(model)])
    err = capsys.readouterr().err
    if rc != 0:  # a missing folder may legitimately be created
        assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("g2g-desktop: error: "), err


@pytest.mark.timeout(120)
def test_cli_subprocess_non_utf8_output_name(tiny_model_files, good_image, tmp_path):
    """The success line names the output; a non-UTF-8 name once made print() raise after the file was written."""
    model, _ = tiny_model_files
    env = strict_utf8_env()
    out = os.path.join(os.fsencode(tmp_path), b"grid_\xff.png")
    command = [sys.executable, "-m", "g2g_desktop", "mix", str(good_image), str(good_image), "-o", out,
               "--model", str(model)]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, timeout=120, env=env, cwd=tmp_path)
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace") and proc.returncode == 0
