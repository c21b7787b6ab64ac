"""The training engine: exact resume, real pause, live weight edits, rollback, failing writes, OOM, resume sources."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.config import FunitDiscriminatorConfig, FunitGeneratorConfig
from g2g_desktop.core.funit import FunitDiscriminator, FunitGenerator
from g2g_desktop.core.funit_files import save_funit_discriminator, save_funit_generators
from tests.factories import wait_until
from tests.trainer.factories import (
    TINY_FUNIT,
    Events,
    NanAt,
    TinyDataset,
    assert_same_optimizer_states,
    set_weights_after,
    tiny_config,
)
from trainer.approaches import NonFiniteLossError
from trainer.engine import TrainingEngine
from trainer.events import (
    CheckpointSaved,
    Failed,
    Finished,
    ModelSnapshot,
    Noted,
    Paused,
    PreviewReady,
    Resumed,
    RolledBack,
    Started,
    StepDone,
    Warned,
    WeightsChanged,
)
from trainer.state import CheckpointKeeper, capture_rng, load_training_state, restore_rng, save_training_state


def _engine(config, events=None, **kwargs) -> TrainingEngine:
    return TrainingEngine(config, events if events is not None else Events(), "cpu",
                          dataset=kwargs.pop("dataset", TinyDataset()), **kwargs)


def _weights(engine: TrainingEngine) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value.clone() for name, module in engine.approach.modules().items()
            for key, value in module.state_dict().items()}


def _assert_identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


# --------------------------------------------------------------------------- exact resume


@pytest.mark.filterwarnings("ignore:no (VGG16|face-network) weights")
@pytest.mark.parametrize("approach", ["naive", "cycle_funit", "funit2funit"])
def test_k_plus_k_steps_after_resume_equal_2k_steps_straight(tmp_path, approach):
    straight = _engine(tiny_config(tmp_path / "a", approach, steps=6, checkpoint_every=4))
    assert straight.run() == "completed"
    first = _engine(tiny_config(tmp_path / "b", approach, steps=3, checkpoint_every=4))
    assert first.run() == "completed"
    events = Events()
    second = _engine(tiny_config(tmp_path / "b", approach, steps=6, checkpoint_every=4,
                                 resume=str(tmp_path / "b" / "run")), events)
    assert second.run() == "completed"
    assert events.of(Started)[0].step == 3 and events.of(Started)[0].resumed_from.endswith("state_00000003.pt")
    assert [e.step for e in events.of(StepDone)] == [4, 5, 6]
    _assert_identical(_weights(straight), _weights(second))
    assert_same_optimizer_states(straight.approach.optimizers(), second.approach.optimizers())


def test_checkpoint_holds_the_whole_training_state(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=2), events)
    engine.run()
    saved = events.of(CheckpointSaved)
    assert [(e.step, e.kind) for e in saved] == [(2, "periodic")]
    state = load_training_state(saved[0].path)  # weights_only=True inside
    assert state["step"] == 2 and state["approach"] == "naive"
    assert set(state["rng"]) == {"python", "numpy", "torch", "cuda"}
    assert state["sampler"]["pairs_done"] == 4 and state["config"]["steps"] == 2
    assert state["weights"]["gamma"] == pytest.approx(0.4)
    generator, info = load_generator_with_info(tmp_path / "run" / "model_latest.safetensors")
    assert info.step == 2 and info.approach == "naive"
    _assert_identical({f"gen.{k}": v for k, v in generator.state_dict().items()}, _weights(engine))
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2] and "Loss/G/total" in metrics[0]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["approach"] == "naive"
    assert (tmp_path / "run" / "previews" / "step_00000002.png").is_file()
    preview = events.of(PreviewReady)[-1]
    height, width, channels = preview.grid.shape
    assert preview.grid.dtype.name == "uint8" and channels == 3 and 3 * 16 <= height < 4 * 16 and width >= 2 * 16
    saved = tmp_path / "run" / "previews" / f"step_{preview.step:08d}.png"
    np.testing.assert_array_equal(np.asarray(Image.open(saved)), preview.grid)  # the event shows what is saved


def test_keeps_last_k_plus_the_best(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=8, checkpoint_every=1, keep_last=2), events)
    scores = iter([5.0, 1.0, 4.0, 6.0, 7.0, 8.0, 9.0, 9.5])
    engine.setup()
    engine.heldout = lambda generator: next(scores)
    engine.heldout.name = "Eval/self_l1"
    engine.run()
    files = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("state_*.pt"))
    assert files == ["state_00000002.pt", "state_00000007.pt", "state_00000008.pt"]  # best = step 2 (loss 1.0)
    index = json.loads((tmp_path / "run" / "checkpoints" / "index.json").read_text())
    assert index["best_step"] == 2


# --------------------------------------------------------------------------- commands


def _thread_cpu_seconds(thread: threading.Thread) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def test_pause_really_idles_then_single_step_and_resume(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=10_000, checkpoint_every=10_000, preview_every=10_000), events)
    worker = threading.Thread(target=engine.run)
    worker.start()
    try:
        assert wait_until(lambda: len(events.of(StepDone)) >= 2, timeout=60), "timed out"
        engine.pause()
        assert wait_until(lambda: events.of(Paused) and events.of(CheckpointSaved), timeout=60), "timed out"
        steps, cpu = len(events.of(StepDone)), _thread_cpu_seconds(worker)
        time.sleep(0.6)
        assert len(events.of(StepDone)) == steps
        assert _thread_cpu_seconds(worker) - cpu < 0.05
        assert events.of(CheckpointSaved)[-1].kind == "pause"
        engine.single_step()
        assert wait_until(lambda: len(events.of(StepDone)) == steps + 1, timeout=60), "timed out"
        time.sleep(0.3)
        assert len(events.of(StepDone)) == steps + 1
        engine.resume()
        assert wait_until(lambda: len(events.of(StepDone)) >= steps + 3, timeout=60), "timed out"
        assert events.of(Resumed)
    finally:
        engine.stop()
        worker.join(60)
    assert not worker.is_alive()
    assert events[-1] == Finished(engine.current_step, "stopped")
    assert events.of(CheckpointSaved)[-1].kind == "stop"


def test_weight_change_applies_from_the_next_step_and_is_audited(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=4), events)

    def sink(event):
        events(event)
        if isinstance(event, StepDone) and event.step == 1:
            engine.set_weights(gamma=0.1)

    engine.sink = sink
    engine.run()
    change = events.of(WeightsChanged)[0]
    assert change.step == 1 and change.changes == {"gamma": (0.4, 0.1)}
    assert engine.approach.weights.gamma == pytest.approx(0.1)
    record = {"step": 1, "field": "gamma", "old": 0.4, "new": 0.1}
    audit = [json.loads(line) for line in (tmp_path / "run" / "audit.jsonl").read_text().splitlines()]
    assert audit == [record]
    assert load_training_state(events.of(CheckpointSaved)[-1].path)["audit"] == [record]
    with pytest.raises(ValueError, match="unknown loss weight"):
        engine.set_weights(not_a_weight=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        engine.set_weights(gamma=-1.0)


def test_weights_edited_between_runs_are_audited_on_resume(tmp_path):
    _engine(tiny_config(tmp_path, steps=2)).run()
    config = tiny_config(tmp_path, steps=3, resume=str(tmp_path / "run"))
    events = Events()
    engine = _engine(dataclasses.replace(config, weights=config.weights.replace(gamma=2.0)), events)
    engine.run()
    assert events.of(WeightsChanged)[0].changes == {"gamma": (0.4, 2.0)}
    assert engine.approach.weights.gamma == 2.0


def test_a_weight_the_saved_run_did_not_know_yet_is_applied_on_resume(tmp_path):
    """A state written before a weight existed (here: lambda_same dropped from it) still gets the asked value."""
    _engine(tiny_config(tmp_path, steps=2)).run()
    path = tmp_path / "run" / "checkpoints" / "state_00000002.pt"
    state = torch.load(path, weights_only=False)
    for weights in (state["config"]["weights"], state["weights"]):
        weights.pop("lambda_same")
    torch.save(state, path)
    config = tiny_config(tmp_path, steps=3, resume=str(tmp_path / "run"))
    events = Events()
    engine = _engine(dataclasses.replace(config, weights=config.weights.replace(lambda_same=1.0)), events)
    engine.run()
    assert events.of(WeightsChanged)[0].changes == {"lambda_same": (0.0, 1.0)}
    assert engine.approach.weights.lambda_same == 1.0


def test_snapshot_is_a_cpu_copy_of_the_generator(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=1), events)
    engine.request_snapshot()
    engine.run()
    snapshot = events.of(ModelSnapshot)[0]
    assert snapshot.step == 0 and snapshot.approach == "naive"
    rebuilt = snapshot.build()
    assert not torch.equal(next(rebuilt.parameters()), next(engine.approach.generator.parameters()))  # trained on
    rebuilt.eval()
    assert all(t.device.type == "cpu" for t in snapshot.state_dict.values())


# --------------------------------------------------------------------------- failures


def _file_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_nan_rolls_back_to_the_last_checkpoint_and_leaves_files_alone(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=6), events)
    engine.setup()
    NanAt(engine.approach, 3)  # the 4th step (0-based step index 3) sees a NaN loss
    seen = {}

    def sink(event):
        events(event)
        if isinstance(event, StepDone) and event.step == 3:
            seen["before"] = _file_bytes(tmp_path / "run" / "checkpoints")
        if isinstance(event, RolledBack):
            seen["after"] = _file_bytes(tmp_path / "run" / "checkpoints")
            seen["weights"] = _weights(engine)

    engine.sink = sink
    assert engine.run() == "completed"
    rolled = events.of(RolledBack)[0]
    assert (rolled.step, rolled.failed_step) == (2, 3) and "not finite" in rolled.reason
    assert seen["after"] == seen["before"]
    stored = load_training_state(tmp_path / "run" / "checkpoints" / "state_00000002.pt")["modules"]
    _assert_identical(seen["weights"], {f"{m}.{k}": v for m, sd in stored.items() for k, v in sd.items()})
    assert [e.step for e in events.of(StepDone)] == [1, 2, 3, 3, 4, 5, 6]
    assert events[-1].reason == "completed"
    logged = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged == [1, 2, 3, 4, 5, 6]  # step 3 trained twice, logged once: the rolled-back line was dropped


def test_repeated_nan_fails_the_run(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=6), events, max_rollbacks=2)
    engine.setup()

    def always_nan(batch, step):
        raise NonFiniteLossError("Loss/G/total", float("nan"))

    engine.approach.generator_step = always_nan
    assert engine.run() == "failed"
    assert len(events.of(RolledBack)) == 2
    assert "lower the learning rate" in events.of(Failed)[0].message
    assert not (tmp_path / "run" / "checkpoints").exists() or not list((tmp_path / "run" / "checkpoints").glob("*.pt"))


def test_failing_checkpoint_write_keeps_the_previous_one_and_training_goes_on(tmp_path):
    calls = []

    def writer(obj, path):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        torch.save(obj, path)

    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=6), events, save_fn=writer)
    assert engine.run() == "completed"
    folder = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["index.json", "state_00000002.pt"]  # no temp files left
    assert load_training_state(folder / "state_00000002.pt")["step"] == 2
    warnings = events.of(Warned)
    assert len(warnings) == 3 and "No space left" in warnings[0].message and "intact" in warnings[0].message
    assert [e.step for e in events.of(StepDone)] == [1, 2, 3, 4, 5, 6]


def test_out_of_memory_is_reported_with_the_batch_size(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=4, batch_size=3), events)
    engine.setup()

    def oom(batch, step):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    engine.approach.generator_step = oom
    assert engine.run() == "failed"
    assert "batch size 3" in events.of(Failed)[0].message
    assert events[-1] == Finished(0, "failed")


def test_bad_resume_file_is_one_failed_event(tmp_path):
    bogus = tmp_path / "state.pt"
    torch.save({"hello": torch.zeros(1)}, bogus)
    events = Events()
    assert _engine(tiny_config(tmp_path, resume=str(bogus)), events).run() == "failed"
    assert events.of(Failed)[0].message.startswith(str(bogus))
    events = Events()
    _engine(tiny_config(tmp_path, resume=str(tmp_path)), events).run()
    assert "no checkpoints" in events.of(Failed)[0].message


def test_funit_checkpoint_starts_a_funit2funit_run(tmp_path):
    gen_config = FunitGeneratorConfig(**TINY_FUNIT, image_size=16)
    gen, gen_test = FunitGenerator(gen_config), FunitGenerator(gen_config)
    save_funit_generators(tmp_path / "gen_00000010.pt", gen, gen_test)
    dis = FunitDiscriminator(FunitDiscriminatorConfig(nf=8, n_res_blks=2, num_classes=4, max_nf=16))
    save_funit_discriminator(tmp_path / "dis_00000010.pt", dis)
    events = Events()
    engine = _engine(tiny_config(tmp_path, "funit2funit", steps=11, resume=str(tmp_path / "gen_00000010.pt")), events)
    engine.setup()
    _assert_identical({f"x.{k}": v for k, v in engine.approach.generator.state_dict().items()},
                      {f"x.{k}": v for k, v in gen.state_dict().items()})
    assert engine.run() == "completed"
    assert events.of(Started)[0].resumed_from.endswith("gen_00000010.pt")
    # FUNIT's optimizer.pt beside the gen file is picked up too.
    optimizers = engine.approach.optimizers()
    torch.save({k: o.state_dict() for k, o in optimizers.items()}, tmp_path / "optimizer.pt")
    again = _engine(tiny_config(tmp_path / "again", "funit2funit", steps=11,
                                resume=str(tmp_path / "gen_00000010.pt")))
    again.setup()
    for name, optimizer in again.approach.optimizers().items():
        loaded, saved = optimizer.state_dict()["state"], optimizers[name].state_dict()["state"]
        assert loaded.keys() == saved.keys() and loaded
        assert all(torch.equal(loaded[i]["square_avg"], saved[i]["square_avg"]) for i in loaded)
    events = Events()
    _engine(tiny_config(tmp_path / "naive", "naive", resume=str(tmp_path / "gen_00000010.pt")), events).run()
    assert "funit2funit" in events.of(Failed)[0].message


def test_generator_core_cannot_rebuild_is_not_exported(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=2), events)
    engine.setup()
    engine.approach.generator.architecture = "funit_identity"  # as CycleFUNIT's face-network E_B variant
    engine.request_snapshot()
    assert engine.run() == "completed"
    assert not events.of(ModelSnapshot) and "cannot be copied out" in events.of(Warned)[0].message
    assert events.of(CheckpointSaved) and not (tmp_path / "run" / "model_latest.safetensors").exists()


def test_resume_keeps_the_stored_architecture_and_says_so(tmp_path):
    _engine(tiny_config(tmp_path, steps=1)).run()
    asked = tiny_config(tmp_path, steps=2, resume=str(tmp_path / "run"))
    events = Events()
    engine = _engine(dataclasses.replace(asked, model={**asked.model, "nf": 4}), events)
    assert engine.run() == "completed"
    assert "keeps its model=" in events.of(Warned)[0].message and engine.config.model["nf"] == 8


def test_resume_asking_some_of_the_stored_sizes_warns_of_nothing(tmp_path):
    _engine(tiny_config(tmp_path, steps=1)).run()
    asked = tiny_config(tmp_path, steps=2, resume=str(tmp_path / "run"))
    events = Events()
    engine = _engine(dataclasses.replace(asked, model={"nf": asked.model["nf"]}), events)  # as a config file asks
    assert engine.run() == "completed"
    assert not events.of(Warned) and engine.config.model == asked.model


def test_save_now_twice_at_one_step_names_the_same_file(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=1), events)
    engine.save_now()
    engine.save_now()
    engine.run()
    saved = [(Path(e.path).name, e.step, e.kind) for e in events.of(CheckpointSaved)]
    assert saved == [("state_00000000.pt", 0, "manual")] * 2 + [("state_00000001.pt", 1, "final")]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unusable_device_is_one_failed_event(tmp_path):
    events = Events()
    engine = TrainingEngine(tiny_config(tmp_path), events, "cuda", dataset=TinyDataset())
    assert engine.run() == "failed"
    assert events.of(Failed)[0].message.startswith("device:")


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path):
    state = capture_rng()
    expected = (random.random(), np.random.rand(), torch.rand(1))
    save_training_state(tmp_path / "s.pt", {"rng": state})
    restore_rng(torch.load(tmp_path / "s.pt", weights_only=True)["rng"])
    assert (random.random(), np.random.rand()) == expected[:2] and torch.equal(torch.rand(1), expected[2])


def test_keeper_never_compares_values_of_another_metric(tmp_path):
    old = CheckpointKeeper(tmp_path, keep_last=1)  # an index written before metric names: the G loss
    old.save(1, {"x": torch.zeros(1)}, metric=-11.0)
    index = tmp_path / "checkpoints" / "index.json"
    index.write_text(index.read_text().replace('"metric_name": null', '"metric_name": "Loss/G/total"'))
    keeper = CheckpointKeeper(tmp_path, keep_last=1, metric_name="Eval/swap_l1")
    assert keeper.saved[0].metric is None
    keeper.save(2, {"x": torch.zeros(1)}, metric=0.3)
    keeper.save(3, {"x": torch.zeros(1)}, metric=0.4)
    assert keeper.best.step == 2
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.pt")) == ["state_00000002.pt",
                                                                                "state_00000003.pt"]


def test_keeper_recovers_without_its_index(tmp_path):
    keeper = CheckpointKeeper(tmp_path, keep_last=2)
    for step in (1, 2, 3):
        keeper.save(step, {"x": torch.zeros(1)}, metric=None)
    (tmp_path / "checkpoints" / "index.json").unlink()
    again = CheckpointKeeper(tmp_path, keep_last=2)
    assert [c.step for c in again.saved] == [2, 3]
    again.save(4, {"x": torch.zeros(1)}, metric=None)
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.pt")) == ["state_00000003.pt", "state_00000004.pt"]


def test_run_started_from_a_differently_sized_funit_file_resumes(tmp_path):
    """FUNIT files carry no config: the run must store the sizes read from them, or its own
    checkpoints would rebuild networks of the config's sizes and fail to load."""
    gen_config = FunitGeneratorConfig(**{**TINY_FUNIT, "nf": 12, "latent_dim": 6}, image_size=16)
    save_funit_generators(tmp_path / "gen_00000010.pt", FunitGenerator(gen_config), FunitGenerator(gen_config))
    dis = FunitDiscriminator(FunitDiscriminatorConfig(nf=8, n_res_blks=2, num_classes=7, max_nf=16))
    save_funit_discriminator(tmp_path / "dis_00000010.pt", dis)
    first = _engine(tiny_config(tmp_path, "funit2funit", steps=12, resume=str(tmp_path / "gen_00000010.pt")))
    assert first.run() == "completed"
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["model"]["nf"] == 12 and stored["model"]["latent_dim"] == 6 and stored["dis"]["num_classes"] == 7
    events = Events()
    again = _engine(tiny_config(tmp_path, "funit2funit", steps=13, resume=str(tmp_path / "run")), events)
    assert again.run() == "completed", events.of(Failed)
    assert again.approach.generator.config.nf == 12 and again.current_step == 13


