"""Frozen, pretrained feature networks the CycleFUNIT losses look through.

* VGG16 up to relu2_2 for the perceptual loss (progress report 2, eq. 1; Johnson et al.), here.
* facenet-pytorch's `InceptionResnetV1` as the identity encoder E_ID (paper eq. 8 and the
  "replace E_B by the identity encoder" variant), in `trainer/face_encoder.py`, so that facenet-pytorch
  loads only where it is used.

Weights always come from a file the user names: nothing is downloaded. Files are read with
`weights_only=True` (core's `safe_torch_load`), and every problem is a `CheckpointError` naming the file.
Both nets take G2G images in [-1, 1] and do their own input conversion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from g2g_desktop.core.safe_io import CheckpointError, safe_torch_load
from g2g_desktop.core.state_dicts import load_state_dict_checked

VGG16_RELU2_2_CFG = 5  # VGG16 config entries 64, 64, M, 128, 128 = features[0:9], conv1_1 … relu2_2
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def freeze(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


def unwrap_state(data: object, path: Path, keys: tuple[str, ...]) -> Mapping:
    """Accept a bare state dict or one nested under a common key ('state_dict', 'model')."""
    if isinstance(data, Mapping):
        for key in keys:
            if key in data and isinstance(data[key], Mapping):
                return data[key]
        return data
    raise CheckpointError(path, f"expected a state dict, found {type(data).__name__}")


class VGGRelu22(nn.Module):
    """VGG16 features up to relu2_2, with ImageNet normalisation of [-1, 1] inputs built in.

    Built with torchvision's own `make_layers` from VGG16's configuration ("D"), so the layer indices
    (`features.0`, `.2`, `.5`, `.7`) are torchvision's: a full `vgg16().state_dict()` and a subset holding
    only those keys both load, without building (and randomly initialising) the 138 M-parameter net.
    """

    def __init__(self):
        super().__init__()
        self.features = make_layers(cfgs["D"][:VGG16_RELU2_2_CFG])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(((x + 1) / 2 - self.mean) / self.std)


def load_vgg_relu2_2(path: str | os.PathLike, device: torch.device | str = "cpu") -> VGGRelu22:
    """Frozen VGG16-relu2_2 from a torchvision VGG16 state-dict file (the full one or the first layers)."""
    path = Path(path)
    state = unwrap_state(safe_torch_load(path), path, ("state_dict", "model"))
    net = VGGRelu22()
    wanted = net.state_dict().keys()
    load_state_dict_checked(net, {k: v for k, v in state.items() if k in wanted}, path, "VGG16 relu2_2 layers")
    return freeze(net.to(device))
