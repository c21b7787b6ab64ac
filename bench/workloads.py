"""The models and inputs the benchmarks run, and the plain eager reference every figure is divided by.

Two model sizes matter: FUNIT's animal model (the defaults of `FunitGeneratorConfig`, 128 px, random
weights: speed does not depend on the values) and the app's embedded default model. Until the default
model file exists, a small 64 px stand-in of the same family is used and the results say so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.resources import default_model_path
from trainer.default_model import TRAIN_CONFIG as DEFAULT_TRAIN_CONFIG
from trainer.presets import preset_sizes

STAND_IN_DEFAULT = FunitGeneratorConfig(**DEFAULT_TRAIN_CONFIG["model"], image_size=DEFAULT_TRAIN_CONFIG["image_size"])
"""Used in place of the shipped default model while `resources/models/default.safetensors` is missing: the
architecture `make default-model` trains, with random weights."""

TINY = FunitGeneratorConfig(**preset_sizes("tiny", "funit2funit")[0], image_size=32)
"""`--quick` runs every suite on this size so the smoke test takes seconds."""


@dataclass
class Model:
    name: str  # "funit-animals", "default", …
    generator: DisentanglingGenerator
    source: str  # where the weights come from, for the report

    @property
    def image_size(self) -> int:
        return self.generator.config.image_size

    def describe(self) -> dict:
        params = sum(p.numel() for p in self.generator.parameters())
        return {
            "name": self.name,
            "architecture": self.generator.architecture,
            "config": self.generator.config.to_dict(),
            "parameters": params,
            "source": self.source,
        }

    def fresh_copy(self) -> DisentanglingGenerator:
        """An independent fp32, contiguous-format copy: `G2GPipeline` converts its generator in place."""
        return copy.deepcopy(self.generator).float().eval()


def funit_animals(seed: int = 0) -> Model:
    torch.manual_seed(seed)
    return Model("funit-animals", FunitGenerator(FunitGeneratorConfig()).eval(), "random weights, FUNIT animals sizes")


def default_model(seed: int = 0) -> Model:
    path = default_model_path()
    if path.is_file():
        generator, _info = load_generator_with_info(path)
        return Model("default", generator.eval(), f"resources/models/{path.name}")
    torch.manual_seed(seed)
    return Model(
        "default (stand-in)",
        FunitGenerator(STAND_IN_DEFAULT).eval(),
        "resources/models/default.safetensors missing: the same architecture with random weights",
    )


def tiny_model(seed: int = 0) -> Model:
    torch.manual_seed(seed)
    return Model("tiny", FunitGenerator(TINY).eval(), "random weights, --quick size")


def with_size(model: Model, image_size: int) -> Model:
    """The same architecture at another resolution (the nets are fully convolutional); random weights."""
    config = model.generator.config
    resized = type(config).from_dict({**config.to_dict(), "image_size": image_size})
    torch.manual_seed(0)
    return Model(f"{model.name}@{image_size}", type(model.generator)(resized).eval(), "random weights")


def images(n: int, size: int, seed: int = 1, device: torch.device | str = "cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, size, size, generator=g) * 2 - 1).to(device)


def eager_g2g(generator: DisentanglingGenerator, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The reference: the G2G equations written out literally, one generator call per image, fp32,
    `no_grad`, no caching, no batching of the two sides, no device tricks.

        m1 = G(x1, x2), m2 = G(x2, x1), x̂1 = G(m1, m2), x̂2 = G(m2, m1)
    """
    with torch.no_grad():
        m1 = generator(x1, x2)
        m2 = generator(x2, x1)
        r1 = generator(m1, m2)
        r2 = generator(m2, m1)
    return torch.stack([m1, m2, r1, r2])


def eager_matrix(generator: DisentanglingGenerator, x: torch.Tensor) -> torch.Tensor:
    """The N×N swap matrix one entry at a time: N² full generator calls G(x_i, x_j)."""
    n = x.shape[0]
    with torch.no_grad():
        rows = [torch.cat([generator(x[i : i + 1], x[j : j + 1]) for j in range(n)]) for i in range(n)]
    return torch.stack(rows)


def decode_one_by_one(generator: DisentanglingGenerator, x: torch.Tensor) -> torch.Tensor:
    """The swap matrix from codes computed once, but decoded one entry at a time: isolates batching."""
    n = x.shape[0]
    with torch.no_grad():
        content = generator.encode_content(x)
        identity = generator.encode_class(x)
        rows = [
            torch.cat([generator.decode(content[i : i + 1], identity[j : j + 1]) for j in range(n)]) for i in range(n)
        ]
    return torch.stack(rows)