# --------------------------------------------------------------------------- run folders, FUNIT starts, best


def test_a_folder_holding_a_run_is_never_overwritten(tmp_path):
    assert _engine(tiny_config(tmp_path, steps=2)).run() == "completed"
    before = _file_bytes(tmp_path / "run")
    events = Events()
    assert _engine(tiny_config(tmp_path, steps=4), events).run() == "failed"
    assert "already holds a run with checkpoints up to step 2" in events.of(Failed)[0].message
    assert _file_bytes(tmp_path / "run") == before
    state = tmp_path / "run" / "checkpoints" / "state_00000002.pt"
    assert _engine(tiny_config(tmp_path, steps=3, resume=str(state))).run() == "completed"


def test_funit_start_says_what_was_read_and_what_is_fresh_before_step_one(tmp_path):
    gen_config = FunitGeneratorConfig(**TINY_FUNIT, image_size=16)
    save_funit_generators(tmp_path / "gen_00000010.pt", FunitGenerator(gen_config), FunitGenerator(gen_config))
    events = Events()
    engine = _engine(tiny_config(tmp_path, "funit2funit", steps=12, resume=str(tmp_path / "gen_00000010.pt")),
                     events)
    assert engine.run() == "completed"
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Noted") < kinds.index("StepDone")
    note = events.of(Noted)[0].message
    assert "generator sizes read from the file (nf=8" in note and "discriminator FRESH, no dis_00000010.pt" in note
    assert "optimizer state fresh" in note and "continues FUNIT's iteration 10 toward step 12" in note
    assert [e.step for e in events.of(StepDone)] == [11, 12]
    fresh = _engine(tiny_config(tmp_path / "fresh", "funit2funit", steps=12, model={}, dis={},
                                resume=str(tmp_path / "gen_00000010.pt")))
    fresh.setup()  # sizes from the file before anything is built; D in FUNIT's proportions to this G
    assert fresh.approach.generator.config == gen_config
    assert fresh.approach.dis.config == FunitDiscriminatorConfig(nf=8, n_res_blks=10, num_classes=4, max_nf=128)
    events = Events()
    short = tiny_config(tmp_path / "b", "funit2funit", steps=10, resume=str(tmp_path / "gen_00000010.pt"))
    assert _engine(short, events).run() == "failed"
    assert "at FUNIT iteration 10" in events.of(Failed)[0].message


