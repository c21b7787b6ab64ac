"""The paper's three training approaches behind one interface (`Approach`), chosen by name.

naive (§IV-A) · cycle_funit (§IV-B, CycleFUNIT) · funit2funit (§IV-C, FUNIT2FUNIT).
"""

from __future__ import annotations

import torch

from trainer.approaches.base import Approach, NonFiniteLossError
from trainer.approaches.cycle_funit import CycleFunitApproach
from trainer.approaches.funit2funit import Funit2FunitApproach
from trainer.approaches.naive import NaiveApproach
from trainer.config import TrainConfig

APPROACHES: dict[str, type[Approach]] = {
    "naive": NaiveApproach,
    "cycle_funit": CycleFunitApproach,
    "funit2funit": Funit2FunitApproach,
}


def build_approach(config: TrainConfig, num_classes: int, device: torch.device | str) -> Approach:
    try:
        cls = APPROACHES[config.approach]
    except KeyError:
        raise ValueError(f"unknown approach {config.approach!r} (known: {', '.join(APPROACHES)})") from None
    return cls(config, num_classes, device)


__all__ = [
    "APPROACHES",
    "Approach",
    "CycleFunitApproach",
    "Funit2FunitApproach",
    "NaiveApproach",
    "NonFiniteLossError",
    "build_approach",
]
