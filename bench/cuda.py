"""The CUDA path, run only when a GPU is present: AMP + channels_last vs eager fp32, peak GPU memory, and
what a user sees when a batch does not fit (the out-of-memory message, and that the next small run works).
"""

from __future__ import annotations

import torch

from g2g_desktop.core.messages import first_line
from g2g_desktop.core.pipeline import G2GPipeline

from .harness import PeakMemory, matmul_peak_gflops
from .inference import Budget, forward_rows
from .report import Row, Section
from .workloads import Model, eager_g2g, images

NO_GPU = "no GPU in this run"


def _memory_row(model: Model, batch: int) -> Row:
    device = torch.device("cuda")
    reference = model.fresh_copy().to(device)
    pipe = G2GPipeline(model.fresh_copy(), "cuda")
    x = images(2 * batch, model.image_size)
    x1, x2 = x[:batch], x[batch:]
    with PeakMemory(device) as eager_mem:
        eager_g2g(reference, x1.to(device), x2.to(device))
    with PeakMemory(device) as pipe_mem:
        pipe.run(x1, x2)
    return Row(
        name=f"peak GPU memory, {model.name}, batch {batch}",
        candidate=f"G2GPipeline.run ({pipe.settings.label})",
        baseline="eager fp32",
        ratio=eager_mem.peak_bytes / max(pipe_mem.peak_bytes, 1),
        ratio_meaning="memory saving (baseline bytes / candidate bytes)",
        extra={
            "pipeline MiB": round(pipe_mem.peak_bytes / 2**20, 1),
            "eager MiB": round(eager_mem.peak_bytes / 2**20, 1),
        },
    )


def oom_row(model: Model) -> Row:
    """Ask for a batch sized to need about twice the GPU's memory; record the user's message and recovery."""
    device = torch.device("cuda")
    pipe = G2GPipeline(model.fresh_copy(), "cuda")
    x = images(2, model.image_size)
    with PeakMemory(device) as one_pair:
        pipe.run(x[:1], x[1:])
    total = torch.cuda.get_device_properties(device).total_memory
    batch = int(2 * total / max(one_pair.peak_bytes, 1)) + 1
    big = images(2, model.image_size).repeat_interleave(batch, dim=0)
    message, kind = "no error: the batch fitted", None
    try:
        pipe.run(big[:batch], big[batch:])
    except (torch.OutOfMemoryError, MemoryError) as exc:
        kind, message = type(exc).__name__, first_line(exc)
    del big
    try:
        pipe.run(x[0], x[1])
        recovered = True
    except Exception:  # recorded, not raised: the report says whether the app keeps working
        recovered = False
    return Row(
        name=f"too-large batch ({batch} pairs), {model.name}",
        candidate="G2GPipeline.run",
        target="clear message, next run works",
        met=kind is not None and recovered,
        extra={"error": kind, "message": message, "next batch-1 run works": recovered},
    )


def cuda_section(models: dict[str, Model], budget: Budget) -> Section:
    section = Section("cuda", "CUDA path (AMP, channels_last, memory, out-of-memory handling)")
    if not torch.cuda.is_available():
        section.skipped = NO_GPU
        return section
    peak = matmul_peak_gflops("cuda", n=4096)
    section.notes.append(f"fp32 matmul peak of this GPU at torch's default matmul precision: {peak:.0f} GFLOP/s")
    large = models["large"]
    section.rows += forward_rows(large, (1, 8), budget, peak, device="cuda")
    section.rows += forward_rows(models["default"], (1, 8), budget, peak, device="cuda")
    section.rows.append(_memory_row(large, 8))
    section.rows.append(oom_row(large))
    return section
