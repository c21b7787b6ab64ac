"""Where bundled resources live (the same helper from source and inside a PyInstaller bundle), and the user's cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resource_root() -> Path:
    """`resources/` beside the package from source; inside the bundle's extraction folder when frozen."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def default_model_path() -> Path:
    return resource_path("models", "default.safetensors")


def sample_paths() -> list[Path]:
    folder = resource_path("samples")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def cache_root() -> Path:
    """`$G2G_CACHE_DIR`, else `$XDG_CACHE_HOME/g2g-desktop` (default `~/.cache/g2g-desktop`): face crops, decode
    precision verdicts."""
    explicit = os.environ.get("G2G_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "g2g-desktop"
