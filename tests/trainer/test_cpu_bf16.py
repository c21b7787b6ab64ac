"""CPU bf16 autocast for training steps (issue 12 item 3): chosen by `cpu_bf16`, measured under "auto"."""

from __future__ import annotations

import pytest
import torch

from g2g_desktop.core.device import Bf16Trial
from tests.trainer.factories import NanAt
from tests.trainer.test_approaches import build, iteration, make_batch
from trainer.approaches import NonFiniteLossError
from trainer.approaches import base as base_module
from trainer.config import TrainConfig


def _enabled(approach) -> bool:
    with approach.autocast():
        return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def test_the_config_default_is_auto():
    assert TrainConfig().cpu_bf16 == "auto"


@pytest.mark.parametrize("name", ["naive", "funit2funit"])
def test_on_trains_in_bf16_with_finite_losses(name):
    approach = build(name, cpu_bf16="on")
    assert _enabled(approach)
    logs = iteration(approach, make_batch(), 0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert approach.extra_state()["cpu_precision"]["bf16"] is True


def test_off_stays_fp32(monkeypatch):
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: True)
    approach = build("naive", cpu_bf16="off")
    assert not _enabled(approach)
    assert approach.bf16_trial is None


@pytest.mark.parametrize(
    ("trial", "chosen"),
    [
        (Bf16Trial(100.0, 50.0, 1e-3, 1e-3, True), True),
        (Bf16Trial(100.0, 95.0, 1e-3, 1e-3, True), False),
        (Bf16Trial(100.0, 50.0, float("inf"), float("inf"), False), False),
    ],
    ids=["faster", "not-faster", "not-finite"],
)
def test_auto_measures_once_and_records_the_choice(monkeypatch, trial, chosen):
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: True)
    calls = []
    monkeypatch.setattr(base_module, "compare_bf16", lambda run, repeats: calls.append(run) or trial)
    approach = build("naive")
    assert _enabled(approach) is chosen and _enabled(approach) is chosen
    assert len(calls) == 1
    precision = approach.extra_state()["cpu_precision"]
    assert precision["mode"] == "auto" and precision["bf16"] is chosen
    assert precision["trial"]["speedup"] == pytest.approx(trial.speedup, abs=1e-3)


def test_auto_without_native_bf16_measures_nothing(monkeypatch):
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: False)
    approach = build("naive")
    assert not _enabled(approach) and approach.bf16_trial is None
    assert "no native bf16" in approach.cpu_bf16_note


def test_auto_defers_to_the_environment(monkeypatch):
    monkeypatch.setenv("G2G_CPU_BF16", "on")
    assert _enabled(build("naive"))


@pytest.mark.parametrize("name", ["naive", "funit2funit"])
def test_auto_really_measures_at_the_first_step(monkeypatch, name):
    """FUNIT2FUNIT's first autocast() is inside the D step's no_grad block: the probe must still back-propagate."""
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: True)
    approach = build(name)
    logs = iteration(approach, make_batch(), 0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    trial = approach.bf16_trial
    assert trial is not None and trial.finite and trial.fp32_ms > 0
    assert approach.cpu_bf16 is trial.faster() and approach.cpu_bf16_note


def test_a_resumed_run_keeps_the_measured_choice(monkeypatch):
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(base_module, "compare_bf16", lambda run, repeats: Bf16Trial(100.0, 50.0, 0.0, 0.0, True))
    first = build("naive")
    assert _enabled(first)
    state = first.extra_state()
    monkeypatch.setattr(base_module, "compare_bf16", lambda run, repeats: pytest.fail("measured again"))
    resumed = build("naive")
    resumed.load_extra_state(state)
    assert _enabled(resumed) and "kept from the checkpoint" in resumed.cpu_bf16_note
    monkeypatch.setattr(base_module, "cpu_has_native_bf16", lambda: False)
    elsewhere = build("naive")
    elsewhere.load_extra_state(state)  # bf16 chosen on another CPU: not kept where it is only emulated
    assert not _enabled(elsewhere)


def test_the_probe_leaves_weights_and_gradients_alone():
    approach = build("naive", cpu_bf16="off")
    before = [p.detach().clone() for p in approach.generator.parameters()]
    loss = approach._precision_probe()
    assert torch.isfinite(loss)
    assert all(torch.equal(a, p) for a, p in zip(before, approach.generator.parameters()))
    assert all(p.grad is None for p in approach.generator.parameters())


def test_a_non_finite_loss_under_bf16_falls_back_to_fp32():
    approach = build("naive", cpu_bf16="on")
    assert _enabled(approach)
    NanAt(approach, 0)
    with pytest.raises(NonFiniteLossError):
        iteration(approach, make_batch(), 0)
    assert not _enabled(approach) and "non-finite" in approach.cpu_bf16_note
