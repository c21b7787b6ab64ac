"""How exports may enlarge the model's pictures: the scales and resamplings that the app's export dialog and
`g2g-desktop mix --scale/--resample` offer. Torch-free, so that the CLI's `--help` names them without torch."""

from __future__ import annotations

SCALES = (1, 2, 4, 8)  # each model pixel becomes scale × scale pixels
RESAMPLING = ("nearest", "bicubic")  # crisp model pixels, or smoothed (`images.upscale`)
