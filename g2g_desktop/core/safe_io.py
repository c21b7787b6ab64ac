"""Safe file access: files written atomically, torch files read without running code.

A crash or a full disk while saving leaves the old file or the new one, never a mix (`atomic_write`);
torch files are read with `weights_only=True`, so a file that tries to run code is refused before
anything runs; a file's kind comes from its first bytes, never its name. Every failure to read a
checkpoint is a `CheckpointError` whose message names the file and what is wrong with it.
"""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .images import display_name


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{display_name(path)}: {' '.join(problem.split())}")


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write via `write(tmp_path)` into a temp file beside `path`, fsync it, then rename over `path`.

    A crash or a full disk at any point leaves either the old file or the new one, never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, _replacement_mode(path))  # mkstemp makes 0600 files; keep what open() would give
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Temp files `atomic_write` left in `folder` because its process was killed mid-write."""
    try:
        return sorted(p for p in Path(folder).iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _replacement_mode(path: Path) -> int:
    """The mode of the file being replaced, else that of a new file: 0o666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without setting it (os.umask would race with threads creating files)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def check_readable(path: Path) -> None:
    if not path.exists():
        raise CheckpointError(path, "file not found")
    if path.is_dir():
        raise CheckpointError(path, "is a directory, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "file is empty (0 bytes)")


def safe_torch_load(path: str | os.PathLike) -> Any:
    """`torch.load` restricted to tensors and plain containers, with errors that name the file."""
    path = Path(path)
    check_readable(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Weights only load failed" in first_line or "Unsupported" in str(exc):
            raise CheckpointError(
                path,
                "refused: the file contains Python objects other than tensors (it could run code when "
                "unpickled); nothing from it was executed",
            ) from None
        raise CheckpointError(path, f"not a readable torch file ({first_line})") from None
    except Exception as exc:  # corrupt bytes make the restricted unpickler raise anything (KeyError, ...)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        zip_damage = "central directory" in message or "failed finding" in message
        if zip_damage or not isinstance(exc, (RuntimeError, OSError)):
            message = f"truncated or corrupt ({message})"
        raise CheckpointError(path, f"not a readable torch checkpoint: {message}") from None


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) container
PICKLE_PROTOCOLS = range(2, 6)  # legacy torch.save writes protocol 2; `\x80 N` opens every pickle of protocol N >= 2


def file_kind(path: Path) -> str:
    """'safetensors', 'torch' or 'unknown', from the first bytes of the file (never its name).

    A safetensors file opens with its header length as a little-endian u64 and then `{`; the low byte
    of that length is anything, 0x80 (a pickle's PROTO opcode) included. So a length that fits in the
    file followed by `{` wins over the pickle test; zip magic and `\x80 protocol` come next; an
    implausible length before `{` is still safetensors, so its reader explains what is wrong.
    """
    with open(path, "rb") as fh:
        head = fh.read(9)
        size = os.fstat(fh.fileno()).st_size
    header_opens = len(head) == 9 and head[8:9] == b"{"
    if header_opens and 2 <= int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head[:4] == ZIP_MAGIC or (len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS):
        return "torch"
    return "safetensors" if header_opens else "unknown"
