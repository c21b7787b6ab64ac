"""The paper's central equation (fig. 1), written once: the G2G cross pass.

    mixed          m1 = G(E_A(x1), E_B(x2))      m2 = G(E_A(x2), E_B(x1))
    reconstructed  x̂1 = G(E_A(m1), E_B(m2))      x̂2 = G(E_A(m2), E_B(m1))

Both sides are stacked along dim 0 as [side 1 | side 2], so one encoder or decoder call serves both.
Training (every approach, its preview and precision probe), evaluation (trainer/metrics.py, the held-out
probe) and inference (`G2GPipeline.run`) all call `cross_pass`; what differs between them — gradients,
autocast, the pipeline's code cache and memory guard — is the caller's context or the `gen` it passes.

A generator with a mask head (Mokady et al.) shows its mixes blended onto their content images,
m = mask ⊙ G(·) + (1 − mask) ⊙ x, and the pass keeps each mask. The reconstructions stay G's raw image
(`recon`): the reconstruction losses read it, so G must keep drawing whole faces and a mask that copies
the content image through cannot satisfy them. `shown_recon` is what the app and the metrics show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import torch
from torch import Tensor

from .generator import blend


class Coder(Protocol):
    """What the cross pass needs of a generator: `DisentanglingGenerator`, or a wrapper around one."""

    @property
    def has_mask_head(self) -> bool: ...

    def encode_content(self, x: Tensor) -> Tensor: ...

    def encode_class(self, x: Tensor) -> Tensor: ...

    def decode(self, content: Tensor, identity: Tensor) -> Tensor: ...

    def decode_parts(self, content: Tensor, identity: Tensor) -> tuple[Tensor, Tensor | None]: ...


def swap_sides(t: Tensor) -> Tensor:
    """[side 1 | side 2] → [side 2 | side 1] along the batch dimension."""
    n = t.shape[0] // 2
    return torch.cat([t[n:], t[:n]])


@dataclass
class CrossPass:
    """One G2G cross pass, both sides stacked along dim 0 as [side 1 | side 2].

    `mixed[i]` carries the rest of `x[i]` and the identity of `swap_sides(x)[i]`, and
    `swap_sides(mixed)[i]` is the mix carrying the identity of `x[i]`.
    """

    x: Tensor
    content: Tensor  # E_A(x)
    identity: Tensor  # E_B(x)
    mixed: Tensor
    mixed_content: Tensor  # E_A(m)
    mixed_identity: Tensor  # E_B(m)
    recon: Tensor  # G's raw image, also with a mask head
    mask: Tensor | None = None  # a mask head's mask of the mixes: mixed = mask ⊙ G's image + (1 − mask) ⊙ x
    recon_mask: Tensor | None = None  # its mask of the reconstructions, whose content images are the mixes
    decoded_content: Tensor | None = None  # the code G decoded the mixes from: E_A(x) plus any training noise

    @property
    def shown_recon(self) -> Tensor:
        """The reconstructions as shown: blended onto the mixes by a mask head, `recon` itself without one."""
        return blend(self.recon, self.recon_mask, self.mixed)


def noisy(content: Tensor, sigma: float) -> Tensor:
    """The content code as a training decode sees it: plus N(0, σ²) noise (LORD), unchanged for σ = 0."""
    return content if sigma <= 0 else content + sigma * torch.randn_like(content)


def encode(gen: Coder, x: Tensor) -> tuple[Tensor, Tensor]:
    """(E_A(x), E_B(x))."""
    return gen.encode_content(x), gen.encode_class(x)


def decode_swapped_parts(
    gen: Coder, content: Tensor, identity: Tensor, content_noise: float = 0.0
) -> tuple[Tensor, Tensor | None]:
    """(G's image, its mask or None) of each side's rest with the other side's identity.

    Without a mask head this is one plain `gen.decode` call, exactly as before mask heads existed.
    """
    content, identity = noisy(content, content_noise), swap_sides(identity)
    if not gen.has_mask_head:
        return gen.decode(content, identity), None
    return gen.decode_parts(content, identity)


def decode_swapped(
    gen: Coder, content: Tensor, identity: Tensor, content_noise: float = 0.0, *, onto: Tensor | None = None
) -> Tensor:
    """G(E_A(·)[i], E_B(·) of the other side[i]): each side's rest with the other side's identity.

    `onto` (the images the content codes came from): a mask head's image blended onto them, as shown.
    """
    image, mask = decode_swapped_parts(gen, content, identity, content_noise)
    return image if onto is None else blend(image, mask, onto)


class Mix(NamedTuple):
    """The first half of the cross pass, by name (`mix(...).mixed`), as the discriminator step needs it."""

    content: Tensor  # E_A(x)
    identity: Tensor  # E_B(x)
    mixed: Tensor  # m = G(E_A(x), E_B(swap x)), a mask head's m blended onto x


def mix(gen: Coder, x: Tensor, content_noise: float = 0.0) -> Mix:
    """The codes and the mixes of stacked pairs x = [x1 | x2]."""
    content, identity = encode(gen, x)
    return Mix(content, identity, decode_swapped(gen, content, identity, content_noise, onto=x))


def cross_pass(
    gen: Coder, x1: Tensor, x2: Tensor, content_noise: float = 0.0, *, codes: tuple[Tensor, Tensor] | None = None
) -> CrossPass:
    """The cross pass of the pairs (x1[i], x2[i]).

    `content_noise` > 0 (training only) perturbs every content code that G decodes. `codes`, when the
    caller has them already (the pipeline's cache, or a person's mean class code standing in for an
    image's), are (E_A(x), E_B(x)) of x = [x1 | x2], and x is not encoded again.
    """
    x = torch.cat([x1, x2])
    content, identity = encode(gen, x) if codes is None else codes
    decoded_content = noisy(content, content_noise)
    image, mask = decode_swapped_parts(gen, decoded_content, identity)
    mixed = blend(image, mask, x)
    mixed_content, mixed_identity = encode(gen, mixed)
    recon, recon_mask = decode_swapped_parts(gen, mixed_content, mixed_identity, content_noise)
    return CrossPass(x, content, identity, mixed, mixed_content, mixed_identity, recon, mask, recon_mask,
                     decoded_content)
