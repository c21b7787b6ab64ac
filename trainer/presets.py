"""Model size presets shared by `g2g-train --preset` and the app's training dock.

They exist because FUNIT's own sizes need a GPU: at full size one step takes 35–42 s on a laptop CPU,
so a 2000-step run would take a day. "tiny" trains at a few steps per second there, enough to watch
the losses move; "small" is a CPU run of hours; "funit" is FUNIT's published architecture. Each approach
declares its own sizes for them (`ApproachSpec.presets`, trainer/approach_registry/builtin.py).

Recipes (`g2g-train --recipe`, the dock's "Recipe") are the other axis: how a run trains, whatever its size.
"identity" is docs/study.md's best recipe without ground truth (row `critic_cos_lr1e3_c10_nolong_3000`, issue
19): the study's rows import its parts from here, so the preset and the measured row are one definition.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

from trainer import approach_registry as registry

PRESET_TITLES = {"tiny": "Tiny (CPU, minutes)", "small": "Small (CPU, hours)", "funit": "FUNIT defaults (GPU)"}


def default_preset(device: str | None = None) -> str:
    """'funit' where training runs on a CUDA GPU, 'tiny' on the CPU (the rule of `pick_device`)."""
    device = device or os.environ.get("G2G_DEVICE")
    if device is None:
        import torch  # only when asked: `g2g-train --help` imports this module and must not wait for torch

        return "funit" if torch.cuda.is_available() else "tiny"
    return "funit" if device.startswith("cuda") else "tiny"


def preset_sizes(preset: str, approach: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copies of (model, dis) overrides of `preset` for `approach` ({} where it declares none: the architecture's
    defaults); ValueError names an unknown preset or approach."""
    if preset not in PRESET_TITLES:
        raise ValueError(f"preset: {preset!r} is not one of {', '.join(PRESET_TITLES)}")
    model, dis = registry.get(approach).presets.get(preset, ({}, {}))
    return dict(model), dict(dis)


def merge_changes(*parts: dict[str, Any]) -> dict[str, Any]:
    """Merge TrainConfig change sets (later ones win; nested weights/model/dis dicts merge)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                out[key] = {**out[key], **value} if isinstance(out.get(key), dict) else dict(value)
            else:
                out[key] = value
    return out


# The parts of the model study's recipes (trainer/study_recipes.py), each a TrainConfig change set.
RECON = {"weights": {"r_w": 2.0}}  # pixel L1 at 2 (FUNIT's 0.1): the study's base, under every row
ADAM = {"optimizer": "adam"}
LN = {"model": {"norm": "ln"}}
SAME = {"weights": {"lambda_same": 1.0}}
LORD = {"content_noise": 0.2, "content_l2": 0.01}  # LORD's regularisation of the content code
LORD_W = {"weights": LORD}
NO_GAN = {"weights": {"gan_delay_steps": 1e6}}  # no discriminator within any budget
CRITIC = {"weights": {"lambda_critic": 5.0}}  # issue 19: the frozen identity critic's cosine term at λ 5
# The best measured recipe without ground truth (docs/study.md, row critic_cos_lr1e3_c10_nolong_3000, two seeds):
# the critic at λ 10, the generator at lr 1e-3, and no G2G reassembly-stage losses, which cost person ratio here.
IDENTITY = {"lr_gen": 1e-3, "weights": {"lambda_critic": 10.0, "lambda_long": 0.0, "lambda_R": 0.0, "lambda_L": 0.0}}


@dataclass(frozen=True)
class Recipe:
    """A named way to train: TrainConfig changes over the defaults (sizes stay the size preset's)."""

    title: str  # the dock's entry
    description: str  # one line for `g2g-train --help` and the dock's tooltip
    changes: dict[str, Any]  # TrainConfig fields; model/dis/weights merge into the run's


RECIPES: dict[str, Recipe] = {
    "identity": Recipe(
        "Identity without ground truth (critic)",
        "FUNIT2FUNIT, LayerNorm, Adam at lr 1e-3, same-person and LORD content terms, no discriminator and no "
        "reassembly-stage losses, and a frozen identity critic pre-trained on the data set's own people (λ_crit 10); "
        "needs several images per person",
        merge_changes({"approach": "funit2funit"}, RECON, ADAM, LN, SAME, LORD_W, NO_GAN, IDENTITY)),
}


def recipe_changes(name: str) -> dict[str, Any]:
    """A deep copy of recipe `name`'s changes; ValueError names an unknown recipe."""
    if name not in RECIPES:
        raise ValueError(f"recipe: {name!r} is not one of {', '.join(RECIPES)}")
    return copy.deepcopy(RECIPES[name].changes)
