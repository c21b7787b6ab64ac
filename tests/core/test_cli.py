import subprocess
import sys

import torch
from PIL import Image

from g2g_desktop import __version__
from g2g_desktop.__main__ import main
from g2g_desktop.core.checkpoint import save_model
from g2g_desktop.core.images import tensor_to_pil


def _inputs(tmp_path, tiny_funit, images, n=3):
    model = tmp_path / "tiny.safetensors"
    save_model(model, tiny_funit, step=7)
    paths = []
    for i in range(n):
        p = tmp_path / f"face{i}.png"
        tensor_to_pil(images[i]).save(p)
        paths.append(p)
    return model, paths


def test_mix_writes_the_grid(tmp_path, tiny_funit, images, capsys):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    out = tmp_path / "grid.png"
    assert main(["mix", str(a), str(b), "--model", str(model), "-o", str(out)]) == 0
    grid = Image.open(out)
    assert grid.size == (2 * 32 + 3 * 2, 3 * 32 + 4 * 2)
    assert "3x2 grid" in capsys.readouterr().out


def test_fade_gif_and_png_sequence(tmp_path, tiny_funit, images):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    gif = tmp_path / "fade.gif"
    assert main(["mix", str(a), str(b), "--model", str(model), "--fade", "5", "-o", str(gif)]) == 0
    assert Image.open(gif).n_frames == 8  # 5 forward + 3 back
    folder = tmp_path / "frames"
    assert main(["mix", str(a), str(b), "--model", str(model), "--fade", "4", "-o", str(folder)]) == 0
    assert len(list(folder.glob("fade_*.png"))) == 4


def test_matrix_writes_labelled_grid(tmp_path, tiny_funit, images):
    model, paths = _inputs(tmp_path, tiny_funit, images)
    out = tmp_path / "matrix.png"
    assert main(["mix", "--matrix", *map(str, paths), "--model", str(model), "-o", str(out)]) == 0
    assert Image.open(out).size == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2)


def test_bad_inputs_give_one_line_errors(tmp_path, tiny_funit, images, capsys):
    model, (a, _, _) = _inputs(tmp_path, tiny_funit, images)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"nope")
    assert main(["mix", str(a), str(junk), "--model", str(model), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "junk.jpg" in err and "Traceback" not in err
    assert main(["mix", str(a), str(a), "--model", str(junk), "-o", str(tmp_path / "x.png")]) == 2
    assert "junk.jpg" in capsys.readouterr().err
    assert main(["mix", str(a), "--model", str(model), "-o", str(tmp_path / "x.png")]) == 2
    assert "exactly two images" in capsys.readouterr().err


def test_info_describes_the_model(tmp_path, tiny_funit, images, capsys):
    model, _ = _inputs(tmp_path, tiny_funit, images)
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "architecture:  funit" in out and "step:          7" in out
    assert "source:        g2g (gen weights)" in out  # what the project model file says it holds
    assert f"{sum(p.numel() for p in tiny_funit.parameters()):,}" in out
    assert torch.is_tensor(images)


def test_help_and_version_answer_without_loading_torch():
    code = (
        "import sys\n"
        "from g2g_desktop.cli import main\n"
        "for argv in (['--version'], ['--help'], ['mix', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "print('torch loaded' if 'torch' in sys.modules else 'torch not loaded')\n"
        "print('no command:', main([]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert f"g2g-desktop {__version__}" in proc.stdout and "no command: 0" in proc.stdout
    assert "torch not loaded" in proc.stdout
