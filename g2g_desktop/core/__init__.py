"""Torch models and inference. Never imports Qt, `trainer` or `ui`.

Stable API: `load_generator(path, device="cpu")` and `G2GPipeline(generator).run(x1, x2)`.
"""

from .checkpoint import (
    CheckpointError,
    ModelInfo,
    build_generator,
    load_generator,
    load_generator_with_info,
    save_model,
)
from .config import FunitDiscriminatorConfig, FunitGeneratorConfig, NaiveConfig
from .device import DeviceSettings, pick_device
from .funit import FunitDiscriminator, FunitGenerator
from .generator import DisentanglingGenerator
from .images import ImageLoadError, load_image_tensor, open_image
from .naive import NaiveGenerator
from .pipeline import G2GPipeline, G2GResult

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
