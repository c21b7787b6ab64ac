"""CycleFUNIT's second identity experiment (paper §IV-B): E_B replaced by a pretrained identity encoder.

FUNIT's content encoder, MLP and AdaIN decoder are kept; the class code is the frozen facenet
embedding (512-d) instead of FUNIT's class encoder, so the MLP's input width is the embedding size.
The identity encoder never trains (it is not in the optimizer and its parameters do not require grad).
"""

from __future__ import annotations

import dataclasses

import torch

from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator, init_kaiming
from trainer.face_encoder import FACENET_DIM, FaceIdentityEncoder


class IdentityEncoderGenerator(FunitGenerator):
    """FUNIT generator whose `encode_class` (E_B) is `FaceIdentityEncoder` → B×512×1×1."""

    architecture = "funit_identity"

    def __init__(self, config: FunitGeneratorConfig, identity_encoder: FaceIdentityEncoder):
        super().__init__(dataclasses.replace(config, latent_dim=FACENET_DIM))
        init_kaiming(self)
        self.enc_class_model = identity_encoder

    def _encode_class(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc_class_model(x)[:, :, None, None]
