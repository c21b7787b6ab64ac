"""Numerical edge cases of inference: non-finite inputs, flat images, fade weights far outside the slider
(a weight that diverges in training: tests/trainer/test_diverged_weights.py).

Contract (core/pipeline.py): NaN/Inf input pixels raise ValueError with a message (they would poison
the code cache); all-black and all-white images give finite outputs; fade weights are clamped to
`ALPHA_LIMITS` (documented there) and a NaN/Inf weight is a ValueError.
"""

from __future__ import annotations

import math

import pytest
import torch

from g2g_desktop.core.pipeline import ALPHA_LIMITS, G2GPipeline
from tests.factories import tiny_funit_generator, tiny_naive_generator

pytestmark = pytest.mark.timeout(60)
SIZE = 32


@pytest.fixture(scope="module", params=["naive", "funit"])
def pipeline(request):
    generator = tiny_naive_generator() if request.param == "naive" else tiny_funit_generator()
    return G2GPipeline(generator, "cpu")


def image(seed: int) -> torch.Tensor:
    return torch.rand(3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def poisoned(value: float) -> torch.Tensor:
    x = image(1)
    x[1, 5, 7] = value
    return x


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_pixels_are_refused_everywhere(pipeline, value):
    bad, good = poisoned(value), image(2)
    calls = {
        "run": lambda: pipeline.run(bad, good),
        "run_second": lambda: pipeline.run(good, bad),
        "run_batched": lambda: pipeline.run(bad.unsqueeze(0), good.unsqueeze(0)),
        "fade": lambda: pipeline.fade(good, bad, 0.5),
        "fade_frames": lambda: pipeline.fade_frames(bad, good, [0.0, 1.0]),
        "reconstruct": lambda: pipeline.reconstruct(bad),
        "matrix": lambda: pipeline.matrix(torch.stack([good, bad])),
        "codes": lambda: pipeline.codes(bad),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match="NaN or Inf") as info:
            call()
        assert "\n" not in str(info.value), name
    cached = [pipeline._cache.get(key) for key in pipeline._cache]
    assert all(torch.isfinite(c.identity).all() for c in cached), "poisoned codes were cached"


@pytest.mark.parametrize("fill", [-1.0, 1.0, 0.0], ids=["black", "white", "grey"])
def test_flat_images_give_finite_outputs(pipeline, fill):
    """Instance norm divides by the per-channel std, which is 0 for a flat image: eps must keep it finite."""
    flat, other = torch.full((3, SIZE, SIZE), fill), image(3)
    result = pipeline.run(flat, other)
    for name in ("original", "mixed", "reconstructed"):
        assert torch.isfinite(getattr(result, name)).all(), name
    both_flat = pipeline.run(flat, torch.full((3, SIZE, SIZE), -fill))
    assert torch.isfinite(both_flat.mixed).all() and torch.isfinite(both_flat.reconstructed).all()
    assert torch.isfinite(pipeline.fade(flat, other, 0.5)).all()
    assert torch.isfinite(pipeline.matrix(torch.stack([flat, other]))).all()
    assert torch.isfinite(pipeline.run(flat.unsqueeze(0), other.unsqueeze(0)).mixed).all()


def test_fade_weights_are_clamped_to_the_documented_limits(pipeline):
    x1, x2 = image(4), image(5)
    low, high = ALPHA_LIMITS
    at_high, at_low = pipeline.fade(x1, x2, high), pipeline.fade(x1, x2, low)
    for alpha in (1e6, 1e300, float(high) + 1e-3):
        assert torch.equal(pipeline.fade(x1, x2, alpha), at_high), alpha
    for alpha in (-1e6, -1e300):
        assert torch.equal(pipeline.fade(x1, x2, alpha), at_low), alpha
    assert torch.equal(pipeline.fade(x1, x2, 1e9, -1e9)[0], at_high[0])
    assert torch.equal(pipeline.fade(x1, x2, 1e9, -1e9)[1], at_low[1])
    assert torch.isfinite(at_high).all() and torch.isfinite(at_low).all()
    frames = pipeline.fade_frames(x1, x2, [-1e9, 0.5, 1e9])
    assert torch.equal(frames[0], at_low[0]) and torch.equal(frames[2], at_high[0])


def test_inside_the_limits_fades_are_not_clamped(pipeline):
    x1, x2 = image(6), image(7)
    assert not torch.equal(pipeline.fade(x1, x2, 1.5), pipeline.fade(x1, x2, ALPHA_LIMITS[1]))
    plain = pipeline.run(x1, x2).mixed
    torch.testing.assert_close(pipeline.fade(x1, x2, 1.0), plain, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("alpha", [math.nan, math.inf, -math.inf])
def test_non_finite_fade_weight_is_a_value_error(pipeline, alpha):
    x1, x2 = image(8), image(9)
    with pytest.raises(ValueError, match="finite"):
        pipeline.fade(x1, x2, alpha)
    with pytest.raises(ValueError, match="finite"):
        pipeline.fade(x1, x2, 0.5, alpha)
    with pytest.raises(ValueError, match="finite"):
        pipeline.fade_frames(x1, x2, [0.0, alpha])


def test_extreme_but_finite_pixels_stay_finite(pipeline):
    """Inputs far outside [-1, 1] (a caller forgetting to normalise 0-255 pixels) must not overflow."""
    x = image(10) * 127.5 + 127.5
    result = pipeline.run(x, image(11))
    assert torch.isfinite(result.mixed).all() and torch.isfinite(result.reconstructed).all()
