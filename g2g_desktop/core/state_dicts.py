"""State dicts checked against the network they are meant for, before any of it is loaded.

Checkpoints come from anywhere: a mismatch is reported whole (missing and unexpected keys, wrong
shapes or dtypes, NaN weights) in one `CheckpointError`, and sizes read from a file are tried on a
meta-device skeleton before memory is spent on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .safe_io import CheckpointError


def load_state_dict_checked(module: nn.Module, state: Mapping[str, Any], path: Path, what: str) -> None:
    """Strict load that explains itself: missing and unexpected keys, shape and dtype mismatches."""
    check_state_dict(module, state, path, what)
    expected = module.state_dict()
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)


def build_checked(make: Callable[[], nn.Module], states: Mapping[str, Any], path: Path) -> list[nn.Module]:
    """One network per entry of `states` (what → state dict), built only after every state fits it.

    The sizes come from the file (its metadata or its tensor shapes), so a small hostile file could
    describe a network of terabytes: the shapes are first checked against a skeleton on the meta
    device, which allocates nothing, and memory is spent only on a network the file really fills.
    """
    with torch.device("meta"):
        skeleton = make()
    for what, state in states.items():
        check_state_dict(skeleton, state, path, what)
    nets = []
    for what, state in states.items():
        net = make()
        load_state_dict_checked(net, state, path, what)
        nets.append(net)
    return nets


def check_state_dict(module: nn.Module, state: Mapping[str, Any], path: Path, what: str) -> None:
    """Raise a `CheckpointError` listing every way `state` does not fit `module` (which may be on 'meta')."""
    if not isinstance(state, Mapping):
        raise CheckpointError(path, f"{what}: expected a state dict, found {type(state).__name__}")
    expected = module.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing:
        problems.append(f"missing keys: {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_few(unexpected)}")
    wrong = []
    for key, ref in expected.items():
        value = state.get(key)
        if value is None:
            continue
        if not isinstance(value, torch.Tensor):
            wrong.append(f"{key} is {type(value).__name__}, not a tensor")
        elif value.numel() * value.element_size() > value.untyped_storage().nbytes():
            wrong.append(f"{key} declares {value.numel():,} values but the file stores fewer (overlapping strides)")
        elif tuple(value.shape) != tuple(ref.shape):
            wrong.append(f"{key} has shape {tuple(value.shape)}, model expects {tuple(ref.shape)}")
        elif not value.is_floating_point():
            wrong.append(f"{key} has dtype {value.dtype}, expected a floating-point tensor")
        elif not torch.isfinite(value).all():
            wrong.append(f"{key} contains NaN or Inf")
    if wrong:
        problems.append("; ".join(wrong[:5]) + (f" (+{len(wrong) - 5} more)" if len(wrong) > 5 else ""))
    if problems:
        raise CheckpointError(path, f"{what} does not match the model: " + " | ".join(problems))


def _few(keys: list[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")
