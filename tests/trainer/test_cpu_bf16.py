"""CPU bf16 autocast for training steps (issue 12 item 3, issue 24 item 1): chosen by `cpu_bf16`; under "auto"
from the CPU flags and the model's size, never a stopwatch, recorded in config.json and kept by a resume."""

from __future__ import annotations

import json
import random
import time

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from g2g_desktop.core import device as device_module
from g2g_desktop.core.g2g import cross_pass
from tests.trainer.factories import Events, NanAt, TinyDataset, tiny_config
from tests.trainer.test_approaches import build, iteration, make_batch
from trainer.approaches import NonFiniteLossError
from trainer.approaches import base as base_module
from trainer.config import TrainConfig
from trainer.engine import TrainingEngine
from trainer.events import Noted, RolledBack
from trainer.run_start import stored_precision


def _enabled(approach) -> bool:
    with approach.autocast():
        return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


@pytest.fixture
def cpu(monkeypatch):
    """Set what `auto` sees: whether the CPU has native bf16, and the GFLOP from which bf16 pays."""
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)

    def set_cpu(native: bool, min_gflop: float = device_module.BF16_MIN_GFLOP) -> None:
        for module in (device_module, base_module):
            monkeypatch.setattr(module, "cpu_has_native_bf16", lambda: native)
        monkeypatch.setattr(device_module, "BF16_MIN_GFLOP", min_gflop)

    return set_cpu


def test_the_config_default_is_auto():
    assert TrainConfig().cpu_bf16 == "auto" and TrainConfig().cpu_precision == ""


@pytest.mark.parametrize("name", ["naive", "funit2funit"])
def test_on_trains_in_bf16_with_finite_losses(name):
    approach = build(name, cpu_bf16="on")
    assert _enabled(approach)
    logs = iteration(approach, make_batch(), 0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert approach.extra_state()["cpu_precision"]["bf16"] is True and approach.cpu_precision == "bf16"


def test_off_stays_fp32(cpu):
    cpu(native=True, min_gflop=0.0)
    approach = build("naive", cpu_bf16="off")
    assert not _enabled(approach) and approach.cpu_precision == "fp32"


@pytest.mark.parametrize(
    ("native", "min_gflop", "chosen", "why"),
    [(True, 0.0, True, "GFLOP per G2G pass"), (True, 1e6, False, "too small"), (False, 0.0, False, "no native bf16")],
    ids=["large-model", "small-model", "no-native-bf16"],
)
def test_auto_decides_from_the_flags_and_the_size(cpu, native, min_gflop, chosen, why):
    cpu(native, min_gflop)
    approach = build("naive")
    assert _enabled(approach) is chosen and approach.cpu_precision == ("bf16" if chosen else "fp32")
    assert why in approach.cpu_bf16_note
    precision = approach.extra_state()["cpu_precision"]
    assert precision == {"mode": "auto", "bf16": chosen, "note": approach.cpu_bf16_note}


@pytest.mark.parametrize("name", ["naive", "funit2funit"])
def test_the_size_is_the_flops_of_a_real_cross_pass(name):
    """Counted on the meta device, the count equals that of the real pass at the run's image size."""
    approach = build(name)
    x = torch.zeros(1, 3, 32, 32)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        cross_pass(approach.generator, x, x)
    assert counter.get_total_flops() > 0
    assert approach.cross_pass_gflop() == pytest.approx(counter.get_total_flops() / 1e9)
    assert all(p.device.type == "cpu" for p in approach.generator.parameters())  # the copy went to meta


def test_auto_defers_to_the_environment(monkeypatch):
    monkeypatch.setenv("G2G_CPU_BF16", "on")
    assert _enabled(build("naive"))


def test_a_recorded_choice_wins_over_the_rule_where_the_cpu_has_bf16(cpu):
    cpu(native=True, min_gflop=1e6)  # the rule would say fp32
    recorded = build("naive", cpu_precision="bf16")
    assert _enabled(recorded) and "recorded" in recorded.cpu_bf16_note
    cpu(native=False)
    elsewhere = build("naive", cpu_precision="bf16")  # never emulated bf16 (25× slower) because a config says so
    assert not _enabled(elsewhere) and "no native bf16" in elsewhere.cpu_bf16_note
    assert not _enabled(build("naive", cpu_precision="bf16", cpu_bf16="off"))


def test_a_non_finite_loss_under_bf16_falls_back_to_fp32():
    approach = build("naive", cpu_bf16="on")
    assert _enabled(approach)
    NanAt(approach, 0)
    with pytest.raises(NonFiniteLossError):
        iteration(approach, make_batch(), 0)
    assert not _enabled(approach) and "non-finite" in approach.cpu_bf16_note


# --------------------------------------------------------------------------- whole runs (issue 24 item 1)


def _run(config, events=None) -> TrainingEngine:
    engine = TrainingEngine(config, events if events is not None else Events(), "cpu", dataset=TinyDataset())
    assert engine.run() == "completed"
    return engine


def _weights(engine: TrainingEngine) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value for name, module in engine.approach.modules().items()
            for key, value in module.state_dict().items()}


