"""Architecture configurations.

Every size is a field so one code base serves FUNIT's 128x128 animal model, small fast models and the
"smaller content code" variant the paper's outlook (§VI) asks for. The defaults of `FunitGeneratorConfig`
and `FunitDiscriminatorConfig` are those of FUNIT's `configs/funit_animals.yaml`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A configuration value that cannot build a network."""


# No real network has a size or layer count near this; refusing larger values first keeps a hostile or mistyped
# config (`--set model.n_downs=1099511627776`) from computing 2**n or allocating before validation can say no.
MAX_CONFIG_VALUE = 2**20


def reject_unknown(
    data: Mapping[Any, Any], known: Iterable[str], what: str, error: type[ValueError] = ConfigError
) -> None:
    """Raise `error("<what> a, b (known: …)")` when `data` has keys outside `known` (listed in the given order).

    The one unknown-name check of every `from_dict` (network configs, loss weights, training configs), so a
    mistyped name gets the same kind of message everywhere.
    """
    known = list(known)
    unknown = sorted(map(str, set(data) - set(known)))
    if unknown:
        raise error(f"{what} {', '.join(unknown)} (known: {', '.join(known)})")


def field_names(cls: type) -> list[str]:
    """A dataclass's field names, sorted: the `known` of a `reject_unknown` message."""
    return sorted(f.name for f in dataclasses.fields(cls))


# A size or layer count of a network config: a whole number from 0 to MAX_CONFIG_VALUE (`check_value`'s kinds).
SIZE = range(MAX_CONFIG_VALUE + 1)
# What `check_value` says a value of each plain kind must be.
_EXPECTED = {bool: "true or false", int: "a whole number", float: "a number", str: "text", str | None: "a path or null"}


def check_value(where: str, kind: Any, value: Any, error: type[ValueError] = ConfigError) -> Any:
    """`value` checked against a field's `kind` and returned as that type, or `error("<where> must be …, not …")`.

    The one type check of every config read from plain data (network configs, `TrainConfig`, loss weights), so a
    wrong value gets the same message everywhere. `kind` is `bool`, `int`, `float` (an int becomes a float), `str`,
    `str | None` (a path or null), a `range` of whole numbers (`SIZE`) or a tuple of the allowed values. JSON and
    YAML make `True` an int and `1` a float, so bools are refused as numbers and ints accepted as floats.
    """
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(kind, tuple):
        if value in kind:
            return value
        raise error(f"{where} must be one of {', '.join(map(str, kind))}, not {value!r}")
    if isinstance(kind, range):
        if not is_number or not isinstance(value, int):
            raise error(f"{where} must be {_EXPECTED[int]}, not {value!r}")
        if value not in kind:
            raise error(f"{where} = {value} is out of range ({kind.start} to {kind.stop - 1})")
        return value
    if kind is float and is_number:
        try:
            return float(value)
        except OverflowError:
            raise error(f"{where}: {value} is too large for a number") from None
    accepted = {bool: isinstance(value, bool), int: is_number and isinstance(value, int), float: False,
                str: isinstance(value, str), str | None: value is None or isinstance(value, str)}
    if accepted[kind]:
        return value
    raise error(f"{where} must be {_EXPECTED[kind]}, not {value!r}")


def _field_kind(cls: type, f: dataclasses.Field) -> Any:
    """A network config field's `check_value` kind: its `choices`, a bool, or else a size."""
    choices: dict[str, tuple[str, ...]] = getattr(cls, "choices", {})
    if f.name in choices:
        return choices[f.name]
    return bool if isinstance(f.default, bool) else SIZE


def _from_dict(cls, data: dict[str, Any]):
    reject_unknown(data, field_names(cls), f"{cls.__name__}: unknown field(s)")
    kwargs = {f.name: check_value(f"{cls.__name__}.{f.name}", _field_kind(cls, f), data[f.name])
              for f in dataclasses.fields(cls) if f.name in data}
    config = cls(**kwargs)
    config.validate()
    return config


