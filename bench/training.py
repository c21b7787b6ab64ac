"""Training-step benchmarks: one discriminator + generator update per approach, images/s and peak memory.

The step is T1's `Approach.discriminator_step` then `generator_step` on a `PairBatch`, exactly what the
engine calls per iteration. Its baseline is the eager inference forward of the same generator on the same
pairs, measured interleaved, so the ratio reads "a training step costs this many forward passes".
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from trainer.approaches import build_approach
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.default_model import TRAIN_CONFIG as DEFAULT_TRAIN_CONFIG

from .harness import Comparison, PeakMemory, compare, synchronize
from .report import Row, Section
from .scaling import generator_flops, utilisation
from .workloads import Model, eager_g2g, images

APPROACH_DIS = {"naive": {}, "cycle_funit": {"nf": 16}, "funit2funit": DEFAULT_TRAIN_CONFIG["dis"]}
"""Discriminator sizes of the benchmarked runs: FUNIT2FUNIT's is the one `make default-model` trains with."""

NUM_CLASSES = 8


@dataclass(frozen=True)
class TrainCase:
    approach: str
    batch: int
    image_size: int
    model: dict  # generator config overrides (core config fields)
    cpu_bf16: str = "off"  # fp32 unless a bench compares precisions (bench/bf16.py)


def batch_of(pairs: int, size: int, seed: int = 3) -> PairBatch:
    x = images(2 * pairs, size, seed=seed)
    labels = torch.arange(2 * pairs) % NUM_CLASSES
    return PairBatch(x1=x[:pairs], label1=labels[:pairs], x2=x[pairs:], label2=(labels[pairs:] + 1) % NUM_CLASSES)


def funit_overrides(model: Model) -> dict:
    return {k: v for k, v in model.generator.config.to_dict().items() if k != "image_size"}


def _approach(case: TrainCase, device: str):
    config = TrainConfig(
        approach=case.approach,
        batch_size=case.batch,
        image_size=case.image_size,
        model=case.model,
        dis=APPROACH_DIS[case.approach],
        seed=0,
        cpu_bf16=case.cpu_bf16,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no VGG / face weights": the fallbacks are what a first run uses
        return build_approach(config, NUM_CLASSES, device)


def compare_training_steps(
    baseline: tuple[Any, PairBatch], candidate: tuple[Any, PairBatch], repeats: int, device: str = "cpu"
) -> tuple[Comparison, float, float]:
    """Time two set-ups of one training step against each other (interleaved, one shared step counter).

    Each side is an (approach, batch); both first take a warm-up step (oneDNN picks its kernels on first use)
    whose generator loss is returned, baseline's then candidate's, so that a bench can show that the faster
    side still computes the same loss."""
    first = []
    for approach, data in (baseline, candidate):
        approach.discriminator_step(data, 0)
        first.append(approach.generator_step(data, 0)["Loss/G/total"])
    steps = itertools.count(1)

    def step(side: tuple[Any, PairBatch]) -> None:
        approach, data = side
        s = next(steps)
        approach.discriminator_step(data, s)
        approach.generator_step(data, s)
        synchronize(device)

    comparison = compare(lambda: step(baseline), lambda: step(candidate), repeats=repeats, warmup=0)
    return comparison, first[0], first[1]


def relative_difference(value: float, reference: float) -> float:
    return abs(value - reference) / max(abs(reference), 1e-12)


def train_step_row(case: TrainCase, repeats: int, peak_gflops: float, device: str = "cpu") -> Row:
    approach = _approach(case, device)
    batch = batch_of(case.batch, case.image_size)
    steps = itertools.count()

    def step():
        s = next(steps)
        approach.discriminator_step(batch, s)
        approach.generator_step(batch, s)

    generator = approach.generator

    def forward():
        was_training = generator.training
        generator.eval()
        try:
            return eager_g2g(generator, batch.x1.to(device), batch.x2.to(device))
        finally:
            generator.train(was_training)

    with PeakMemory(device) as mem:  # the first step doubles as warm-up (it also allocates optimizer state)
        step()
    comparison = compare(forward, step, repeats=repeats, warmup=0, device=device)
    step_ms = comparison.candidate.median_ms
    images_per_s = 2 * case.batch / (step_ms / 1000.0)
    flops = generator_flops(generator, case.batch, case.image_size)
    return Row(
        name=f"train step {case.approach}, {case.image_size} px, batch {case.batch}",
        candidate="D step + G step",
        baseline="eager G2G forward, same pairs",
        comparison=comparison,
        ratio=step_ms / comparison.baseline.median_ms,
        ratio_meaning="training-step ms / forward ms (cost in forward passes)",
        extra={
            "images/s": round(images_per_s, 2),
            "peak memory MiB": round(mem.peak_bytes / 2**20, 1),
            "maxrss delta MiB": round(mem.maxrss_delta_bytes / 2**20, 1),
            "forward GFLOP/s": utilisation(flops, comparison.baseline.median_ms, peak_gflops)["GFLOP/s"],
        },
    )


def training_sections(
    model: Model, *, batch: int, scale_sizes: tuple[int, ...], scale_batches: tuple[int, ...], repeats: int,
    peak_gflops: float,
) -> list[Section]:
    gen = funit_overrides(model)
    per_approach = Section("training", "Training step per approach (discriminator + generator update, CPU)")
    per_approach.notes.append(
        f"{model.image_size} px, {batch} pairs per step; generator = {model.name} config for the FUNIT approaches, "
        f"core NaiveConfig defaults for naive; discriminators {APPROACH_DIS}; no VGG/face weights (the fallbacks "
        "a first run uses). Peak memory: resident-set peak during the first step (which also allocates the "
        "optimizer state) minus before it."
    )
    for name in ("naive", "cycle_funit", "funit2funit"):
        model_cfg = {} if name == "naive" else gen
        per_approach.rows.append(
            train_step_row(TrainCase(name, batch, model.image_size, model_cfg), repeats, peak_gflops)
        )
    scaling = Section("training_scaling", "Scaling of the FUNIT2FUNIT training step with image size and batch")
    scaling.notes.append("the first step (warm-up, measured for memory), then interleaved rounds of forward and step")
    rows: dict[tuple[int, int], Row] = {}
    cases = [(size, 1) for size in scale_sizes] + [(scale_sizes[0], b) for b in scale_batches]
    for size, b in dict.fromkeys(cases):  # the smallest size at batch 1 opens both groups: measured once
        rows[(size, b)] = train_step_row(TrainCase("funit2funit", b, size, gen), max(1, repeats - 1), peak_gflops)
        scaling.rows.append(rows[(size, b)])
    first = rows[(scale_sizes[0], 1)].comparison.candidate.median_ms
    for row in rows.values():
        row.extra["time / smallest"] = round(row.comparison.candidate.median_ms / first, 2)
    return [per_approach, scaling]
