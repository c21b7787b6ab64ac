"""Model size presets shared by `g2g-train --preset` and the app's training dock.

They exist because FUNIT's own sizes need a GPU: at full size one step takes 35–42 s on a laptop CPU,
so a 2000-step run would take a day. "tiny" trains at a few steps per second there, enough to watch
the losses move; "small" is a CPU run of hours; "funit" is FUNIT's published architecture. The lord
approach keeps one content code per training image, so its presets narrow that code (`content_dim`).
"""

from __future__ import annotations

import os
from typing import Any

_FUNIT_TINY = {"nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8, "n_downs_content": 2, "n_downs_class": 2}
_FUNIT_SMALL = {"nf": 32, "n_res_blks": 2, "nf_mlp": 128, "latent_dim": 32, "n_downs_content": 2, "n_downs_class": 3}

# preset -> approach -> (generator overrides, discriminator overrides); {} = the architecture's defaults
PRESETS: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {
    "tiny": {
        "naive": ({"nf": 8, "max_nf": 32, "n_downs": 2, "content_dim": 16, "class_dim": 8, "nf_mlp": 16}, {}),
        "cycle_funit": (_FUNIT_TINY, {"nf": 8, "n_layers": 2}),
        "funit2funit": (_FUNIT_TINY, {"nf": 8, "n_res_blks": 2, "max_nf": 32}),
        "lord": ({**_FUNIT_TINY, "content_dim": 4}, {}),
    },
    "small": {
        "naive": ({}, {}),
        "cycle_funit": (_FUNIT_SMALL, {"nf": 32, "n_layers": 3}),
        "funit2funit": (_FUNIT_SMALL, {"nf": 32, "n_res_blks": 4, "max_nf": 256}),
        "lord": ({**_FUNIT_SMALL, "content_dim": 8}, {}),
    },
    "funit": {"naive": ({}, {}), "cycle_funit": ({}, {}), "funit2funit": ({}, {}), "lord": ({"content_dim": 8}, {})},
}
PRESET_TITLES = {"tiny": "Tiny (CPU, minutes)", "small": "Small (CPU, hours)", "funit": "FUNIT defaults (GPU)"}


def default_preset(device: str | None = None) -> str:
    """'funit' where training runs on a CUDA GPU, 'tiny' on the CPU (the rule of `pick_device`)."""
    device = device or os.environ.get("G2G_DEVICE")
    if device is None:
        import torch  # only when asked: `g2g-train --help` imports this module and must not wait for torch

        return "funit" if torch.cuda.is_available() else "tiny"
    return "funit" if device.startswith("cuda") else "tiny"


def preset_sizes(preset: str, approach: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copies of (model, dis) overrides of `preset` for `approach`; ValueError names an unknown preset."""
    if preset not in PRESETS:
        raise ValueError(f"preset: {preset!r} is not one of {', '.join(PRESETS)}")
    model, dis = PRESETS[preset][approach]
    return dict(model), dict(dis)
