"""The bundled model's landing history: one row per step, bad lines skipped, the curve drawn from two rows on."""

from __future__ import annotations

import itertools
import json

from PIL import Image

from trainer.default_model_history import HISTORY, draw_curve, history_row, read_history, record

METRICS = {"swap/ratio": 0.52341, "swap/ratio_person": 0.375, "identity/mixed_acc": 0.734375, "swap/psnr": 23.1,
           "self/psnr": 27.0, "cycle/psnr": 23.4, "swap/l1": 0.037}


def test_a_row_keeps_the_curves_figures_rounded_and_the_note():
    row = history_row(30539, 395.04, METRICS, "critic from here")
    assert row == {"step": 30539, "train_minutes": 395.0, "swap_ratio": 0.5234, "person_ratio": 0.375,
                   "identity": 0.7344, "swap_psnr": 23.1, "self_psnr": 27.0, "cycle_psnr": 23.4,
                   "note": "critic from here"}
    assert "note" not in history_row(1, 0.0, METRICS)


def test_record_keeps_step_order_replaces_a_step_measured_again_and_skips_bad_lines(tmp_path):
    path = tmp_path / "history.jsonl"
    record(path, history_row(200, 2.0, METRICS))
    record(path, history_row(100, 1.0, METRICS))
    with path.open("a", encoding="utf-8") as f:
        f.write("not json\n" + json.dumps({"step": "x"}) + "\n")
    rows = record(path, history_row(200, 2.5, {**METRICS, "swap/ratio": 0.5}))
    assert [(r["step"], r["swap_ratio"]) for r in rows] == [(100, 0.5234), (200, 0.5)]
    assert read_history(path) == rows and read_history(tmp_path / "missing.jsonl") == []


def test_the_curve_needs_two_rows_and_is_a_picture(tmp_path):
    out = tmp_path / "curve.png"
    assert not draw_curve([history_row(1, 0, METRICS)], out) and not out.exists()
    assert draw_curve([{"step": 10, "swap_ratio": 1.2}, history_row(20, 1, METRICS, "lever")], out)
    with Image.open(out) as image:
        assert image.size[0] > 1000 and image.getextrema() != ((255, 255), (255, 255), (255, 255), (255, 255))


def test_the_shipped_history_ends_at_the_bundled_models_step():
    from g2g_desktop.core.checkpoint import load_generator_with_info
    from g2g_desktop.core.resources import default_model_path

    rows = read_history(HISTORY)
    _, info = load_generator_with_info(default_model_path())
    assert rows and rows[-1]["step"] == info.step
    assert all(a["step"] < b["step"] for a, b in itertools.pairwise(rows))
