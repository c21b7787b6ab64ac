"""Inference benchmarks: the full G2G forward, the fade slider and the N×N swap matrix.

Each figure divides the project's path (`G2GPipeline`) by the literal eager reference
(`workloads.eager_g2g` and friends) measured interleaved in the same run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from g2g_desktop.core.images import tensor_to_uint8
from g2g_desktop.core.pipeline import G2GPipeline

from .harness import compare, measure
from .report import Row, Section
from .scaling import forward_flops, utilisation
from .workloads import Model, decode_one_by_one, eager_g2g, eager_matrix, images

SLIDER_TARGET_MS = 16.0  # one slider update of the default model on the CPU (60 updates per second)
SLIDER_FRACTION_TARGET = 1 / 3  # a slider update vs a full forward at FUNIT-animals size


@dataclass(frozen=True)
class Budget:
    """How often to repeat each kind of workload; heavy = seconds per call, light = milliseconds."""

    heavy: int = 3
    light: int = 15
    matrix: int = 2


def forward_rows(
    model: Model, batches: tuple[int, ...], budget: Budget, peak_gflops: float, device: str = "cpu"
) -> list[Row]:
    """Full forward (mix + reconstruct of a pair) per batch size: pipeline vs eager fp32. On the CPU batch 1 is
    measured twice: in fp32, and in the precision the app chooses at load (`auto`: bf16 decoding where the CPU
    has it, the model is large enough and its whole cross pass stays within tolerance), with the largest
    difference of that choice's images from the eager fp32 ones."""
    reference = model.fresh_copy().to(device)
    precisions = ("off", "auto") if device == "cpu" else ("off",)
    pipes = {p: G2GPipeline(model.fresh_copy(), device, cpu_bf16=p) for p in precisions}
    rows = []
    for batch, precision in [(b, p) for b in batches for p in precisions if b == 1 or p == "off"]:
        pipe = pipes[precision]
        x = images(2 * batch, model.image_size, device="cpu")
        x1, x2 = x[:batch], x[batch:]
        r1, r2 = x1.to(device), x2.to(device)

        def candidate(x1=x1, x2=x2, batch=batch, pipe=pipe):
            pipe.clear_cache()  # a first mix: nothing cached yet
            return pipe.run(x1[0], x2[0]) if batch == 1 else pipe.run(x1, x2)

        heavy = model.image_size >= 128 and device == "cpu"  # seconds per call: fewer rounds, no warm-up
        comparison = compare(
            lambda r1=r1, r2=r2: eager_g2g(reference, r1, r2),
            candidate,
            repeats=(1 if batch > 1 else 2) if heavy else budget.heavy,
            warmup=0 if heavy else 1,
            device=device,
        )
        extra: dict = {}
        if precision == "auto":
            extra = {"precision": pipe.settings.decode_bf16 or "fp32", **_largest_differences(reference, pipe, x1, x2)}
        rows.append(
            Row(
                name=f"full forward, {model.name}, batch {batch}",
                candidate="G2GPipeline.run" + (" (the app's precision, auto)" if precision == "auto" else ""),
                baseline="eager fp32, one call per image",
                comparison=comparison,
                extra={
                    "pairs/s": round(batch / (comparison.candidate.median_ms / 1000), 2),
                    **utilisation(forward_flops(model, batch), comparison.candidate.median_ms, peak_gflops),
                    **extra,
                },
            )
        )
    return rows


def _largest_differences(reference, pipe: G2GPipeline, x1: torch.Tensor, x2: torch.Tensor) -> dict[str, float]:
    """Largest |pipeline − eager fp32| of the mixed and the reconstructed row, in grey levels of 255."""
    truth = eager_g2g(reference, x1, x2)[:, 0].cpu()  # m1, m2, x̂1, x̂2
    pipe.clear_cache()
    result = pipe.run(x1[0], x2[0])
    mixed = float((result.mixed - truth[:2]).abs().max()) / 2 * 255
    recon = float((result.reconstructed - truth[2:]).abs().max()) / 2 * 255
    return {"max diff mixed /255": round(mixed, 2), "max diff reconstructed /255": round(recon, 2)}


def drag_alphas() -> Iterator[float]:
    """Slider positions in [-0.5, 1.5] that never repeat (a golden-ratio walk), as a drag produces."""
    for k in itertools.count(1):
        yield -0.5 + 2.0 * ((k * 0.6180339887) % 1.0)


