import subprocess
import sys

import numpy as np
import torch
from PIL import Image, ImageSequence

from g2g_desktop import __version__
from g2g_desktop.__main__ import main
from g2g_desktop.core.face_align import Face, template_points
from g2g_desktop.core.images import tensor_to_pil
from g2g_desktop.core.model_file import save_model


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
    assert Image.open(gif).n_frames == 5  # as many frames as asked for (it used to write 5 + 3 back)
    bounced = tmp_path / "bounce.gif"
    assert main(["mix", str(a), str(b), "--model", str(model), "--fade", "5", "--bounce", "-o", str(bounced)]) == 0
    assert Image.open(bounced).n_frames == 8
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


# --------------------------------------------------------------------------- output paths (issue 13 item 16)


def test_output_folder_with_slash_or_existing_folder_gets_named_files(tmp_path, tiny_funit, images, capsys):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    slash = str(tmp_path / "new") + "/"
    assert main(["mix", str(a), str(b), "--model", str(model), "-o", slash]) == 0
    assert (tmp_path / "new").is_dir() and (tmp_path / "new" / "face0_face1_grid.png").is_file()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert main(["mix", str(a), str(b), "--model", str(model), "-o", str(existing)]) == 0
    assert [p.name for p in existing.iterdir()] == ["face0_face1_grid.png"]
    assert "Traceback" not in capsys.readouterr().err


def test_output_suffix_names_the_format(tmp_path, tiny_funit, images, capsys):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    jpg = tmp_path / "x.jpg"
    assert main(["mix", str(a), str(b), "--model", str(model), "-o", str(jpg)]) == 0
    assert jpg.read_bytes()[:3] == b"\xff\xd8\xff" and Image.open(jpg).format == "JPEG"
    assert main(["mix", str(a), str(b), "--model", str(model), "-o", str(tmp_path / "x.nope")]) == 2
    assert ".nope" in capsys.readouterr().err


def test_fade_writes_exactly_the_frames_asked_for(tmp_path, tiny_funit, images, capsys):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    gif = tmp_path / "fade.gif"
    assert main(["mix", str(a), str(b), "--model", str(model), "--fade", "24", "-o", str(gif)]) == 0
    assert "24-frame" in capsys.readouterr().out
    with Image.open(gif) as video:  # Pillow merges identical neighbours (the tiny model's), adding their time
        durations = [video.info["duration"] for _ in ImageSequence.Iterator(video)]
    assert len(durations) <= 24 and sum(durations) == 24 * 80  # the old code played 46 frames
    frames = tmp_path / "frames"
    assert main(["mix", str(a), str(b), "--model", str(model), "--fade", "24", "-o", str(frames)]) == 0
    assert len(list(frames.glob("fade_*.png"))) == 24


def test_matrix_accepts_a_folder(tmp_path, tiny_funit, images):
    model, paths = _inputs(tmp_path, tiny_funit, images)
    folder = tmp_path / "faces"
    folder.mkdir()
    for p in paths:
        p.rename(folder / p.name)
    out = tmp_path / "m.png"
    assert main(["mix", "--matrix", str(folder), "--model", str(model), "-o", str(out)]) == 0
    assert Image.open(out).size == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2)


# --------------------------------------------------------------------------- K-shot and batch (issue 14)


def test_k_copies_of_one_identity_image_give_the_one_shot_mix(tmp_path, tiny_funit, images):
    model, (a, b, c) = _inputs(tmp_path, tiny_funit, images)
    one, three = tmp_path / "one.png", tmp_path / "three.png"
    base = ["mix", "--content", str(a), "--model", str(model), "--crop"]
    assert main([*base, "--identity", str(b), "-o", str(one)]) == 0
    assert main([*base, "--identity", str(b), str(b), str(b), "-o", str(three)]) == 0
    assert np.array_equal(np.asarray(Image.open(one)), np.asarray(Image.open(three)))
    mixed = tmp_path / "mixed.png"
    assert main([*base, "--identity", str(b), str(c), "-o", str(mixed)]) == 0
    assert not np.array_equal(np.asarray(Image.open(one)), np.asarray(Image.open(mixed)))


def test_pipeline_k_shot_is_the_mean_class_code(tiny_funit, images):
    from g2g_desktop.core.pipeline import G2GPipeline

    pipeline = G2GPipeline(tiny_funit, "cpu")
    k_shot = pipeline.mix_identities(images[0], images[1:3])
    with torch.no_grad():
        expected = tiny_funit(images[:1], images[None, 1:3])[0]  # the generator's own B×K×3×H×W path
    torch.testing.assert_close(k_shot, expected, atol=1e-5, rtol=1e-5)


