"""One wording of the training events (`trainer.events.describe`): the CLI prints it, the app's log shows it."""

from __future__ import annotations

import json

from trainer import events as ev
from trainer.config import TrainConfig
from trainer.train_command import ConsoleSink

EVENTS = [
    ev.Started(step=0, total=10, run_dir="runs/r", device="CPU (2 threads)", resumed_from=None, num_images=16,
               num_classes=4),
    ev.CheckpointSaved(path="runs/r/checkpoints/state_00000005.pt", step=5, kind=ev.CheckpointKind.PERIODIC, score=0.25,
                       score_name="Eval/swap_l1"),
    ev.WeightsChanged(step=6, changes={"gamma": (0.4, 0.8)}, weights={"gamma": 0.8}),
    ev.Noted(step=0, message="sizes read from the file"),
    ev.RolledBack(step=5, reason="loss Loss/G/total is not finite", failed_step=7),
    ev.Warned(step=8, message="checkpoint at step 8 not saved"),
    ev.Finished(step=10, reason=ev.EndReason.COMPLETED),
]


def test_every_logged_event_has_one_line():
    lines = [ev.describe(event) for event in EVENTS]
    assert lines == [
        "started at step 0 of 10 on CPU (2 threads): 16 images of 4 identities -> runs/r",
        "periodic checkpoint at step 5: runs/r/checkpoints/state_00000005.pt (Eval/swap_l1 0.2500)",
        "weights from step 6: gamma 0.4 → 0.8",
        "note: sizes read from the file",
        "rolled back to step 5 (step 7 failed: loss Loss/G/total is not finite)",
        "warning at step 8: checkpoint at step 8 not saved",
        "finished at step 10 (completed)",
    ]
    assert ev.describe(ev.Failed("boom")) is None and ev.describe(ev.Paused(3)) == "paused at step 3"


def test_the_cli_prints_the_shared_wording(tmp_path, capsys):
    sink = ConsoleSink(TrainConfig(out=str(tmp_path / "run")), is_main=True)
    for event in EVENTS:
        sink(event)
    sink(ev.Failed("boom"))
    out, err = capsys.readouterr()
    for event in EVENTS[:-1]:
        assert ev.describe(event) in out
    assert ev.describe(EVENTS[-1]) in err and "g2g-train: error: boom" in err


def test_end_reasons_and_checkpoint_kinds_are_their_words():
    """Issue 22 item 7: enums instead of bare strings, that still read, print, hash and serialise as the words
    the logs, the JSON lines and earlier callers use."""
    for member in (*ev.EndReason, *ev.CheckpointKind):
        assert member == member.value and str(member) == f"{member}" == member.value
        assert {member.value: True}.get(member) is True and json.dumps(member) == f'"{member.value}"'
    assert {r.value for r in ev.EndReason} == {"completed", "stopped", "failed"}
    assert {k.value for k in ev.CheckpointKind} == {"periodic", "pause", "manual", "stop", "final"}
