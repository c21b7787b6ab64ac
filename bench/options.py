"""Candidate speed-ups, each measured on and off in this run, so the project uses only those that pay.

Workloads: the slider's decode (batch 2 from cached codes) and one full forward of a pair, on the
default model. Each variant changes one thing against the plain fp32 eager module. The OpenMP wait
policy is fixed when torch loads, so that probe runs in child processes (`python -m bench.omp_probe`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from g2g_desktop.core.pipeline import G2GPipeline, fade_identity

from .harness import Comparison, Timing, compare
from .inference import drag_alphas
from .report import Row, Section
from .workloads import Model, eager_g2g, images

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Variant:
    name: str
    generator: torch.nn.Module
    prepare: Callable[[torch.Tensor], torch.Tensor]  # input layout for this variant
    context: Callable[[], contextlib.AbstractContextManager]


def _plain(model: Model) -> Variant:
    return Variant("fp32 contiguous", model.fresh_copy(), lambda t: t, contextlib.nullcontext)


def _channels_last(model: Model) -> Variant:
    gen = model.fresh_copy().to(memory_format=torch.channels_last)
    return Variant("channels_last", gen, lambda t: t.contiguous(memory_format=torch.channels_last),
                   contextlib.nullcontext)


def _bf16(model: Model) -> Variant:
    return Variant("bf16 autocast", model.fresh_copy(), lambda t: t,
                   lambda: torch.autocast("cpu", dtype=torch.bfloat16))


def _workloads(variant: Variant, x: torch.Tensor) -> dict[str, Callable[[], object]]:
    gen = variant.generator
    with torch.inference_mode():
        content = gen.encode_content(variant.prepare(x))
        identity = gen.encode_class(variant.prepare(x))
    xp = variant.prepare(x)

    def decode():
        with torch.inference_mode(), variant.context():
            return gen.decode(content, identity)

    def forward():
        with variant.context():
            return eager_g2g(gen, xp[:1], xp[1:])

    return {"slider decode": decode, "full forward": forward}


def _compare_variants(base: Variant, cand: Variant, x: torch.Tensor, repeats: int) -> list[Row]:
    base_w, cand_w = _workloads(base, x), _workloads(cand, x)
    rows = []
    for name in base_w:
        n = repeats if name == "slider decode" else max(2, repeats // 4)
        rows.append(
            Row(
                name=name,
                candidate=cand.name,
                baseline=base.name,
                comparison=compare(base_w[name], cand_w[name], repeats=n),
            )
        )
    return rows


def _thread_rows(model: Model, x: torch.Tensor, repeats: int) -> list[Row]:
    """One intra-op thread vs all of them: on a busy machine the extra threads can cost more than they give."""
    base = _plain(model)
    work = _workloads(base, x)
    threads = torch.get_num_threads()
    if threads < 2:
        return []
    rows = []
    for name, fn in work.items():
        def with_threads(n: int, fn=fn):
            def call():
                torch.set_num_threads(n)
                try:
                    return fn()
                finally:
                    torch.set_num_threads(threads)
            return call

        n = repeats if name == "slider decode" else max(2, repeats // 4)
        rows.append(
            Row(name=name, candidate="1 thread", baseline=f"{threads} threads",
                comparison=compare(with_threads(threads), with_threads(1), repeats=n))
        )
    return rows


def _compile_row(model: Model, x: torch.Tensor, repeats: int) -> Row:
    base = _plain(model)
    gen = base.generator
    with torch.inference_mode():
        content, identity = gen.encode_content(x), gen.encode_class(x)
    compiled = torch.compile(gen.decode)
    start = time.perf_counter()
    with torch.inference_mode():
        compiled(content, identity)
    compile_s = time.perf_counter() - start

    def eager():
        with torch.inference_mode():
            return gen.decode(content, identity)

    def fast():
        with torch.inference_mode():
            return compiled(content, identity)

    comparison = compare(eager, fast, repeats=repeats)
    saved_ms = comparison.baseline.median_ms - comparison.candidate.median_ms
    return Row(
        name="slider decode",
        candidate="torch.compile (inductor)",
        baseline="eager",
        comparison=comparison,
        extra={
            "compile s": round(compile_s, 1),
            "updates to repay compile": round(compile_s * 1000 / saved_ms) if saved_ms > 0 else "never",
        },
    )


def fade_cache_row(model: Model, repeats: int) -> Row:
    """The pipeline's fade while one slider is dragged vs decoding both sides on every update."""
    pipe = G2GPipeline(model.fresh_copy(), "cpu", cpu_bf16="off")
    gen = model.fresh_copy()
    x = images(2, model.image_size)
    with torch.inference_mode():
        c, i = gen.encode_content(x), gen.encode_class(x)
    pipe.run(x[0], x[1])
    alphas_a, alphas_b = drag_alphas(), drag_alphas()

    def both_sides():
        a = next(alphas_a)
        with torch.inference_mode():
            identity = torch.cat([fade_identity(i[:1], i[1:], a), fade_identity(i[1:], i[:1], 1.0)])
            return gen.decode(c, identity)

    def pipeline():
        return pipe.fade(x[0], x[1], next(alphas_b), 1.0)

    return Row(
        name="slider update (one slider dragged)",
        candidate="G2GPipeline.fade (other side cached)",
        baseline="decode both sides each update",
        comparison=compare(both_sides, pipeline, repeats=repeats),
    )


def omp_probe_row(size_args: list[str], rounds: int = 2) -> Row:
    """OMP_WAIT_POLICY=PASSIVE vs the library default, in fresh processes, alternating A B B A …"""
    samples: dict[str, list[float]] = {"default": [], "PASSIVE": []}
    order = ["default", "PASSIVE"]
    for i in range(rounds):
        for policy in order if i % 2 == 0 else order[::-1]:
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            env["G2G_OMP_WAIT_POLICY"] = "default" if policy == "default" else "PASSIVE"
            out = subprocess.run(
                [sys.executable, "-m", "bench.omp_probe", *size_args],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True,
            )
            samples[policy].append(json.loads(out.stdout.strip().splitlines()[-1])["median_ms"])
    base, cand = Timing.of(samples["default"]), Timing.of(samples["PASSIVE"])
    ratio = base.median_ms / cand.median_ms
    return Row(
        name="slider decode (fresh process)",
        candidate="OMP_WAIT_POLICY=PASSIVE",
        baseline="OpenMP default (spin, then sleep)",
        comparison=Comparison(base, cand, ratio),
        ratio_meaning="speed-up (baseline ms / candidate ms)",
        extra={"note": "each sample is one process's median of 9 decodes"},
    )


def options_section(model: Model, repeats: int, *, with_compile: bool, probe_args: list[str]) -> Section:
    section = Section("options", "CPU optimisation candidates, each on vs off (default model)")
    section.notes.append(
        "slider decode = the decoder on a batch of 2 from cached codes; full forward = the eager G2G forward of one "
        "pair. A ratio > 1 means the candidate is faster. The project uses a candidate on the CPU only where it wins."
    )
    x = images(2, model.image_size)
    base = _plain(model)
    for variant in (_channels_last(model), _bf16(model)):
        section.rows += _compare_variants(base, variant, x, repeats)
    section.rows += _thread_rows(model, x, repeats)
    section.rows.append(fade_cache_row(model, repeats))
    section.rows.append(omp_probe_row(probe_args))
    if with_compile:
        section.rows.append(_compile_row(model, x, repeats))
    else:
        section.notes.append(
            "torch.compile is measured only with `--compile` (its CPU compile alone took minutes on this machine)."
        )
    return section
