"""CPU bf16 decoding (issue 13 item 23, issue 23 item 3): under "auto" only where the model is large enough for it to
pay and bf16 keeps the whole cross pass — mixed and reconstructed rows — within tolerance of fp32."""

from __future__ import annotations

import json

import pytest
import torch

from g2g_desktop.core import decode_precision
from g2g_desktop.core import device as device_module
from g2g_desktop.core import pipeline as pipeline_module
from g2g_desktop.core.decode_precision import BF16_MAX_DIFF, BF16_MEAN_DIFF, cached_bf16_check
from g2g_desktop.core.device import cpu_bf16_mode, cpu_flags, cpuinfo_field
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.pipeline import G2GPipeline
from tests.core.conftest import TINY_FUNIT


def test_the_mode_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("G2G_CPU_BF16", raising=False)
    assert cpu_bf16_mode() == "auto"
    monkeypatch.setenv("G2G_CPU_BF16", "ON")
    assert cpu_bf16_mode() == "on"
    assert cpu_bf16_mode("off") == "off"
    with pytest.raises(ValueError, match="auto, on, off"):
        cpu_bf16_mode("fast")


def test_cpu_flags_and_name_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nmodel name : AMD EPYC 9R14\nflags : fpu sse avx512f avx512_bf16 amx_tile\n",
                    encoding="ascii")
    assert {"avx512_bf16", "amx_tile"} <= cpu_flags(str(info))
    assert cpuinfo_field("model name", str(info)) == "AMD EPYC 9R14"
    assert cpu_flags(str(tmp_path / "missing")) == set()


def test_native_bf16_is_seen_in_the_flags(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_flags", lambda: {"avx512_bf16"})
    assert device_module.cpu_has_native_bf16()


def _plain_decode(gen, x1, x2):
    with torch.no_grad():
        return gen.decode(gen.encode_content(x1), gen.encode_class(x2))


def test_off_decodes_in_fp32(tiny_funit, images):
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="off")
    assert pipe.bf16_check is None and "bf16" not in pipe.settings.label
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
        assert 0 < float(difference.max()) <= 2 * BF16_MAX_DIFF  # bf16 really ran, and stayed close


@pytest.fixture
def cpu(monkeypatch, tmp_path):
    """A CPU with native bf16 (`min_gflop`: from which size bf16 pays), and a cache folder of the test's own."""
    monkeypatch.setenv("G2G_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(pipeline_module, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: True)

    def set_min_gflop(value: float) -> None:
        monkeypatch.setattr(device_module, "BF16_MIN_GFLOP", value)

    return set_min_gflop


def drifting_funit(offset: float) -> FunitGenerator:
    """The tiny FUNIT generator with `offset` added to the bias of a decoder conv that an instance norm follows.

    In fp32 the norm removes the offset (the images move by < 1e-4); in bf16 the conv's output x + offset keeps
    8 bits of mantissa, so rounding errors of ~offset/256 reach the images, and they grow in the second pass.
    """
    torch.manual_seed(0)
    generator = FunitGenerator(TINY_FUNIT).eval()
    with torch.no_grad():
        generator.dec.model[2].conv.bias += offset
    return generator


def test_auto_keeps_bf16_where_the_whole_pass_stays_close(cpu, tiny_funit):
    cpu(0.0)
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    check = pipe.bf16_check
    assert check is not None and check.bf16 and pipe.settings.decode_bf16 == check.note
    assert 0 < check.max_mixed <= BF16_MAX_DIFF and 0 < check.max_recon <= BF16_MAX_DIFF
    assert check.mean_diff <= BF16_MEAN_DIFF and check.gflop > 0
    assert "bf16 decode, within" in pipe.settings.label


def test_auto_falls_back_to_fp32_where_the_reconstruction_drifts(cpu):
    """The case of issue 23: the reconstructed row (a bf16 mix encoded and decoded again) moves far more than
    the mixed row that the old single-decode check looked at."""
    cpu(0.0)
    pipe = G2GPipeline(drifting_funit(10.0), "cpu", cpu_bf16="auto")
    check = pipe.bf16_check
    assert check is not None and not check.bf16 and not pipe.settings.decode_bf16
    assert check.max_mixed <= BF16_MAX_DIFF < check.max_recon  # one decode alone would have passed
    assert "too far" in check.note and "bf16" not in pipe.settings.label


def test_auto_runs_no_bf16_pass_for_a_model_too_small_to_gain(cpu, tiny_funit):
    cpu(1e6)
    check = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto").bf16_check
    assert check is not None and not check.bf16 and check.max_recon is None and "too small" in check.note


def test_auto_checks_nothing_without_native_bf16(tiny_funit, monkeypatch):
    monkeypatch.setattr(pipeline_module, "cpu_has_native_bf16", lambda: False)
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    assert pipe.bf16_check is None and not pipe.settings.decode_bf16


def test_the_verdict_is_cached_per_model_and_machine(cpu, tiny_funit, monkeypatch, tmp_path):
    cpu(0.0)
    first = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto").bf16_check
    check = decode_precision.check_bf16_pass
    monkeypatch.setattr(decode_precision, "check_bf16_pass", lambda run: pytest.fail("checked again"))
    torch.manual_seed(0)
    again = G2GPipeline(FunitGenerator(TINY_FUNIT).eval(), "cpu", cpu_bf16="auto")  # same weights, new objects
    assert again.bf16_check == first and again.settings.decode_bf16 == first.note
    monkeypatch.setattr(decode_precision, "check_bf16_pass", check)
    other = G2GPipeline(drifting_funit(10.0), "cpu", cpu_bf16="auto").bf16_check  # other weights: checked
    assert other != first
    stored = json.loads((tmp_path / "cache" / "decode_precision.json").read_text(encoding="utf-8"))
    assert len(stored["entries"]) == 2


def test_a_damaged_or_unwritable_cache_only_costs_the_check(cpu, tiny_funit, tmp_path):
    cpu(0.0)
    path = tmp_path / "cache" / "decode_precision.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    pipe = G2GPipeline(tiny_funit, "cpu", cpu_bf16="auto")
    assert pipe.bf16_check.bf16
    assert len(json.loads(path.read_text(encoding="utf-8"))["entries"]) == 1
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    check = cached_bf16_check(pipe.generator, pipe.image_size, pipe.probe_pass, blocked / "cache.json")
    assert check == pipe.bf16_check
