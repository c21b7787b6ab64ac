"""The project's self-describing model file: safetensors weights + JSON metadata.

The header metadata holds one JSON document (architecture + config, approach, image size,
normalisation, step, which generator copy, provenance), validated field by field on load so that
every problem names the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import ConfigError, GeneratorConfig, generator_config_from_dict
from .funit import FunitGenerator
from .generator import DisentanglingGenerator
from .naive import NaiveGenerator
from .safe_io import CheckpointError, atomic_write, check_readable
from .state_dicts import build_checked

MODEL_FORMAT = "g2g-desktop-model"
MODEL_FORMAT_VERSION = 1
METADATA_KEY = "g2g"
NORMALISATION = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "range": [-1.0, 1.0]}
MAX_METADATA_BYTES = 1 << 20
RUN_MODEL_FILE = "model_latest.safetensors"  # a training run folder's inference snapshot of its latest checkpoint
MODEL_WEIGHTS = ("gen_test", "gen")  # a model file's `weights`: the EMA copy or the raw training generator


@dataclass
class ModelInfo:
    """What the UI and CLI show about a loaded model."""

    path: Path
    source: str  # "funit" (official FUNIT file) or "g2g" (project model file)
    architecture: str
    config: dict[str, Any]
    image_size: int
    step: int | None = None
    approach: str | None = None
    weights: str = "gen"  # which copy it holds: 'gen_test' (EMA), 'gen' (raw) or 'unrecorded' (older model files)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        """Whether the model was trained on faces aligned by `face_align` (the app and CLI align by default then)."""
        return bool(self.provenance.get("aligned", False))

    @property
    def trained_on(self) -> str:
        """'procedural', 'photos', 'animals' (official FUNIT) or 'unknown': what the model is for."""
        if self.source == "funit":
            return "animals"
        data = self.provenance.get("data")
        if not isinstance(data, str) or not data:
            return "unknown"
        return "procedural" if data.startswith("procedural") else "photos"

    def summary(self) -> str:
        step = "?" if self.step is None else f"{self.step:,}"
        return (
            f"{self.architecture} {self.image_size}px · step {step} · "
            f"{self.approach or self.source} · {self.path.name}"
        )


def build_generator(config: GeneratorConfig) -> DisentanglingGenerator:
    return NaiveGenerator(config) if config.architecture == "naive" else FunitGenerator(config)


def save_model(
    path: str | os.PathLike,
    generator: DisentanglingGenerator,
    *,
    approach: str | None = None,
    step: int | None = None,
    provenance: dict[str, Any] | None = None,
    weights: str = "gen",
) -> None:
    """Save an inference snapshot: weights (safetensors) + self-describing JSON metadata.

    `weights` says which copy of the generator this is: 'gen_test' for the EMA (what trainers with
    an EMA export), 'gen' for the raw training generator.
    """
    if weights not in MODEL_WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(MODEL_WEIGHTS)}, got {weights!r}")
    metadata = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "architecture": generator.architecture,
        "config": generator.config.to_dict(),
        "approach": approach,
        "image_size": generator.config.image_size,
        "normalization": NORMALISATION,
        "step": step,
        "weights": weights,
        "provenance": provenance or {},
    }
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in generator.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(metadata)}))


def parse_model_metadata(raw: Mapping[str, str] | None, path: Path) -> dict[str, Any]:
    """Validate the JSON metadata of a project model file; every problem names the file."""
    if not raw or METADATA_KEY not in raw:
        raise CheckpointError(path, "safetensors file without G2G metadata (not a G2G Desktop model)")
    text = raw[METADATA_KEY]
    if len(text) > MAX_METADATA_BYTES:
        raise CheckpointError(path, "metadata is implausibly large")
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(path, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(path, "metadata must be a JSON object")
    if meta.get("format") != MODEL_FORMAT:
        raise CheckpointError(path, f"unknown model format {meta.get('format')!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
        raise CheckpointError(path, f"model format version {version!r} is newer than this program supports")
    config = meta.get("config")
    if not isinstance(config, dict) or not isinstance(meta.get("architecture"), str):
        raise CheckpointError(path, "metadata lacks 'architecture' and 'config'")
    try:
        meta["config_obj"] = generator_config_from_dict(meta["architecture"], config)
    except ConfigError as exc:
        raise CheckpointError(path, f"metadata describes an invalid architecture: {exc}") from None
    step = meta.get("step")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
        raise CheckpointError(path, f"metadata 'step' must be a non-negative integer, got {step!r}")
    if not isinstance(meta.get("provenance", {}), dict):
        raise CheckpointError(path, "metadata 'provenance' must be an object")
    if meta.get("weights", "unrecorded") not in (*MODEL_WEIGHTS, "unrecorded"):
        raise CheckpointError(path, f"metadata 'weights' must be one of {', '.join(MODEL_WEIGHTS)}, "
                                    f"got {meta['weights']!r}")
    return meta


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str] | None]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            raw_meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(path, f"not a valid safetensors file ({exc})") from None
    return tensors, raw_meta


def load_model(path: str | os.PathLike) -> tuple[DisentanglingGenerator, ModelInfo]:
    path = Path(path)
    check_readable(path)
    tensors, raw_meta = _read_safetensors(path)
    meta = parse_model_metadata(raw_meta, path)
    # Each layer holds at least one tensor: more layers than tensors is a lie, and building its
    # skeleton alone could take minutes (n_res_blks=100000).
    too_many = [f"{k}={v}" for k, v in meta["config"].items() if k.startswith("n_") and v > len(tensors)]
    if too_many:
        raise CheckpointError(
            path, f"metadata declares more layers ({', '.join(too_many)}) than the file has tensors ({len(tensors)})"
        )
    (generator,) = build_checked(lambda: build_generator(meta["config_obj"]), {"weights": tensors}, path)
    info = ModelInfo(
        path=path,
        source="g2g",
        architecture=meta["architecture"],
        config=meta["config"],
        image_size=meta["config_obj"].image_size,
        step=meta.get("step"),
        approach=meta.get("approach"),
        weights=meta.get("weights", "unrecorded"),
        provenance=meta.get("provenance", {}),
    )
    return generator.eval(), info