@dataclass(frozen=True)
class FunitGeneratorConfig:
    """FUNIT `FewShotGen` sizes (E_A = content encoder, E_B = class encoder, G = MLP + AdaIN decoder).

    `norm`, `content_dim`, `mask_head` and `erase_features` are the architecture switches of the model study
    (docs/study.md); their defaults are FUNIT's, so FUNIT files (which carry no config) build exactly FUNIT's
    network.
    """

    architecture: ClassVar[str] = "funit"
    # "in": FUNIT's instance norm in E_A and in G's up-sampling convs; "ln": layer norm (one group over
    # C×H×W, per-channel affine); "gn": group norm (8 groups). IN removes each channel's mean and scale, so
    # the content code cannot carry global colour (background, light) and the class code must.
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"norm": ("in", "ln", "gn")}

    nf: int = 64  # width of the first conv of both encoders
    n_res_blks: int = 2  # residual blocks at the end of E_A and at the start of G
    nf_mlp: int = 256  # hidden width of the class-code MLP
    latent_dim: int = 64  # size of the class (identity) code
    n_mlp_blks: int = 3  # linear layers in the MLP
    n_downs_content: int = 3  # stride-2 convs in E_A (and up-samplings in G)
    n_downs_class: int = 4  # stride-2 convs in E_B
    image_size: int = 128  # training/inference resolution (the nets are fully convolutional)
    norm: str = "in"  # normalisation of E_A and of G's up-sampling (see `choices`)
    content_dim: int = 0  # > 0: a 1×1 bottleneck makes the content code this many channels (paper §VI)
    # Mokady et al.'s mask-blended output: G also draws a mask m and a mix is m ⊙ G's image + (1 − m) ⊙ the
    # content image (`DisentanglingGenerator.decode_onto`).
    mask_head: bool = False
    # Paper §VI: E_A sees its input with the canonical eye, brow, nose and mouth regions blanked
    # (core/erasure.py), so the content code cannot carry those features and the class code must.
    erase_features: bool = False

    @property
    def encoder_channels(self) -> int:
        """Width of E_A's last layer (and of G's residual blocks)."""
        return self.nf * 2**self.n_downs_content

    @property
    def content_channels(self) -> int:
        """Channels of the content code E_A(x) as the pipeline caches it."""
        return self.content_dim or self.encoder_channels

    @property
    def num_adain_params(self) -> int:
        # Two AdaIN layers per residual block, each with a shift and a scale per channel.
        return self.n_res_blks * 2 * 2 * self.encoder_channels

    def validate(self) -> None:
        for name in ("nf", "nf_mlp", "latent_dim", "image_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive")
        if self.n_mlp_blks < 2:
            raise ConfigError("n_mlp_blks must be at least 2 (input and output layers)")
        if self.n_downs_class < 2:
            raise ConfigError("n_downs_class must be at least 2 (FUNIT doubles the width twice)")
        if self.n_downs_content < 1 or self.n_res_blks < 1:
            raise ConfigError("n_downs_content and n_res_blks must be at least 1")
        if self.image_size % 2 ** max(self.n_downs_content, self.n_downs_class):
            raise ConfigError(
                f"image_size {self.image_size} must be divisible by 2**{max(self.n_downs_content, self.n_downs_class)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunitGeneratorConfig:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class FunitDiscriminatorConfig:
    """FUNIT `GPPatchMcResDis` sizes: a patch discriminator with one real/fake output per class."""

    nf: int = 64  # width of the first conv
    n_res_blks: int = 10  # activation-first residual blocks (pairs, with a pooling between pairs)
    num_classes: int = 119  # one output channel per training class
    max_nf: int = 1024  # the width stops doubling here

    def validate(self) -> None:
        if self.n_res_blks < 2 or self.n_res_blks % 2:
            raise ConfigError("n_res_blks must be an even number >= 2")
        if min(self.nf, self.num_classes, self.max_nf) < 1:
            raise ConfigError("nf, num_classes and max_nf must be positive")

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunitDiscriminatorConfig:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class NaiveConfig:
    """Sizes of the naive approach (paper §IV-A): symmetric encoders E_A, E_B and a LORD-style generator."""

    architecture: ClassVar[str] = "naive"

    image_size: int = 64
    nf: int = 32  # width of the first encoder conv; doubles per down-sampling up to max_nf
    max_nf: int = 256
    n_downs: int = 4  # stride-2 convs in each encoder; the generator up-samples as often
    content_dim: int = 128  # size of the rest code E_A(x)
    class_dim: int = 64  # size of the identity code E_B(x)
    nf_mlp: int = 256  # hidden width of the MLP mapping the identity code to AdaIN parameters

    @property
    def base_size(self) -> int:
        return self.image_size // 2**self.n_downs

    def widths(self) -> list[int]:
        """Encoder widths after each down-sampling (the generator walks them backwards)."""
        return [min(self.nf * 2 ** (i + 1), self.max_nf) for i in range(self.n_downs)]

    def validate(self) -> None:
        if min(self.nf, self.max_nf, self.content_dim, self.class_dim, self.nf_mlp, self.n_downs) < 1:
            raise ConfigError("all NaiveConfig sizes must be positive")
        if self.image_size % 2**self.n_downs or self.base_size < 1:
            raise ConfigError(f"image_size {self.image_size} must be divisible by 2**n_downs")

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NaiveConfig:
        return _from_dict(cls, data)


GeneratorConfig = FunitGeneratorConfig | NaiveConfig

GENERATOR_CONFIGS: dict[str, type] = {"funit": FunitGeneratorConfig, "naive": NaiveConfig}


def generator_config_from_dict(architecture: str, data: dict[str, Any]) -> GeneratorConfig:
    try:
        cls = GENERATOR_CONFIGS[architecture]
    except KeyError:
        raise ConfigError(
            f"unknown architecture {architecture!r} (known: {', '.join(GENERATOR_CONFIGS)})"
        ) from None
    return cls.from_dict(data)