def _identical(a: TrainingEngine, b: TrainingEngine) -> bool:
    left, right = _weights(a), _weights(b)
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


def _stored_precision(run_dir) -> str:
    return json.loads((run_dir / "config.json").read_text(encoding="utf-8"))["cpu_precision"]


def jittery_clock(seed: int):
    """`time.perf_counter` of a machine whose load comes and goes: every reading jumps by 0.1 ms to 0.5 s."""
    rng, now = random.Random(seed), [0.0]

    def clock() -> float:
        now[0] += rng.uniform(1e-4, 0.5)
        return now[0]

    return clock


@pytest.mark.parametrize(("min_gflop", "precision"), [(0.0, "bf16"), (1e6, "fp32")], ids=["bf16", "fp32"])
def test_two_runs_of_one_config_and_seed_are_bit_identical_whatever_the_clock_says(
        tmp_path, monkeypatch, cpu, min_gflop, precision):
    """Two loads of the machine: clocks 1 and 2 made the old timing probe choose bf16 in one run and fp32 in the
    other (checked on the code of 2026-12-06); now the rule chooses, the same both times, and says so."""
    cpu(native=True, min_gflop=min_gflop)
    runs = []
    for seed in (1, 2):
        monkeypatch.setattr(time, "perf_counter", jittery_clock(seed))
        events = Events()
        runs.append(_run(tiny_config(tmp_path / str(seed), steps=3), events))
        assert _stored_precision(tmp_path / str(seed) / "run") == precision
        assert any(e.message.startswith("training precision: ") for e in events.of(Noted))
    assert _identical(*runs)
    assert runs[0].approach.extra_state()["cpu_precision"] == runs[1].approach.extra_state()["cpu_precision"]


def test_a_resume_keeps_the_recorded_choice(tmp_path, cpu):
    cpu(native=True, min_gflop=0.0)
    straight = _run(tiny_config(tmp_path / "a", steps=4))
    _run(tiny_config(tmp_path / "b", steps=2))
    assert _stored_precision(tmp_path / "b" / "run") == "bf16"
    cpu(native=True, min_gflop=1e6)  # the rule now says fp32: the run must go on in bf16
    resumed = _run(tiny_config(tmp_path / "b", steps=4, resume=str(tmp_path / "b" / "run")))
    assert resumed.approach.cpu_precision == "bf16" and "recorded" in resumed.approach.cpu_bf16_note
    assert _identical(straight, resumed)


def test_a_fall_back_to_fp32_is_recorded_and_kept_by_a_resume(tmp_path, cpu):
    cpu(native=True, min_gflop=0.0)
    events = Events()
    engine = TrainingEngine(tiny_config(tmp_path, steps=4), events, "cpu", dataset=TinyDataset())
    engine.setup()
    NanAt(engine.approach, 2)  # after the checkpoint at step 2: the rollback restores its bf16 extra state
    assert engine.run() == "completed" and events.of(RolledBack)
    assert engine.approach.cpu_precision == "fp32" and _stored_precision(tmp_path / "run") == "fp32"
    resumed = _run(tiny_config(tmp_path, steps=5, resume=str(tmp_path / "run")))
    assert resumed.approach.cpu_precision == "fp32"


@pytest.mark.parametrize(
    ("config", "extra", "precision"),
    [({}, {"cpu_precision": {"mode": "auto", "bf16": True, "note": "bf16 autocast (1.17× faster)"}}, "bf16"),
     ({}, {"cpu_precision": {"mode": "auto", "bf16": False}}, "fp32"),
     ({}, {}, ""),
     ({"cpu_precision": ""}, {"cpu_precision": {"mode": "auto", "bf16": False}}, "")],
    ids=["old-checkpoint-bf16", "old-checkpoint-fp32", "older-still", "gpu-run"],
)
def test_the_recorded_precision_of_a_checkpoint(config, extra, precision):
    """Checkpoints from before `cpu_precision` (the timing probe's choice, in the extra state) keep theirs too."""
    assert stored_precision({"config": config, "extra": extra}) == precision
