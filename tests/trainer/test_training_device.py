"""Training computes in the app's device settings: channels_last on the CPU, the same losses as contiguous."""

from __future__ import annotations

import pytest
import torch

from g2g_desktop.core.device import DeviceSettings
from trainer import training_device as training_device_module
from trainer.engine import TrainingEngine
from trainer.training_device import training_device, use_layout

from .factories import Events, TinyDataset, tiny_config


def test_the_cpu_trains_in_channels_last_and_a_missing_gpu_is_bad_input():
    assert training_device(None, "cpu").channels_last
    assert not training_device(torch.device("cpu"), None).channels_last  # a torchrun rank keeps its layout
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device: CUDA was requested"):
            training_device(None, "cuda")


def test_use_layout_converts_only_where_the_settings_ask():
    conv = torch.nn.Conv2d(3, 4, 3)
    use_layout({"c": conv}, DeviceSettings(torch.device("cpu"), None, channels_last=False))
    assert conv.weight.is_contiguous()
    use_layout({"c": conv}, DeviceSettings(torch.device("cpu"), None, channels_last=True))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()


def _two_steps(tmp_path, approach: str) -> tuple[TrainingEngine, list[dict[str, float]]]:
    engine = TrainingEngine(tiny_config(tmp_path, approach, steps=2), Events(), "cpu", dataset=TinyDataset())
    engine.setup()
    return engine, [engine.step() for _ in range(2)]


@pytest.mark.parametrize("approach", ["funit2funit", "naive"])
def test_channels_last_training_gives_the_contiguous_losses(tmp_path, monkeypatch, approach):
    engine, fast = _two_steps(tmp_path / "nhwc", approach)
    convs = [m for m in engine.approach.generator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    plain = DeviceSettings(torch.device("cpu"), None, channels_last=False)
    monkeypatch.setattr(training_device_module, "pick_device", lambda _name=None: plain)
    _, slow = _two_steps(tmp_path / "nchw", approach)
    for a, b in zip(fast, slow):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
