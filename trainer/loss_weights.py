"""Loss weights of the training approaches (the G2G three and LORD) and the table the weight editor is built from.

One field per symbol of the paper ("G2G – Disentanglement by Cross-Training", equations cited below),
the CycleFUNIT slides and FUNIT's own config (FUNIT_FACTS §1/§5). The engine swaps a whole new
`LossWeights` in between steps, so the value is frozen and validated once, in `from_dict`.

How the FUNIT2FUNIT weights combine (eq. 9–12), chosen so the defaults reproduce both FUNIT's
`funit_animals.yaml` and the FUNIT2FUNIT project's effective weights (FUNIT_FACTS §12):

    L_G   = gan_w·L_adv + r_w·(λ_short·L_short + λ_long·L_long)
            + λ_F·(fm_w·FM_short + λ_D·FM_mix + λ_R·FM_mix↔recon + λ_L·FM_long)
    L_Dis = λ_dis·(hinge_real + hinge_fake) + λ_reg·R1

so r_w·λ_short = 0.1 is FUNIT's image reconstruction weight and r_w·λ_long = 0.01 the long one.
"""


from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from g2g_desktop.core.config import field_names, reject_unknown


@dataclass(frozen=True)
class LossWeights:
    # naive (paper eq. 4) and CycleFUNIT (slides)
    alpha: float = 1.0  # α: VGG perceptual reconstruction (report eq. 1 / paper eq. 5); slides: 1.0
    gamma: float = 0.4  # γ: cycle losses on E_A and E_B codes (eq. 2–4); paper's naive run (Fig. 5): 0.4
    lambda_g: float = 1.0  # λ_g: generator LSGAN loss (eq. 6); slides: 1.0
    delta: float = 1.0  # δ: identity loss through a face network (eq. 8); slides: 1.0
    delta_warmup_steps: float = 0.0  # linear warm-up of δ from 0 over this many steps (paper §V-B); 0 = off
    zeta: float = 0.2  # ζ: discriminator loss ζ·(L_real + L_fake)/2 (eq. 7); slides: 0.2
    # FUNIT2FUNIT (paper eq. 9–12)
    lambda_short: float = 1.0  # λ_short: ‖x − G(x, x)‖ (eq. 9); times r_w gives FUNIT's 0.1
    lambda_long: float = 0.1  # λ_long: ‖x − x̂‖ (eq. 9); paper §V-C adds it at 0.1
    lambda_D: float = 1.0  # λ_D: FM original vs mix (eq. 10); paper: 1.0 as in FUNIT
    lambda_R: float = 0.1  # λ_R: FM mix vs reconstruction (eq. 10); paper: 0.1
    lambda_L: float = 0.1  # λ_L: FM original vs reconstruction (eq. 10); paper: 0.1
    lambda_dis: float = 1.0  # λ_dis: discriminator hinge loss (eq. 11); paper: 1.0
    lambda_reg: float = 10.0  # λ_reg: R1 real gradient penalty (eq. 11); paper/FUNIT: 10
    lambda_F: float = 1.0  # λ_F: whole feature-matching loss (eq. 12); FUNIT fm_w 1
    # FUNIT's own (funit_animals.yaml, FUNIT_FACTS §1/§5)
    gan_w: float = 1.0  # generator hinge adversarial loss
    r_w: float = 0.1  # pixel L1 reconstruction (scales eq. 9)
    fm_w: float = 1.0  # FUNIT's short-reconstruction feature matching φ(G(x, x)) vs φ(x)
    # Model-study switches (docs/study.md); 0 turns each off, so the defaults are the paper's objective.
    lambda_same: float = 0.0  # λ_same: ‖x − G(E_A(x), E_B(x′))‖, x′ another image of x's person (eq. 9 ext.)
    gan_delay_steps: float = 0.0  # no discriminator (no GAN, no feature matching) before this step; 0 = off
    gan_warmup_steps: float = 0.0  # then gan_w and λ_F ramp linearly from 0 over this many steps; 0 = off
    content_noise: float = 0.0  # σ of Gaussian noise added to the content code in training (LORD)
    content_l2: float = 0.0  # weight of the mean squared content code (LORD's activation decay)
    lambda_cls: float = 0.0  # λ_cls: identity head on E_B(x) learns the training identities (> 0 at start adds it)
    lambda_cls_mix: float = 0.0  # λ_cls,m: the head must name the identity a mix should carry (needs the head)
    lambda_cross_gt: float = 0.0  # λ_cross: ‖m − m*‖ against the true swap m* (procedural faces only; eq. 9 ext.)
    lambda_mask_area: float = 0.0  # λ_m: mean mask of each mix kept near `mask_area` (mask-head models only)
    mask_area: float = 0.3  # a_m: that target share of the image (procedural faces' person: 0.30 at 32 px)
    lambda_mask_binary: float = 0.0  # λ_mb: mean m(1 − m) of the mixes' masks: each pixel shows G or the content
    lambda_dlib_id: float = 0.0  # λ_dlib: 1 − cos of dlib's face descriptors, mix vs class image (eq. 8; photos)
    # The lord approach (Gabbay & Hoshen, ICLR 2020; trainer/approaches/lord.py): LORD's own values
    lord_noise: float = 1.0  # σ_lord: Gaussian noise on the per-image content embeddings in stage 1 (LORD: 1)
    lord_decay: float = 1e-3  # λ_decay: mean squared content embedding in stage 1 (LORD: 1e-4–1e-3)
    lambda_embed: float = 10.0  # λ_emb: E_A and E_B regress the learned embeddings, MSE each (LORD: 10)
    # Issue 19, the field's other levers: terms a copy of the content image cannot satisfy (funit2funit only)
    lambda_ds: float = 0.0  # λ_ds: StarGAN v2's diversity-sensitive term −‖G(c, s_a) − G(c, s_b)‖₁ (their eq. 3)
    ds_decay_steps: float = 0.0  # λ_ds falls linearly to 0 over this many steps, as in StarGAN v2; 0 = constant
    lambda_class_rec: float = 0.0  # λ_sty: |E_B(m) − E_B(x₂)|, the mix encodes back to its class code (StarGAN v2)
    lambda_content_adv: float = 0.0  # λ_adv,c: E_A's code must confuse an identity classifier (DRIT; > 0 at start)
    # Issue 19: the frozen identity critic (trainer/identity_critic.py), pre-trained on the training identities
    lambda_critic: float = 0.0  # λ_crit: 1 − cos of the critic's features of each mix and of its class image
    lambda_critic_ce: float = 0.0  # λ_crit,CE: the critic's cross-entropy on each mix (the measured alternative)
    critic_start_step: float = 0.0  # neither critic term before this step; 0 = from the first step

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LossWeights:
        """Build from a (possibly partial) mapping; unknown names and bad values raise ValueError."""
        reject_unknown(data, field_names(cls), "unknown loss weight(s):", ValueError)
        values: dict[str, float] = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"loss weight {name} must be a number, got {value!r}")
            try:
                number = float(value)
            except OverflowError:
                raise ValueError(f"loss weight {name} is too large: {value}") from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"loss weight {name} must be finite and >= 0, got {value!r}")
            values[name] = number
        return cls(**values)

    def replace(self, **changes: float) -> LossWeights:
        """A copy with `changes` applied, validated like `from_dict`."""
        return LossWeights.from_dict({**self.to_dict(), **changes})

    def delta_at(self, step: int) -> float:
        """δ at `step`: ramps linearly from 0 to δ over `delta_warmup_steps` (paper §V-B tried this)."""
        return self.delta * _ramp(step, self.delta_warmup_steps)

    def adversarial_at(self, step: int) -> float:
        """The factor on every discriminator-based term (gan_w, λ_F) at `step`: 0 before `gan_delay_steps`,
        then a linear ramp over `gan_warmup_steps`.

        Early on the adversarial gradient on G is 2–3× the weighted L1 gradient and points against it, so
        a delay and a ramp let the networks learn to reconstruct before the discriminator pulls; while the
        factor is 0 the discriminator is neither run nor trained, which makes a step several times faster.
        """
        if step < self.gan_delay_steps:
            return 0.0
        return _ramp(step - self.gan_delay_steps, self.gan_warmup_steps)

    def gan_w_at(self, step: int) -> float:
        """gan_w at `step` (`adversarial_at`)."""
        return self.gan_w * self.adversarial_at(step)

    def ds_at(self, step: int) -> float:
        """λ_ds at `step`: falls linearly from λ_ds to 0 over `ds_decay_steps` (StarGAN v2 decays it to keep
        training stable: the term is maximised, so left on it keeps pushing mixes apart); 0 = constant."""
        if self.ds_decay_steps <= 0:
            return self.lambda_ds
        return self.lambda_ds * max(0.0, 1.0 - max(0, step) / self.ds_decay_steps)
    @property
    def uses_critic(self) -> bool:
        """Whether a critic term is on (the run then needs the pre-trained identity critic)."""
        return self.lambda_critic > 0 or self.lambda_critic_ce > 0

    def critic_on(self, step: int) -> bool:
        """Whether the critic terms count at `step` (from `critic_start_step` on)."""
        return self.uses_critic and step >= self.critic_start_step


