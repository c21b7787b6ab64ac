"""Networks of the naive approach (paper §IV-A).

E_A and E_B are symmetric: the same conv stack (after Mokady et al.'s encoders: stride-2 conv,
instance norm, LeakyReLU) ending in a linear layer, one producing the rest code, the other the identity
code. G follows LORD (Gabbay & Hoshen): the rest code enters directly (linear → feature map), the
identity code enters through AdaIN layers whose parameters an MLP computes.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import AdaptiveInstanceNorm2d, LinearBlock
from .config import NaiveConfig
from .generator import DisentanglingGenerator


class SymmetricEncoder(nn.Module):
    def __init__(self, config: NaiveConfig, code_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        in_dim = 3
        for width in config.widths():
            layers += [
                nn.Conv2d(in_dim, width, 4, 2, 1),
                nn.InstanceNorm2d(width, affine=True),
                nn.LeakyReLU(0.2),
            ]
            in_dim = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_dim * config.base_size**2, code_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class AdaINUpBlock(nn.Module):
    """nearest ×2 up-sample → conv3 → AdaIN(identity) → LeakyReLU."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)
        self.conv = nn.Conv2d(in_dim, out_dim, 3, 1, 1)
        self.norm = AdaptiveInstanceNorm2d(out_dim)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(self.up(x)), gamma, beta))


class LordGenerator(nn.Module):
    def __init__(self, config: NaiveConfig):
        super().__init__()
        widths = config.widths()[::-1]
        self.base_size = config.base_size
        self.base_dim = widths[0]
        self.fc = nn.Linear(config.content_dim, widths[0] * config.base_size**2)
        out_widths = [*widths[1:], max(config.nf, 16)]
        self.blocks = nn.ModuleList(AdaINUpBlock(i, o) for i, o in zip(widths, out_widths))
        self.to_rgb = nn.Conv2d(out_widths[-1], 3, 3, 1, 1)
        n_params = 2 * sum(out_widths)
        self.mlp = nn.Sequential(
            LinearBlock(config.class_dim, config.nf_mlp),
            LinearBlock(config.nf_mlp, config.nf_mlp),
            LinearBlock(config.nf_mlp, n_params, activation="none"),
        )

    def forward(self, content: torch.Tensor, class_code: torch.Tensor) -> torch.Tensor:
        params = self.mlp(class_code.flatten(1))
        x = self.fc(content).view(-1, self.base_dim, self.base_size, self.base_size)
        offset = 0
        for block in self.blocks:
            c = block.norm.num_features
            # γ is an offset from 1 so that a zero-initialised MLP output starts as plain IN.
            gamma = 1 + params[:, offset + c : offset + 2 * c]
            x = block(x, gamma, params[:, offset : offset + c])
            offset += 2 * c
        return torch.tanh(self.to_rgb(x))


class NaiveGenerator(DisentanglingGenerator):
    architecture = "naive"

    def __init__(self, config: NaiveConfig | None = None):
        super().__init__()
        config = config or NaiveConfig()
        config.validate()
        self.config = config
        self.enc_a = SymmetricEncoder(config, config.content_dim)
        self.enc_b = SymmetricEncoder(config, config.class_dim)
        self.gen = LordGenerator(config)

    def _encode_content(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc_a(x)

    def _encode_class(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc_b(x)

    def decode(self, content: torch.Tensor, class_code: torch.Tensor) -> torch.Tensor:
        return self.gen(content, class_code)
