"""FUNIT-compatible networks (Liu et al. 2019), written from FUNIT_FACTS.md.

In G2G terms (paper §IV) the content encoder is E_A (the "rest": pose, expression, background,
lighting), the class encoder is E_B (identity), and the MLP + AdaIN decoder is the generator G:
    mixed m1 = G(E_A(x1), E_B(x2)),  reconstruction x̂1 = G(E_A(m1), E_B(m2)).
With default configs the state_dict names, shapes and order equal the published `funit_animals`
checkpoint, so official files load without renaming.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ActFirstResBlock, Conv2dBlock, LinearBlock, ResBlocks
from .config import FunitDiscriminatorConfig, FunitGeneratorConfig
from .erasure import erase_features
from .generator import DisentanglingGenerator


class ContentEncoder(nn.Module):
    """E_A: conv7 then `n_downs` stride-2 convs doubling the width, then residual blocks; IN (FUNIT) + ReLU."""

    def __init__(self, n_downs: int, n_res: int, in_dim: int, dim: int, norm: str = "in"):
        super().__init__()
        layers: list[nn.Module] = [Conv2dBlock(in_dim, dim, 7, 1, 3, norm=norm)]
        for _ in range(n_downs):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, norm=norm))
            dim *= 2
        layers.append(ResBlocks(n_res, dim, norm=norm))
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class ClassEncoder(nn.Module):
    """E_B: no normalisation; the width doubles for the first two down-samplings only, then a global
    average pool and a 1x1 conv give the class code (B, latent_dim, 1, 1)."""

    def __init__(self, n_downs: int, in_dim: int, dim: int, latent_dim: int):
        super().__init__()
        layers: list[nn.Module] = [Conv2dBlock(in_dim, dim, 7, 1, 3)]
        for i in range(n_downs):
            out_dim = dim * 2 if i < 2 else dim
            layers.append(Conv2dBlock(dim, out_dim, 4, 2, 1))
            dim = out_dim
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, latent_dim, 1, 1, 0)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MLP(nn.Module):
    """Maps the flattened class code to the AdaIN shifts and scales of the decoder."""

    def __init__(self, in_dim: int, out_dim: int, dim: int, n_blocks: int):
        super().__init__()
        layers = [LinearBlock(in_dim, dim)]
        layers += [LinearBlock(dim, dim) for _ in range(n_blocks - 2)]
        layers.append(LinearBlock(dim, out_dim, activation="none"))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1))


class Decoder(nn.Module):
    """AdaIN residual blocks, then (nearest ×2 up-sample, conv5, IN (FUNIT), ReLU) per step, then conv7 + tanh."""

    def __init__(self, ups: int, n_res: int, dim: int, out_dim: int, norm: str = "in"):
        super().__init__()
        layers: list[nn.Module] = [ResBlocks(n_res, dim, norm="adain")]
        for _ in range(ups):
            layers += [nn.Upsample(scale_factor=2), Conv2dBlock(dim, dim // 2, 5, 1, 2, norm=norm)]
            dim //= 2
        layers.append(Conv2dBlock(dim, out_dim, 7, 1, 3, activation="tanh"))
        self.model = nn.Sequential(*layers)

    def adain_layers(self) -> list[Conv2dBlock]:
        return [m for m in self.model[0].modules() if isinstance(m, Conv2dBlock) and m.is_adain]

    def forward(self, content: torch.Tensor, adain_params: torch.Tensor) -> torch.Tensor:
        return self.model[-1](self.features(content, self.adain_pairs(adain_params)))

    def features(self, content: torch.Tensor, adain: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """Everything before the last conv7 + tanh (what the mask head reads), for `(gamma, beta)` per layer."""
        x = self.model[0](content, adain)
        for layer in self.model[1:-1]:
            x = layer(x)
        return x

    def adain_pairs(self, adain_params: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        # FUNIT_FACTS §3e: per layer in traversal order, the first C columns are the shift β and the
        # next C the scale γ (used raw, no +1 offset).
        adain = []
        offset = 0
        for layer in self.adain_layers():
            c = layer.norm.num_features
            beta = adain_params[:, offset : offset + c]
            gamma = adain_params[:, offset + c : offset + 2 * c]
            adain.append((gamma, beta))
            offset += 2 * c
        return adain


class FunitGenerator(DisentanglingGenerator):
    """FUNIT's `FewShotGen` with the G2G interface (encode_content / encode_class / decode)."""

    architecture = "funit"

    def __init__(self, config: FunitGeneratorConfig | None = None):
        super().__init__()
        config = config or FunitGeneratorConfig()
        config.validate()
        self.config = config
        # Attribute order = FUNIT's construction order = state_dict order.
        self.enc_class_model = ClassEncoder(config.n_downs_class, 3, config.nf, config.latent_dim)
        self.enc_content = ContentEncoder(config.n_downs_content, config.n_res_blks, 3, config.nf, config.norm)
        self.dec = Decoder(config.n_downs_content, config.n_res_blks, self.enc_content.output_dim, 3, config.norm)
        self.mlp = MLP(config.latent_dim, config.num_adain_params, config.nf_mlp, config.n_mlp_blks)
        if config.content_dim:
            # The smaller content code of the paper's outlook (§VI): 1×1 convs into and out of a narrow code,
            # registered after FUNIT's modules so FUNIT-sized state dicts keep their order.
            width = self.enc_content.output_dim
            self.content_down = nn.Conv2d(width, config.content_dim, 1)
            self.content_up = nn.Conv2d(config.content_dim, width, 1)
        if config.mask_head:
            # Mokady et al.'s mask: one conv7 on the decoder's last features, beside its RGB conv7.
            self.mask_conv = Conv2dBlock(config.nf, 1, 7, 1, 3, activation="none")

    @property
    def has_mask_head(self) -> bool:
        return self.config.mask_head

    def _encode_content(self, x: torch.Tensor) -> torch.Tensor:
        content = self.enc_content(erase_features(x) if self.config.erase_features else x)
        return self.content_down(content) if self.config.content_dim else content

    def _encode_class(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc_class_model(x)

    def decode(self, content: torch.Tensor, class_code: torch.Tensor) -> torch.Tensor:
        return self.decode_parts(content, class_code)[0]

    def decode_parts(self, content: torch.Tensor, class_code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.config.content_dim:
            content = self.content_up(content)
        if not self.config.mask_head:
            return self.dec(content, self.mlp(class_code)), None
        features = self.dec.features(content, self.dec.adain_pairs(self.mlp(class_code)))
        return self.dec.model[-1](features), torch.sigmoid(self.mask_conv(features))


class FunitDiscriminator(nn.Module):
    """FUNIT's `GPPatchMcResDis`: a multi-class patch discriminator.

    `forward(x, y)` returns (out, feat): `out[i]` is the real/fake logit map of class y[i] (B, h, w),
    `feat` the (B, C, h, w) features used by the feature-matching losses (paper eq. 10).
    """

    def __init__(self, config: FunitDiscriminatorConfig | None = None):
        super().__init__()
        config = config or FunitDiscriminatorConfig()
        config.validate()
        self.config = config
        nf = config.nf
        layers: list[nn.Module] = [Conv2dBlock(3, nf, 7, 1, 3, activation="none")]
        for _ in range(config.n_res_blks // 2 - 1):
            nf_out = min(nf * 2, config.max_nf)
            layers += [ActFirstResBlock(nf, nf), ActFirstResBlock(nf, nf_out)]
            layers += [nn.ReflectionPad2d(1), nn.AvgPool2d(kernel_size=3, stride=2)]
            nf = nf_out
        nf_out = min(nf * 2, config.max_nf)
        layers += [ActFirstResBlock(nf, nf), ActFirstResBlock(nf, nf_out)]
        self.cnn_f = nn.Sequential(*layers)
        self.cnn_c = nn.Sequential(
            Conv2dBlock(nf_out, config.num_classes, 1, 1, activation="lrelu", activation_first=True)
        )
        self.feature_dim = nf_out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # FUNIT_FACTS §6: the reference's in-place LeakyReLU in cnn_c overwrites cnn_f's output, so
        # the features it returns are already activated; the logits are the 1x1 conv of them.
        feat = nn.functional.leaky_relu(self.cnn_f(x), 0.2)
        logits = self.cnn_c[0].conv(self.cnn_c[0].pad(feat))
        out = logits[torch.arange(x.shape[0], device=x.device), y]
        return out, feat


def init_kaiming(module: nn.Module) -> None:
    """FUNIT's `weights_init('kaiming')`: kaiming-normal (fan_in, a=0) conv/linear weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
