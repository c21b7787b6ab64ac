"""Torch models and inference. Never imports Qt, `trainer` or `ui`.

Stable API: `load_generator(path, device="cpu")` and `G2GPipeline(generator).run(x1, x2)`.

The names below load on first use (PEP 562): importing a torch-free submodule such as
`g2g_desktop.core.resources` must not pull in torch, or the app could not show its window before
torch has loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy_names import lazy_module_getattr

_HOMES = {
    "CheckpointError": "safe_io",
    "ModelInfo": "model_file",
    "build_generator": "model_file",
    "load_generator": "checkpoint",
    "load_generator_with_info": "checkpoint",
    "save_model": "model_file",
    "FunitDiscriminatorConfig": "config",
    "FunitGeneratorConfig": "config",
    "NaiveConfig": "config",
    "DeviceSettings": "device",
    "pick_device": "device",
    "FunitDiscriminator": "funit",
    "FunitGenerator": "funit",
    "DisentanglingGenerator": "generator",
    "ImageLoadError": "images",
    "load_image_tensor": "images",
    "open_image": "images",
    "NaiveGenerator": "naive",
    "G2GPipeline": "pipeline",
    "G2GResult": "pipeline",
}

__all__ = [
    "CheckpointError",
    "DeviceSettings",
    "DisentanglingGenerator",
    "FunitDiscriminator",
    "FunitDiscriminatorConfig",
    "FunitGenerator",
    "FunitGeneratorConfig",
    "G2GPipeline",
    "G2GResult",
    "ImageLoadError",
    "ModelInfo",
    "NaiveConfig",
    "NaiveGenerator",
    "build_generator",
    "load_generator",
    "load_generator_with_info",
    "load_image_tensor",
    "open_image",
    "pick_device",
    "save_model",
]

if TYPE_CHECKING:
    from .checkpoint import load_generator, load_generator_with_info
    from .config import FunitDiscriminatorConfig, FunitGeneratorConfig, NaiveConfig
    from .device import DeviceSettings, pick_device
    from .funit import FunitDiscriminator, FunitGenerator
    from .generator import DisentanglingGenerator
    from .images import ImageLoadError, load_image_tensor, open_image
    from .model_file import ModelInfo, build_generator, save_model
    from .naive import NaiveGenerator
    from .pipeline import G2GPipeline, G2GResult
    from .safe_io import CheckpointError


__getattr__ = lazy_module_getattr(__name__, _HOMES)
