"""Identity-feature erasure of E_A's input (paper §VI): blank eyes, brows, nose and mouth before the content encoder.

The paper proposes feeding the content encoder images whose eyes, nose and mouth are erased, so the content
code can only hold what is left (pose, background, lighting) and the class encoder, which sees the whole
image, must carry the features. The erasure has to happen at inference exactly as in training, on procedural
faces and on photos alike, from nothing but the image. So it is one fixed region of the unit square, the same
for every image: the canonical places of these features in the faces the models see.

Both kinds of input share that layout closely. Aligned photo crops put the five landmarks on the template of
`face_align` (eyes at y ≈ 0.47, nose tip 0.60, mouth corners 0.73 with the default zoom); procedural faces
are rendered around (0.5, 0.53) with eyes at y ≈ 0.47 and the mouth at ≈ 0.66, and vary by their pose
(offset ±0.07, scale 0.85–1.12, roll ±0.3 rad, yaw), which the regions' margins cover for most but not all
renders: 94 % of the pixels that the eye, brow, nose and mouth factors change (300 renders at 32 px;
tests/trainer/test_study_options.py checks > 85 %), blanking 15 % of the image. A per-image mask (renderer masks,
MTCNN landmarks) would follow each face exactly, but needs landmarks in the core's encode path that the
app does not have for procedural or unaligned images; the fixed region needs none.

Erasing also removes the expression (eye opening, smile, open mouth) from the content code: the mix takes
those from nowhere and the decoder draws the class image's average. That is the price of the paper's idea.
"""

from __future__ import annotations

import torch

# (centre x, centre y, radius x, radius y) in the unit square: an eye band over both eyes and brows, and one
# ellipse over nose and mouth. Chosen to hold the template landmarks of `face_align.template_points` and the
# feature pixels of procedural faces (docs/study.md, erasure rows).
REGIONS: tuple[tuple[float, float, float, float], ...] = (
    (0.5, 0.47, 0.27, 0.1),
    (0.5, 0.64, 0.17, 0.13),
)
FILL = 0.0  # the blank: mid grey on the [-1, 1] scale


def erasure_mask(size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """1×1×size×size float mask: 1 where features are erased, 0 elsewhere (pixel centres tested)."""
    coords = (torch.arange(size, dtype=torch.float32, device=device) + 0.5) / size
    y, x = coords.view(-1, 1), coords.view(1, -1)
    mask = torch.zeros(size, size, dtype=torch.bool, device=device)
    for cx, cy, rx, ry in REGIONS:
        mask |= ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
    return mask.float().view(1, 1, size, size)


def erase_features(x: torch.Tensor) -> torch.Tensor:
    """B×3×H×W images in [-1, 1] with the canonical feature regions set to `FILL`."""
    if x.shape[-2] != x.shape[-1]:
        raise ValueError(f"feature erasure expects square images, got {tuple(x.shape)}")
    mask = erasure_mask(x.shape[-1], x.device).to(x.dtype)
    return x * (1 - mask) + FILL * mask
