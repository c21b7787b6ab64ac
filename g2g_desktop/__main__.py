"""`g2g-desktop`: the desktop app (optionally with images and a model to open), or the headless CLI when
the first argument is a sub-command (`mix`, `info`; see `cli.py`).

Nothing here imports torch or Qt before the arguments are understood, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

from . import __version__, use_passive_openmp_wait


def build_app_parser(commands: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="g2g-desktop",
        description="G2G Desktop: disentangled face mixing. Opens the desktop app, with IMAGE… in its gallery "
        "(the first two become the pair) and the model --model, or the last session's model and images.",
        epilog=f"headless sub-commands: {', '.join(commands)} (`g2g-desktop mix --help`)",
    )
    parser.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="image files or folders to open")
    parser.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="project .safetensors model or FUNIT gen_*.pt to open (default: the last one used, else the bundled "
        "model)",
    )
    parser.add_argument("--version", action="version", version=f"g2g-desktop {__version__}")
    parser.add_argument(
        "--self-test", action="store_true", help="check that this installation works (no display needed) and exit"
    )
    return parser


def sub_commands() -> list[str]:
    """The CLI's sub-command names, from its own parser (cheap: argparse only)."""
    from .cli import build_parser

    actions = build_parser()._subparsers._group_actions  # argparse keeps sub-parsers in this one action
    return [name for action in actions for name in action.choices]


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    use_passive_openmp_wait()
    argv = sys.argv[1:] if argv is None else argv
    commands = sub_commands()
    if argv and argv[0] in commands:
        from .cli import main as cli_main

        return cli_main(argv)
    args = build_app_parser(commands).parse_args(argv)
    if args.self_test:
        from .selftest import main as self_test

        return self_test()
    from .ui.app import main as app_main

    return app_main([], model_path=args.model, images=args.images or None)


if __name__ == "__main__":
    sys.exit(main())
