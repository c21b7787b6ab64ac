"""Where a training run computes, and in which memory layout: the engine's device choice in one place.

The rule is core's `pick_device` (CUDA when present, else the CPU; `--device` or $G2G_DEVICE override it),
so training and the app agree. Its `channels_last` applies to training as well: the networks' parameters
and every batch are converted once, and a FUNIT2FUNIT step computes the same losses faster on the CPU —
1.24× at the default and the study's sizes, 1.02× at FUNIT size on an AMD EPYC Zen 5
(bench/results/cpu_amd-epyc-f26-m2.md, "channels_last" and "study"). Under torchrun the rank's device is
given and the layout stays contiguous, as before.
"""

from __future__ import annotations

import torch

from g2g_desktop.core.device import DeviceSettings, pick_device


def training_device(rank_device: torch.device | None, request: str | torch.device | None) -> DeviceSettings:
    """The settings for a run; a device that cannot be had is bad input (ValueError), not a crash."""
    if rank_device is not None:
        return DeviceSettings(rank_device, None, False)
    try:
        return pick_device(None if request is None else str(request))
    except RuntimeError as exc:  # e.g. CUDA asked for on a machine without it
        raise ValueError(f"device: {exc}") from None


def use_layout(modules: dict[str, torch.nn.Module], settings: DeviceSettings) -> None:
    """Convert the networks to the settings' memory layout (channels_last where it is on)."""
    if settings.channels_last:
        for module in modules.values():
            module.to(memory_format=torch.channels_last)
