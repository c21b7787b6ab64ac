"""channels_last against the default (contiguous) memory format for a FUNIT2FUNIT training step (issue 12 item 3).

Both sides are the same approach, seed and batch; one has its generator, discriminator and batch converted
to `torch.channels_last`. The trainer uses channels_last nowhere: this section is the measurement behind that
choice (ratio = contiguous ms / channels_last ms; below 1 means channels_last is slower), on the CPU and,
when the bench runs on a GPU, there too.
"""

from __future__ import annotations

import torch

from .report import Row, Section
from .training import TrainCase, _approach, batch_of, compare_training_steps, funit_overrides, relative_difference
from .workloads import Model


def _channels_last(batch):
    return type(batch)(**{name: t.contiguous(memory_format=torch.channels_last) if t is not None and t.dim() == 4
                          else t for name, t in vars(batch).items()})


def memory_format_row(model: Model, batch: int, repeats: int, device: str) -> Row:
    pair = batch_of(batch, model.image_size)
    contiguous, channels_last = (
        _approach(TrainCase("funit2funit", batch, model.image_size, funit_overrides(model)), device) for _ in range(2)
    )
    for module in channels_last.modules().values():
        module.to(memory_format=torch.channels_last)
    comparison, loss, loss_channels_last = compare_training_steps(
        (contiguous, pair), (channels_last, _channels_last(pair)), repeats, device
    )
    return Row(
        name=f"training step funit2funit, {model.name}, batch {batch}, {device}",
        candidate="channels_last (generator, discriminator and batch)",
        baseline="contiguous (torch default)",
        comparison=comparison,
        ratio_meaning="speed-up (contiguous ms / channels_last ms)",
        extra={"loss_rel_diff": round(relative_difference(loss_channels_last, loss), 6)},
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