def test_configured_learning_rate_wins_over_the_resumed_optimizer_state(tmp_path):
    assert _engine(tiny_config(tmp_path, steps=2)).run() == "completed"
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=3, lr_gen=3e-4, resume=str(tmp_path / "run")), events)
    engine.setup()
    assert {g["lr"] for g in engine.approach.optimizers()["gen"].param_groups} == {3e-4}
    assert engine.run() == "completed"
    notes = [e.message for e in events.of(Noted) if not e.message.startswith("training precision: ")]
    assert notes == ["state_00000002.pt: optimizer state loaded with the configured values, not the file's: "
                     "gen lr 0.0001 -> 0.0003"]


def test_best_checkpoint_is_chosen_by_the_held_out_swap_error(tmp_path):
    from trainer.datasets import open_dataset
    from trainer.metrics import sample_pairs, swap_metrics
    from trainer.procedural_dataset import ProceduralFaceDataset

    events = Events()
    data = open_dataset("procedural:4:3", 16)
    engine = _engine(tiny_config(tmp_path, steps=4, checkpoint_every=2), events, dataset=data)
    assert engine.run() == "completed"
    saved = events.of(CheckpointSaved)
    assert [(e.step, e.score_name) for e in saved] == [(2, "Eval/swap_l1"), (4, "Eval/swap_l1")]
    heldout = ProceduralFaceDataset(num_identities=8, samples_per_identity=2, image_size=data.image_size,
                                    seed=data.seed, split="heldout")
    generator = engine.approach.inference_generator().eval()
    expected = swap_metrics(generator, heldout, sample_pairs(heldout.labels, 8, 0))["swap/l1"]
    assert saved[-1].score == pytest.approx(expected, rel=1e-5)
    index = json.loads((tmp_path / "run" / "checkpoints" / "index.json").read_text())
    best = min(saved, key=lambda e: e.score)
    assert index["best_step"] == best.step
    lines = [json.loads(line) for line in (tmp_path / "run" / "eval.jsonl").read_text().splitlines()]
    assert [(line["step"], line["Eval/swap_l1"]) for line in lines] == [(e.step, e.score) for e in saved]