def slider_row(
    model: Model, budget: Budget, *, absolute_target: bool, both: bool = False, device: str = "cpu"
) -> Row:
    """One slider update (fade from cached codes + the uint8 conversion the preview needs) vs a full
    forward of the same pair from scratch. A drag moves one slider (α2 stays put); `both` moves the two
    together, the worst case."""
    pipe = G2GPipeline(model.fresh_copy(), device, cpu_bf16="off")
    x = images(2, model.image_size)
    pipe.run(x[0], x[1])
    alphas = drag_alphas()

    def slider():
        a = next(alphas)
        return tensor_to_uint8(pipe.fade(x[0], x[1], a, 1.0 - a if both else 1.0))

    def full():
        pipe.clear_cache()
        return pipe.run(x[0], x[1])  # caches the codes of x again, as the slider needs

    fade_timing = measure(slider, repeats=budget.light, warmup=2, device=device)
    comparison = compare(full, slider, repeats=budget.heavy, device=device)
    fraction = 1.0 / comparison.ratio
    if both:
        target, met = None, None
    elif absolute_target:
        target, met = f"≤ {SLIDER_TARGET_MS:.0f} ms", fade_timing.median_ms <= SLIDER_TARGET_MS
    else:
        target, met = f"ratio ≤ {SLIDER_FRACTION_TARGET:.2f}", fraction <= SLIDER_FRACTION_TARGET
    return Row(
        name=f"slider update ({'both sliders' if both else 'one slider dragged'}), {model.name}",
        candidate="G2GPipeline.fade + uint8",
        baseline="full forward (G2GPipeline.run, cold cache)",
        comparison=comparison,
        timing=fade_timing,
        ratio=fraction,
        ratio_meaning="slider ms / full-forward ms (lower is better)",
        target=target,
        met=met,
        extra={"slider median ms (more repeats)": round(fade_timing.median_ms, 2)},
    )


def matrix_rows(model: Model, sizes: tuple[int, ...], budget: Budget, device: str = "cpu") -> list[Row]:
    """The N×N swap matrix: batched from cached codes vs one entry at a time."""
    reference = model.fresh_copy().to(device)
    pipe = G2GPipeline(model.fresh_copy(), device, cpu_bf16="off")
    rows = []
    for n in sizes:
        x = images(n, model.image_size)
        xd = x.to(device)

        def batched(x=x):
            pipe.clear_cache()
            return pipe.matrix(x)

        rounds = budget.matrix if n <= 8 else 1  # 16×16 one at a time takes many seconds here
        naive = compare(lambda xd=xd: eager_matrix(reference, xd), batched, repeats=rounds, device=device)
        rows.append(
            Row(
                name=f"swap matrix {n}×{n}, {model.name}",
                candidate="G2GPipeline.matrix",
                baseline=f"{n * n} eager generator calls",
                comparison=naive,
            )
        )
        codes_once = compare(
            lambda xd=xd: decode_one_by_one(reference, xd), batched, repeats=rounds, device=device
        )
        rows.append(
            Row(
                name=f"swap matrix {n}×{n}, {model.name}",
                candidate="G2GPipeline.matrix",
                baseline="codes once, one decode per entry",
                comparison=codes_once,
                extra={"isolates": "batching"},
            )
        )
    return rows


def inference_sections(
    models: dict[str, Model],
    budget: Budget,
    *,
    batches: tuple[int, ...],
    matrix_sizes: tuple[int, ...],
    peak_gflops: float,
) -> list[Section]:
    """`models` has "large" (FUNIT-animals size) and "default" (the app's model)."""
    large, default = models["large"], models["default"]
    forward = Section("forward", "Full G2G forward (mix + reconstruct of a pair)")
    forward.notes.append(
        "candidate: `G2GPipeline.run` with an empty code cache (a first mix); baseline: the four generator "
        "calls m1=G(x1,x2), m2=G(x2,x1), x̂1=G(m1,m2), x̂2=G(m2,m1) in eager fp32 under no_grad."
    )
    if large.image_size >= 128:
        forward.notes.append(
            f"{large.name} on the CPU: batch 1 is measured in 2 rounds, batch > 1 in one (a call takes seconds); "
            "no warm-up call (the smaller model ran first)."
        )
    for model in (default, large):
        forward.rows += forward_rows(model, batches, budget, peak_gflops)

    slider = Section("slider", "Slider update (fade from cached codes) vs full forward")
    slider.notes.append(
        "A drag moves one slider: α1 walks through non-repeating positions in [-0.5, 1.5], α2 stays at 1 (the "
        "'both sliders' row moves α2 = 1 − α1 too). Time = `fade` + conversion to uint8 for display."
    )
    slider.rows.append(slider_row(default, budget, absolute_target=True))
    slider.rows.append(slider_row(default, budget, absolute_target=True, both=True))
    slider.rows.append(slider_row(large, Budget(heavy=min(budget.heavy, 2), light=3), absolute_target=False))

    matrix = Section("matrix", "Swap matrix N×N")
    matrix.rows += matrix_rows(default, matrix_sizes, budget)
    return [forward, slider, matrix]
