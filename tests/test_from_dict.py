"""Every `from_dict` rejects unknown names through one check: the same message shape, naming what is known."""

from __future__ import annotations

import pytest

from g2g_desktop.core.config import (
    ConfigError,
    FunitDiscriminatorConfig,
    FunitGeneratorConfig,
    NaiveConfig,
    reject_unknown,
)
from trainer.approach_registry.builtin import PatchDiscriminatorConfig
from trainer.config import TrainConfigError, config_from_dict
from trainer.loss_weights import LossWeights


def test_reject_unknown_lists_the_unknown_sorted_and_the_known_in_order():
    reject_unknown({"b": 1}, ["b", "a"], "thing:")
    with pytest.raises(ConfigError) as info:
        reject_unknown({"z": 1, "y": 2, "a": 3}, ["b", "a"], "thing: unknown name(s)")
    assert str(info.value) == "thing: unknown name(s) y, z (known: b, a)"
    with pytest.raises(TrainConfigError):
        reject_unknown({3: 1}, [], "x", TrainConfigError)


@pytest.mark.parametrize(
    ("build", "error", "start"),
    [
        (FunitGeneratorConfig.from_dict, ConfigError, "FunitGeneratorConfig: unknown field(s) bogus (known: "),
        (FunitDiscriminatorConfig.from_dict, ConfigError, "FunitDiscriminatorConfig: unknown field(s) bogus"),
        (NaiveConfig.from_dict, ConfigError, "NaiveConfig: unknown field(s) bogus (known: class_dim, "),
        (PatchDiscriminatorConfig.from_dict, ValueError, "PatchGAN discriminator: unknown setting(s) bogus (known: "),
        (LossWeights.from_dict, ValueError, "unknown loss weight(s): bogus (known: alpha, "),
        (config_from_dict, TrainConfigError, "config: unknown field(s) bogus (known: approach, data, "),
    ],
)
def test_every_from_dict_names_the_unknown_field_and_the_known_ones(build, error, start):
    with pytest.raises(error) as info:
        build({"bogus": 1})
    assert str(info.value).startswith(start) and str(info.value).endswith(")")
