"""The four built-in approaches as the registry knows them: the paper's three and LORD.

Each `ApproachSpec` is the approach's whole declaration outside its own module (`spec.py` says who reads which
field). Torch-free, as the registry: the classes themselves load only when a run builds one. Like `spec.py` it
imports neither `trainer.config` nor `trainer.approaches` (both import the registry), so the lord check names
the options it reads in a Protocol rather than importing `TrainConfig`.

Presets: "tiny" trains at a few steps per second on a laptop CPU, "small" is a CPU run of hours, "funit" is
FUNIT's published architecture (`{}`: the architecture's defaults). LORD keeps one content code per training
image, so its presets narrow that code (`content_dim`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

from g2g_desktop.core.config import SIZE, FunitDiscriminatorConfig, check_value, field_names, reject_unknown
from trainer.approach_registry.spec import ApproachSpec, register


@dataclass(frozen=True)
class PatchDiscriminatorConfig:
    """Sizes of CycleFUNIT's PatchGAN discriminator (`trainer/approaches/patch_dis.py`); here, torch-free,
    so that `validate_config` checks `dis` before any network is built."""

    nf: int = 64  # width of the first conv (CycleGAN's ndf)
    n_layers: int = 3  # stride-2 convs (CycleGAN's 'basic' D: 3 → 70×70 receptive field)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatchDiscriminatorConfig:
        reject_unknown(data, field_names(cls), "PatchGAN discriminator: unknown setting(s)", ValueError)
        values = {name: check_value(f"PatchGAN discriminator: {name}", SIZE, value, ValueError)
                  for name, value in data.items()}
        zero = [name for name, value in values.items() if value < 1]
        if zero:
            raise ValueError(f"PatchGAN discriminator: {', '.join(zero)} must be positive")
        return cls(**values)


class LordOptions(Protocol):
    """What `check_lord` reads of a `TrainConfig`."""

    steps: int
    lord_stage1_steps: int
    model: dict[str, Any]


def check_lord(config: LordOptions) -> None:
    """The lord approach needs both stages within the run, and a generator without a mask head."""
    if not 1 <= config.lord_stage1_steps < config.steps:
        raise ValueError(
            f"lord_stage1_steps: stage 1 (latent optimisation) must take at least 1 step and end before the run "
            f"does (steps {config.steps}), so that stage 2 distils the encoders the model file is used through; "
            f"got {config.lord_stage1_steps}")
    if config.model.get("mask_head"):
        raise ValueError("model.mask_head: the lord approach reconstructs G's raw image and never trains a mask; "
                         "leave mask_head off")


_FUNIT_TINY = {"nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8, "n_downs_content": 2, "n_downs_class": 2}
_FUNIT_SMALL = {"nf": 32, "n_res_blks": 2, "nf_mlp": 128, "latent_dim": 32, "n_downs_content": 2, "n_downs_class": 3}
_STUDY = ("lambda_same", "content_noise", "content_l2")  # the model study's LORD-style switches (docs/study.md)
_CRITIC = ("lambda_critic", "lambda_critic_ce", "critic_start_step")  # the frozen identity critic (issue 19)

register(ApproachSpec(
    name="naive", title="Naive G2G", description="symmetric encoders (paper §IV-A)",
    entry="trainer.approaches.naive:NaiveApproach", architecture="naive",
    presets={"tiny": ({"nf": 8, "max_nf": 32, "n_downs": 2, "content_dim": 16, "class_dim": 8, "nf_mlp": 16}, {})},
    weights=("gamma", *_STUDY),
))
register(ApproachSpec(
    name="cycle_funit", title="CycleFUNIT", description="FUNIT nets with a CycleGAN discriminator (§IV-B)",
    entry="trainer.approaches.cycle_funit:CycleFunitApproach", discriminator=PatchDiscriminatorConfig,
    presets={"tiny": (_FUNIT_TINY, {"nf": 8, "n_layers": 2}), "small": (_FUNIT_SMALL, {"nf": 32, "n_layers": 3})},
    weights=("gamma", "alpha", "lambda_g", "delta", "delta_warmup_steps", "zeta", *_CRITIC),
    options=("identity_encoder_as_eb",),
))
register(ApproachSpec(
    name="funit2funit", title="FUNIT2FUNIT", description="FUNIT's GAN with G2G cross-training (§IV-C)",
    entry="trainer.approaches.funit2funit:Funit2FunitApproach", discriminator=FunitDiscriminatorConfig,
    presets={"tiny": (_FUNIT_TINY, {"nf": 8, "n_res_blks": 2, "max_nf": 32}),
             "small": (_FUNIT_SMALL, {"nf": 32, "n_res_blks": 4, "max_nf": 256})},
    weights=("lambda_short", "lambda_long", "lambda_D", "lambda_R", "lambda_L", "lambda_dis", "lambda_reg",
             "lambda_F", "gan_w", "r_w", "fm_w", *_STUDY, "gan_delay_steps", "gan_warmup_steps", "lambda_cls",
             "lambda_cls_mix", "lambda_cross_gt", "lambda_mask_area", "mask_area", "lambda_mask_binary",
             "lambda_dlib_id", "lambda_ds", "ds_decay_steps", "lambda_class_rec", "lambda_content_adv", *_CRITIC),
    funit_files=True,
))
register(ApproachSpec(
    name="lord", title="LORD (latent optimisation)",
    description="a code per person and per image learnt directly, then FUNIT's encoders distilled to them "
                "(Gabbay & Hoshen 2020)",
    entry="trainer.approaches.lord:LordApproach",
    presets={"tiny": ({**_FUNIT_TINY, "content_dim": 4}, {}), "small": ({**_FUNIT_SMALL, "content_dim": 8}, {}),
             "funit": ({"content_dim": 8}, {})},
    weights=("alpha", "lambda_short", "lord_noise", "lord_decay", "lambda_embed"),
    options=("lord_stage1_steps", "lr_latent"), per_image=True, check=check_lord,
))
