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

Each weight is declared once, as its field: its default (with where the value comes from) and its row of the
weight editor (symbol, label, range, tooltip), so the editor's table `LOSS_WEIGHT_SPECS` cannot miss one. A loss
term of a plug-in brings its own weight (`register_weight`, called by `trainer.approaches.loss_terms.TermTable.add`):
it is read like a field (`weights.lambda_mine`), accepted by `from_dict`, saved by `to_dict` and shown by the editor.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from g2g_desktop.core.config import check_value, reject_unknown

# λ_dlib's smallest training image: dlib's chip is about half of an aligned crop (trainer.dlib_face_net's
# framing), 33 px of a 64 px image resized to dlib's 150; at 32 px it would be 17 px, too few to say who it is.
DLIB_MIN_IMAGE_SIZE = 64


def dlib_size_problem(image_size: int) -> str | None:
    """Why λ_dlib cannot work in a run of `image_size` px, or None: the one rule and wording for the refusal at the
    start (`validate_config`) and the note when the weight is raised mid-run (`unused_weights`)."""
    if image_size >= DLIB_MIN_IMAGE_SIZE:
        return None
    return (f"dlib's face descriptor needs images of at least {DLIB_MIN_IMAGE_SIZE} px (its chip is about half the "
            f"image); this run trains at {image_size} px")


@dataclass(frozen=True)
class WeightSpec:
    """One row of the weight editor: what the widget shows and the range it allows."""

    name: str  # LossWeights field (or the name of a weight a plug-in's loss term added)
    symbol: str  # the paper's symbol
    label: str  # short human label
    default: float
    minimum: float
    maximum: float
    step: float  # spin-box increment
    tooltip: str  # what the weight does, with its equation
    readers: tuple[str, ...] = ()  # an added weight's approaches (a field's readers are in their ApproachSpec)


def weight(default: float, symbol: str, label: str, maximum: float, step: float, tooltip: str) -> Any:
    """A LossWeights field with its editor row (minimum 0)."""
    return field(default=default, metadata={"row": (symbol, label, maximum, step, tooltip)})


_ADDED: dict[str, WeightSpec] = {}  # weights that loss terms added at run time, by name, in the order added