class _FakeMtcnn:
    """Finds a face in every image except near-black ones (a stand-in for MTCNN in CLI tests)."""

    def __call__(self, image):
        if max(hi for _, hi in image.getextrema()) < 30:
            return []
        w, h = image.size
        points = template_points(min(w, h)) + np.array([(w - min(w, h)) / 2, (h - min(w, h)) / 2])
        return [Face((0.0, 0.0, float(w), float(h)), tuple(map(tuple, points)), 0.99)]


def test_batch_writes_one_output_per_face_and_lists_the_rest(tmp_path, tiny_funit, images, capsys, monkeypatch):
    monkeypatch.setattr("g2g_desktop.cli_commands.MtcnnDetector", _FakeMtcnn)
    model, (a, b, c) = _inputs(tmp_path, tiny_funit, images)
    folder = tmp_path / "content"
    folder.mkdir()
    for i, p in enumerate((a, b, c)):
        Image.open(p).resize((80, 100)).save(folder / f"photo{i}.jpg")
    Image.new("RGB", (40, 40), (5, 5, 5)).save(folder / "dark.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    argv = ["mix", "--batch", str(folder), "--identity", str(a), "--model", str(model), "-o", str(out)]
    assert main([*argv, "--paste-back"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["photo0_mixed.jpg", "photo1_mixed.jpg", "photo2_mixed.jpg"]
    assert Image.open(out / "photo0_mixed.jpg").size == (80, 100)  # the pasted photo at its own size
    report = capsys.readouterr().out
    assert "wrote 3 of 5" in report and "skipped 1 without a face: dark.png" in report
    assert "broken.jpg" in report
    strips = tmp_path / "strips"
    assert main([*argv[:-1], str(strips), "--no-align"]) == 0
    assert len(list(strips.glob("*_mixed.png"))) == 4  # no alignment: nothing to skip but the broken file


def test_paste_back_pair_writes_both_full_size_photos(tmp_path, tiny_funit, images, capsys, monkeypatch):
    monkeypatch.setattr("g2g_desktop.cli_commands.MtcnnDetector", _FakeMtcnn)
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    big_a, big_b = tmp_path / "A.jpg", tmp_path / "B.png"
    Image.open(a).resize((120, 90)).save(big_a)
    Image.open(b).resize((70, 110)).save(big_b)
    out = tmp_path / "pasted.jpg"
    assert main(["mix", str(big_a), str(big_b), "--model", str(model), "--paste-back", "-o", str(out)]) == 0
    assert Image.open(tmp_path / "pasted_1.jpg").size == (120, 90)
    assert Image.open(tmp_path / "pasted_2.jpg").size == (70, 110)
    folder = tmp_path / "pasted"
    assert main(["mix", str(big_a), str(big_b), "--model", str(model), "--paste-back", "-o", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["A_with_B.jpg", "B_with_A.png"]
    assert main(["mix", str(big_a), str(big_b), "--model", str(model), "--paste-back", "--no-align",
                 "-o", str(out)]) == 2
    assert "needs aligned faces" in capsys.readouterr().err


def test_mix_aligns_by_default_when_the_model_was_trained_on_aligned_faces(tmp_path, tiny_funit, images, capsys,
                                                                           monkeypatch):
    monkeypatch.setattr("g2g_desktop.cli_commands.MtcnnDetector", _FakeMtcnn)
    model, (a, _, _) = _inputs(tmp_path, tiny_funit, images)
    dark = tmp_path / "dark.png"
    Image.new("RGB", (40, 40), (5, 5, 5)).save(dark)
    aligned_model = tmp_path / "aligned.safetensors"
    save_model(aligned_model, tiny_funit, provenance={"data": "faces/", "aligned": True})
    out = str(tmp_path / "g.png")
    assert main(["mix", str(a), str(dark), "--model", str(aligned_model), "-o", out]) == 0
    assert "dark.png: no face found" in capsys.readouterr().out
    assert main(["mix", str(a), str(dark), "--model", str(aligned_model), "--no-align", "-o", out]) == 0
    assert main(["mix", str(a), str(dark), "--model", str(model), "-o", out]) == 0  # not aligned: no detection
    assert "no face" not in capsys.readouterr().out


def test_pipeline_people_k_copies_equal_the_one_shot_grid_and_fade(tiny_funit, images):
    from g2g_desktop.core.pipeline import G2GPipeline

    pipeline = G2GPipeline(tiny_funit, "cpu")
    x1, x2 = images[0], images[1]
    plain = pipeline.run(x1, x2)
    copies = pipeline.run(x1, x2, people=(None, torch.stack([x2, x2, x2])))
    torch.testing.assert_close(copies.mixed, plain.mixed)
    torch.testing.assert_close(pipeline.fade(x1, x2, 0.5, people=(x1[None].repeat(2, 1, 1, 1), None)),
                               pipeline.fade(x1, x2, 0.5))
    group = pipeline.run(x1, x2, people=(None, images[1:3]))
    assert not torch.allclose(group.mixed[0], plain.mixed[0])  # m1 takes the mean identity of two images
    torch.testing.assert_close(group.mixed[1], plain.mixed[1])  # person 1 is still one image


def test_modes_that_do_not_combine_are_refused_in_one_line(tmp_path, tiny_funit, images, capsys):
    model, (a, b, _) = _inputs(tmp_path, tiny_funit, images)
    out = str(tmp_path / "x.png")
    for argv, words in (
        (["--matrix", str(a), str(b), "--paste-back"], "--matrix does not combine"),
        (["--identity", str(a)], "needs --content IMG or --batch DIR"),
        (["--content", str(a)], "need --identity"),
        (["--identity", str(a), "--content", str(b), "--batch", str(tmp_path)], "not both"),
        ([str(a), str(b), "--fade", "3", "--paste-back"], "does not combine with --fade"),
        (["--identity", str(a), "--batch", str(tmp_path)], "-o must be a folder"),
        ([str(a), str(b), "--paste-back", "--scale", "2"], "pasted photos keep their own size"),
        (["--identity", str(a), "--content", str(b), "--scale", "2"], "not --identity outputs"),
    ):
        assert main(["mix", *argv, "--model", str(model), "-o", out]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and err.count("\n") == 0, err


# --------------------------------------------------------------------------- issue 21 items 11 and 12


def test_matrix_names_a_missing_folder_and_skips_a_bad_file(tmp_path, tiny_funit, images, capsys):
    model, paths = _inputs(tmp_path, tiny_funit, images)
    out = tmp_path / "m.png"
    missing = tmp_path / "nonexistent"
    assert main(["mix", "--matrix", str(missing), "--model", str(model), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"g2g-desktop: error: {missing}: no such file or folder"
    folder = tmp_path / "faces"
    folder.mkdir()
    for p in paths:
        p.rename(folder / p.name)
    (folder / "broken.png").write_bytes(b"not a png")
    assert main(["mix", "--matrix", str(folder), "--model", str(model), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3x3 swap matrix" in printed and "skipped" in printed and "broken.png" in printed
    assert Image.open(out).size == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2)


def test_scale_enlarges_grid_fade_and_matrix_as_the_app_export_does(tmp_path, tiny_funit, images):
    model, (a, b, c) = _inputs(tmp_path, tiny_funit, images)
    base = ["mix", "--model", str(model)]
    plain, big, smooth = (tmp_path / f"{name}.png" for name in ("plain", "big", "smooth"))
    assert main([*base, str(a), str(b), "-o", str(plain)]) == 0
    assert main([*base, str(a), str(b), "-o", str(big), "--scale", "4"]) == 0
    assert main([*base, str(a), str(b), "-o", str(smooth), "--scale", "4", "--resample", "bicubic"]) == 0
    small, large, soft = (np.asarray(Image.open(p)) for p in (plain, big, smooth))
    assert large.shape == (3 * 128 + 4 * 2, 2 * 128 + 3 * 2, 3)  # the pads stay 2 px
    assert np.array_equal(large[2:130:4, 2:130:4], small[2:34, 2:34])  # nearest: every model pixel kept
    assert soft.shape == large.shape and not np.array_equal(soft, large)
    gif = tmp_path / "fade.gif"
    assert main([*base, str(a), str(b), "--fade", "3", "-o", str(gif), "--scale", "2"]) == 0
    assert Image.open(gif).size == (64, 64)
    matrix = tmp_path / "m.png"
    assert main([*base, "--matrix", str(a), str(b), str(c), "-o", str(matrix), "--scale", "2"]) == 0
    assert Image.open(matrix).size == (4 * 64 + 5 * 2, 4 * 64 + 5 * 2)
