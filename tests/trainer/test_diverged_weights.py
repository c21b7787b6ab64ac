"""A weight that diverges mid-run: the engine's rollback to the last checkpoint, on a real non-finite loss."""

from __future__ import annotations

import pytest
import torch

from tests.factories import TINY_NAIVE_SIZES


@pytest.mark.timeout(120)
def test_diverged_weights_roll_back_to_the_last_checkpoint(tmp_path):
    """A weight that turns NaN mid-run (divergence, not an injected loss): the next loss is non-finite, the
    engine rolls back to the last checkpoint, trains on to the end with finite weights, and the checkpoint
    it rolled back to is left byte for byte as it was."""
    trainer_config = pytest.importorskip("trainer.config")
    from trainer import events as ev
    from trainer.engine import TrainingEngine
    from trainer.state import load_training_state

    config = trainer_config.TrainConfig(
        approach="naive", data="procedural:4:3", out=str(tmp_path / "run"), steps=8, batch_size=2, image_size=32,
        model={k: v for k, v in TINY_NAIVE_SIZES.items() if k != "image_size"}, checkpoint_every=3, log_every=1,
        preview_every=1000, keep_last=10, amp=False,
    )  # fmt: skip
    seen: list[object] = []
    checkpoint = tmp_path / "run" / "checkpoints" / "state_00000003.pt"
    digest: dict[str, bytes] = {}

    def sink(event):
        seen.append(event)
        if isinstance(event, ev.StepDone) and event.step == 4 and "before" not in digest:
            digest["before"] = checkpoint.read_bytes()
            module = next(iter(engine.approach.modules().values()))
            with torch.no_grad():
                next(module.parameters()).fill_(float("nan"))

    engine = TrainingEngine(config, sink, "cpu")
    assert engine.run() == "completed"
    rolled = [e for e in seen if isinstance(e, ev.RolledBack)]
    assert len(rolled) == 1 and rolled[0].step == 3, rolled
    assert checkpoint.read_bytes() == digest["before"]
    final = load_training_state(tmp_path / "run" / "checkpoints" / "state_00000008.pt")
    for name, state in final["modules"].items():
        for key, value in state.items():
            assert torch.isfinite(value).all(), f"{name}.{key}"
