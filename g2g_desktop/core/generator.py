"""The interface every G2G generator offers, whatever its architecture.

E_A (`encode_content`) encodes the rest of an image, E_B (`encode_class`) its identity, and
`decode(content, class_code)` is G. Images are in [-1, 1]. A class input of shape B×K×3×H×W is the
K-shot case: the K class codes are averaged, which FUNIT_FACTS §3f shows equals FUNIT's K-shot path.

A generator with a mask head (Mokady et al., "Mask based unsupervised content transfer") also draws a mask
m ∈ [0, 1] (`decode_parts`), and what it shows is z = m ⊙ G's image + (1 − m) ⊙ a with a the content
image (`decode_onto`): every caller that has the content image at hand decodes through `decode_onto`
(the cross pass of core/g2g.py blends its mixes the same way).
"""

from __future__ import annotations

import torch
from torch import nn


class DisentanglingGenerator(nn.Module):
    architecture: str = "abstract"
    config: object
    has_mask_head: bool = False

    def _encode_content(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _encode_class(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, content: torch.Tensor, class_code: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode_parts(self, content: torch.Tensor, class_code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(G's image, its B×1×H×W blend mask or None without a mask head)."""
        return self.decode(content, class_code), None

    def decode_onto(self, content: torch.Tensor, class_code: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """The output as shown: G's image blended onto `base` (the content image) by its mask, if it has one."""
        if not self.has_mask_head:
            return self.decode(content, class_code)
        return blend(*self.decode_parts(content, class_code), base)

    def encode_content(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode_content(_check_images(x, allow_k=False))

    def encode_class(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_images(x, allow_k=True)
        if x.dim() == 5:
            b, k = x.shape[:2]
            codes = self._encode_class(x.flatten(0, 1))
            return codes.view(b, k, *codes.shape[1:]).mean(dim=1)
        return self._encode_class(x)

    def forward(self, content_image: torch.Tensor, class_image: torch.Tensor) -> torch.Tensor:
        """G(E_A(content_image), E_B(class_image)), blended onto content_image by a mask head."""
        return self.decode_onto(self.encode_content(content_image), self.encode_class(class_image), content_image)


def blend(image: torch.Tensor, mask: torch.Tensor | None, base: torch.Tensor) -> torch.Tensor:
    """z = m ⊙ image + (1 − m) ⊙ base (Mokady et al.); `image` itself where there is no mask."""
    return image if mask is None else torch.lerp(base.to(image.dtype), image, mask.to(image.dtype))


def _check_images(x: torch.Tensor, *, allow_k: bool) -> torch.Tensor:
    dims = (4, 5) if allow_k else (4,)
    if x.dim() not in dims or x.shape[-3] != 3:
        shape = "B×3×H×W" + (" or B×K×3×H×W" if allow_k else "")
        raise ValueError(f"expected images of shape {shape}, got {tuple(x.shape)}")
    return x
