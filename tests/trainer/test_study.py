"""The study harness end to end on a tiny budget: rows train, resume, fine-tune, measure and report."""

from __future__ import annotations

import json

import pytest

from tests.trainer.factories import TINY_DIS, TINY_FUNIT
from trainer import study, study_report
from trainer.study import StudyRun

TINY_BASE = {
    **study.BASE,
    "data": "procedural:4:3",
    "steps": 4,
    "batch_size": 2,
    "model": dict(TINY_FUNIT),
    "dis": dict(TINY_DIS),
    "log_every": 2,
    "preview_every": 4,
    "checkpoint_every": 2,
}
TINY_EVAL = {"identities": 3, "samples": 3, "pairs": 4, "seed": 0}


@pytest.fixture
def tiny_study(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "CLASSIFIER_CACHE", tmp_path / "cache")
    monkeypatch.setattr(study, "BASE", TINY_BASE)
    monkeypatch.setattr(study, "EVAL_EVERY", 2)
    monkeypatch.setattr(study, "FINETUNE_STEPS", 2)
    monkeypatch.setattr(study, "CURVE_EVAL", TINY_EVAL)
    monkeypatch.setattr(study, "FINAL_EVAL", TINY_EVAL)
    monkeypatch.setattr(study, "STUDY_DIR", tmp_path / "study")
    runs = (
        StudyRun("plain", "the base"),
        StudyRun("switched", "every switch on", {"optimizer": "adam", "model": {"norm": "ln", "content_dim": 4},
                                                 "weights": {"lambda_same": 1.0, "content_noise": 0.1}}),
        StudyRun("tuned", "fine-tune plain", {"weights": {"lambda_long": 0.0}}, start_from="plain"),
    )
    monkeypatch.setattr(study, "RUNS", runs)
    paths = {"report": tmp_path / "docs" / "study.md", "curves": tmp_path / "docs" / "images" / "curves.png",
             "sheets": tmp_path / "docs" / "images" / "sheets.png"}
    real = study_report.write_report
    monkeypatch.setattr(study_report, "write_report", lambda d: real(d, **paths))
    return tmp_path / "study", paths


def test_rows_train_measure_and_report(tiny_study, capsys):
    root, paths = tiny_study
    assert study.main(["--dir", str(root)]) == 0
    for name, steps in (("plain", 4), ("switched", 4), ("tuned", 6)):
        result = json.loads((root / name / "results.json").read_text())
        assert result["config"]["steps"] == steps
        assert 0 < result["metrics"]["swap/ratio"] < 100 and "probe/identity_from_content/acc" in result["metrics"]
        curve = [json.loads(line) for line in (root / name / "curves.jsonl").read_text().splitlines()]
        assert [p["step"] for p in curve] == list(range(2 if name != "tuned" else 6, steps + 1, 2))
        assert not (root / name / ".study-lock").exists()
    assert json.loads((root / "switched" / "results.json").read_text())["config"]["model"]["content_dim"] == 4
    text = paths["report"].read_text()
    assert "| `switched` | every switch on | 4 |" in text and "images/curves.png" in text
    assert paths["curves"].stat().st_size > 10_000 and paths["sheets"].exists()
    assert study.main(["--dir", str(root), "--only", "plain"]) == 0
    assert "plain already measured" in capsys.readouterr().out


def test_an_interrupted_row_resumes_without_repeating_curve_points(tiny_study, monkeypatch):
    root, _ = tiny_study
    monkeypatch.setattr(study, "BASE", {**TINY_BASE, "steps": 2})
    assert study.main(["--dir", str(root), "--only", "plain", "--no-report"]) == 0
    (root / "plain" / "results.json").unlink()  # as if killed after its last checkpoint
    monkeypatch.setattr(study, "BASE", {**TINY_BASE, "steps": 4})
    assert study.main(["--dir", str(root), "--only", "plain", "--no-report"]) == 0
    curve = [json.loads(line)["step"] for line in (root / "plain" / "curves.jsonl").read_text().splitlines()]
    assert curve == [2, 4]


def test_unknown_rows_are_refused_and_fine_tuning_adds_steps(tiny_study, capsys):
    root, _ = tiny_study
    assert study.main(["--dir", str(root), "--only", "nope"]) == 2
    assert "no study run named 'nope'" in capsys.readouterr().err
    assert study.run_by_name("tuned").config()["steps"] == 4 + 2


def test_shipped_rows_build_valid_configs():
    from trainer.config import config_from_dict, validate_config

    for run in study.RUNS:
        config = config_from_dict(run.config())
        validate_config(config)
        if run.changes.get("approach") == "naive":
            assert "n_res_blks" not in config.model  # another family's sizes replace the base's