def test_real_data_scores_short_reconstruction_on_images_it_does_not_train_on(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, steps=2), events, dataset=TinyDataset(classes=4, per_class=3))
    assert engine.run() == "completed"
    assert events.of(Started)[0].num_images == 8  # one image of each of the 4 people held out
    held = {engine.heldout.training_set.dataset.describe(i) for i in range(12)} - {
        engine.sampler.dataset.describe(i) for i in range(8)}
    assert held == {f"tiny item {i}" for i in (2, 5, 8, 11)}
    saved = events.of(CheckpointSaved)[-1]
    assert saved.score_name == "Eval/self_l1" and 0 < saved.score < 1


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_killed_before_its_first_checkpoint_starts_over_in_place_and_says_so(tmp_path, resume):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(tiny_config(tmp_path).to_dict()))
    events = Events()
    config = tiny_config(tmp_path, steps=2, resume=str(tmp_path / "run") if resume else None)
    assert _engine(config, events).run() == "completed"
    assert any("stopped before its first checkpoint; it starts again from step 0" in e.message
               for e in events.of(Noted))


def test_resuming_a_finished_run_in_place_rewrites_nothing_and_says_why(tmp_path):
    def files():  # config.json is rewritten with the resume source; everything else must stay as it was
        return {p: p.read_bytes() for p in sorted((tmp_path / "run").rglob("*")) if p.is_file()
                and p.name != "config.json"}

    assert _engine(tiny_config(tmp_path, steps=2)).run() == "completed"
    before = files()
    events = Events()
    assert _engine(tiny_config(tmp_path, steps=2, resume=str(tmp_path / "run")), events).run() == "completed"
    assert "already at step 2 of 2: ask for more steps" in events.of(Noted)[0].message
    assert not events.of(CheckpointSaved) and files() == before


@pytest.mark.parametrize("procedural", [True, False])
def test_raising_the_cross_loss_mid_run_starts_the_true_swaps_where_there_are_any(tmp_path, procedural):
    from trainer.datasets import open_dataset

    events = Events()
    data = open_dataset("procedural:4:3", 16) if procedural else TinyDataset(classes=4, per_class=3)
    engine = _engine(tiny_config(tmp_path, "funit2funit", steps=4, checkpoint_every=10), events, dataset=data)
    set_weights_after(engine, events, 2, lambda_cross_gt=1.0)
    assert engine.run() == "completed"
    logged = [("Loss/G/cross_gt" in e.losses) for e in events.of(StepDone)]
    assert logged == [False, False, procedural, procedural]
    assert engine.sampler.ground_truth is procedural
    assert any("no ground-truth swaps" in e.message for e in events.of(Warned)) is not procedural
