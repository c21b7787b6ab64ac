"""The one list of training approaches: what each declares, read by the CLI, the config check, the presets, the
weight editor and the Training form.

An approach is an `ApproachSpec` given to `register`: its name (`TrainConfig.approach`, `--approach`), its title
and description for the form, its size presets, the config class that checks its discriminator's `dis`, the loss
weights its losses read, the `TrainConfig` options only it reads, and where its `Approach` subclass lives. Nothing
else names an approach, so a new one registered from any module runs through the CLI, `validate_config`,
`preset_sizes` and the form without another file changing (docs/architecture.md walks through it).

Torch-free on purpose: `g2g-train --help`, `validate_config` and the app's form read the list before torch has
loaded. The class is named by an entry point ("module:Class", as packaging's entry points do) and imported only
when a run builds it (`trainer.approaches.approach_class`). This module imports neither `trainer.config` (which
reads the list) nor `trainer.approaches` (whose classes read the config): the list sits below both, so no import
cycle joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from g2g_desktop.core.config import GENERATOR_CONFIGS
from trainer.loss_weights import WeightSpec, weight_names, weight_specs

Sizes = tuple[dict[str, Any], dict[str, Any]]  # (generator overrides, discriminator overrides) of one preset


@dataclass(frozen=True)
class ApproachSpec:
    """What an approach declares; everything outside its own module reads these fields, never its name."""

    name: str  # TrainConfig.approach and `--approach`; also stored in its checkpoints and model files
    title: str  # the Training form's entry
    description: str  # one line for the form's tooltip: what it is, with its paper
    entry: str  # "module:Class" of its `Approach` subclass, imported when a run builds it
    architecture: str = "funit"  # generator family that checks `model`: a key of core.config.GENERATOR_CONFIGS
    discriminator: type | None = None  # torch-free config class whose `from_dict` checks `dis`; None: no D
    presets: Mapping[str, Sizes] = field(default_factory=dict)  # preset name -> sizes; a preset not here: defaults
    weights: tuple[str, ...] = ()  # LossWeights fields its losses read (the weight editor greys the others)
    options: tuple[str, ...] = ()  # TrainConfig fields only it reads (the form enables their fields for it)
    per_image: bool = False  # keeps a code per training image: built with the training set's size
    funit_files: bool = False  # can start from FUNIT's own gen_/dis_ files (`load_funit_pair`)
    # Its own config checks, given the TrainConfig (typed Any: trainer.config imports this module, not the reverse);
    # ValueError naming the field
    check: Callable[[Any], None] | None = None


_SPECS: dict[str, ApproachSpec] = {}


def register(spec: ApproachSpec) -> ApproachSpec:
    """Add `spec` (or replace the one of that name); its declarations are checked here, not at a run's start."""
    if spec.architecture not in GENERATOR_CONFIGS:
        raise ValueError(f"approach {spec.name}: unknown architecture {spec.architecture!r} "
                         f"(known: {', '.join(GENERATOR_CONFIGS)})")
    known = set(weight_names())
    unknown = [name for name in spec.weights if name not in known]
    if unknown:
        raise ValueError(f"approach {spec.name}: unknown loss weight(s) {', '.join(unknown)}")
    module, sep, attr = spec.entry.partition(":")
    if not (module and sep and attr):
        raise ValueError(f"approach {spec.name}: entry {spec.entry!r} is not 'module:Class'")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove approach `name` (a test's or a plug-in's); unknown names are ignored."""
    _SPECS.pop(name, None)


def names() -> tuple[str, ...]:
    """Every registered approach, in the order registered (the CLI's and the form's order)."""
    return tuple(_SPECS)


def specs() -> tuple[ApproachSpec, ...]:
    return tuple(_SPECS.values())


def get(name: str) -> ApproachSpec:
    """The spec of approach `name`; ValueError lists the known ones."""
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown approach {name!r} (known: {', '.join(_SPECS)})") from None


def readers(weight_or_option: str) -> tuple[str, ...]:
    """The approaches that read a loss weight or a TrainConfig option, in registration order (a weight a loss term
    added names its own: `WeightSpec.readers`)."""
    added = next((spec.readers for spec in weight_specs() if spec.name == weight_or_option), ())
    return tuple(s.name for s in _SPECS.values()
                 if weight_or_option in s.weights or weight_or_option in s.options or s.name in added)


def weights_read_by(name: str) -> tuple[WeightSpec, ...]:
    """The weight editor's rows approach `name` reads, in table order."""
    reads = set(get(name).weights)
    return tuple(spec for spec in weight_specs() if spec.name in reads or name in spec.readers)

