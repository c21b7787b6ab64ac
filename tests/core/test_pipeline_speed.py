"""The pipeline's speed measures keep its results: fade image cache, out-of-memory message, OpenMP policy.

Their measured gains are in bench/results/cpu_*.md; these tests check behaviour, never time.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from g2g_desktop.core.pipeline import G2GPipeline, PipelineMemoryError


@pytest.fixture(params=["funit", "naive"])
def gen(request, tiny_funit, tiny_naive):
    return tiny_funit if request.param == "funit" else tiny_naive


def _count_decodes(gen) -> list[int]:
    """Record the batch size of every decoder call (instance attribute shadows the method)."""
    sizes: list[int] = []
    original = gen.decode

    def decode(content, class_code):
        sizes.append(content.shape[0])
        return original(content, class_code)

    gen.decode = decode
    return sizes


def test_cpu_pipeline_runs_channels_last_with_the_eager_results(gen, images):
    """channels_last on the CPU (measured faster, core/device.py) changes the layout, not the images."""
    import copy

    eager = copy.deepcopy(gen).eval()
    pipe = G2GPipeline(gen, "cpu", cpu_bf16="off")
    assert pipe.settings.channels_last
    assert pipe._prepare(images[0]).is_contiguous(memory_format=torch.channels_last)
    result = pipe.run(images[0], images[1])
    with torch.no_grad():
        mixed = eager(images[:1], images[1:2])
    assert torch.allclose(result.mixed[0], mixed[0], atol=1e-5)


def test_dragging_one_slider_decodes_only_that_side(gen, images):
    x = images
    pipe = G2GPipeline(gen, "cpu")
    fresh = G2GPipeline(gen, "cpu")
    expected = fresh.fade(x[0], x[1], 0.5, 1.0)
    pipe.fade(x[0], x[1], 0.3, 1.0)
    sizes = _count_decodes(gen)
    got = pipe.fade(x[0], x[1], 0.5, 1.0)
    assert sizes == [1], "side 2 kept α2 = 1: only side 1 is decoded"
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    again = pipe.fade(x[0], x[1], 0.5, 1.0)
    assert sizes == [1], "an unchanged request decodes nothing"
    torch.testing.assert_close(again, got)


def test_fade_cache_follows_alpha_clamping_and_clear(gen, images):
    x = images
    pipe = G2GPipeline(gen, "cpu")
    pipe.fade(x[0], x[1], 100.0)
    sizes = _count_decodes(gen)
    pipe.fade(x[0], x[1], 50.0)  # both clamp to the same limit
    assert sizes == []
    pipe.clear_cache()
    pipe.fade(x[0], x[1], 50.0)
    assert sizes == [2]


def test_out_of_memory_becomes_one_line_message_and_pipeline_recovers(tiny_funit, images):
    pipe = G2GPipeline(tiny_funit, "cpu")
    original = tiny_funit.decode
    calls = {"n": 0}

    def failing(content, class_code):
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB\nmore details")
        return original(content, class_code)

    tiny_funit.decode = failing
    with pytest.raises(PipelineMemoryError, match="out of main memory computing 2 image") as info:
        pipe.run(images[0], images[1])
    assert isinstance(info.value, MemoryError) and "\n" not in str(info.value)
    assert pipe.run(images[0], images[1]).mixed.shape == (2, 3, 32, 32)


def test_other_runtime_errors_pass_through(tiny_funit, images):
    pipe = G2GPipeline(tiny_funit, "cpu")

    def broken(content, class_code):
        raise RuntimeError("shape mismatch")

    tiny_funit.decode = broken
    with pytest.raises(RuntimeError, match="shape mismatch"):
        pipe.fade(images[0], images[1], 0.5)


# Each entry point, run as its console script would, then the policy it left for torch to read.
ENTRY_POINT_CODE = """import contextlib, os
from {module} import main
with contextlib.suppress(SystemExit):
    main(["--help"])
print(os.environ.get("OMP_WAIT_POLICY"))"""


@pytest.mark.parametrize("module", ["g2g_desktop.__main__", "trainer.cli", "trainer.eval_cli"])
@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_entry_points_set_a_passive_openmp_wait_policy_unless_the_user_chose(module, given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    code = ENTRY_POINT_CODE.format(module=module)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == expected


def test_importing_the_packages_leaves_the_openmp_policy_alone():
    """A process-wide setting belongs to the entry points: a program that imports the core keeps its own."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import os, g2g_desktop.core.pipeline, trainer.engine; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
