"""Where `g2g-desktop mix` writes: `-o` is a file (its suffix names the format) or a folder.

`-o` names a folder when it exists as one, ends with a path separator (`out/`) or has no suffix (`out`);
outputs then get names made from the inputs. Otherwise it is a file, written in the format of its suffix
(`x.jpg` is JPEG, not PNG bytes under a .jpg name).
"""

from __future__ import annotations

import os
from pathlib import Path

from .core.photo_mix import image_format


def is_folder_target(raw: str) -> bool:
    path = Path(raw)
    return path.is_dir() or raw.endswith(("/", os.sep)) or not path.suffix


def output_file(raw: str, default_name: str) -> Path:
    """The file to write: `raw` itself, or `default_name` inside the folder `raw` (created if needed)."""
    if is_folder_target(raw):
        folder = Path(raw)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / default_name
    path = Path(raw)
    image_format(path)  # an unwritable suffix fails before any work is done
    if path.parent != Path() and not path.parent.is_dir():
        raise ValueError(f"{path.parent}: folder does not exist")
    return path


def output_folder(raw: str) -> Path:
    """A folder for many outputs (fade frames, batch results), created if needed."""
    folder = Path(raw)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def numbered(path: Path, index: int) -> Path:
    """`out.jpg` → `out_1.jpg`: the second and further files of one request written to one file name."""
    return path.with_name(f"{path.stem}_{index}{path.suffix}")