def _ramp(step: int, steps: float) -> float:
    """1 after `steps` steps, rising linearly from 0 before; 1 throughout when `steps` is 0."""
    return 1.0 if steps <= 0 else min(1.0, max(0, step) / steps)


@dataclass(frozen=True)
class WeightSpec:
    """One row of the weight editor: what the widget shows and the range it allows."""

    name: str  # LossWeights field
    symbol: str  # the paper's symbol
    label: str  # short human label
    default: float
    minimum: float
    maximum: float
    step: float  # spin-box increment
    tooltip: str  # what the weight does, with its equation


# name, symbol, label, maximum, spin-box step (minimum 0, default from LossWeights); which approaches read each
# weight is theirs to declare (trainer/approaches/registry.py: `ApproachSpec.weights`)
_ROWS: tuple[tuple[str, str, str, float, float], ...] = (
    ("gamma", "γ", "Cycle", 100.0, 0.1),
    ("alpha", "α", "Perceptual", 100.0, 0.1),
    ("lambda_g", "λ_g", "Adversarial (G)", 100.0, 0.1),
    ("delta", "δ", "Identity", 100.0, 0.1),
    ("delta_warmup_steps", "δ warm-up", "Identity warm-up steps", 1e6, 100.0),
    ("zeta", "ζ", "Discriminator", 10.0, 0.05),
    ("lambda_short", "λ_short", "Short recon", 100.0, 0.1),
    ("lambda_long", "λ_long", "Long recon", 100.0, 0.01),
    ("lambda_D", "λ_D", "FM mix", 100.0, 0.1),
    ("lambda_R", "λ_R", "FM mix↔recon", 100.0, 0.01),
    ("lambda_L", "λ_L", "FM long", 100.0, 0.01),
    ("lambda_dis", "λ_dis", "Dis hinge", 100.0, 0.1),
    ("lambda_reg", "λ_reg", "R1 penalty", 1000.0, 1.0),
    ("lambda_F", "λ_F", "Feature matching", 100.0, 0.1),
    ("gan_w", "gan_w", "Adversarial (G)", 100.0, 0.1),
    ("r_w", "r_w", "Recon scale", 100.0, 0.01),
    ("fm_w", "fm_w", "FM short", 100.0, 0.1),
    ("lambda_same", "λ_same", "Same-person recon", 100.0, 0.1),
    ("gan_delay_steps", "GAN delay", "Steps before the discriminator", 1e6, 100.0),
    ("gan_warmup_steps", "gan_w warm-up", "Adversarial warm-up steps", 1e6, 100.0),
    ("content_noise", "σ_c", "Content-code noise", 10.0, 0.05),
    ("content_l2", "λ_c", "Content-code L2", 100.0, 0.001),
    ("lambda_cls", "λ_cls", "Identity head", 100.0, 0.1),
    ("lambda_cls_mix", "λ_cls,m", "Mix identity", 100.0, 0.1),
    ("lambda_cross_gt", "λ_cross", "Supervised cross (truth)", 100.0, 0.1),
    ("lambda_mask_area", "λ_m", "Mask-area prior", 100.0, 0.1),
    ("mask_area", "a_m", "Mask-area target", 1.0, 0.05),
    ("lambda_mask_binary", "λ_mb", "Binary mask", 100.0, 0.1),
    ("lambda_dlib_id", "λ_dlib", "Face identity (dlib)", 100.0, 0.1),
    ("lord_noise", "σ_lord", "Latent content noise", 10.0, 0.1),
    ("lord_decay", "λ_decay", "Latent content L2", 1.0, 0.0001),
    ("lambda_embed", "λ_emb", "Embedding regression", 1000.0, 1.0),
    ("lambda_ds", "λ_ds", "Diversity (StarGAN v2)", 100.0, 0.1),
    ("ds_decay_steps", "λ_ds decay", "Diversity decay steps", 1e6, 100.0),
    ("lambda_class_rec", "λ_sty", "Class-code reconstruction", 100.0, 0.1),
    ("lambda_content_adv", "λ_adv,c", "Content-code adversary", 100.0, 0.1),
    ("lambda_critic", "λ_crit", "Identity critic (cosine)", 100.0, 0.5),
    ("lambda_critic_ce", "λ_crit,CE", "Identity critic (CE)", 100.0, 0.1),
    ("critic_start_step", "critic start", "Steps before the critic", 1e6, 100.0),
)

