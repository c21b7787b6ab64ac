"""Loading a generator from either checkpoint format: the entry point of the app, CLI and trainer.

* FUNIT's own files (`funit_files`): `gen_XXXXXXXX.pt`, sizes inferred from tensor shapes.
* The project's self-describing model file (`model_file`): safetensors weights + JSON metadata.
* A training run folder: its `model_latest.safetensors` (what `g2g-train --resume` and the app's training
  dock accept as a run, `g2g-eval --model`, `g2g-desktop mix --model` and the app's model dialog accept too).

The format is told from the file's first bytes (`safe_io.file_kind`), never its name. Nothing here
unpickles arbitrary objects, and every failure is a `CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .funit_files import funit_step_from_name, load_funit_generators
from .generator import DisentanglingGenerator
from .model_file import RUN_MODEL_FILE, ModelInfo, load_model
from .safe_io import CheckpointError, check_readable, file_kind


def load_generator_with_info(
    path: str | os.PathLike, device: str | torch.device = "cpu", *, prefer_ema: bool = True
) -> tuple[DisentanglingGenerator, ModelInfo]:
    path = model_path(path)
    check_readable(path)
    kind = file_kind(path)
    if kind == "safetensors":
        generator, info = load_model(path)
    elif kind == "torch":
        gen, gen_test = load_funit_generators(path)
        use_ema = gen_test is not None and (prefer_ema or gen is None)
        generator = gen_test if use_ema else gen
        info = ModelInfo(
            path=path,
            source="funit",
            architecture="funit",
            config=generator.config.to_dict(),
            image_size=generator.config.image_size,
            step=funit_step_from_name(path),
            approach="funit",
            weights="gen_test" if use_ema else "gen",
        )
    else:
        raise CheckpointError(path, "unrecognised file: neither a FUNIT .pt checkpoint nor a G2G .safetensors model")
    for p in generator.parameters():
        p.requires_grad_(False)
    return generator.to(device).eval(), info


def model_path(path: str | os.PathLike) -> Path:
    """The file a model argument names: `path` itself, or a run folder's `model_latest.safetensors`."""
    path = Path(path)
    if not path.is_dir():
        return path
    inside = path / RUN_MODEL_FILE
    if not inside.is_file():
        raise CheckpointError(path, f"is a folder without {RUN_MODEL_FILE} (a training run writes it at its first "
                                    "checkpoint); give a model file or a run folder")
    return inside


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> DisentanglingGenerator:
    """Stable API: a FUNIT `gen_*.pt` (EMA `gen_test` preferred) or a project model, in eval mode."""
    return load_generator_with_info(path, device)[0]
