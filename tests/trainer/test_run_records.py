"""What a run folder records of steps that a restart or a resume trains again (issue 21, item 2): the old
lines and previews go, so each step is in metrics.jsonl once, and the user is told."""

from __future__ import annotations

import json

import pytest

from tests.trainer.factories import Events, TinyDataset, tiny_config
from trainer.engine import TrainingEngine
from trainer.events import Noted, StepDone
from trainer.run_folder import RunFolder


def _killed_at(config, step: int) -> None:
    """Run until step `step` is done and end there, as a kill would: no stop checkpoint, no last metrics line."""

    def sink(event):
        if isinstance(event, StepDone) and event.step == step:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        TrainingEngine(config, sink, "cpu", dataset=TinyDataset()).run()


def _steps(run, name="metrics.jsonl") -> list[int]:
    return [json.loads(line)["step"] for line in (run / name).read_text().splitlines()]


def _previews(run) -> list[str]:
    return sorted(p.name for p in (run / "previews").glob("*.png"))


def test_a_restart_from_step_0_replaces_the_abandoned_records_and_says_so(tmp_path):
    config = tiny_config(tmp_path, steps=4, checkpoint_every=10, preview_every=1)
    run = tmp_path / "run"
    _killed_at(config, 3)  # stopped before its first checkpoint: logged steps 1 and 2
    assert _steps(run) == [1, 2] and len(_previews(run)) == 2 and not (run / "checkpoints").exists()

    events = Events()
    assert TrainingEngine(config, events, "cpu", dataset=TinyDataset()).run() == "completed"
    assert _steps(run) == [1, 2, 3, 4]  # each step once, not 1, 2, 1, 2, 3, 4
    assert _previews(run) == [f"step_0000000{n}.png" for n in (1, 2, 3, 4)]
    assert _run_notes(events, run) == [f"{run}: the run here stopped before its first checkpoint; it starts "
                                       "again from step 0 and its records were removed: metrics.jsonl "
                                       "(2 lines), previews (2 files)"]


def _run_notes(events, run) -> list[str]:
    """The notes about the run folder itself (the engine also notes e.g. the training precision)."""
    return [e.message for e in events.of(Noted) if e.message.startswith(f"{run}:")]


def test_a_resume_drops_what_was_recorded_after_its_checkpoint(tmp_path):
    config = tiny_config(tmp_path, steps=4, checkpoint_every=2, preview_every=1)
    run = tmp_path / "run"
    _killed_at(config, 4)  # checkpoint at 2, then steps 3 logged and previewed, then killed
    assert _steps(run) == [1, 2, 3] and _steps(run, "eval.jsonl") == [2]

    events = Events()
    resumed = tiny_config(tmp_path, steps=4, checkpoint_every=2, preview_every=1, resume=str(run))
    assert TrainingEngine(resumed, events, "cpu", dataset=TinyDataset()).run() == "completed"
    assert [e.step for e in events.of(StepDone)] == [3, 4]
    assert _steps(run) == [1, 2, 3, 4] and _steps(run, "eval.jsonl") == [2, 4]
    assert _run_notes(events, run) == [f"{run}: removed what was recorded after step 2, the checkpoint this run "
                                       "continues from (those steps are trained again): metrics.jsonl (1 line), "
                                       "previews (1 file)"]


def test_discard_after_keeps_earlier_lines_drops_torn_ones_and_rewrites_nothing_else(tmp_path):
    folder = RunFolder(tmp_path, keep_last=2, save_fn=None)
    for step in (10, 20, 30):
        folder.append_metrics({"step": step, "loss": 1.0})
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 4')  # a line torn by a kill mid-write
    folder.append_audit([{"step": 5, "field": "gamma", "old": 0.4, "new": 0.8}])
    before = (tmp_path / "audit.jsonl").stat().st_mtime_ns
    assert folder.discard_after(20) == {"metrics.jsonl": 2}
    assert _steps(tmp_path) == [10, 20]
    assert (tmp_path / "audit.jsonl").stat().st_mtime_ns == before  # nothing to drop: not rewritten
    assert folder.discard_after(20) == {}
    assert folder.discard_after(-1) == {"metrics.jsonl": 2, "audit.jsonl": 1}
