"""`g2g-desktop`: the desktop app without arguments, the headless CLI with a sub-command."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("--model",):
        from .cli import main as cli_main

        return cli_main(argv)
    from .ui.app import main as app_main

    model = argv[1] if len(argv) >= 2 and argv[0] == "--model" else None
    return app_main([], model_path=model)


if __name__ == "__main__":
    sys.exit(main())
