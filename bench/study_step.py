"""The model study's training step (issue 19 item 1): bf16 autocast and channels_last at the study's size.

A study row trains the FUNIT2FUNIT approach at 32 px, 8 pairs a step, on one CPU thread (trainer/study_recipes.py
`BASE`, LayerNorm as in every recent row). Both switches are measured on that step exactly as the bf16 and
channels_last sections measure the default and FUNIT sizes (same approach, seed and batch on both sides,
interleaved), so the study can say whether either would buy it steps on this CPU kind; the result names the CPU.
"""

from __future__ import annotations

import torch

from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from trainer.study_recipes import BASE

from .bf16 import training_row
from .memory_format import memory_format_row
from .report import Section
from .workloads import Model


def study_model(seed: int = 0) -> Model:
    """The generator of a study row (BASE's sizes with LayerNorm), random weights: speed ignores the values."""
    torch.manual_seed(seed)
    config = FunitGeneratorConfig(**BASE["model"], norm="ln", image_size=BASE["image_size"])
    return Model("study row", FunitGenerator(config).eval(), "random weights, trainer/study_recipes.py BASE sizes")


def study_step_section(repeats: int, batch: int = BASE["batch_size"]) -> Section:
    section = Section("study", "The model study's training step: bf16 autocast and channels_last (CPU)")
    model = study_model()
    section.notes.append(
        f"{BASE['image_size']} px, {batch} pairs a step, {torch.get_num_threads()} CPU thread(s); FUNIT2FUNIT with "
        "its discriminator step (the study's no-GAN rows skip it, so their step is cheaper than this one)."
    )
    section.rows.append(training_row(model, batch, repeats))
    section.rows.append(memory_format_row(model, batch, repeats, "cpu"))
    return section
