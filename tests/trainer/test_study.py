"""The study harness end to end on a tiny budget: rows train, resume, fine-tune, measure and report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.trainer.factories import TINY_DIS, TINY_FUNIT
from trainer import study, study_recipes, study_report
from trainer.study_recipes import StudyRun

TINY_BASE = {
    **study_recipes.BASE,
    "data": "procedural:4:3",
    "steps": 4,
    "batch_size": 2,
    "model": dict(TINY_FUNIT),
    "dis": dict(TINY_DIS),
    "log_every": 2,
    "preview_every": 4,
    "checkpoint_every": 2,
}
# A folder run holds one image of some identities out for its "best" score (trainer/heldout.py), so only with
# the best checkpoint chosen by a loss do a folder row and its procedural twin train on the very same items.
BY_LOSS = {"best_metric": "Loss/G/total"}
TINY_EVAL = study.EvalSet(identities=3, samples=3, pairs=4, seed=0)


@pytest.fixture
def tiny_study(tmp_path, monkeypatch):
    monkeypatch.setattr(study_recipes, "BASE", TINY_BASE)
    monkeypatch.setattr(study_recipes, "FINETUNE_STEPS", 2)
    runs = (
        StudyRun("plain", "the base"),
        StudyRun("switched", "every switch on", {"optimizer": "adam", "model": {"norm": "ln", "content_dim": 4},
                                                 "weights": {"lambda_same": 1.0, "content_noise": 0.1}}),
        StudyRun("tuned", "fine-tune plain", {"weights": {"lambda_long": 0.0}}, start_from="plain"),
        StudyRun("by_loss", "the base, best by loss", BY_LOSS),
        StudyRun("by_loss_folder", "the base, best by loss, from the exported folder", BY_LOSS, from_folder=True),
    )
    monkeypatch.setattr(study_recipes, "RUNS", runs)
    paths = {"report": tmp_path / "docs" / "study.md", "curves": tmp_path / "docs" / "images" / "curves.png",
             "sheets": tmp_path / "docs" / "images" / "sheets.png"}
    settings = study.StudySettings(eval_every=2, curve_eval=TINY_EVAL, final_eval=TINY_EVAL,
                                   classifier_cache=tmp_path / "cache")
    report = study_report.ReportFiles(paths["report"], paths["curves"], paths["sheets"])
    cwd = tmp_path / "cwd"  # where the shipped study's relative folders (runs/study, docs/…) would land
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # Training runs and committed rows in two folders, neither of them the shipped study's (StudyPaths()).
    return Folders(tmp_path / "runs", tmp_path / "rows", settings, report), paths


class Folders:
    def __init__(self, runs, rows, settings, report):
        self.runs, self.rows, self.settings, self.report = runs, rows, settings, report

    def main(self, *more: str) -> int:
        """`python -m trainer.study --dir RUNS --rows ROWS MORE…` with the tiny study's settings and report."""
        argv = ["--dir", str(self.runs), "--rows", str(self.rows), *more]
        return study.main(argv, settings=self.settings, report=self.report)

    def curve_steps(self, name: str) -> list[int]:
        return [p["step"] for p in study_report.read_curve(self.rows / name / "curves.jsonl")]


def test_rows_train_measure_and_report(tiny_study, capsys):
    folders, paths = tiny_study
    assert folders.main() == 0
    for name, steps in (("plain", 4), ("switched", 4), ("tuned", 6)):
        result = json.loads((folders.rows / name / "results.json").read_text())
        assert result["config"]["steps"] == steps
        assert 0 < result["metrics"]["swap/ratio"] < 100 and "probe/identity_from_content/acc" in result["metrics"]
        assert folders.curve_steps(name) == list(range(2 if name != "tuned" else 6, steps + 1, 2))
        assert (folders.rows / name / "sheet.png").exists()
        assert not (folders.runs / name / ".study-lock").exists()
        assert not (folders.rows / name / "checkpoints").exists()  # the committed folder holds no training state
    assert json.loads((folders.rows / "switched" / "results.json").read_text())["config"]["model"]["content_dim"] == 4
    text = paths["report"].read_text()
    assert "| `switched` | every switch on | 4 | no |" in text and "images/curves.png" in text
    assert paths["curves"].stat().st_size > 10_000 and paths["sheets"].exists()
    longer = paths["curves"].with_name("curves_6_steps.png")  # the fine-tuning row's 6 steps: a figure of its own
    assert longer.stat().st_size > 10_000 and "![Learning curves of the 6-step runs](images/curves_6_steps.png)" in text
    assert folders.main("--only", "plain") == 0
    assert "plain already measured" in capsys.readouterr().out
    assert not list(Path.cwd().iterdir())  # every row, the fine-tuning one too, went where --dir/--rows said


def test_a_fresh_clone_redraws_the_report_from_the_committed_rows_alone(tiny_study):
    folders, paths = tiny_study
    assert folders.main("--only", "plain", "--no-report") == 0
    shutil.rmtree(folders.runs)  # a fresh machine: no training runs, only the rows the repository holds
    paths["report"].unlink(missing_ok=True)
    assert folders.main("--report-only") == 0
    assert "| `plain` | the base | 4 | no |" in paths["report"].read_text()


