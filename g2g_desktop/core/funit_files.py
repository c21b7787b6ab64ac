"""FUNIT's own checkpoint files (FUNIT_FACTS §9), read and written in FUNIT's layout.

`gen_XXXXXXXX.pt` = {'gen': ..., 'gen_test': ...} and `dis_XXXXXXXX.pt` = {'dis': ...}. They carry no
config, so the network sizes are inferred from the tensor shapes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .config import ConfigError, FunitDiscriminatorConfig, FunitGeneratorConfig
from .funit import FunitDiscriminator, FunitGenerator
from .safe_io import CheckpointError, atomic_write, safe_torch_load
from .state_dicts import build_checked


def _indexed(state: Mapping[str, Any], pattern: str) -> dict[int, Any]:
    regex = re.compile(pattern)
    found = {}
    for key, value in state.items():
        m = regex.fullmatch(key)
        if m:
            found[int(m.group(1))] = value
    return found


def infer_funit_generator_config(state: Mapping[str, Any], path: Path, image_size: int = 128):
    """Read the sizes of a FUNIT generator from its tensor shapes (FUNIT files carry no config)."""
    try:
        content_convs = _indexed(state, r"enc_content\.model\.(\d+)\.conv\.weight")
        class_convs = _indexed(state, r"enc_class_model\.model\.(\d+)\.conv\.weight")
        res = _indexed(state, r"enc_content\.model\.\d+\.model\.(\d+)\.model\.0\.conv\.weight")
        mlp = _indexed(state, r"mlp\.model\.(\d+)\.fc\.weight")
        final = [v for k, v in state.items() if re.fullmatch(r"enc_class_model\.model\.\d+\.weight", k)]
        config = FunitGeneratorConfig(
            nf=int(content_convs[0].shape[0]),
            n_res_blks=len(res),
            nf_mlp=int(mlp[0].shape[0]),
            latent_dim=int(final[0].shape[0]),
            n_mlp_blks=len(mlp),
            n_downs_content=len(content_convs) - 1,
            n_downs_class=len(class_convs) - 1,
            image_size=image_size,
        )
        config.validate()
    except (KeyError, IndexError, AttributeError, ConfigError) as exc:
        raise CheckpointError(
            path, f"does not look like a FUNIT generator (cannot infer its sizes: {exc!r})"
        ) from None
    return config


def infer_funit_discriminator_config(state: Mapping[str, Any], path: Path) -> FunitDiscriminatorConfig:
    try:
        blocks = _indexed(state, r"cnn_f\.(\d+)\.conv_0\.conv\.weight")
        widths = [int(v.shape[0]) for v in _indexed(state, r"cnn_f\.(\d+)\.conv_1\.conv\.weight").values()]
        config = FunitDiscriminatorConfig(
            nf=int(state["cnn_f.0.conv.weight"].shape[0]),
            n_res_blks=len(blocks),
            num_classes=int(state["cnn_c.0.conv.weight"].shape[0]),
            max_nf=max(widths),
        )
        config.validate()
    except (KeyError, IndexError, AttributeError, ValueError, ConfigError) as exc:
        raise CheckpointError(
            path, f"does not look like a FUNIT discriminator (cannot infer its sizes: {exc!r})"
        ) from None
    return config


def load_funit_generators(path: str | os.PathLike, image_size: int = 128):
    """Both copies of an official `gen_*.pt`: returns (gen, gen_test or None)."""
    path = Path(path)
    data = safe_torch_load(path)
    if not isinstance(data, Mapping) or ("gen" not in data and "gen_test" not in data):
        keys = list(data)[:5] if isinstance(data, Mapping) else type(data).__name__
        raise CheckpointError(path, f"not a FUNIT generator file: expected keys 'gen'/'gen_test', found {keys}")
    reference = data.get("gen_test", data.get("gen"))
    config = infer_funit_generator_config(reference, path, image_size)
    keys = [key for key in ("gen", "gen_test") if key in data]
    nets = build_checked(lambda: FunitGenerator(config), {f"'{key}'": data[key] for key in keys}, path)
    built = dict(zip(keys, nets))
    return (
        built["gen"].eval() if "gen" in built else None,
        built["gen_test"].eval() if "gen_test" in built else None,
    )


def load_funit_discriminator(path: str | os.PathLike) -> FunitDiscriminator:
    path = Path(path)
    data = safe_torch_load(path)
    if not isinstance(data, Mapping) or "dis" not in data:
        raise CheckpointError(path, "not a FUNIT discriminator file: expected key 'dis'")
    config = infer_funit_discriminator_config(data["dis"], path)
    return build_checked(lambda: FunitDiscriminator(config), {"'dis'": data["dis"]}, path)[0]


def save_funit_generators(path: str | os.PathLike, gen: FunitGenerator, gen_test: FunitGenerator) -> None:
    """Write a file in FUNIT's own layout, loadable by FUNIT's `trainer.resume`/`load_ckpt`."""
    state = {"gen": gen.state_dict(), "gen_test": gen_test.state_dict()}
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def save_funit_discriminator(path: str | os.PathLike, dis: FunitDiscriminator) -> None:
    atomic_write(path, lambda tmp: torch.save({"dis": dis.state_dict()}, tmp))


def funit_step_from_name(path: Path) -> int | None:
    m = re.search(r"(\d{8})\.pt$", path.name)
    return int(m.group(1)) if m else None
