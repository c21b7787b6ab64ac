"""PyInstaller entry script: `g2g_desktop/__main__.py` uses relative imports, so it cannot be the script itself."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # before anything else: a spawned child must not start the app
    from g2g_desktop.__main__ import main

    sys.exit(main())
