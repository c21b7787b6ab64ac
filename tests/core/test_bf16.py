"""CPU bf16 decoding (issue 13 item 23): chosen only when measured faster and within tolerance of fp32."""

from __future__ import annotations

import pytest
import torch

from g2g_desktop.core import device as device_module
from g2g_desktop.core import pipeline as pipeline_module
from g2g_desktop.core.device import Bf16Trial, compare_bf16, cpu_bf16_mode, cpu_flags
from g2g_desktop.core.pipeline import DECODE_MAX_DIFF, G2GPipeline


def test_the_mode_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    assert cpu_bf16_mode() == "auto"
    monkeypatch.setenv("G2G_CPU_BF16", "ON")
    assert cpu_bf16_mode() == "on"
    assert cpu_bf16_mode("off") == "off"
    with pytest.raises(ValueError, match="auto, on, off"):
        cpu_bf16_mode("fast")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu sse avx512f avx512_bf16 amx_tile\n", encoding="ascii")
    assert {"avx512_bf16", "amx_tile"} <= cpu_flags(str(info))
    assert cpu_flags(str(tmp_path / "missing")) == set()


def test_compare_bf16_measures_both_and_the_difference():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 3, padding=1).eval()
    x = torch.randn(1, 3, 16, 16)
    with torch.inference_mode():
        trial = compare_bf16(lambda: conv(x), repeats=2)
    assert trial.finite and trial.fp32_ms > 0 and trial.bf16_ms > 0
    assert 0 < trial.max_diff < 0.1 and trial.mean_diff <= trial.max_diff
    assert trial.to_dict()["speedup"] == pytest.approx(trial.speedup, abs=1e-3)


def _plain_decode(gen, x1, x2):
    with torch.no_grad():
        return gen.decode(gen.encode_content(x1), gen.encode_class(x2))


def test_off_decodes_in_fp32(tiny_funit, images):
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="off")
    assert pipe.bf16_trial is None and "bf16" not in pipe.settings.label
    fade = pipe.fade(images[0], images[1], 1.0)
    torch.testing.assert_close(fade[:1], _plain_decode(tiny_funit, images[:1], images[1:2]), atol=1e-5, rtol=1e-4)


def test_on_decodes_every_path_in_bf16_within_tolerance(tiny_funit, images):
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="on")
    assert "bf16 decode" in pipe.settings.label
    reference = _plain_decode(tiny_funit, images[:1], images[1:2])
    fade = pipe.fade(images[0], images[1], 1.0)[:1]
    matrix = pipe.matrix(images[:2])[0, 1:2]
    frames = pipe.fade_frames(images[0], images[1], [1.0])
    for out in (fade, matrix, frames):
        assert out.dtype == torch.float32
        difference = (out - reference).abs() / 2  # [0, 1] scale
        assert 0 < float(difference.max()) <= 2 * DECODE_MAX_DIFF  # bf16 really ran, and stayed close


@pytest.mark.parametrize(
    ("trial", "chosen"),
    [
        (Bf16Trial(10.0, 5.0, 0.01, 0.001, True), True),
        (Bf16Trial(10.0, 9.5, 0.01, 0.001, True), False),  # not faster enough
        (Bf16Trial(10.0, 5.0, 0.2, 0.001, True), False),  # a visible difference
        (Bf16Trial(10.0, 5.0, 0.01, 0.02, True), False),  # visible on average
        (Bf16Trial(10.0, 5.0, float("inf"), float("inf"), False), False),  # NaN/Inf in bf16
    ],
)
def test_auto_keeps_bf16_only_when_faster_and_close(tiny_funit, monkeypatch, trial, chosen):
    monkeypatch.setattr(pipeline_module, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(G2GPipeline, "measure_decode_bf16", lambda self: trial)
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    assert pipe.bf16_trial == trial
    assert bool(pipe.settings.decode_bf16) is chosen
    assert ("× faster" in pipe.settings.label) is chosen


def test_auto_measures_nothing_without_native_bf16(tiny_funit, monkeypatch):
    monkeypatch.setattr(pipeline_module, "cpu_has_native_bf16", lambda: False)
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    assert pipe.bf16_trial is None and not pipe.settings.decode_bf16


def test_auto_measures_at_load_on_the_zero_to_one_scale(tiny_funit, monkeypatch):
    monkeypatch.setattr(pipeline_module, "cpu_has_native_bf16", lambda: True)
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    trial = pipe.bf16_trial
    assert trial is not None and trial.finite and 0 < trial.max_diff < 0.5
    assert bool(pipe.settings.decode_bf16) == (
        trial.faster() and trial.max_diff <= DECODE_MAX_DIFF and trial.mean_diff <= pipeline_module.DECODE_MEAN_DIFF
    )


def test_native_bf16_is_seen_in_the_flags(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_flags", lambda: {"avx512_bf16"})
    assert device_module.cpu_has_native_bf16()