_TOOLTIPS = {
    "gamma": "Weight of the cycle losses on the E_A and E_B codes of the mixed images (eq. 2–4).",
    "alpha": "Weight of the VGG16 relu2_2 perceptual loss between originals and reconstructions (eq. 5); LORD "
    "adds it to the L1 of both stages when VGG weights are given.",
    "lambda_g": "Weight of the generator's LSGAN loss pushing mixed images to look real (eq. 6).",
    "delta": "Weight of the L1 distance between face-network embeddings of original and mix (eq. 8).",
    "delta_warmup_steps": "Steps over which δ ramps linearly up from 0 (paper §V-B); 0 = no warm-up.",
    "zeta": "Scale of the PatchGAN discriminator loss ζ·(L_real + L_fake)/2 (eq. 7).",
    "lambda_short": "Weight of ‖x − G(x, x)‖ inside the reconstruction loss (eq. 9), scaled by r_w. LORD: "
    "stage 2's fine-tuning of G through the encoders (0 = G frozen in stage 2).",
    "lambda_long": "Weight of ‖x − x̂‖, original vs fully reassembled image (eq. 9), scaled by r_w.",
    "lambda_D": "Feature matching between a mixed image and the original carrying its identity (eq. 10).",
    "lambda_R": "Feature matching between a mixed image and the reconstruction of its identity (eq. 10).",
    "lambda_L": "Feature matching between original and fully reassembled image (eq. 10).",
    "lambda_dis": "Weight of the discriminator hinge loss on x1, x2 (real) and m1, m2 (fake) (eq. 11).",
    "lambda_reg": "Weight of the R1 real-gradient penalty over x1 and x2 (eq. 11).",
    "lambda_F": "Weight of the whole feature-matching loss in the total (eq. 12).",
    "gan_w": "FUNIT's generator hinge weight: mixes and short reconstructions should look real (eq. 12).",
    "r_w": "FUNIT's pixel-reconstruction weight; multiplies λ_short and λ_long (eq. 9).",
    "fm_w": "FUNIT's feature matching between G(x, x) and x, added to eq. 10 as in FUNIT.",
    "lambda_same": "Reconstruct x from its own content code and the class code of another image of the same "
    "person (eq. 9, extended): the class code can then only carry what the person's images share.",
    "gan_delay_steps": "Steps of pure reconstruction before the discriminator and its terms (gan_w, λ_F, eq. 11–12) "
    "start; 0 = from the first step.",
    "gan_warmup_steps": "Steps over which gan_w and λ_F (eq. 12) ramp linearly up from 0 (after the delay); "
    "0 = at once.",
    "content_noise": "σ of Gaussian noise added to the content code while training (LORD): a noisy code "
    "cannot afford to carry identity the class code already gives (paper §II, LORD).",
    "lambda_cls": "Cross-entropy of a linear identity head on the class code E_B(x) of real images (eq. 8's "
    "identity loss with our own encoder as the face network); > 0 when the run starts adds the head.",
    "lambda_cls_mix": "Cross-entropy of that head on E_B(m): each mix must carry the identity it was given "
    "(eq. 8), which copying the content image cannot satisfy.",
    "lambda_cross_gt": "Supervised cross loss (lecture: Aberman et al.'s cross loss on a synthetic set): L1 between "
    "each mix and the true swap the procedural-face renderer draws (the content image's situation with the "
    "class image's person; eq. 9, extended). Procedural faces only; photos have no true swap.",
    "lambda_mask_area": "Mask-head models only: |mean mask − a_m| of each mix, added to eq. 12. Without it the "
    "mask closes and the mix copies the content image (Mokady et al.'s blend collapsed within 50 steps).",
    "lambda_mask_binary": "Mask-head models only: mean m(1 − m) of each mix's mask, added to eq. 12: each pixel "
    "shows either G's image or the content image (without it a uniform grey mask meets the area prior).",
    "lambda_dlib_id": "Photo runs (aligned faces of 64 px and more): 1 − cos between dlib's face-recognition "
    "descriptor of each mix and that of the class image it took its identity from (eq. 8 with dlib's ResNet as the "
    "frozen face network, as SimSwap uses ArcFace). The photo judge is the same network: judge such runs on people "
    "the run never trained on.",
    "mask_area": "The share of the image a mix's mask should cover (λ_m's target in eq. 12); about the person's.",
    "lord_noise": "LORD stage 1: σ of Gaussian noise on each image's content embedding; a noisy content code "
    "cannot afford to carry the identity the shared class embedding already gives (LORD §3, Gabbay & Hoshen 2020).",
    "lord_decay": "LORD stage 1: weight of the mean squared content embedding (LORD §3's activation decay), "
    "which keeps the content code from outgrowing the noise.",
    "lambda_embed": "LORD: E_A and E_B regress the learned content and class embeddings (MSE each; LORD §3's "
    "amortisation weight 10), alongside stage 1 and as stage 2's main term.",
    "content_l2": "Weight of the mean squared content code (LORD's activation decay), a pressure toward a "
    "small content code (paper §VI: a smaller content code).",
    "lambda_ds": "StarGAN v2's diversity-sensitive term (Choi et al. 2020, eq. 3), subtracted from eq. 12: "
    "‖G(E_A(x), E_B(x)) − m‖₁, one content code with its own and with the other person's class code, is "
    "maximised. A copy of the content image gives it its worst value, 0.",
    "ds_decay_steps": "Steps over which λ_ds falls linearly to 0 (StarGAN v2 decays it; eq. 3); 0 = constant.",
    "lambda_class_rec": "StarGAN v2's style reconstruction (Choi et al. 2020, eq. 2) with E_B as the style "
    "encoder, added to eq. 12: |E_B(m) − E_B(x₂)|, each mix must encode back to the class code it was given, "
    "which a copy of the content image cannot do.",
    "lambda_content_adv": "Content-code identity adversary (DRIT's content discriminator; Ganin & Lempitsky "
    "2015), added to eq. 12: a small classifier learns to name the person from E_A(x) and E_A must leave it "
    "guessing (uniform prediction). > 0 when the run starts adds the classifier, saved with the run.",
    "lambda_critic": "1 − cos between a frozen identity critic's features of each mix and of its class image "
    "(SimSwap/FaceShifter's identity loss; the critic is pre-trained on the training identities for a few "
    "minutes, then cached). A copy of the content image cannot satisfy it. Added to eq. 12.",
    "lambda_critic_ce": "Cross-entropy of the frozen identity critic on each mix against the class image's "
    "identity, added to eq. 12: the measured alternative to the cosine form (it tended to erase identity rather than "
    "move it).",
    "critic_start_step": "Steps before the identity-critic terms (λ_crit, λ_crit,CE in eq. 12) start; 0 = from the "
    "first step.",
}

_DEFAULTS = LossWeights().to_dict()

LOSS_WEIGHT_SPECS: tuple[WeightSpec, ...] = tuple(
    WeightSpec(name, symbol, label, _DEFAULTS[name], 0.0, maximum, step, _TOOLTIPS[name])
    for name, symbol, label, maximum, step in _ROWS
)

