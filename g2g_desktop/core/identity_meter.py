"""The identity meter: how much each mix looks like person 1 and person 2 to the independent judge.

For the pair on screen: dlib descriptors of both inputs (as the model sees them), the judge's verdict on
both mixes, and a curve of both distances along the fade weight α, so the user sees where along the slider
the identity crosses over (the distance to the other person falls under the 0.6 line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .images import tensor_to_pil
from .judge import IdentityJudge, Verdict
from .pipeline import G2GPipeline

CURVE_ALPHAS = tuple(np.round(np.linspace(-0.5, 1.5, 9), 3))


@dataclass(frozen=True)
class MeterReading:
    """Verdicts on m1 and m2 (distances to person 1 and 2), whether each input has a face, the fade curve."""

    mixes: tuple[Verdict, Verdict]
    inputs_found: tuple[bool, bool]
    alphas: tuple[float, ...] = ()
    curves: tuple[tuple[Verdict, ...], tuple[Verdict, ...]] = ((), ())  # per side, one verdict per α


def person_descriptor(judge: IdentityJudge, crops) -> np.ndarray | None:
    """A person's reference: the mean descriptor of their crops (PIL images) where the judge finds a face."""
    found = [d for d in (judge.descriptor(c) for c in crops) if d is not None]
    return np.mean(found, axis=0) if found else None


def _crops(x: torch.Tensor | None) -> list[Image.Image]:
    return [] if x is None else [tensor_to_pil(t) for t in x]


def read_meter(judge: IdentityJudge, originals: np.ndarray, mixed: np.ndarray,
               people: tuple[torch.Tensor | None, torch.Tensor | None] | None = None) -> MeterReading:
    """The judge on one grid: `originals` and `mixed` are 2×H×W×3 uint8 (x1, x2 and m1, m2); `people`
    (K×3×H×W per side, K-shot groups) makes each person's reference the mean over their images."""
    refs = [person_descriptor(judge, _crops(people[i]) if people and people[i] is not None
                              else [Image.fromarray(np.asarray(originals[i]))]) for i in range(2)]
    verdicts = tuple(judge.verdict(Image.fromarray(np.asarray(m)), refs[0], refs[1]) for m in mixed)
    return MeterReading(verdicts, (refs[0] is not None, refs[1] is not None))


def fade_curve(judge: IdentityJudge, pipeline: G2GPipeline, x: torch.Tensor, alphas=CURVE_ALPHAS,
               people: tuple[torch.Tensor | None, torch.Tensor | None] | None = None) -> MeterReading:
    """`read_meter` of the plain mix plus both sides' distances for each fade weight in `alphas`.

    `x` is the 2×3×H×W pair; side 1 fades x1's rest from its own identity (α = 0) to x2's (α = 1), side 2 the
    other way round, as the app's sliders do. `people` as in `read_meter` (and `G2GPipeline.run`).
    """
    groups = people or (None, None)
    refs = [person_descriptor(judge, _crops(groups[i]) if groups[i] is not None else [tensor_to_pil(x[i])])
            for i in range(2)]
    alphas = tuple(float(a) for a in alphas)
    curves = []
    for side in range(2):
        order = (groups[side], groups[1 - side])
        frames = pipeline.fade_frames(x[side], x[1 - side], list(alphas), people=order)
        curves.append(tuple(judge.verdict(tensor_to_pil(f), refs[0], refs[1]) for f in frames))
    plain = tuple(curves[side][alphas.index(1.0)] if 1.0 in alphas else
                  judge.verdict(tensor_to_pil(pipeline.fade(x[0], x[1], 1.0, people=people)[side]), refs[0],
                                refs[1])
                  for side in range(2))
    return MeterReading(plain, (refs[0] is not None, refs[1] is not None), alphas, (curves[0], curves[1]))
