"""CycleGAN's PatchGAN discriminator (Zhu et al. 2017, `NLayerDiscriminator`), used by CycleFUNIT (§IV-B).

conv4 s2 → LeakyReLU(0.2), then n_layers − 1 × (conv4 s2 → InstanceNorm → LeakyReLU) with widths
doubling up to 8·nf, one stride-1 conv4 block, and a stride-1 conv4 to a one-channel map of patch
scores. Trained with LSGAN losses (paper eq. 6–7), so the scores are raw (no sigmoid).
Initialisation: normal(0, 0.02) conv weights, zero biases (CycleGAN's 'normal' init).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class PatchDiscriminatorConfig:
    nf: int = 64  # width of the first conv (CycleGAN's ndf)
    n_layers: int = 3  # stride-2 convs (CycleGAN's 'basic' D: 3 → 70×70 receptive field)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatchDiscriminatorConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"PatchGAN discriminator: unknown setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PatchGAN discriminator: {name} must be a positive integer, got {value!r}")
        return cls(**data)


class PatchDiscriminator(nn.Module):
    def __init__(self, config: PatchDiscriminatorConfig | None = None):
        super().__init__()
        self.config = config = config or PatchDiscriminatorConfig()
        nf = config.nf
        layers: list[nn.Module] = [nn.Conv2d(3, nf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = nf
        for i in range(1, config.n_layers + 1):
            out = nf * min(2**i, 8)
            stride = 2 if i < config.n_layers else 1
            layers += [nn.Conv2d(width, out, 4, stride, 1), nn.InstanceNorm2d(out), nn.LeakyReLU(0.2, True)]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B×3×H×W images → B×1×h×w real/fake patch scores."""
        return self.model(x)
