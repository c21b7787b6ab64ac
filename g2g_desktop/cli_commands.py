"""The work behind the `g2g-desktop` sub-commands (`cli.py` parses the arguments and prints the outcome)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .core.checkpoint import CheckpointError, ModelInfo, load_generator_with_info
from .core.export import fade_alphas, matrix_canvas, save_gif, save_png, save_png_sequence
from .core.images import ImageLoadError, load_image_tensor, tensor_to_pil
from .core.pipeline import G2GPipeline
from .core.resources import default_model_path


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _load_model(path: Path | None, device: str | None) -> tuple[G2GPipeline, ModelInfo]:
    if path is None:
        path = default_model_path()
        if not path.exists():
            raise UserError(
                f"no --model given and the bundled default model is missing ({path}); run `make default-model`"
            )
    generator, info = load_generator_with_info(path)
    try:
        return G2GPipeline(generator, device), info
    except RuntimeError as exc:
        raise UserError(str(exc)) from None


def run_mix(args: argparse.Namespace) -> str:
    paths = list(args.images) + list(args.matrix or [])
    if args.matrix is None and len(paths) != 2:
        raise UserError(f"mix needs exactly two images A B (got {len(paths)}); use --matrix for more")
    if args.matrix is not None and len(paths) < 2:
        raise UserError("--matrix needs at least two images")
    pipeline, info = _load_model(args.model, args.device)
    images = torch.stack([load_image_tensor(p, pipeline.image_size) for p in paths])
    out: Path = args.output
    if args.matrix is not None:
        matrix = pipeline.matrix(images)
        save_png(tensor_to_pil(matrix_canvas(images, matrix)), out)
        return f"wrote {len(paths)}x{len(paths)} swap matrix to {out} ({info.summary()})"
    if args.fade is not None:
        frames = pipeline.fade_frames(images[0], images[1], fade_alphas(args.fade, *args.fade_range))
        if out.suffix.lower() == ".gif":
            save_gif(frames, out)
            return f"wrote {len(frames)}-frame fade GIF to {out}"
        written = save_png_sequence(frames, out)
        return f"wrote {len(written)} fade frames to {out}/"
    save_png(pipeline.run(images[0], images[1]).grid_image(), out)
    return f"wrote 3x2 grid (original / mixed / reconstructed) to {out} ({info.summary()})"


def run_info(args: argparse.Namespace) -> str:
    path = args.model or default_model_path()
    generator, info = load_generator_with_info(path)
    params = sum(p.numel() for p in generator.parameters())
    lines = [
        f"file:          {info.path}",
        f"source:        {info.source} ({info.weights} weights)",
        f"architecture:  {info.architecture}",
        f"image size:    {info.image_size}",
        f"step:          {info.step}",
        f"approach:      {info.approach}",
        f"parameters:    {params:,}",
        "config:        " + ", ".join(f"{k}={v}" for k, v in info.config.items()),
    ]
    return "\n".join(lines)


HANDLERS = {"mix": run_mix, "info": run_info}
# Problems of the user's files or arguments: one line and exit status 2 (OSError is worded by `cli.main`).
USER_ERRORS = (UserError, ImageLoadError, CheckpointError, ValueError)
