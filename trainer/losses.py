"""Loss weights of the three G2G approaches and the table the app's weight editor is built from.

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

APPROACH_NAMES = ("naive", "cycle_funit", "funit2funit")


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

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LossWeights:
        """Build from a (possibly partial) mapping; unknown names and bad values raise ValueError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown loss weight(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        values: dict[str, float] = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"loss weight {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"loss weight {name} must be finite and >= 0, got {value!r}")
            values[name] = float(value)
        return cls(**values)

    def replace(self, **changes: float) -> LossWeights:
        """A copy with `changes` applied, validated like `from_dict`."""
        return LossWeights.from_dict({**self.to_dict(), **changes})

    def delta_at(self, step: int) -> float:
        """δ at `step`: ramps linearly from 0 to δ over `delta_warmup_steps` (paper §V-B tried this)."""
        if self.delta_warmup_steps <= 0:
            return self.delta
        return self.delta * min(1.0, max(0, step) / self.delta_warmup_steps)


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
    approaches: tuple[str, ...]  # approaches whose losses read it


def _spec(name, symbol, label, maximum, step, tooltip, approaches) -> WeightSpec:
    default = next(f.default for f in dataclasses.fields(LossWeights) if f.name == name)
    return WeightSpec(name, symbol, label, default, 0.0, maximum, step, tooltip, tuple(approaches))


_CYC = ("cycle_funit",)
_F2F = ("funit2funit",)

LOSS_WEIGHT_SPECS: tuple[WeightSpec, ...] = (
    _spec("gamma", "γ", "Cycle", 100.0, 0.1,
          "Weight of the cycle losses on the E_A and E_B codes of the mixed images (eq. 2–4).",
          ("naive", "cycle_funit")),
    _spec("alpha", "α", "Perceptual", 100.0, 0.1,
          "Weight of the VGG16 relu2_2 perceptual loss between originals and reconstructions (eq. 5).", _CYC),
    _spec("lambda_g", "λ_g", "Adversarial (G)", 100.0, 0.1,
          "Weight of the generator's LSGAN loss pushing mixed images to look real (eq. 6).", _CYC),
    _spec("delta", "δ", "Identity", 100.0, 0.1,
          "Weight of the L1 distance between face-network embeddings of original and mixed (eq. 8).", _CYC),
    _spec("delta_warmup_steps", "δ warm-up", "Identity warm-up steps", 1e6, 100.0,
          "Steps over which δ ramps linearly from 0 (paper §V-B); 0 switches the warm-up off.", _CYC),
    _spec("zeta", "ζ", "Discriminator", 10.0, 0.05,
          "Scale of the PatchGAN discriminator loss ζ·(L_real + L_fake)/2 (eq. 7).", _CYC),
    _spec("lambda_short", "λ_short", "Short recon", 100.0, 0.1,
          "Weight of ‖x − G(x, x)‖ inside the reconstruction loss (eq. 9), scaled by r_w.", _F2F),
    _spec("lambda_long", "λ_long", "Long recon", 100.0, 0.01,
          "Weight of ‖x − x̂‖, original vs fully reassembled image (eq. 9), scaled by r_w.", _F2F),
    _spec("lambda_D", "λ_D", "FM mix", 100.0, 0.1,
          "Feature matching between a mixed image and the original carrying its identity (eq. 10).", _F2F),
    _spec("lambda_R", "λ_R", "FM mix↔recon", 100.0, 0.01,
          "Feature matching between a mixed image and the reconstruction of the same identity (eq. 10).", _F2F),
    _spec("lambda_L", "λ_L", "FM long", 100.0, 0.01,
          "Feature matching between original and fully reassembled image (eq. 10).", _F2F),
    _spec("lambda_dis", "λ_dis", "Dis hinge", 100.0, 0.1,
          "Weight of the discriminator hinge loss on x1, x2 (real) and m1, m2 (fake) (eq. 11).", _F2F),
    _spec("lambda_reg", "λ_reg", "R1 penalty", 1000.0, 1.0,
          "Weight of the R1 real-gradient penalty over x1 and x2 (eq. 11).", _F2F),
    _spec("lambda_F", "λ_F", "Feature matching", 100.0, 0.1,
          "Weight of the whole feature-matching loss in the total (eq. 12).", _F2F),
    _spec("gan_w", "gan_w", "Adversarial (G)", 100.0, 0.1,
          "FUNIT's generator hinge loss weight: mixes and short reconstructions should look real (eq. 12).", _F2F),
    _spec("r_w", "r_w", "Recon scale", 100.0, 0.01,
          "FUNIT's pixel-reconstruction weight; multiplies λ_short and λ_long (eq. 9).", _F2F),
    _spec("fm_w", "fm_w", "FM short", 100.0, 0.1,
          "FUNIT's feature matching between G(x, x) and x, added to eq. 10 as in FUNIT.", _F2F),
)


def weights_for_approach(name: str) -> tuple[WeightSpec, ...]:
    """The weight rows an approach reads, in table order."""
    if name not in APPROACH_NAMES:
        raise ValueError(f"unknown approach {name!r} (known: {', '.join(APPROACH_NAMES)})")
    return tuple(spec for spec in LOSS_WEIGHT_SPECS if name in spec.approaches)
