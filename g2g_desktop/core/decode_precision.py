"""Whether the app decodes in bf16 on the CPU: checked on the whole G2G pass it serves, remembered per model.

bf16 autocast on the decoder is ~1.7× faster at FUNIT size on CPUs with native bf16, but it rounds, and the
rounding compounds: the reconstructed row re-encodes a bf16 mix and decodes it again. Checking one decode
(as before issue 23) let a large model's reconstructions move by up to 0.16 on the [0, 1] scale. So the
check runs the cross pass of a fixed synthetic pair exactly as `G2GPipeline.run` does, in fp32 and with
bf16 decoding, and keeps bf16 only when both the mixed and the reconstructed rows stay within
`BF16_MAX_DIFF` (largest pixel) and `BF16_MEAN_DIFF` (mean) of fp32, on the [0, 1] scale.

Whether bf16 pays at all is `core.device.auto_cpu_bf16`'s rule (CPU flags and the GFLOP of that pass,
counted during the fp32 pass): no stopwatch, so the choice does not move with the machine's load, and a
model too small for bf16 to pay costs one fp32 pass. The verdict is stored in a small JSON file in the
user's cache folder under a key made of the weights' bytes, the architecture, the image size, the CPU and
torch, so loading the same model again on the same machine costs one hash of its weights instead of two
passes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .device import BF16_MIN_GFLOP, auto_cpu_bf16, cpu_flags, cpu_model_name
from .generator import DisentanglingGenerator
from .resources import cache_root
from .safe_io import atomic_write

log = logging.getLogger(__name__)

BF16_MAX_DIFF = 12 / 255
"""Largest per-pixel difference (on the [0, 1] scale) bf16 decoding may make to the mixed or the
reconstructed row: a few grey levels on a handful of pixels, invisible at the sizes the app shows."""
BF16_MEAN_DIFF = 1 / 255
"""Largest mean difference over all pixels of both rows."""
CACHE_ENTRIES = 64
"""Verdicts kept (the newest); every training snapshot shown in the app is a model of its own."""

PassRows = Callable[[bool], tuple[torch.Tensor, torch.Tensor]]
"""run(bf16) → (mixed, reconstructed) rows of the test pair in [−1, 1], decoded in bf16 or fp32."""


@dataclass(frozen=True)
class Bf16Check:
    """The verdict on one model: bf16 decoding or not, and the figures it rests on."""

    bf16: bool
    note: str  # why, for the device label and the log
    gflop: float  # of the checked cross pass (one pair)
    max_mixed: float | None = None  # largest |bf16 − fp32| of the mixed row, [0, 1] scale; None: not run in bf16
    max_recon: float | None = None  # … of the reconstructed row
    mean_diff: float | None = None  # mean over both rows

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Bf16Check | None:
        """A cached verdict, or None when the entry is not one (an older or damaged file)."""
        try:
            return cls(**data) if isinstance(data, dict) and isinstance(data.get("bf16"), bool) else None
        except TypeError:
            return None


def probe_pair(size: int) -> torch.Tensor:
    """Two fixed 3×size×size images in [−1, 1]: ramps, their product and noise, the second mirrored and shifted,
    so that the pass sees every intensity and two different inputs."""
    ramp = torch.linspace(-1, 1, size)
    x = torch.stack([ramp.view(1, -1).expand(size, size), ramp.view(-1, 1).expand(size, size), ramp.outer(ramp)])
    x = (x + 0.2 * torch.randn(3, size, size, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    return torch.stack([x, x.flip(-1).roll(size // 3, dims=-2)])


def check_bf16_pass(run: PassRows) -> Bf16Check:
    """The fp32 pass (its FLOPs counted), then — where bf16 pays — the bf16 pass, compared row by row."""
    from torch.utils.flop_counter import FlopCounterMode  # here: importing it loads triton (~1 s), for this only

    with FlopCounterMode(display=False) as counter:
        fp32 = run(False)
    gflop = counter.get_total_flops() / 1e9
    pays, note = auto_cpu_bf16(gflop)
    if not pays:
        return Bf16Check(False, note, gflop)
    bf16 = run(True)
    diffs = [(b - a).abs() / 2 for a, b in zip(fp32, bf16)]  # [0, 1] scale
    finite = all(bool(torch.isfinite(d).all()) for d in diffs)
    max_mixed, max_recon = (float(d.max()) if finite else float("inf") for d in diffs)
    mean = float(torch.cat([d.flatten() for d in diffs]).mean()) if finite else float("inf")
    figures = (f"largest difference {max_mixed * 255:.1f}/255 mixed, {max_recon * 255:.1f}/255 reconstructed, "
               f"mean {mean * 255:.2f}/255")
    if max(max_mixed, max_recon) <= BF16_MAX_DIFF and mean <= BF16_MEAN_DIFF:
        note = f"bf16 decode, within {max(max_mixed, max_recon) * 255:.1f}/255 of fp32"
        return Bf16Check(True, note, gflop, max_mixed, max_recon, mean)
    limits = f"allowed {BF16_MAX_DIFF * 255:.0f}/255 and {BF16_MEAN_DIFF * 255:.0f}/255 mean"
    return Bf16Check(False, f"fp32 (bf16 moves this model's images too far: {figures}; {limits})", gflop,
                     max_mixed, max_recon, mean)


def model_key(generator: DisentanglingGenerator, image_size: int) -> str:
    """Digest of what decides the verdict: the weights' bytes, the architecture and size, the CPU, torch and the
    limits above (a new limit must not reuse an old verdict)."""
    digest = hashlib.blake2b(digest_size=20)
    facts = [generator.architecture, generator.config.to_dict(), image_size, torch.__version__, platform.machine(),
             sorted(cpu_flags()), cpu_model_name(), BF16_MAX_DIFF, BF16_MEAN_DIFF, BF16_MIN_GFLOP]
    digest.update(json.dumps(facts, sort_keys=True, default=str).encode())
    for name, tensor in generator.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def cache_file() -> Path:
    return cache_root() / "decode_precision.json"


def cached_bf16_check(generator: DisentanglingGenerator, image_size: int, run: PassRows,
                      path: Path | None = None) -> Bf16Check:
    """The stored verdict for this model on this machine, else `check_bf16_pass(run)`, stored for next time.

    A cache that cannot be read or written is only a lost shortcut: the check runs, and the app goes on.
    """
    path = path or cache_file()
    key = model_key(generator, image_size)
    entries = _read(path)
    found = Bf16Check.from_dict(entries.get(key))
    if found is not None:
        return found
    check = check_bf16_pass(run)
    entries.pop(key, None)
    entries[key] = check.to_dict()
    while len(entries) > CACHE_ENTRIES:
        entries.pop(next(iter(entries)))
    text = json.dumps({"entries": entries}, indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    except OSError as exc:
        log.info("decode precision not cached (%s): %s", path, exc)
    return check


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    return dict(entries) if isinstance(entries, dict) else {}