def test_an_interrupted_row_resumes_without_repeating_curve_points(tiny_study, monkeypatch):
    folders, _ = tiny_study
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 2})
    assert folders.main("--only", "plain", "--no-report") == 0
    (folders.rows / "plain" / "results.json").unlink()  # as if killed after its last checkpoint
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 4})
    assert folders.main("--only", "plain", "--no-report") == 0
    assert folders.curve_steps("plain") == [2, 4]


def test_a_row_whose_training_folder_is_gone_starts_again_with_a_fresh_curve(tiny_study, monkeypatch):
    folders, _ = tiny_study
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 2})
    assert folders.main("--only", "plain", "--no-report") == 0
    (folders.rows / "plain" / "results.json").unlink()
    shutil.rmtree(folders.runs / "plain")  # its checkpoints lost: the row trains from step 0 again
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 4})
    with (folders.rows / "plain" / "curves.jsonl").open("a") as f:
        f.write(json.dumps({"step": 3, "stale": True}) + "\n")  # a point of the abandoned attempt
    assert folders.main("--only", "plain", "--no-report") == 0
    assert folders.curve_steps("plain") == [2, 4]


def test_long_rows_space_their_curve_points_and_short_ones_keep_every_50_steps():
    settings = study.StudySettings()
    assert settings.curve_every(300) == settings.curve_every(400) == 50
    assert settings.curve_every(3000) == 150 and 3000 // settings.curve_every(3000) == 20


def test_the_supervised_column_says_which_rows_train_on_true_swaps():
    rows = [{"name": n, "question": "q", "config": study_recipes.run_by_name(n).config(), "metrics": {}}
            for n in ("recon_only", "cross_gt_only")]
    lines = study_report.table(rows).splitlines()
    assert "| supervised |" in lines[0]
    assert lines[2].startswith("| `recon_only` | q | 300 | no |")
    assert lines[3].startswith("| `cross_gt_only` | q | 300 | yes |")


def test_unknown_rows_are_refused_and_fine_tuning_adds_steps(tiny_study, capsys):
    folders, _ = tiny_study
    assert folders.main("--only", "nope") == 2
    assert "no study run named 'nope'" in capsys.readouterr().err
    assert study_recipes.run_by_name("tuned").config()["steps"] == 4 + 2


def test_shipped_rows_build_valid_configs():
    from trainer.config import config_from_dict, validate_config

    for run in study_recipes.RUNS:
        config = config_from_dict(run.config())
        validate_config(config)
        if run.changes.get("approach") == "naive":
            assert "n_res_blks" not in config.model  # another family's sizes replace the base's


def test_the_folder_twin_trains_on_exported_files_and_matches_its_procedural_row(tiny_study):
    folders, _ = tiny_study
    assert folders.main("--only", "by_loss", "by_loss_folder", "--no-report") == 0
    exported = folders.runs / "_faces" / "procedural-4-3-32px"
    assert (exported / ".complete").exists() and len(list(exported.glob("*/*.png"))) == 4 * 3
    saved = json.loads((folders.runs / "by_loss_folder" / "config.json").read_text())
    assert saved["data"] == str(exported)  # it really trained from the folder, as a photo run would
    twin, plain = (json.loads((folders.rows / n / "results.json").read_text()) for n in ("by_loss_folder", "by_loss"))
    assert twin["from_folder"] and not plain["from_folder"]
    # Same pixels, same order, same seed: the photo path itself changes nothing.
    assert twin["metrics"] == plain["metrics"]
    assert not list(Path.cwd().iterdir())  # the faces were exported under --dir


def test_a_parked_row_continues_on_a_fresh_machine_and_unparks_when_measured(tiny_study, monkeypatch, capsys):
    folders, _ = tiny_study
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 2})
    assert folders.main("--only", "plain", "--no-report") == 0
    (folders.rows / "plain" / "results.json").unlink()  # as if the session ended before the row finished
    assert folders.main("--only", "plain", "--park") == 0
    assert [p.name for p in (folders.rows / "plain").glob("state_*.pt")] == ["state_00000002.pt"]
    shutil.rmtree(folders.runs)  # the next session's fresh machine: only what the repository holds
    monkeypatch.setattr(study_recipes, "BASE", {**TINY_BASE, "steps": 4})
    assert folders.main("--only", "plain", "--no-report") == 0
    assert "continues from the parked" in capsys.readouterr().out
    assert folders.curve_steps("plain") == [2, 4]
    logged = [json.loads(line)["step"] for line in (folders.runs / "plain" / "metrics.jsonl").read_text().splitlines()]
    assert logged == [4]  # it trained steps 3–4 only: steps 1–2 came from the parked state
    assert json.loads((folders.rows / "plain" / "results.json").read_text())["config"]["steps"] == 4
    assert not list((folders.rows / "plain").glob("state_*.pt"))
    assert folders.main("--only", "plain", "--park") == 0
    assert "nothing to park" in capsys.readouterr().out
