"""CycleGAN's PatchGAN discriminator (Zhu et al. 2017, `NLayerDiscriminator`), used by CycleFUNIT (§IV-B).

conv4 s2 → LeakyReLU(0.2), then n_layers − 1 × (conv4 s2 → InstanceNorm → LeakyReLU) with widths
doubling up to 8·nf, one stride-1 conv4 block, and a stride-1 conv4 to a one-channel map of patch
scores. Trained with LSGAN losses (paper eq. 6–7), so the scores are raw (no sigmoid).
Initialisation: normal(0, 0.02) conv weights, zero biases (CycleGAN's 'normal' init).
"""

from __future__ import annotations

import torch
from torch import nn

from trainer.approach_registry.builtin import PatchDiscriminatorConfig


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
