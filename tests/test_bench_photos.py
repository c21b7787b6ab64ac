"""Smoke test of bench/photos.py (issue 14): the result file's schema, never a timed assertion."""

from __future__ import annotations

import json

from bench import photos


def test_photo_bench_writes_its_figures(tmp_path, capsys):
    assert photos.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "photos.json").read_text(encoding="utf-8"))
    paste = result["paste"]
    width, height = (int(v) for v in paste["photo"].split(" ")[0].split("x"))
    assert width * height >= 0.99 * photos.TWELVE_MP and paste["paste_back"]["repeats"] == 1
    if photos.PHOTOS.is_dir():
        assert result["cache"]["second_pass"]["hit_rate"] == 1.0 and result["cache"]["first_pass"]["hits"] == 0
    assert "paste-back into" in capsys.readouterr().out