@dataclass(frozen=True)
class LossWeights:
    # naive (paper eq. 4) and CycleFUNIT (slides)
    # γ: cycle losses on E_A and E_B codes (eq. 2–4); paper's naive run (Fig. 5): 0.4
    gamma: float = weight(0.4, "γ", "Cycle", 100.0, 0.1,
        "Weight of the cycle losses on the E_A and E_B codes of the mixed images (eq. 2–4).")
    # α: VGG perceptual reconstruction (report eq. 1 / paper eq. 5); slides: 1.0
    alpha: float = weight(1.0, "α", "Perceptual", 100.0, 0.1,
        "Weight of the VGG16 relu2_2 perceptual loss between originals and reconstructions (eq. 5); LORD adds it "
        "to the L1 of both stages when VGG weights are given.")
    # λ_g: generator LSGAN loss (eq. 6); slides: 1.0
    lambda_g: float = weight(1.0, "λ_g", "Adversarial (G)", 100.0, 0.1,
        "Weight of the generator's LSGAN loss pushing mixed images to look real (eq. 6).")
    # δ: identity loss through a face network (eq. 8); slides: 1.0
    delta: float = weight(1.0, "δ", "Identity", 100.0, 0.1,
        "Weight of the L1 distance between face-network embeddings of original and mix (eq. 8).")
    # linear warm-up of δ from 0 over this many steps (paper §V-B); 0 = off
    delta_warmup_steps: float = weight(0.0, "δ warm-up", "Identity warm-up steps", 1e6, 100.0,
        "Steps over which δ ramps linearly up from 0 (paper §V-B); 0 = no warm-up.")
    # ζ: discriminator loss ζ·(L_real + L_fake)/2 (eq. 7); slides: 0.2
    zeta: float = weight(0.2, "ζ", "Discriminator", 10.0, 0.05,
        "Scale of the PatchGAN discriminator loss ζ·(L_real + L_fake)/2 (eq. 7).")
    # FUNIT2FUNIT (paper eq. 9–12)
    # λ_short: ‖x − G(x, x)‖ (eq. 9); times r_w gives FUNIT's 0.1
    lambda_short: float = weight(1.0, "λ_short", "Short recon", 100.0, 0.1,
        "Weight of ‖x − G(x, x)‖ inside the reconstruction loss (eq. 9), scaled by r_w. LORD: stage 2's "
        "fine-tuning of G through the encoders (0 = G frozen in stage 2).")
    # λ_long: ‖x − x̂‖ (eq. 9); paper §V-C adds it at 0.1
    lambda_long: float = weight(0.1, "λ_long", "Long recon", 100.0, 0.01,
        "Weight of ‖x − x̂‖, original vs fully reassembled image (eq. 9), scaled by r_w.")
    # λ_D: FM original vs mix (eq. 10); paper: 1.0 as in FUNIT
    lambda_D: float = weight(1.0, "λ_D", "FM mix", 100.0, 0.1,
        "Feature matching between a mixed image and the original carrying its identity (eq. 10).")
    # λ_R: FM mix vs reconstruction (eq. 10); paper: 0.1
    lambda_R: float = weight(0.1, "λ_R", "FM mix↔recon", 100.0, 0.01,
        "Feature matching between a mixed image and the reconstruction of its identity (eq. 10).")
    # λ_L: FM original vs reconstruction (eq. 10); paper: 0.1
    lambda_L: float = weight(0.1, "λ_L", "FM long", 100.0, 0.01,
        "Feature matching between original and fully reassembled image (eq. 10).")
    # λ_dis: discriminator hinge loss (eq. 11); paper: 1.0
    lambda_dis: float = weight(1.0, "λ_dis", "Dis hinge", 100.0, 0.1,
        "Weight of the discriminator hinge loss on x1, x2 (real) and m1, m2 (fake) (eq. 11).")
    # λ_reg: R1 real gradient penalty (eq. 11); paper/FUNIT: 10
    lambda_reg: float = weight(10.0, "λ_reg", "R1 penalty", 1000.0, 1.0,
        "Weight of the R1 real-gradient penalty over x1 and x2 (eq. 11).")
    # λ_F: whole feature-matching loss (eq. 12); FUNIT fm_w 1
    lambda_F: float = weight(1.0, "λ_F", "Feature matching", 100.0, 0.1,
        "Weight of the whole feature-matching loss in the total (eq. 12).")
    # FUNIT's own (funit_animals.yaml, FUNIT_FACTS §1/§5)
    gan_w: float = weight(1.0, "gan_w", "Adversarial (G)", 100.0, 0.1,  # generator hinge adversarial loss
        "FUNIT's generator hinge weight: mixes and short reconstructions should look real (eq. 12).")
    r_w: float = weight(0.1, "r_w", "Recon scale", 100.0, 0.01,  # pixel L1 reconstruction (scales eq. 9)
        "FUNIT's pixel-reconstruction weight; multiplies λ_short and λ_long (eq. 9).")
    # FUNIT's short-reconstruction feature matching φ(G(x, x)) vs φ(x)
    fm_w: float = weight(1.0, "fm_w", "FM short", 100.0, 0.1,
        "FUNIT's feature matching between G(x, x) and x, added to eq. 10 as in FUNIT.")
    # Model-study switches (docs/study.md); 0 turns each off, so the defaults are the paper's objective.
    # λ_same: ‖x − G(E_A(x), E_B(x′))‖, x′ another image of x's person (eq. 9 ext.)
    lambda_same: float = weight(0.0, "λ_same", "Same-person recon", 100.0, 0.1,
        "Reconstruct x from its own content code and the class code of another image of the same person (eq. 9, "
        "extended): the class code can then only carry what the person's images share.")
    # no discriminator (no GAN, no feature matching) before this step; 0 = off
    gan_delay_steps: float = weight(0.0, "GAN delay", "Steps before the discriminator", 1e6, 100.0,
        "Steps of pure reconstruction before the discriminator and its terms (gan_w, λ_F, eq. 11–12) start; 0 = "
        "from the first step.")
    # then gan_w and λ_F ramp linearly from 0 over this many steps; 0 = off
    gan_warmup_steps: float = weight(0.0, "gan_w warm-up", "Adversarial warm-up steps", 1e6, 100.0,
        "Steps over which gan_w and λ_F (eq. 12) ramp linearly up from 0 (after the delay); 0 = at once.")
    # σ of Gaussian noise added to the content code in training (LORD)
    content_noise: float = weight(0.0, "σ_c", "Content-code noise", 10.0, 0.05,
        "σ of Gaussian noise added to the content code while training (LORD): a noisy code cannot afford to carry"
        " identity the class code already gives (paper §II, LORD).")
    # weight of the mean squared content code (LORD's activation decay)
    content_l2: float = weight(0.0, "λ_c", "Content-code L2", 100.0, 0.001,
        "Weight of the mean squared content code (LORD's activation decay), a pressure toward a small content "
        "code (paper §VI: a smaller content code).")
    # λ_cls: identity head on E_B(x) learns the training identities (> 0 at start adds it)
    lambda_cls: float = weight(0.0, "λ_cls", "Identity head", 100.0, 0.1,
        "Cross-entropy of a linear identity head on the class code E_B(x) of real images (eq. 8's identity loss "
        "with our own encoder as the face network); > 0 when the run starts adds the head.")
    # λ_cls,m: the head must name the identity a mix should carry (needs the head)
    lambda_cls_mix: float = weight(0.0, "λ_cls,m", "Mix identity", 100.0, 0.1,
        "Cross-entropy of that head on E_B(m): each mix must carry the identity it was given (eq. 8), which "
        "copying the content image cannot satisfy.")
    # λ_cross: ‖m − m*‖ against the true swap m* (procedural faces only; eq. 9 ext.)
    lambda_cross_gt: float = weight(0.0, "λ_cross", "Supervised cross (truth)", 100.0, 0.1,
        "Supervised cross loss (lecture: Aberman et al.'s cross loss on a synthetic set): L1 between each mix and"
        " the true swap the procedural-face renderer draws (the content image's situation with the class image's "
        "person; eq. 9, extended). Procedural faces only; photos have no true swap.")
    # λ_m: mean mask of each mix kept near `mask_area` (mask-head models only)
    lambda_mask_area: float = weight(0.0, "λ_m", "Mask-area prior", 100.0, 0.1,
        "Mask-head models only: |mean mask − a_m| of each mix, added to eq. 12. Without it the mask closes and "
        "the mix copies the content image (Mokady et al.'s blend collapsed within 50 steps).")
    # a_m: that target share of the image (procedural faces' person: 0.30 at 32 px)
    mask_area: float = weight(0.3, "a_m", "Mask-area target", 1.0, 0.05,
        "The share of the image a mix's mask should cover (λ_m's target in eq. 12); about the person's.")
    # λ_mb: mean m(1 − m) of the mixes' masks: each pixel shows G or the content
    lambda_mask_binary: float = weight(0.0, "λ_mb", "Binary mask", 100.0, 0.1,
        "Mask-head models only: mean m(1 − m) of each mix's mask, added to eq. 12: each pixel shows either G's "
        "image or the content image (without it a uniform grey mask meets the area prior).")
    # λ_dlib: 1 − cos of dlib's face descriptors, mix vs class image (eq. 8; photos)
    lambda_dlib_id: float = weight(0.0, "λ_dlib", "Face identity (dlib)", 100.0, 0.1,
        "Photo runs (aligned faces of 64 px and more): 1 − cos between dlib's face-recognition descriptor of each"
        " mix and that of the class image it took its identity from (eq. 8 with dlib's ResNet as the frozen face "
        "network, as SimSwap uses ArcFace). The photo judge is the same network: judge such runs on people the "
        "run never trained on.")
    # The lord approach (Gabbay & Hoshen, ICLR 2020; trainer/approaches/lord.py): LORD's own values
    # σ_lord: Gaussian noise on the per-image content embeddings in stage 1 (LORD: 1)
    lord_noise: float = weight(1.0, "σ_lord", "Latent content noise", 10.0, 0.1,
        "LORD stage 1: σ of Gaussian noise on each image's content embedding; a noisy content code cannot afford "
        "to carry the identity the shared class embedding already gives (LORD §3, Gabbay & Hoshen 2020).")
    # λ_decay: mean squared content embedding in stage 1 (LORD: 1e-4–1e-3)
    lord_decay: float = weight(1e-3, "λ_decay", "Latent content L2", 1.0, 0.0001,
        "LORD stage 1: weight of the mean squared content embedding (LORD §3's activation decay), which keeps the"
        " content code from outgrowing the noise.")
    # λ_emb: E_A and E_B regress the learned embeddings, MSE each (LORD: 10)
    lambda_embed: float = weight(10.0, "λ_emb", "Embedding regression", 1000.0, 1.0,
        "LORD: E_A and E_B regress the learned content and class embeddings (MSE each; LORD §3's amortisation "
        "weight 10), alongside stage 1 and as stage 2's main term.")
    # Issue 19, the field's other levers: terms a copy of the content image cannot satisfy (funit2funit only)
    # λ_ds: StarGAN v2's diversity-sensitive term −‖G(c, s_a) − G(c, s_b)‖₁ (their eq. 3)
    lambda_ds: float = weight(0.0, "λ_ds", "Diversity (StarGAN v2)", 100.0, 0.1,
        "StarGAN v2's diversity-sensitive term (Choi et al. 2020, eq. 3), subtracted from eq. 12: ‖G(E_A(x), "
        "E_B(x)) − m‖₁, one content code with its own and with the other person's class code, is maximised. A "
        "copy of the content image gives it its worst value, 0.")
    # λ_ds falls linearly to 0 over this many steps, as in StarGAN v2; 0 = constant
    ds_decay_steps: float = weight(0.0, "λ_ds decay", "Diversity decay steps", 1e6, 100.0,
        "Steps over which λ_ds falls linearly to 0 (StarGAN v2 decays it; eq. 3); 0 = constant.")
    # λ_sty: |E_B(m) − E_B(x₂)|, the mix encodes back to its class code (StarGAN v2)
    lambda_class_rec: float = weight(0.0, "λ_sty", "Class-code reconstruction", 100.0, 0.1,
        "StarGAN v2's style reconstruction (Choi et al. 2020, eq. 2) with E_B as the style encoder, added to eq. "
        "12: |E_B(m) − E_B(x₂)|, each mix must encode back to the class code it was given, which a copy of the "
        "content image cannot do.")
    # λ_adv,c: E_A's code must confuse an identity classifier (DRIT; > 0 at start)
    lambda_content_adv: float = weight(0.0, "λ_adv,c", "Content-code adversary", 100.0, 0.1,
        "Content-code identity adversary (DRIT's content discriminator; Ganin & Lempitsky 2015), added to eq. 12:"
        " a small classifier learns to name the person from E_A(x) and E_A must leave it guessing (uniform "
        "prediction). > 0 when the run starts adds the classifier, saved with the run.")
    # Issue 19: the frozen identity critic (trainer/identity_critic.py), pre-trained on the training identities
    # λ_crit: 1 − cos of the critic's features of each mix and of its class image
    lambda_critic: float = weight(0.0, "λ_crit", "Identity critic (cosine)", 100.0, 0.5,
        "1 − cos between a frozen identity critic's features of each mix and of its class image "
        "(SimSwap/FaceShifter's identity loss; the critic is pre-trained on the training identities for a few "
        "minutes, then cached). A copy of the content image cannot satisfy it. Added to eq. 12.")
    # λ_crit,CE: the critic's cross-entropy on each mix (the measured alternative)
    lambda_critic_ce: float = weight(0.0, "λ_crit,CE", "Identity critic (CE)", 100.0, 0.1,
        "Cross-entropy of the frozen identity critic on each mix against the class image's identity, added to eq."
        " 12: the measured alternative to the cosine form (it tended to erase identity rather than move it).")
    # neither critic term before this step; 0 = from the first step
    critic_start_step: float = weight(0.0, "critic start", "Steps before the critic", 1e6, 100.0,
        "Steps before the identity-critic terms (λ_crit, λ_crit,CE in eq. 12) start; 0 = from the first step.")

    # the values of the added weights (`register_weight`), every one of them in the order added
    added: tuple[tuple[str, float], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        given = dict(self.added)
        reject_unknown(given, _ADDED, "unknown loss weight(s):", ValueError)
        object.__setattr__(self, "added", tuple((name, float(given.get(name, spec.default)))
                                                for name, spec in _ADDED.items()))

    def __getattr__(self, name: str) -> float:
        """An added weight's value, read like a field (only called for names that are not attributes)."""
        spec = _ADDED.get(name)
        if spec is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return dict(self.__dict__.get("added", ())).get(name, spec.default)

    def to_dict(self) -> dict[str, float]:
        """Every weight by name, the added ones too (what config.json, checkpoints and the editor hold)."""
        return {**{name: getattr(self, name) for name in _FIELDS}, **dict(self.added)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LossWeights:
        """Build from a (possibly partial) mapping; unknown names and bad values raise ValueError."""
        reject_unknown(data, sorted(weight_names()), "unknown loss weight(s):", ValueError)
        values: dict[str, float] = {}
        for name, value in data.items():
            number = check_value(f"loss weight {name}", float, value, ValueError)
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"loss weight {name} must be finite and >= 0, got {value!r}")
            values[name] = number
        added = tuple((name, values.pop(name)) for name in list(values) if name in _ADDED)
        return cls(**values, added=added)

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


_FIELDS = tuple(f.name for f in dataclasses.fields(LossWeights) if "row" in f.metadata)

LOSS_WEIGHT_SPECS: tuple[WeightSpec, ...] = tuple(
    WeightSpec(f.name, symbol, label, f.default, 0.0, maximum, step, tooltip)
    for f in dataclasses.fields(LossWeights) if "row" in f.metadata
    for symbol, label, maximum, step, tooltip in [f.metadata["row"]]
)


def weight_names() -> tuple[str, ...]:
    """Every weight `from_dict` accepts: the fields, then the added ones."""
    return (*_FIELDS, *_ADDED)


def weight_specs() -> tuple[WeightSpec, ...]:
    """The weight editor's rows: the fields' (`LOSS_WEIGHT_SPECS`), then the added weights'."""
    return (*LOSS_WEIGHT_SPECS, *_ADDED.values())


def register_weight(spec: WeightSpec) -> None:
    """Add a weight a loss term brings (its name must be new); LossWeights made from now on carry it."""
    if spec.name in _FIELDS or spec.name in _ADDED:
        raise ValueError(f"loss weight {spec.name!r} exists already")
    if not spec.minimum <= spec.default <= spec.maximum:
        raise ValueError(f"loss weight {spec.name}: default {spec.default} outside [{spec.minimum}, {spec.maximum}]")
    _ADDED[spec.name] = spec


def unregister_weight(name: str) -> None:
    """Remove an added weight (a test's, a plug-in's); unknown names are ignored."""
    _ADDED.pop(name, None)
