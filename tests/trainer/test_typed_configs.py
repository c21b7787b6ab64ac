"""Issue 22 item 3: one type check for every config read from plain data, and typed network configs in one place.

Before, network configs (`core/config.py`), `TrainConfig` (`trainer/config.py`) and the loss weights each had
their own checking, with their own words for the same mistake; and every approach merged `model` with the
image size by hand. These tests pin the shared check and the two typed accessors the approaches build from.
"""

from __future__ import annotations

import pytest

from g2g_desktop.core.config import (
    ConfigError,
    FunitDiscriminatorConfig,
    FunitGeneratorConfig,
    NaiveConfig,
    check_value,
)
from trainer.approach_registry.builtin import PatchDiscriminatorConfig
from trainer.config import TrainConfig, TrainConfigError, config_from_dict
from trainer.loss_weights import LossWeights


@pytest.mark.parametrize(("kind", "value", "words"), [
    (bool, 1, "must be true or false, not 1"),
    (int, True, "must be a whole number, not True"),
    (int, 2.5, "must be a whole number, not 2.5"),
    (float, "0.1", "must be a number, not '0.1'"),
    (float, None, "must be a number, not None"),
    (str, 3, "must be text, not 3"),
    (str | None, 3, "must be a path or null, not 3"),
    (("a", "b"), "c", "must be one of a, b, not 'c'"),
    (range(0, 5), 9, "= 9 is out of range (0 to 4)"),
    (range(0, 5), 1.0, "must be a whole number, not 1.0"),
])
def test_check_value_refuses_with_one_wording(kind, value, words):
    with pytest.raises(ConfigError) as caught:
        check_value("field", kind, value)
    assert str(caught.value) == f"field {words}"


@pytest.mark.parametrize(("kind", "value", "expected"), [
    (float, 3, 3.0), (int, 3, 3), (bool, False, False), (str | None, None, None), (("a", "b"), "b", "b"),
])
def test_check_value_returns_the_value_as_its_type(kind, value, expected):
    got = check_value("field", kind, value)
    assert got == expected and type(got) is type(expected)


def test_the_same_mistake_reads_the_same_in_every_config():
    """A string where a number belongs: a network size, a TrainConfig field and a loss weight say it alike."""
    messages = []
    for build in (lambda: FunitGeneratorConfig.from_dict({"nf": "16"}),
                  lambda: config_from_dict({"steps": "16"}),
                  lambda: LossWeights.from_dict({"r_w": "16"}),
                  lambda: PatchDiscriminatorConfig.from_dict({"nf": "16"})):
        with pytest.raises(ValueError) as caught:
            build()
        messages.append(str(caught.value))
    assert all(message.endswith(", not '16'") for message in messages), messages
    assert "FunitGeneratorConfig.nf" in messages[0] and "steps" in messages[1]
    assert "loss weight r_w" in messages[2] and "PatchGAN discriminator: nf" in messages[3]
    with pytest.raises(TrainConfigError):  # the TrainConfig's own error class, still a ValueError
        config_from_dict({"steps": "16"})


def test_a_patch_discriminator_size_must_be_positive():
    with pytest.raises(ValueError, match="n_layers must be positive"):
        PatchDiscriminatorConfig.from_dict({"n_layers": 0})
    assert PatchDiscriminatorConfig.from_dict({"nf": 8}) == PatchDiscriminatorConfig(nf=8)


def test_generator_config_is_the_approachs_typed_config_at_the_image_size():
    config = TrainConfig(approach="funit2funit", image_size=32, model={"nf": 8, "norm": "ln"})
    gen = config.generator_config()
    assert isinstance(gen, FunitGeneratorConfig)
    assert (gen.nf, gen.norm, gen.image_size) == (8, "ln", 32)
    naive = TrainConfig(approach="naive", image_size=48).generator_config()
    assert isinstance(naive, NaiveConfig) and naive.image_size == 48
    with pytest.raises(AttributeError):  # frozen: a run's network sizes never change behind the engine's back
        gen.nf = 16


def test_discriminator_config_by_approach():
    funit = TrainConfig(approach="funit2funit", dis={"nf": 16}).discriminator_config(num_classes=7)
    assert isinstance(funit, FunitDiscriminatorConfig) and (funit.nf, funit.num_classes) == (16, 7)
    kept = TrainConfig(approach="funit2funit", dis={"num_classes": 119}).discriminator_config(num_classes=7)
    assert kept.num_classes == 119  # a run resumed from FUNIT's D keeps its 119 classes
    patch = TrainConfig(approach="cycle_funit", dis={"n_layers": 2}).discriminator_config()
    assert patch == PatchDiscriminatorConfig(n_layers=2)
    assert TrainConfig(approach="naive").discriminator_config() is None
