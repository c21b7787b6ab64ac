"""`TrainConfig`: everything a training run needs, built by the CLI or the app's training panel.

Frozen: a run's config never changes behind the engine's back. The one thing users edit while a
run goes on, the loss weights, is replaced as a whole through the engine (`set_weights`), which
records every change in the run's audit log.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from g2g_desktop.core.config import (
    ConfigError,
    GeneratorConfig,
    check_value,
    generator_config_from_dict,
    reject_unknown,
)
from trainer import approach_registry as registry
from trainer.loss_weights import LossWeights, dlib_size_problem, weight_names

OPTIMIZERS = ("auto", "rmsprop", "adam")
CPU_PRECISIONS = ("", "bf16", "fp32")


@dataclass(frozen=True)
class TrainConfig:
    approach: str = "funit2funit"  # a registered approach (trainer/approach_registry/spec.py: `names()`)
    data: str = "procedural"  # dataset folder, CelebA root, FUNIT list file, or "procedural"
    align: bool = False  # photo datasets: train on the mixer's MTCNN-aligned face crops (cached on disk)
    out: str = "runs/run"  # run folder: checkpoints, metrics.jsonl, previews, audit log
    resume: str | None = None  # state, run folder, FUNIT gen_*.pt (dis_*.pt beside it) or model file (warm start)
    steps: int = 1000  # total optimizer steps of the run (resume continues up to this)
    batch_size: int = 4  # pairs per step (paper FUNIT2FUNIT: 4)
    image_size: int = 64
    seed: int = 0
    model: dict[str, Any] = field(default_factory=dict)  # generator config overrides (core config fields)
    dis: dict[str, Any] = field(default_factory=dict)  # discriminator config overrides
    weights: LossWeights = field(default_factory=LossWeights)
    lr_gen: float = 1e-4  # FUNIT: RMSprop lr 1e-4 (Adam 2e-4 for naive, see approaches)
    lr_dis: float = 1e-4
    weight_decay: float = 1e-4
    optimizer: str = "auto"  # auto (funit2funit RMSprop as FUNIT, naive/cycle_funit Adam) | rmsprop | adam
    lr_warmup_steps: int = 0  # learning rates rise linearly over this many steps; 0 = off
    ema_beta: float = 0.999  # FUNIT_FACTS §7: gen_test = 0.999·gen_test + 0.001·gen
    vgg_weights: str | None = None  # torchvision VGG16 state-dict path for the perceptual loss
    face_weights: str | None = None  # facenet-pytorch InceptionResnetV1 state-dict path (identity loss)
    identity_encoder_as_eb: bool = False  # CycleFUNIT variant: E_B replaced by the identity network
    amp: bool = True  # mixed precision when on CUDA (ignored on CPU)
    num_workers: int = 0  # DataLoader worker processes (0 in the frozen app)
    log_every: int = 10  # steps between metric lines
    preview_every: int = 50  # steps between preview grids
    checkpoint_every: int = 500  # steps between full training-state checkpoints
    keep_last: int = 3  # checkpoints kept besides the best
    best_metric: str = "heldout"  # lower is better: the held-out score (trainer/heldout.py) or a Loss/ name
    # CPU bf16 autocast for training steps: "auto" (bf16 on CPUs with native bf16 for models of FUNIT's size, from
    # the CPU flags and the model's GFLOP: core.device.auto_cpu_bf16; defers to $G2G_CPU_BF16 when that is set),
    # "on" or "off".
    cpu_bf16: str = "auto"
    # The precision the run trains in on the CPU, "bf16" or "fp32", written by the engine into config.json and the
    # checkpoints ("" until a run chose one). Under "auto" a resume, or a rerun of this config, keeps it.
    cpu_precision: str = ""
    # The lord approach (trainer/approaches/lord.py): steps of stage 1 (latent optimisation) before stage 2 (the
    # encoders distilled to the learned embeddings), and the learning rate of the embedding tables (LORD: 3e-3).
    lord_stage1_steps: int = 500
    lr_latent: float = 3e-3

    def to_dict(self) -> dict[str, Any]:
        """Plain data (config.json, checkpoints): the weights by name, the ones loss terms added included."""
        return {**dataclasses.asdict(self), "weights": self.weights.to_dict()}

    # `model` and `dis` stay the overrides the user wrote (what config.json and the study's stored rows record, and
    # what a preset or `--set model.nf=32` merges into); which typed config they override depends on the approach,
    # so the frozen, validated configs the networks are built from come from these two, in one place.

    def generator_config(self) -> GeneratorConfig:
        """The approach's generator config (FUNIT or naive sizes): `model` over its defaults, at `image_size`."""
        architecture = registry.get(self.approach).architecture
        return generator_config_from_dict(architecture, {**self.model, "image_size": self.image_size})

    def discriminator_config(self, num_classes: int | None = None) -> Any:
        """The approach's discriminator config from `dis` (None for an approach without D). FUNIT's D takes the data
        set's class count unless `dis` keeps its own (a run resumed from FUNIT's D)."""
        spec = registry.get(self.approach)
        if spec.discriminator is None:
            return None
        fixed = {} if num_classes is None else {"num_classes": num_classes}
        return spec.discriminator.from_dict({**fixed, **self.dis})


