"""The training approaches behind one interface (`Approach`), chosen by name through the registry.

The paper's three: naive (§IV-A) · cycle_funit (§IV-B, CycleFUNIT) · funit2funit (§IV-C, FUNIT2FUNIT);
and lord (Gabbay & Hoshen's LORD: latent optimisation, then encoders distilled to the learned embeddings).
Their declarations are in `trainer/approach_registry/builtin.py`; `trainer.approach_registry` is the one list
everything reads, below this package (it imports neither this package nor `trainer.config`, which both import it).
Building one from its spec (`approach_class`, `build_approach`) is here, where the classes are.

Importing this package stays torch-free: the torch names below load on first use (PEP 562), and
`approach_class` imports a class only when a run builds it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from g2g_desktop.core.lazy_names import lazy_module_getattr
from trainer.approach_registry import get

_HOMES = {
    "Approach": "base",
    "NonFiniteLossError": "base",
    "CycleFunitApproach": "cycle_funit",
    "Funit2FunitApproach": "funit2funit",
    "LordApproach": "lord",
    "NaiveApproach": "naive",
}

if TYPE_CHECKING:
    import torch

    from trainer.approaches.base import Approach, NonFiniteLossError
    from trainer.approaches.cycle_funit import CycleFunitApproach
    from trainer.approaches.funit2funit import Funit2FunitApproach
    from trainer.approaches.lord import LordApproach
    from trainer.approaches.naive import NaiveApproach
    from trainer.config import TrainConfig


__getattr__ = lazy_module_getattr(__name__, _HOMES)


def approach_class(name: str) -> type[Approach]:
    """The `Approach` subclass of approach `name`, imported now (this is where torch loads)."""
    module, _, attr = get(name).entry.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_approach(
    config: TrainConfig, num_classes: int, device: torch.device | str, num_images: int | None = None
) -> Approach:
    """The approach `config.approach` names; `num_images` (the training set's size) where it keeps per-image codes."""
    spec = get(config.approach)
    cls = approach_class(spec.name)
    if not spec.per_image:
        return cls(config, num_classes, device)
    if num_images is None or num_images < 1:
        raise ValueError(f"the {spec.name} approach keeps a code per training image and needs their number")
    return cls(config, num_classes, device, num_images=num_images)


__all__ = [
    "Approach",
    "CycleFunitApproach",
    "Funit2FunitApproach",
    "LordApproach",
    "NaiveApproach",
    "NonFiniteLossError",
    "approach_class",
    "build_approach",
]
