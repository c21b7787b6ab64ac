"""Building blocks shared by the FUNIT-compatible networks.

Module and attribute names mirror FUNIT's `blocks.py` because the published checkpoints address
parameters by those names (`model.0.conv.weight`, `norm.running_mean`, ...). Padding is an explicit
module and the conv itself pads nothing, as in the reference (FUNIT_FACTS §2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

GROUP_NORM_GROUPS = 8  # norm="gn" (fewer when the width is not a multiple of 8)

_PADS = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d, "zero": nn.ZeroPad2d}


def make_activation(name: str) -> nn.Module | None:
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    if name == "tanh":
        return nn.Tanh()
    if name == "none":
        return None
    raise ValueError(f"unknown activation {name!r}")


class AdaptiveInstanceNorm2d(nn.Module):
    """Instance normalisation followed by a per-sample scale γ and shift β given at call time.

    γ and β are arguments, not module state, so two threads (the render worker and the trainer) can
    decode with different codes through the same module. The `running_mean`/`running_var` buffers
    exist only because FUNIT's checkpoints contain them; they never influence the output.
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        # Batch norm over a (1, B·C, H, W) view computes per-sample, per-channel statistics, i.e.
        # instance norm, and lets each sample carry its own affine parameters.
        out = F.batch_norm(
            x.reshape(1, b * c, h, w),
            None,
            None,
            weight=gamma.reshape(b * c),
            bias=beta.reshape(b * c),
            training=True,
            eps=self.eps,
        )
        return out.view(b, c, h, w)


class Conv2dBlock(nn.Module):
    """pad → conv → norm → activation, or activation → pad → conv → norm when `activation_first`."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        *,
        norm: str = "none",
        activation: str = "relu",
        pad_type: str = "reflect",
        bias: bool = True,
        activation_first: bool = False,
    ):
        super().__init__()
        self.activation_first = activation_first
        self.pad = _PADS[pad_type](padding)
        # Registration order (norm before conv) fixes the state_dict order of FUNIT's files.
        if norm == "in":
            self.norm = nn.InstanceNorm2d(out_dim)
        elif norm == "ln":
            self.norm = nn.GroupNorm(1, out_dim)
        elif norm == "gn":
            self.norm = nn.GroupNorm(math.gcd(GROUP_NORM_GROUPS, out_dim), out_dim)
        elif norm == "adain":
            self.norm = AdaptiveInstanceNorm2d(out_dim)
        elif norm == "none":
            self.norm = None
        else:
            raise ValueError(f"unknown norm {norm!r}")
        self.activation = make_activation(activation)
        self.conv = nn.Conv2d(in_dim, out_dim, kernel_size, stride, bias=bias)

    @property
    def is_adain(self) -> bool:
        return isinstance(self.norm, AdaptiveInstanceNorm2d)

    def forward(
        self, x: torch.Tensor, gamma: torch.Tensor | None = None, beta: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.activation_first and self.activation is not None:
            x = self.activation(x)
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x, gamma, beta) if self.is_adain else self.norm(x)
        if not self.activation_first and self.activation is not None:
            x = self.activation(x)
        return x


class ResBlock(nn.Module):
    """x + conv-norm-ReLU-conv-norm(x), nothing after the addition (FUNIT_FACTS §2)."""

    def __init__(self, dim: int, norm: str = "in", activation: str = "relu", pad_type: str = "reflect"):
        super().__init__()
        self.model = nn.Sequential(
            Conv2dBlock(dim, dim, 3, 1, 1, norm=norm, activation=activation, pad_type=pad_type),
            Conv2dBlock(dim, dim, 3, 1, 1, norm=norm, activation="none", pad_type=pad_type),
        )

    def forward(self, x: torch.Tensor, adain: list[tuple[torch.Tensor, torch.Tensor]] | None = None):
        if adain is None:
            return x + self.model(x)
        (g0, b0), (g1, b1) = adain
        return x + self.model[1](self.model[0](x, g0, b0), g1, b1)


class ResBlocks(nn.Module):
    def __init__(self, num_blocks: int, dim: int, norm: str = "in", activation: str = "relu"):
        super().__init__()
        self.model = nn.Sequential(*[ResBlock(dim, norm, activation) for _ in range(num_blocks)])

    def forward(self, x: torch.Tensor, adain: list[tuple[torch.Tensor, torch.Tensor]] | None = None):
        for i, block in enumerate(self.model):
            x = block(x, None if adain is None else adain[2 * i : 2 * i + 2])
        return x


class LinearBlock(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, activation: str = "relu"):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim, bias=True)
        self.activation = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(x)
        return x if self.activation is None else self.activation(x)


class ActFirstResBlock(nn.Module):
    """FUNIT's discriminator block, reproducing what its in-place LeakyReLUs compute (FUNIT_FACTS §6).

    With an identity shortcut the reference's first in-place LeakyReLU also overwrites the skip
    tensor, so the block returns LReLU(x) + residual; with a learned 1x1 shortcut (no bias) the
    shortcut sees the raw x. We compute exactly that, out of place.
    """

    def __init__(self, fin: int, fout: int):
        super().__init__()
        self.learned_shortcut = fin != fout
        fhid = min(fin, fout)
        self.conv_0 = Conv2dBlock(fin, fhid, 3, 1, 1, activation="lrelu", activation_first=True)
        self.conv_1 = Conv2dBlock(fhid, fout, 3, 1, 1, activation="lrelu", activation_first=True)
        if self.learned_shortcut:
            self.conv_s = Conv2dBlock(fin, fout, 1, 1, activation="none", bias=False, activation_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.conv_s(x) if self.learned_shortcut else F.leaky_relu(x, 0.2)
        return skip + self.conv_1(self.conv_0(x))