class TrainConfigError(ValueError):
    """A training configuration that cannot run; the message names the field (and file) at fault."""


# --------------------------------------------------------------------------- building from plain data


def config_from_dict(data: dict[str, Any], source: str = "config") -> TrainConfig:
    """A `TrainConfig` from plain data (a config file, JSON); every value is type-checked against its field."""
    if not isinstance(data, dict):
        raise TrainConfigError(f"{source}: expected a mapping of field names to values, got {type(data).__name__}")
    hints = typing.get_type_hints(TrainConfig)
    not_names = [key for key in data if not isinstance(key, str)]
    if not_names:
        raise TrainConfigError(f"{source}: field names must be strings, got {not_names[0]!r}")
    reject_unknown(data, hints, f"{source}: unknown field(s)", TrainConfigError)
    values = {name: _check_value(f"{source}: {name}", hints[name], value) for name, value in data.items()}
    return TrainConfig(**values)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a `.yaml`/`.yml`/`.json` config file (not yet checked: see `config_from_dict`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        problem = " ".join(str(exc).split())
        language = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise TrainConfigError(f"{path}: not valid {language} ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path}: expected a mapping of field names to values, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """`data` with `--set name=value` overrides applied; `weights.X`, `model.X` and `dis.X` reach inside.

    Values are parsed as YAML scalars (`0.5`, `8`, `true`, `null`), then typed by the field they set, so
    `--set steps=1e3` is an error rather than a silent float step count.
    """
    hints = typing.get_type_hints(TrainConfig)
    result = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for text in overrides:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise TrainConfigError(f"--set {text!r}: expected name=value")
        head, _, sub = name.partition(".")
        if head not in hints:
            raise TrainConfigError(f"--set {name}: unknown field {head!r} (known: {', '.join(hints)})")
        if sub:
            if head == "weights":
                known = weight_names()
                if sub not in known:
                    raise TrainConfigError(f"--set {name}: unknown loss weight {sub!r} (known: {', '.join(known)})")
            elif typing.get_origin(hints[head]) is not dict:
                raise TrainConfigError(f"--set {name}: {head} has no sub-fields")
            nested = result.get(head, {})
            if isinstance(nested, LossWeights):
                nested = nested.to_dict()
            elif not isinstance(nested, dict):
                raise TrainConfigError(f"--set {name}: {head} was set to {nested!r}, which has no sub-fields")
            nested = dict(nested)
            nested[sub] = _parse_scalar(raw)
            if head == "weights":  # each weight is a number; `model.X`/`dis.X` are checked with their network
                _check_value(f"--set {name}", float, nested[sub])
            result[head] = nested
        else:  # checked here so that the message names the --set at fault, not "arguments"
            result[head] = _check_value(f"--set {name}", hints[head], _parse_field(hints[head], raw))
    return result


def _parse_field(kind: Any, raw: str) -> Any:
    """Strings stay verbatim (`--set data=123` is a path); optional strings take none/null; others parse."""
    if kind == str | None:
        return None if raw.strip().lower() in ("", "none", "null", "~") else raw
    return raw if kind is str else _parse_scalar(raw)


def _parse_scalar(raw: str) -> Any:
    """A YAML scalar, except that numbers YAML 1.1 leaves as strings (`1e-3`) become floats."""
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        return raw
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_value(where: str, kind: Any, value: Any) -> Any:
    """`value` as a `TrainConfig` field of type `kind`: the loss weights and the `model`/`dis` mappings here, plain
    values by core's `check_value` (the one check every config shares)."""
    if kind is LossWeights:
        if isinstance(value, LossWeights):
            return value
        if not isinstance(value, dict):
            raise TrainConfigError(f"{where} must be a mapping of loss weights, not {value!r}")
        try:
            return LossWeights.from_dict(value)
        except ValueError as exc:
            raise TrainConfigError(f"{where}: {exc}") from None
    if kind in (bool, int, float, str, str | None):
        return check_value(where, kind, value, TrainConfigError)
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise TrainConfigError(f"{where} must be a mapping, not {value!r}")
    return dict(value)


# --------------------------------------------------------------------------- validation


def validate_config(config: TrainConfig) -> None:
    """Check everything that can be checked before any data is read or any network built."""
    if config.approach not in registry.names():
        raise TrainConfigError(f"approach: {config.approach!r} is not one of {', '.join(registry.names())}")
    spec = registry.get(config.approach)
    positive = ("steps", "batch_size", "image_size", "log_every", "preview_every", "checkpoint_every", "keep_last")
    for name in positive:
        if getattr(config, name) < 1:
            raise TrainConfigError(f"{name}: must be at least 1, got {getattr(config, name)}")
    if config.num_workers < 0:
        raise TrainConfigError(f"num_workers: must be >= 0, got {config.num_workers}")
    for name in ("lr_gen", "lr_dis", "lr_latent"):
        if not (math.isfinite(getattr(config, name)) and getattr(config, name) > 0):
            raise TrainConfigError(f"{name}: must be a positive number, got {getattr(config, name)}")
    if config.cpu_precision not in CPU_PRECISIONS:
        raise TrainConfigError(f"cpu_precision: {config.cpu_precision!r} is not one of bf16, fp32 (or empty)")
    if config.optimizer not in OPTIMIZERS:
        raise TrainConfigError(f"optimizer: {config.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    if config.lr_warmup_steps < 0:
        raise TrainConfigError(f"lr_warmup_steps: must be >= 0, got {config.lr_warmup_steps}")
    if not (math.isfinite(config.weight_decay) and config.weight_decay >= 0):
        raise TrainConfigError(f"weight_decay: must be >= 0, got {config.weight_decay}")
    if not 0 <= config.ema_beta < 1:
        raise TrainConfigError(f"ema_beta: must be in [0, 1), got {config.ema_beta}")
    if config.best_metric != "heldout" and not config.best_metric.startswith("Loss/"):
        raise TrainConfigError(f"best_metric: expected 'heldout' or a loss name such as 'Loss/G/total', "
                               f"got {config.best_metric!r}")
    try:
        config.generator_config()
        config.discriminator_config()
    except (ConfigError, ValueError) as exc:
        raise TrainConfigError(f"model/dis: {exc}") from None
    if spec.check is not None:
        try:
            spec.check(config)
        except ValueError as exc:
            raise TrainConfigError(str(exc)) from None
    if config.identity_encoder_as_eb and (spec.name not in registry.readers("identity_encoder_as_eb")
                                          or config.face_weights is None):
        raise TrainConfigError(f"identity_encoder_as_eb: needs approach {_one_of('identity_encoder_as_eb')} and "
                               "face_weights")
    data_path = config.data.partition("::")[0]
    if config.align and config.data.startswith("procedural"):
        raise TrainConfigError("align: procedural faces are rendered in place; align is for photo datasets")
    if not config.data.startswith("procedural"):
        _require_path("data", data_path, " (give a folder, a FUNIT list file or 'procedural')")
        if config.weights.lambda_cross_gt > 0:
            raise TrainConfigError("weights.lambda_cross_gt: the supervised cross loss needs ground-truth swaps, "
                                   "which only procedural faces have")
    if config.weights.lambda_cross_gt > 0 and spec.name not in registry.readers("lambda_cross_gt"):
        raise TrainConfigError(f"weights.lambda_cross_gt: only the {_one_of('lambda_cross_gt')} approach has the "
                               "supervised cross loss")
    for name in ("lambda_ds", "lambda_class_rec", "lambda_content_adv"):  # issue 19's terms
        if getattr(config.weights, name) > 0 and spec.name not in registry.readers(name):
            raise TrainConfigError(f"weights.{name}: only the {_one_of(name)} approach has this term "
                                   f"(approach is {config.approach})")
    if config.weights.lambda_dlib_id > 0 and (problem := dlib_size_problem(config.image_size)):
        raise TrainConfigError(f"weights.lambda_dlib_id: {problem}")
    if config.weights.uses_critic and spec.name not in registry.readers("lambda_critic"):
        raise TrainConfigError(f"weights.lambda_critic/lambda_critic_ce: only the {_one_of('lambda_critic')} "
                               "approach has the identity critic")
    for name in ("resume", "vgg_weights", "face_weights"):
        value = getattr(config, name)
        if value is not None:
            _require_path(name, value)


def _one_of(weight_or_option: str) -> str:
    """The approaches that read `weight_or_option`, for a message ("funit2funit", "naive or lord")."""
    return " or ".join(registry.readers(weight_or_option))


def _require_path(name: str, value: str, hint: str = "") -> None:
    """A path the run needs must exist; one the OS cannot even look up (too long, a NUL byte) says so."""
    try:
        found = Path(value).exists()
    except (OSError, ValueError) as exc:
        raise TrainConfigError(f"{name}: {value[:80]!r} is not a usable path ({exc.__class__.__name__})") from None
    if not found:
        raise TrainConfigError(f"{name}: {value} not found{hint}")
