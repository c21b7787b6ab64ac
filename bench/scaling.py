"""How forward time grows with image size and batch, and how far from the machine's FLOP ceiling it runs.

FLOPs come from `torch.utils.flop_counter.FlopCounterMode` on the meta device (no arithmetic is done),
the ceiling from the best fp32 matmul rate measured in this run (`harness.matmul_peak_gflops`).
"""

from __future__ import annotations

import copy

import torch
from torch.utils.flop_counter import FlopCounterMode

from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.pipeline import G2GPipeline

from .harness import measure
from .report import Row, Section
from .workloads import Model, eager_g2g, images, with_size


def forward_flops(model: Model, batch: int) -> int:
    """FLOPs of one full G2G forward of `batch` pairs (the same four generator passes the pipeline runs)."""
    return generator_flops(model.generator, batch, model.image_size)


def generator_flops(generator: DisentanglingGenerator, batch: int, size: int) -> int:
    meta = copy.deepcopy(generator).to("meta")
    x = torch.empty(batch, 3, size, size, device="meta")
    with FlopCounterMode(display=False) as counter:
        eager_g2g(meta, x, x)
    return counter.get_total_flops()


def utilisation(flops: int, ms: float, peak_gflops: float) -> dict:
    achieved = flops / (ms / 1000.0) / 1e9
    return {
        "GFLOP": round(flops / 1e9, 3),
        "GFLOP/s": round(achieved, 2),
        "of matmul peak": f"{100 * achieved / peak_gflops:.0f}%",
    }


def forward_timing_row(model: Model, batch: int, repeats: int, peak_gflops: float, first_ms: float | None) -> Row:
    pipe = G2GPipeline(model.fresh_copy(), "cpu", cpu_bf16="off")
    x = images(2 * batch, model.image_size)

    def run():
        pipe.clear_cache()
        return pipe.run(x[0], x[1]) if batch == 1 else pipe.run(x[:batch], x[batch:])

    timing = measure(run, repeats=repeats, warmup=1)
    return Row(
        name=f"forward {model.image_size} px, batch {batch}",
        candidate="G2GPipeline.run",
        timing=timing,
        ratio=timing.median_ms / first_ms if first_ms else 1.0,
        ratio_meaning="time / time of the group's first row (growth)",
        extra=utilisation(forward_flops(model, batch), timing.median_ms, peak_gflops),
    )


def scaling_section(
    model: Model, *, sizes: tuple[int, ...], batches: tuple[int, ...], repeats: int, peak_gflops: float
) -> Section:
    section = Section("scaling", "Scaling of the full forward with image size and batch (CPU)")
    section.notes.append(
        f"model family: {model.name} ({model.generator.config.to_dict()}), random weights at each size; "
        f"measured fp32 matmul peak of this machine: {peak_gflops:.1f} GFLOP/s."
    )
    first = None
    for size in sizes:
        row = forward_timing_row(with_size(model, size), 1, repeats, peak_gflops, first)
        first = first or row.timing.median_ms
        section.rows.append(row)
    first = None
    for batch in batches:
        row = forward_timing_row(with_size(model, sizes[0]), batch, repeats, peak_gflops, first)
        first = first or row.timing.median_ms
        section.rows.append(row)
    return section
