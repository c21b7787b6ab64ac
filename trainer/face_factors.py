"""The two independent factor sets of a procedural face: who it is, and everything else.

`IdentityFactors` (skin, hair, eyes, face shape, ears, nose...) and `RestFactors` (pose, expression,
lighting, background...) are sampled independently; trainer/procedural_faces.py draws any identity
under any rest, so the true G2G swap of two images is known. `factor_vector` flattens either set into
continuous and categorical values for the leakage probes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

SKIN_TONES = np.array(
    [(255, 226, 200), (241, 196, 160), (222, 170, 125), (196, 134, 96), (158, 102, 68), (105, 68, 45)], float
)
HAIR_COLOURS = np.array(
    [(28, 24, 24), (72, 46, 30), (128, 84, 46), (224, 190, 112), (176, 72, 34), (178, 178, 184), (64, 92, 170)],
    float,
)
EYE_COLOURS = np.array([(60, 110, 190), (70, 140, 80), (96, 58, 30), (120, 130, 140), (180, 128, 40)], float)
HAIR_STYLES = ("short", "bob", "long", "bald", "spiky", "bun")
EAR_STYLES = ("round", "pointed", "large")
NOSE_STYLES = ("triangle", "nostrils", "button")
PATTERNS = ("plain", "stripes", "gradient", "dots", "checker")


def _pick(rng: np.random.Generator, palette: np.ndarray, jitter: float) -> tuple[float, float, float]:
    colour = palette[rng.integers(len(palette))] + rng.uniform(-jitter, jitter, 3)
    return tuple(float(c) for c in np.clip(colour, 0, 255))


@dataclass(frozen=True)
class IdentityFactors:
    """What makes a person: constant over all their images. Lengths are fractions of the face size."""

    face_width: float = 0.23  # half-width of the face as a fraction of the image, [0.19, 0.25]
    face_aspect: float = 1.25  # half-height / half-width, [1.08, 1.42]
    jaw_taper: float = 0.4  # how much the lower face narrows to the chin, [0, 1]
    skin_tone: float = 0.3  # position on the light→dark skin palette, [0, 1]
    eye_colour: tuple[float, float, float] = (60.0, 110.0, 190.0)  # iris RGB (palette ± 20)
    eye_size: float = 0.2  # eye half-width / face half-width, [0.15, 0.24]
    eye_roundness: float = 0.55  # eye half-height / half-width when fully open, [0.35, 0.8]
    eye_spacing: float = 0.45  # angle of the eyes on the head cylinder (rad), [0.36, 0.54]
    nose_length: float = 0.5  # [0.3, 0.75] of the eye-to-mouth distance... see `_draw_nose`
    nose_width: float = 0.14  # half-width / face half-width, [0.09, 0.2]
    nose_style: int = 0  # index into NOSE_STYLES
    mouth_width: float = 0.35  # mouth half-width / face half-width, [0.26, 0.46]
    lip_colour: float = 0.5  # 0 = skin-like, 1 = red lips, [0, 1]
    hair_colour: tuple[float, float, float] = (72.0, 46.0, 30.0)  # RGB (palette ± 14)
    hair_style: int = 0  # index into HAIR_STYLES
    hair_volume: float = 0.5  # how far the hair stands off the head, [0, 1]
    brow_thickness: float = 0.5  # [0, 1]
    ear_style: int = 0  # index into EAR_STYLES
    ear_size: float = 0.5  # [0, 1]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> IdentityFactors:
        u = rng.uniform
        return cls(
            face_width=u(0.19, 0.25),
            face_aspect=u(1.08, 1.42),
            jaw_taper=u(0.0, 1.0),
            skin_tone=u(0.0, 1.0),
            eye_colour=_pick(rng, EYE_COLOURS, 20),
            eye_size=u(0.15, 0.24),
            eye_roundness=u(0.35, 0.8),
            eye_spacing=u(0.36, 0.54),
            nose_length=u(0.3, 0.75),
            nose_width=u(0.09, 0.2),
            nose_style=int(rng.integers(len(NOSE_STYLES))),
            mouth_width=u(0.26, 0.46),
            lip_colour=u(0.0, 1.0),
            hair_colour=_pick(rng, HAIR_COLOURS, 14),
            hair_style=int(rng.integers(len(HAIR_STYLES))),
            hair_volume=u(0.0, 1.0),
            brow_thickness=u(0.0, 1.0),
            ear_style=int(rng.integers(len(EAR_STYLES))),
            ear_size=u(0.0, 1.0),
        )

    @property
    def skin_rgb(self) -> np.ndarray:
        pos = self.skin_tone * (len(SKIN_TONES) - 1)
        i = min(int(pos), len(SKIN_TONES) - 2)
        return SKIN_TONES[i] + (pos - i) * (SKIN_TONES[i + 1] - SKIN_TONES[i])


@dataclass(frozen=True)
class RestFactors:
    """Everything else: pose, framing, expression, background and lighting; varies per image."""

    yaw: float = 0.0  # head turn (rad), [-0.55, 0.55]; positive turns the face to the image's right
    roll: float = 0.0  # head tilt (rad), [-0.3, 0.3]
    dx: float = 0.0  # face-centre offset, fraction of the image, [-0.07, 0.07]
    dy: float = 0.0  # [-0.05, 0.05]
    scale: float = 1.0  # face size multiplier, [0.85, 1.12]
    smile: float = 0.3  # mouth curvature, [-0.8, 1] (negative = frown)
    mouth_open: float = 0.0  # [0, 1]
    eye_open: float = 1.0  # eyelid opening, [0.15, 1]
    brow_raise: float = 0.0  # [-1, 1]
    bg_hue: float = 0.6  # background colour (HSV), [0, 1]
    bg_saturation: float = 0.3  # [0.1, 0.6]
    bg_value: float = 0.7  # [0.35, 0.95]
    pattern: int = 0  # index into PATTERNS
    pattern_angle: float = 0.0  # (rad), [0, pi]
    pattern_scale: float = 0.5  # period of the pattern, [0, 1] → 1/8 .. 1/3 of the image
    light_angle: float = 0.0  # direction the light comes from (rad), [0, 2 pi]
    light_strength: float = 0.2  # shade on the far side of the head (gain 1 − strength), [0, 0.4]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> RestFactors:
        u = rng.uniform
        return cls(
            yaw=u(-0.55, 0.55),
            roll=u(-0.3, 0.3),
            dx=u(-0.07, 0.07),
            dy=u(-0.05, 0.05),
            scale=u(0.85, 1.12),
            smile=u(-0.8, 1.0),
            mouth_open=float(max(0.0, u(-0.6, 1.0))),
            eye_open=float(min(1.0, u(0.15, 1.3))),
            brow_raise=u(-1.0, 1.0),
            bg_hue=u(0.0, 1.0),
            bg_saturation=u(0.1, 0.6),
            bg_value=u(0.35, 0.95),
            pattern=int(rng.integers(len(PATTERNS))),
            pattern_angle=u(0.0, math.pi),
            pattern_scale=u(0.0, 1.0),
            light_angle=u(0.0, 2 * math.pi),
            light_strength=u(0.0, 0.4),
        )


def factor_vector(factors: IdentityFactors | RestFactors) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Split factors into continuous values (names, floats) and categorical ones (names, ints).

    The leakage probes regress the continuous ones (R²) and classify the categorical ones (accuracy).
    """
    cont_names, cont, cat_names, cat = [], [], [], []
    for f in dataclasses.fields(factors):
        value = getattr(factors, f.name)
        if isinstance(value, int):
            cat_names.append(f.name)
            cat.append(value)
        elif isinstance(value, tuple):
            for channel, v in zip("rgb", value):
                cont_names.append(f"{f.name}.{channel}")
                cont.append(v)
        else:
            cont_names.append(f.name)
            cont.append(value)
    return cont_names, np.array(cont, float), cat_names, np.array(cat, int)
