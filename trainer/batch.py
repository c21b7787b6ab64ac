"""`PairBatch`: what the pair sampler yields and every approach trains on.

Its own module so that the sampler, the bench and tests get it without importing the approaches (and
through them the networks, losses and feature nets).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class PairBatch:
    """A batch of training pairs: images B×3×H×W in [-1, 1], int64 labels, label1[i] != label2[i].

    `x1_same`/`x2_same`, when the sampler loads them, are other images of the same people as x1/x2 (the
    image itself only where a person has one image): the class code of the λ_same reconstruction.
    `m_true`, on data sets with ground truth (procedural faces), holds the true swaps [m1* | m2*] stacked
    like the cross pass's mixes: the target of the supervised cross loss (λ_cross_gt).
    `index1`/`index2`, when the sampler loads them, are the data set indices of x1/x2 (int64): the rows of a
    per-image table such as the LORD approach's content embeddings.
    """

    x1: Tensor
    label1: Tensor
    x2: Tensor
    label2: Tensor
    x1_same: Tensor | None = None
    x2_same: Tensor | None = None
    m_true: Tensor | None = None
    index1: Tensor | None = None
    index2: Tensor | None = None

    def to(self, device: torch.device | str, channels_last: bool = False) -> PairBatch:
        """On `device`; with `channels_last` the images also in that memory format (the networks' own, where the
        engine converted them), so no convolution converts its input first."""
        layout = torch.channels_last if channels_last else torch.preserve_format

        def move(t: Tensor | None) -> Tensor | None:
            if t is None:
                return None
            return t.to(device, non_blocking=True, memory_format=layout if t.dim() == 4 else torch.preserve_format)

        return PairBatch(**{f.name: move(getattr(self, f.name)) for f in dataclasses.fields(self)})

    def same_identity_images(self) -> Tensor:
        """[x1′ | x2′] stacked like the cross pass's x; x itself when the sampler loaded no partners."""
        if self.x1_same is None or self.x2_same is None:
            return torch.cat([self.x1, self.x2])
        return torch.cat([self.x1_same, self.x2_same])

    def labels(self) -> Tensor:
        """[label1 | label2]: the identities of the cross pass's x, stacked as it stacks the images."""
        return torch.cat([self.label1, self.label2])

    def image_indices(self) -> Tensor:
        """[index1 | index2] stacked like the cross pass's x; ValueError when the sampler loaded none."""
        if self.index1 is None or self.index2 is None:
            raise ValueError("this batch carries no image indices (PairSampler(..., indices=True) loads them)")
        return torch.cat([self.index1, self.index2])
