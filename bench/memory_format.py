"""channels_last against the default (contiguous) memory format for a FUNIT2FUNIT training step (issue 12 item 3).

Both sides are the same approach, seed and batch; one has its generator, discriminator and batch converted
to `torch.channels_last`. The trainer uses channels_last nowhere: this section is the measurement behind that
choice (ratio = contiguous ms / channels_last ms; below 1 means channels_last is slower), on the CPU and,
when the bench runs on a GPU, there too.
"""

from __future__ import annotations

import itertools

import torch

from .harness import compare
from .report import Row, Section
from .training import TrainCase, _approach, batch_of, funit_overrides
from .workloads import Model


def _channels_last(batch):
    return type(batch)(**{name: t.contiguous(memory_format=torch.channels_last) if t is not None and t.dim() == 4
                          else t for name, t in vars(batch).items()})


def memory_format_row(model: Model, batch: int, repeats: int, device: str) -> Row:
    pair = batch_of(batch, model.image_size)
    sides, first_loss = {}, {}
    for channels_last in (False, True):
        approach = _approach(TrainCase("funit2funit", batch, model.image_size, funit_overrides(model)), device)
        data = pair
        if channels_last:
            for module in approach.modules().values():
                module.to(memory_format=torch.channels_last)
            data = _channels_last(pair)
        approach.discriminator_step(data, 0)  # warm-up: oneDNN picks its kernels on first use
        first_loss[channels_last] = approach.generator_step(data, 0)["Loss/G/total"]
        sides[channels_last] = (approach, data)
    steps = itertools.count(1)

    def step(channels_last: bool) -> None:
        approach, data = sides[channels_last]
        s = next(steps)
        approach.discriminator_step(data, s)
        approach.generator_step(data, s)
        if device == "cuda":
            torch.cuda.synchronize()

    comparison = compare(lambda: step(False), lambda: step(True), repeats=repeats, warmup=0)
    return Row(
        name=f"training step funit2funit, {model.name}, batch {batch}, {device}",
        candidate="channels_last (generator, discriminator and batch)",
        baseline="contiguous (torch default)",
        comparison=comparison,
        ratio_meaning="speed-up (contiguous ms / channels_last ms)",
        extra={"loss_rel_diff": round(abs(first_loss[True] - first_loss[False]) / max(abs(first_loss[False]), 1e-12),
                                      6)},
    )


def memory_format_section(models: dict[str, Model], repeats: int, train_batch: int) -> Section:
    section = Section("channels_last", "channels_last against contiguous tensors (training step)")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    section.notes.append(f"{torch.get_num_threads()} CPU threads; fp32 on the CPU.")
    unique = list({id(m): m for m in models.values()}.values())  # the quick run passes one model twice
    for device in devices:
        for model in unique:
            section.rows.append(memory_format_row(model, train_batch if model.image_size <= 64 else 1, repeats, device))
    return section
