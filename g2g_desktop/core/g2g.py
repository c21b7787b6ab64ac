"""The paper's central equation (fig. 1), written once: the G2G cross pass.

    mixed          m1 = G(E_A(x1), E_B(x2))      m2 = G(E_A(x2), E_B(x1))
    reconstructed  x̂1 = G(E_A(m1), E_B(m2))      x̂2 = G(E_A(m2), E_B(m1))

Both sides are stacked along dim 0 as [side 1 | side 2], so one encoder or decoder call serves both.
Training (every approach, its preview and precision probe), evaluation (trainer/metrics.py, the held-out
probe) and inference (`G2GPipeline.run`) all call `cross_pass`; what differs between them — gradients,
autocast, the pipeline's code cache and memory guard — is the caller's context or the `gen` it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor


class Coder(Protocol):
    """What the cross pass needs of a generator: `DisentanglingGenerator`, or a wrapper around one."""

    def encode_content(self, x: Tensor) -> Tensor: ...

    def encode_class(self, x: Tensor) -> Tensor: ...

    def decode(self, content: Tensor, identity: Tensor) -> Tensor: ...


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
    recon: Tensor


def noisy(content: Tensor, sigma: float) -> Tensor:
    """The content code as a training decode sees it: plus N(0, σ²) noise (LORD), unchanged for σ = 0."""
    return content if sigma <= 0 else content + sigma * torch.randn_like(content)


def encode(gen: Coder, x: Tensor) -> tuple[Tensor, Tensor]:
    """(E_A(x), E_B(x))."""
    return gen.encode_content(x), gen.encode_class(x)


def decode_swapped(gen: Coder, content: Tensor, identity: Tensor, content_noise: float = 0.0) -> Tensor:
    """G(E_A(·)[i], E_B(·) of the other side[i]): each side's rest with the other side's identity."""
    return gen.decode(noisy(content, content_noise), swap_sides(identity))


def mix(gen: Coder, x: Tensor, content_noise: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """(E_A(x), E_B(x), m) for stacked pairs x = [x1 | x2]."""
    content, identity = encode(gen, x)
    return content, identity, decode_swapped(gen, content, identity, content_noise)


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
    mixed = decode_swapped(gen, content, identity, content_noise)
    mixed_content, mixed_identity = encode(gen, mixed)
    recon = decode_swapped(gen, mixed_content, mixed_identity, content_noise)
    return CrossPass(x, content, identity, mixed, mixed_content, mixed_identity, recon)
