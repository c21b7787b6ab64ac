"""Numerical edge cases of inference: non-finite inputs, flat images, fade weights far outside the slider.

Contract (core/pipeline.py): NaN/Inf input pixels raise ValueError with a message (they would poison
the code cache); all-black and all-white images give finite outputs; fade weights are clamped to
`ALPHA_LIMITS` (documented there) and a NaN/Inf weight is a ValueError.
"""

from __future__ import annotations

import math

import pytest
import torch

from g2g_desktop.core.pipeline import ALPHA_LIMITS, G2GPipeline

from .conftest import tiny_funit, tiny_naive

pytestmark = pytest.mark.timeout(60)
SIZE = 32


@pytest.fixture(scope="module", params=["naive", "funit"])
def pipeline(request):
    generator = tiny_naive() if request.param == "naive" else tiny_funit()
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
    assert all(torch.isfinite(c.identity).all() for c in pipeline._cache.values()), "poisoned codes were cached"


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


@pytest.mark.timeout(120)
def test_diverged_weights_roll_back_to_the_last_checkpoint(tmp_path):
    """A weight that turns NaN mid-run (divergence, not an injected loss): the next loss is non-finite, the
    engine rolls back to the last checkpoint, trains on to the end with finite weights, and the checkpoint
    it rolled back to is left byte for byte as it was."""
    trainer_config = pytest.importorskip("trainer.config")
    from trainer import events as ev
    from trainer.engine import TrainingEngine
    from trainer.state import load_training_state

    from .conftest import TINY_NAIVE

    config = trainer_config.TrainConfig(
        approach="naive", data="procedural:4:3", out=str(tmp_path / "run"), steps=8, batch_size=2, image_size=32,
        model={k: v for k, v in TINY_NAIVE.items() if k != "image_size"}, checkpoint_every=3, log_every=1,
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
