"""Headless command line: `g2g-desktop mix A B -o grid.png`, fades, swap matrices, model info.

Errors the user can fix (bad image, bad checkpoint, missing default model) end with a one-line message
and exit status 2, never a traceback. This module holds only the argument parser: torch and the core load
(in `cli_commands`) once there is work to do, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from . import __version__
from .core.export_sizes import RESAMPLING, SCALES


def add_mix_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mix",
        help="mix two images (3x2 Original/Mixed/Reconstructed grid), fade identities, swap matrix, K-shot, batch",
        description="Mix the identity of one image with the rest of another, headless. -o is a file (its suffix "
        "names the format: .png, .jpg, .webp; .gif for fades) or a folder (exists, ends with /, or has no suffix), "
        "where outputs get names made from the inputs.",
    )
    p.add_argument("images", nargs="*", type=Path, help="two images A B (rest of A with identity of B and vice versa)")
    p.add_argument("-o", "--output", required=True, help="output file or folder (see above)")
    p.add_argument("--model", type=Path, help="project .safetensors model or FUNIT gen_*.pt (default: bundled model)")
    p.add_argument(
        "--align", action=argparse.BooleanOptionalAction, default=None,
        help="detect and align faces with MTCNN (default: as the model was trained; on with --paste-back)",
    )
    p.add_argument(
        "--paste-back", action="store_true",
        help="write the full-resolution photo with the mix pasted back over its face (pairs, --identity, --batch)",
    )
    p.add_argument(
        "--fade", type=int, metavar="N", help="write N frames fading A's identity into B's (GIF or PNG folder)"
    )
    p.add_argument(
        "--fade-range", type=float, nargs=2, default=(0.0, 1.0), metavar=("FROM", "TO"),
        help="identity weights of the first and last fade frame (default 0 1; the app allows -0.5..1.5)",
    )
    p.add_argument("--bounce", action="store_true", help="fade GIF: play forward then back (2N-2 frames)")
    p.add_argument(
        "--scale", type=int, choices=SCALES, default=1,
        help="grid, fade and matrix: each model pixel becomes N×N pixels (default 1: the model's own size)",
    )
    p.add_argument(
        "--resample", choices=RESAMPLING, default="nearest",
        help="how --scale enlarges: nearest (crisp model pixels, the default) or bicubic (smooth)",
    )
    p.add_argument(
        "--matrix", type=Path, nargs="+", metavar="IMG",
        help="write the N×N swap matrix of these images (folders: the images directly inside)",
    )
    p.add_argument(
        "--identity", type=Path, nargs="+", metavar="IMG",
        help="K photos of one person: their mean identity code (K-shot) goes onto --content or every --batch image",
    )
    p.add_argument("--content", type=Path, metavar="IMG", help="with --identity: the image whose rest is kept")
    p.add_argument(
        "--batch", type=Path, metavar="DIR",
        help="with --identity: mix every image in DIR; -o is a folder, one output per image, no-face files listed",
    )
    p.add_argument("--crop", action="store_true", help="--identity/--batch: write only the mixed crop, not the strip")
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
    if args.command is None:
        parser.print_help()
        return 0
    from . import cli_commands as commands

    try:
        _say(commands.HANDLERS[args.command](args), sys.stdout)
    except commands.USER_ERRORS as exc:
        _say(f"g2g-desktop: error: {exc}", sys.stderr)
        return 2
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        _say(f"g2g-desktop: error: {name}: {exc.strerror or exc}", sys.stderr)
        return 2
    return 0
