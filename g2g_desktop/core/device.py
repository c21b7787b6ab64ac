"""Device choice: CUDA when present (with AMP and channels_last), CPU otherwise, one code path."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DeviceSettings:
    device: torch.device
    amp_dtype: torch.dtype | None  # autocast dtype, None = full fp32
    channels_last: bool

    @property
    def label(self) -> str:
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
            amp = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(self.amp_dtype, "fp32")
            return f"CUDA: {name} ({amp})"
        return f"CPU ({torch.get_num_threads()} threads)"

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def pick_device(preferred: str | None = None) -> DeviceSettings:
    """`preferred` (or $G2G_DEVICE) may be 'cpu', 'cuda' or 'cuda:N'; default: CUDA if available."""
    name = preferred or os.environ.get("G2G_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA was requested but no CUDA device is available")
        amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return DeviceSettings(device, amp, channels_last=True)
    return DeviceSettings(device, None, channels_last=False)
