"""The loss terms of the three G2G approaches, each with the paper's equation; the weights that combine them
are in `trainer/loss_weights.py` (torch-free, so the CLI parser and the app's weight editor need no torch).
"""

from __future__ import annotations

import os
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from trainer.feature_nets import load_vgg_relu2_2
from trainer.identity_critic import IdentityCritic, critic_view
from trainer.loss_weights import LossWeights

# --------------------------------------------------------------------------- loss terms
# Norms in the paper are sums over the images of a batch; here every term is a mean over all elements
# (as FUNIT does), so weights do not have to change with batch or image size. Every term is computed in
# fp32, also under autocast: squared VGG features overflow fp16.


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L1 reconstruction ‖x̂ − x‖ (paper eq. 1; also eq. 8, 9 and 10), mean over elements."""
    return (a.float() - b.float()).abs().mean()


def code_cycle_loss(original: torch.Tensor, remixed: torch.Tensor) -> torch.Tensor:
    """Squared L2 between a code of an original and the same code read back from a mixed image.

    Paper/report eq. 2 (E_A: E_A(x_1) vs E_A(m_1), m_1 carrying x_1's rest) and eq. 3 (E_B: E_B(x_1) vs
    E_B(m_2), m_2 carrying x_1's identity); mean over elements.
    """
    return (original.float() - remixed.float()).pow(2).mean()


def lsgan_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """LSGAN generator loss (paper eq. 6, l = squared error): mixed images should score 1 (real)."""
    return (d_fake.float() - 1).pow(2).mean()


def lsgan_discriminator_losses(
    d_real: torch.Tensor, d_fake: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """LSGAN discriminator losses (paper eq. 7): (L_real, L_fake) = (mean (D(x)−1)², mean D(m)²)."""
    return (d_real.float() - 1).pow(2).mean(), d_fake.float().pow(2).mean()


def hinge_real(d_out: torch.Tensor) -> torch.Tensor:
    """FUNIT's hinge loss on real images, mean ReLU(1 − D(x, y)) (eq. 11, FUNIT_FACTS §5)."""
    return F.relu(1 - d_out.float()).mean()


def hinge_fake(d_out: torch.Tensor) -> torch.Tensor:
    """FUNIT's hinge loss on generated images, mean ReLU(1 + D(m, y)) (eq. 11)."""
    return F.relu(1 + d_out.float()).mean()


def hinge_generator(d_out: torch.Tensor) -> torch.Tensor:
    """FUNIT's generator adversarial loss, −mean D(m, y) (the L_GAN part of eq. 12)."""
    return -d_out.float().mean()


def r1_penalty(d_out: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    """Mescheder et al.'s real gradient penalty as FUNIT computes it (FUNIT_FACTS §5, eq. 11's R).

    g = ∂ mean(D(x, y)) / ∂x, R1 = Σ g² / B. `x_real` must require grad and `d_out` come from it;
    the graph is kept so the penalty can be back-propagated into D.
    """
    (grad,) = torch.autograd.grad(d_out.mean(), x_real, create_graph=True)
    return grad.pow(2).sum() / x_real.shape[0]


def feature_vector(feat: torch.Tensor) -> torch.Tensor:
    """φ(x): the discriminator's features averaged over spatial positions (B×C×h×w → B×C)."""
    return feat.float().mean(dim=(2, 3))


def feature_matching(phi_a: torch.Tensor, phi_b: torch.Tensor) -> torch.Tensor:
    """‖φ(a) − φ(b)‖₁, one term of eq. 10, mean over elements (FUNIT's l_c_rec / l_m_rec)."""
    return l1(phi_a, phi_b)


def identity_loss(emb_original: torch.Tensor, emb_mixed: torch.Tensor) -> torch.Tensor:
    """L1 between identity embeddings E_ID of an original and the mix carrying its identity (eq. 8)."""
    return l1(emb_original, emb_mixed)


def descriptor_cosine_loss(desc_mixed: torch.Tensor, desc_class: torch.Tensor) -> torch.Tensor:
    """1 − cos between the face descriptors of each mix and of its class image, mean over the batch: eq. 8's
    identity loss with a frozen face recogniser, in the cosine form of SimSwap's L_Id (Chen et al., 2020)."""
    return (1 - F.cosine_similarity(desc_mixed.float(), desc_class.float(), dim=1)).mean()


def perceptual_mse(feat_a: torch.Tensor, feat_b: torch.Tensor) -> torch.Tensor:
    """‖E_VGG(x̂) − E_VGG(x)‖² on relu2_2 features (report eq. 1, paper eq. 5), mean over elements."""
    return (feat_a.float() - feat_b.float()).pow(2).mean()


def critic_cosine_loss(critic: IdentityCritic, mixed: torch.Tensor, class_images: torch.Tensor) -> torch.Tensor:
    """1 − cos between a frozen identity critic's features of T(m) and of T(x_class), mean over members and images.

    The identity loss of SimSwap (Chen et al., ACM MM 2020) and FaceShifter (Li et al., CVPR 2020), 1 − cos of
    frozen-recogniser embeddings, with the recogniser replaced by a critic of the training identities
    (trainer/identity_critic.py) and T = `critic_view` (±2 px shift, blur σ 0.3–0.8) on both images. It needs
    no labels: the class image says who the mix should be. Issue 19 measured it: a copy of the content image
    scores 0.284, a true swap 0.065; at λ 5 on `recon_only` held-out person ratio 0.905 → 0.665 by 2000 steps.
    The class image's features are a fixed target (no gradient).
    """
    with torch.no_grad():
        targets = critic.embed(critic_view(class_images.float()))
    features = critic.embed(critic_view(mixed.float()))
    return torch.stack([(1 - F.cosine_similarity(f, t, dim=1)).mean() for f, t in zip(features, targets)]).mean()


def critic_ce_loss(critic: IdentityCritic, mixed: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the critic's logits of T(m) against the identity m should carry, mean over members.

    The measured alternative to `critic_cosine_loss` (issue 19): it needs the class labels of the swap, and
    at 300–1000 steps it never got below chance and answered "nobody" with grey texture, at 6–9 dB cost.
    """
    return torch.stack([F.cross_entropy(z, labels) for z in critic.logits(critic_view(mixed.float()))]).mean()


class PerceptualLoss(nn.Module):
    """The VGG16 relu2_2 perceptual loss, or an honest stand-in when no VGG weights were given.

    Random VGG features are not perceptual, so without a weights file the loss is plain pixel L1 and
    its `name` says so ("perceptual_fallback_l1"); a warning is issued once, when the loss is built.
    """

    def __init__(self, vgg_weights: str | os.PathLike | None, device: torch.device | str = "cpu"):
        super().__init__()
        if vgg_weights is None:
            warnings.warn(
                "no VGG16 weights given (--vgg-weights): the perceptual loss (eq. 5) falls back to pixel L1",
                UserWarning,
                stacklevel=2,
            )
            self.vgg = None
            self.name = "perceptual_fallback_l1"
        else:
            self.vgg = load_vgg_relu2_2(vgg_weights, device)
            self.name = "perceptual_vgg"

    def forward(self, generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.vgg is None:
            return l1(generated, target)
        return perceptual_mse(self.vgg(generated), self.vgg(target))


# --------------------------------------------------------------------------- totals


def naive_total(
    recon: torch.Tensor, cyc_a: torch.Tensor, cyc_b: torch.Tensor, w: LossWeights
) -> torch.Tensor:
    """L_all = L_r + γ·(L_cyc,EA + L_cyc,EB) (paper eq. 4)."""
    return recon + w.gamma * (cyc_a + cyc_b)


def study_terms(same: torch.Tensor, content_l2: torch.Tensor, w: LossWeights) -> torch.Tensor:
    """λ_same·L_same + λ_c·‖E_A(x)‖² for approaches without eq. 9 (naive); funit2funit adds them in eq. 9/12."""
    return w.lambda_same * same + w.content_l2 * content_l2


def cycle_funit_generator_total(
    perceptual: torch.Tensor,
    cycle: torch.Tensor,
    adversarial: torch.Tensor,
    identity: torch.Tensor | None,
    w: LossWeights,
    step: int,
) -> torch.Tensor:
    """L_gen = α·L_vgg + γ·L_cyc + λ_g·L_adv + δ(step)·L_id (CycleFUNIT slides; eq. 2, 3, 5, 6, 8)."""
    total = w.alpha * perceptual + w.gamma * cycle + w.lambda_g * adversarial
    return total if identity is None else total + w.delta_at(step) * identity


def cycle_funit_discriminator_total(real: torch.Tensor, fake: torch.Tensor, w: LossWeights) -> torch.Tensor:
    """L_dis = ζ·(L_real + L_fake)/2 (CycleFUNIT slides; eq. 7)."""
    return w.zeta * (real + fake) / 2


def g2g_reconstruction(
    short: torch.Tensor,
    long: torch.Tensor,
    w: LossWeights,
    same: torch.Tensor | None = None,
    cross: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_R = λ_short‖x − G(x, x)‖ + λ_long‖x − x̂‖ (paper eq. 9) [+ λ_same‖x − G(E_A(x), E_B(x′))‖]
    [+ λ_cross‖m − m*‖, the supervised cross loss against the true swap m*]."""
    total = w.lambda_short * short + w.lambda_long * long
    if same is not None:
        total = total + w.lambda_same * same
    return total if cross is None else total + w.lambda_cross_gt * cross


def content_code_penalty(content: torch.Tensor) -> torch.Tensor:
    """LORD's activation decay on the content code: mean of its squares (weighted by λ_c = content_l2)."""
    return content.float().pow(2).mean()


def mask_area_penalty(mask: torch.Tensor, target: float) -> torch.Tensor:
    """Mean over the images of |mean(m_i) − target|: a mask-area prior against the blend's copy-through collapse."""
    return (mask.float().mean(dim=(1, 2, 3)) - target).abs().mean()


def mask_binary_penalty(mask: torch.Tensor) -> torch.Tensor:
    """Mean of m(1 − m): 0 for a mask of 0s and 1s, 0.25 for a uniform grey one."""
    mask = mask.float()
    return (mask * (1 - mask)).mean()


def g2g_feature_matching(
    fm_short: torch.Tensor,
    fm_mix: torch.Tensor,
    fm_mix_recon: torch.Tensor,
    fm_long: torch.Tensor,
    w: LossWeights,
) -> torch.Tensor:
    """L_FM = λ_D‖φ(x)−φ(m)‖ + λ_R‖φ(m)−φ(x̂)‖ + λ_L‖φ(x)−φ(x̂)‖ (eq. 10) + fm_w·FUNIT's ‖φ(x)−φ(G(x,x))‖."""
    return w.fm_w * fm_short + w.lambda_D * fm_mix + w.lambda_R * fm_mix_recon + w.lambda_L * fm_long


def funit2funit_generator_total(
    adversarial: torch.Tensor,
    reconstruction: torch.Tensor,
    feature_match: torch.Tensor,
    w: LossWeights,
    step: int = 0,
    content_l2: torch.Tensor | None = None,
) -> torch.Tensor:
    """Generator side of eq. 12: gan_w·L_GAN + r_w·L_R + λ_F·L_FM (r_w = FUNIT's reconstruction weight).

    gan_w and λ_F follow the delay and warm-up (`LossWeights.adversarial_at`); λ_c·‖E_A(x)‖² is added when the
    code is given.
    """
    ramp = w.adversarial_at(step)
    total = w.gan_w * ramp * adversarial + w.r_w * reconstruction + w.lambda_F * ramp * feature_match
    return total if content_l2 is None else total + w.content_l2 * content_l2


def funit2funit_discriminator_total(
    real: torch.Tensor, fake: torch.Tensor, r1: torch.Tensor, w: LossWeights
) -> torch.Tensor:
    """L_Dis = λ_dis·(hinge_real(x1, x2) + hinge_fake(m1, m2)) + λ_reg·R1 (paper eq. 11)."""
    return w.lambda_dis * (real + fake) + w.lambda_reg * r1


# --------------------------------------------------------------------------- issue 19: terms a copy cannot satisfy


def diversity_sensitive(with_own_code: torch.Tensor, with_other_code: torch.Tensor) -> torch.Tensor:
    """StarGAN v2's diversity-sensitive term (Choi et al. 2020, eq. 3): ‖G(c, s_a) − G(c, s_b)‖₁ for one content
    code c decoded with two different class codes, mean over elements. It is maximised (λ_ds enters eq. 12 with a
    minus sign); a generator that ignores the class code, as a copy of the content image does, scores 0."""
    return l1(with_own_code, with_other_code)


def class_code_reconstruction(mixed_identity: torch.Tensor, given_identity: torch.Tensor) -> torch.Tensor:
    """StarGAN v2's style reconstruction (Choi et al. 2020, eq. 2) with E_B as the style encoder: |E_B(m) − s|,
    s = E_B(x₂) the class code m was given, mean over elements.

    s is a target, detached: with gradients on both sides the cheapest way down is to pull the real images' class
    codes toward those of the mixes, i.e. toward a copy of the content image, which is the collapse this term is
    for. A copy of the content image encodes back to E_B(x₁), not E_B(x₂), so it cannot satisfy the term while
    E_B tells people apart.
    """
    return l1(mixed_identity, given_identity.detach())


def identity_confusion(logits: torch.Tensor) -> torch.Tensor:
    """The content-code adversary's generator side (DRIT's content discriminator, Lee et al. 2018; domain
    confusion, Tzeng et al. 2015): cross-entropy of the classifier's prediction against the uniform distribution,
    −mean_k log p_k, minimal (log K) where the prediction is uniform, i.e. at the classifier's maximum entropy.

    Why not Ganin & Lempitsky's gradient reversal (maximising the classifier's cross-entropy on the true label):
    with 128 identities that objective is unbounded and rewards a confidently *wrong* prediction, a permutation of
    the labels that still carries the identity; the uniform target is bounded and is met only where the
    classifier cannot tell people apart. Its gradient stays large where the prediction is peaked, unlike −entropy's.
    """
    return -F.log_softmax(logits.float(), dim=1).mean()
