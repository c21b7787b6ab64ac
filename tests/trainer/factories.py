"""Factories of the trainer tests (imported by tests and tests/trainer/conftest.py): tiny sizes and configs,
an in-memory dataset, image files, an event collector and a NaN injector."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from trainer.config import TrainConfig
from trainer.datasets import IdentityDataset
from trainer.events import StepDone
from trainer.presets import preset_sizes

TINY_NAIVE = {"nf": 8, "max_nf": 16, "n_downs": 2, "content_dim": 8, "class_dim": 8, "nf_mlp": 16}
TINY_FUNIT = {"nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8, "n_mlp_blks": 2,
              "n_downs_content": 2, "n_downs_class": 2}
TINY_DIS = {"nf": 8, "n_res_blks": 2, "max_nf": 16}
TINY_PATCH_DIS = preset_sizes("tiny", "cycle_funit")[1]  # CycleFUNIT's PatchGAN discriminator


class TinyDataset(IdentityDataset):
    """`classes` identities × `per_class` images: a flat colour per identity plus per-image noise."""

    def __init__(self, classes: int = 4, per_class: int = 3, size: tuple[int, int] = (40, 36)):
        self.class_names = [f"id{c}" for c in range(classes)]
        self.labels = [c for c in range(classes) for _ in range(per_class)]
        self.size = size

    def get_image(self, index: int) -> Image.Image:
        rng = np.random.default_rng(index)
        colour = np.array([(37 * self.labels[index]) % 256, 90, 200 - 30 * self.labels[index]], dtype=np.float64)
        pixels = colour + rng.normal(0, 25, (self.size[1], self.size[0], 3))
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))

    def describe(self, index: int) -> str:
        return f"tiny item {index}"


def write_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (20, 24)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def tiny_config(tmp_path: Path, approach: str = "naive", **changes) -> TrainConfig:
    """A run small enough for a few CPU steps per second."""
    funit = approach != "naive"
    config = TrainConfig(
        approach=approach,
        data="unused-tests-pass-a-dataset",
        out=str(tmp_path / "run"),
        steps=4,
        batch_size=2,
        image_size=16,
        model=dict(TINY_FUNIT if funit else TINY_NAIVE),
        dis={"naive": {}, "cycle_funit": dict(TINY_PATCH_DIS)}.get(approach, dict(TINY_DIS)),
        log_every=1,
        preview_every=2,
        checkpoint_every=2,
        keep_last=10,
        amp=False,
    )
    return dataclasses.replace(config, **changes)


class Events(list):
    """A sink that keeps every event; `of(kind)` filters by type."""

    def __call__(self, event) -> None:
        self.append(event)

    def of(self, kind) -> list:
        return [e for e in self if isinstance(e, kind)]


def set_weights_after(engine, events: Events, step: int, **changes: float) -> None:
    """Make `engine` record its events into `events` and call `set_weights(**changes)` once step `step` is done."""

    def sink(event) -> None:
        events(event)
        if isinstance(event, StepDone) and event.step == step:
            engine.set_weights(**changes)

    engine.sink = sink


class NanAt:
    """Fault injector: `approach`'s loss check at `step` sees its total as NaN, once (then `step` is None).

    It wraps the instance's `checked`, so the real check raises `NonFiniteLossError` and does what it does
    on a real NaN (the bf16 fallback included); the production class carries no test hook.
    """

    def __init__(self, approach, step: int):
        self.step: int | None = step
        check = approach.checked

        def checked(terms, total, at):
            if at == self.step:
                self.step = None
                terms = {**terms, total: torch.tensor(math.nan)}
            return check(terms, total, at)

        approach.checked = checked


def assert_same_optimizer_states(a: dict[str, torch.optim.Optimizer], b: dict[str, torch.optim.Optimizer]) -> None:
    """Every slot (step, moments) of every optimizer in `a` equals its twin in `b` bit for bit."""
    assert a.keys() == b.keys()
    for name, optimizer in a.items():
        other = b[name].state_dict()["state"]
        for index, slots in optimizer.state_dict()["state"].items():
            for slot, value in slots.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(other[index][slot])), (name, slot)
