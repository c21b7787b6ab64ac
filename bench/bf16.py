"""CPU bf16 benchmark (issue 13 item 23, issue 12 item 3): bf16 autocast against fp32 in the same run.

Decoding: one slider update (`G2GPipeline.fade`, one image), the swap matrix and the fade export
(`fade_frames`), each on two pipelines over copies of the same generator, one forced to fp32 and one to
bf16, measured interleaved; the ratio is the speed-up (fp32 ms / bf16 ms) and `max_diff` the largest
per-pixel difference of the same output on the [0, 1] scale (the app keeps bf16 only where its whole cross
pass stays within `decode_precision.BF16_MAX_DIFF`). Training: one discriminator + generator update of the
FUNIT2FUNIT approach with `cpu_bf16` off and on, same seed; `loss_rel_diff` compares their first-step generator losses.
"""

from __future__ import annotations

import torch

from g2g_desktop.core.decode_precision import BF16_MAX_DIFF
from g2g_desktop.core.device import cpu_flags, cpu_has_native_bf16
from g2g_desktop.core.pipeline import G2GPipeline

from .harness import compare
from .inference import drag_alphas
from .report import Row, Section
from .workloads import Model, images

MATRIX_IMAGES = 6
FADE_FRAMES = 24


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max() / 2)


def decode_rows(model: Model, repeats: int) -> list[Row]:
    fp32 = G2GPipeline(model.fresh_copy(), "cpu", cpu_bf16="off")
    bf16 = G2GPipeline(model.fresh_copy(), "cpu", cpu_bf16="on")
    x = images(MATRIX_IMAGES, model.image_size, seed=4)
    for pipe in (fp32, bf16):
        pipe.run(x[0], x[1])  # codes cached, as in the app before a slider moves
    alphas = {id(fp32): drag_alphas(), id(bf16): drag_alphas()}  # the same α sequence for both (no fade-cache hit)
    frames = [i / (FADE_FRAMES - 1) for i in range(FADE_FRAMES)]
    workloads = {
        "slider update (one image)": lambda p: p.fade(x[0], x[1], next(alphas[id(p)]), 1.0),
        f"swap matrix ({MATRIX_IMAGES}×{MATRIX_IMAGES})": lambda p: p.matrix(x),
        f"fade export ({FADE_FRAMES} frames)": lambda p: p.fade_frames(x[0], x[1], frames),
    }
    rows = []
    for name, work in workloads.items():
        comparison = compare(lambda w=work: w(fp32), lambda w=work: w(bf16), repeats=repeats)
        fixed = {"slider update (one image)": lambda p: p.fade(x[0], x[1], 0.37, 1.0)}.get(name, work)
        diff = _max_diff(fixed(fp32), fixed(bf16))
        rows.append(
            Row(
                name=f"{name}, {model.name}",
                candidate="bf16 autocast decode",
                baseline="fp32 decode",
                comparison=comparison,
                ratio_meaning="speed-up (fp32 ms / bf16 ms)",
                target=f"max diff ≤ {BF16_MAX_DIFF * 255:.0f}/255",
                met=diff <= BF16_MAX_DIFF,
                extra={"max_diff": round(diff, 5), "max_diff_255": round(diff * 255, 2)},
            )
        )
    return rows


def training_row(model: Model, batch: int, repeats: int) -> Row:
    from .training import TrainCase, _approach, batch_of, compare_training_steps, funit_overrides, relative_difference

    pair = batch_of(batch, model.image_size)
    fp32, bf16 = (
        (_approach(TrainCase("funit2funit", batch, model.image_size, funit_overrides(model), mode), "cpu"), pair)
        for mode in ("off", "on")
    )
    comparison, loss_fp32, loss_bf16 = compare_training_steps(fp32, bf16, repeats)
    return Row(
        name=f"training step funit2funit, {model.name}, batch {batch}",
        candidate="bf16 autocast (cpu_bf16 = on)",
        baseline="fp32 (cpu_bf16 = off)",
        comparison=comparison,
        ratio_meaning="speed-up (fp32 ms / bf16 ms)",
        extra={
            "loss_rel_diff": round(relative_difference(loss_bf16, loss_fp32), 5),
            "first_G_loss_fp32": round(loss_fp32, 5),
            "first_G_loss_bf16": round(loss_bf16, 5),
        },
    )


def bf16_section(models: dict[str, Model], repeats: int, train_batch: int, train_repeats: int) -> Section:
    section = Section("bf16", "CPU bf16 autocast against fp32 (decode and training step)")
    flags = sorted(cpu_flags() & {"avx512_bf16", "amx_bf16", "amx_tile"})
    if not cpu_has_native_bf16():
        section.skipped = "this CPU has no native bf16 (avx512_bf16 / amx_bf16): the app and trainer stay fp32"
        return section
    section.notes.append(
        f"CPU flags: {', '.join(flags) or 'none'}; torch capability {torch.backends.cpu.get_cpu_capability()}; "
        f"{torch.get_num_threads()} threads. Differences are on the [0, 1] image scale."
    )
    unique = list({id(m): m for m in models.values()}.values())  # the quick run passes one model twice
    for model in unique:
        section.rows += decode_rows(model, repeats)
    for model in unique:
        section.rows.append(training_row(model, train_batch if model.image_size <= 64 else 1, train_repeats))
    return section
