"""Headless command line: `g2g-desktop mix A B -o grid.png`, fades, swap matrices, model info.

Errors the user can fix (bad image, bad checkpoint, missing default model) end with a one-line message
and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import torch

from . import __version__
from .core.checkpoint import CheckpointError, ModelInfo, load_generator_with_info
from .core.export import fade_alphas, matrix_canvas, save_gif, save_png, save_png_sequence
from .core.images import ImageLoadError, load_image_tensor, tensor_to_pil
from .core.pipeline import G2GPipeline
from .core.resources import default_model_path


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def add_mix_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mix",
        help="mix two images (3x2 Original/Mixed/Reconstructed grid), fade identities or build a swap matrix",
        description="Mix the identity of one image with the rest of another, headless.",
    )
    p.add_argument("images", nargs="*", type=Path, help="two images A B (rest of A with identity of B and vice versa)")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="output file (.png grid/matrix, .gif fade) or folder"
    )
    p.add_argument("--model", type=Path, help="project .safetensors model or FUNIT gen_*.pt (default: bundled model)")
    p.add_argument(
        "--fade", type=int, metavar="N", help="write N frames fading A's identity into B's (GIF or PNG folder)"
    )
    p.add_argument(
        "--fade-range", type=float, nargs=2, default=(0.0, 1.0), metavar=("FROM", "TO"),
        help="identity weights of the first and last fade frame (default 0 1; the app allows -0.5..1.5)",
    )
    p.add_argument("--matrix", type=Path, nargs="+", metavar="IMG", help="write the N×N swap matrix of these images")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available)")


def add_info_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a model file")
    p.add_argument("model", type=Path, nargs="?", help="model file (default: bundled model)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="g2g-desktop",
        description="G2G Desktop: disentangled face mixing. Without a sub-command the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"g2g-desktop {__version__}")
    parser.add_argument(
        "--self-test", action="store_true", help="check that this installation works (no display needed) and exit"
    )
    sub = parser.add_subparsers(dest="command")
    add_mix_parser(sub)
    add_info_parser(sub)
    return parser


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
        f"source:        {info.source}" + (f" ({info.weights} weights)" if info.source == "funit" else ""),
        f"architecture:  {info.architecture}",
        f"image size:    {info.image_size}",
        f"step:          {info.step}",
        f"approach:      {info.approach}",
        f"parameters:    {params:,}",
        "config:        " + ", ".join(f"{k}={v}" for k, v in info.config.items()),
    ]
    return "\n".join(lines)


def _say(text: str, stream: TextIO) -> None:
    """Print a line that may hold a path from the command line.

    Undecodable bytes in file names arrive as surrogate escapes; they go back out as the same bytes instead of
    raising UnicodeEncodeError after the work is done (and anything else the stream cannot encode is escaped).
    """
    line = text + "\n"
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(line.encode("utf-8", "backslashreplace").decode("utf-8"))
        return
    encoding = stream.encoding or "utf-8"
    try:
        data = line.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        data = line.encode(encoding, "backslashreplace")
    stream.flush()
    buffer.write(data)
    buffer.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from .selftest import main as self_test

        return self_test()
    handlers = {"mix": run_mix, "info": run_info}
    try:
        _say(handlers[args.command](args), sys.stdout)
    except (UserError, ImageLoadError, CheckpointError, ValueError) as exc:
        _say(f"g2g-desktop: error: {exc}", sys.stderr)
        return 2
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        _say(f"g2g-desktop: error: {name}: {exc.strerror or exc}", sys.stderr)
        return 2
    return 0
