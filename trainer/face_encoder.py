"""E_ID, the frozen face-identity network of the CycleFUNIT identity loss (paper eq. 8) and of the variant
that replaces E_B by it: facenet-pytorch's `InceptionResnetV1`, weights from a file the user names.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from facenet_pytorch import InceptionResnetV1
from torch import nn

from g2g_desktop.core.safe_io import safe_torch_load
from g2g_desktop.core.state_dicts import load_state_dict_checked
from trainer.feature_nets import freeze, unwrap_state

FACENET_SIZE = 160  # InceptionResnetV1 was trained on 160×160 crops
FACENET_DIM = 512


class FaceIdentityEncoder(nn.Module):
    """E_ID: facenet-pytorch InceptionResnetV1 → 512-d unit-norm identity embedding, always in eval mode.

    Images in [-1, 1] are resized to 160×160 and scaled by 127.5/128, which is exactly facenet's
    `fixed_image_standardization` (p − 127.5)/128 of the same picture in [0, 255].
    """

    def __init__(self, net: InceptionResnetV1 | None = None):
        super().__init__()
        self.net = freeze(net if net is not None else InceptionResnetV1(pretrained=None, classify=False))

    def train(self, mode: bool = True) -> FaceIdentityEncoder:
        # BatchNorm and dropout must keep their pretrained inference behaviour inside a training generator.
        super().train(False)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != FACENET_SIZE or x.shape[-2] != FACENET_SIZE:
            x = F.interpolate(x, size=(FACENET_SIZE, FACENET_SIZE), mode="bilinear", align_corners=False)
        return self.net(x * (127.5 / 128.0))


def load_face_encoder(path: str | os.PathLike, device: torch.device | str = "cpu") -> FaceIdentityEncoder:
    """Frozen E_ID from an InceptionResnetV1 state-dict file (e.g. facenet's 20180402-114759-vggface2.pt).

    The classifier head (`logits.*`) of the released files is not part of the embedding net and is dropped.
    """
    path = Path(path)
    state = unwrap_state(safe_torch_load(path), path, ("state_dict", "model"))
    net = InceptionResnetV1(pretrained=None, classify=False)
    own = net.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("logits.")}
    # BatchNorm step counters are integers, which the checked loader refuses; they carry no weights.
    for key in [k for k in own if k.endswith("num_batches_tracked")]:
        state[key] = torch.as_tensor(state.get(key, own[key])).float()
    load_state_dict_checked(net, state, path, "InceptionResnetV1 weights")
    return FaceIdentityEncoder(net).to(device)
