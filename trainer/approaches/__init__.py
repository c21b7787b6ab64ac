"""The training approaches behind one interface (`Approach`), chosen by name.

The paper's three: naive (§IV-A) · cycle_funit (§IV-B, CycleFUNIT) · funit2funit (§IV-C, FUNIT2FUNIT);
and lord (Gabbay & Hoshen's LORD: latent optimisation, then encoders distilled to the learned embeddings).
"""

from __future__ import annotations

import torch

from trainer.approaches.base import Approach, NonFiniteLossError
from trainer.approaches.cycle_funit import CycleFunitApproach
from trainer.approaches.funit2funit import Funit2FunitApproach
from trainer.approaches.lord import LordApproach
from trainer.approaches.naive import NaiveApproach
from trainer.config import TrainConfig

APPROACHES: dict[str, type[Approach]] = {
    "naive": NaiveApproach,
    "cycle_funit": CycleFunitApproach,
    "funit2funit": Funit2FunitApproach,
    "lord": LordApproach,
}
PER_IMAGE = {LordApproach}  # approaches with a table row per training image: they need the image count


def build_approach(
    config: TrainConfig, num_classes: int, device: torch.device | str, num_images: int | None = None
) -> Approach:
    """The approach `config.approach` names; `num_images` (the training set's size) where it keeps per-image codes."""
    try:
        cls = APPROACHES[config.approach]
    except KeyError:
        raise ValueError(f"unknown approach {config.approach!r} (known: {', '.join(APPROACHES)})") from None
    if cls not in PER_IMAGE:
        return cls(config, num_classes, device)
    if num_images is None or num_images < 1:
        raise ValueError(f"the {config.approach} approach keeps a code per training image and needs their number")
    return cls(config, num_classes, device, num_images=num_images)


__all__ = [
    "APPROACHES",
    "Approach",
    "CycleFunitApproach",
    "Funit2FunitApproach",
    "LordApproach",
    "NaiveApproach",
    "NonFiniteLossError",
    "build_approach",
]
