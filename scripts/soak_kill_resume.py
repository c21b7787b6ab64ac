"""Kill-and-resume soak of the training CLI: SIGKILL `g2g-train` at random moments, resume, repeat.

    python scripts/soak_kill_resume.py --kills 20 [--steps 40] [--seed 1] [--workdir DIR]

A tiny naive run (procedural data, 32×32, checkpoint every few steps, keep_last=2 so pruning is
exercised too) is started as a subprocess and killed with SIGKILL — at a random step, or the instant a
checkpoint's temp file appears (mid-write) — then resumed from its run folder. After every kill:

* every checkpoint on disk loads (training states, `index.json`, `model_latest.safetensors`);
* the latest checkpoint is at most `checkpoint_every` steps behind the last step the run reported, so no
  more than the steps since the last checkpoint are lost.

At the end the final weights, optimizer states and RNG states are compared bit for bit with an
uninterrupted run of the same length (CPU, one thread), and so is the precision each trained in (the
choice, bf16 or fp32, not the note that says why: a resumed run's note says it kept the recorded one).
The figures printed at the end (kills survived, kills during a checkpoint write, files tried, crashes,
precision) are the ones quoted in docs/reliability.md.
The test suite runs a short version (tests/trainer/test_kill_resume.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from g2g_desktop.core.model_file import RUN_MODEL_FILE
from g2g_desktop.core.safe_io import atomic_write_leftovers

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class SoakSettings:
    steps: int = 24  # total steps of the run
    checkpoint_every: int = 3
    kills: int = 3
    seed: int = 0  # chooses kill moments
    keep_last: int = 2
    start_timeout: float = 180.0  # seconds a process may take to reach its kill point
    approach: str = "naive"
    overrides: tuple[str, ...] = ()  # further `--set name=value` of the run


@dataclass
class SoakReport:
    kills: int = 0  # processes killed with SIGKILL
    kills_during_write: int = 0  # of which while a checkpoint temp file existed
    files_tried: int = 0  # checkpoint/model files loaded after kills
    crashes: int = 0  # processes that exited non-zero on their own (not killed)
    max_steps_lost: int = 0
    temp_files_after_kills: int = 0  # most temp files of killed writes seen in the run folder after a kill
    leftover_temp_files: int = 0  # temp files still in the run folder after the final resume finished
    bit_identical: bool | None = None
    precision: str = ""  # what the uninterrupted run trained in, and why
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"kills survived: {self.kills} ({self.kills_during_write} during a checkpoint write), "
            f"files tried: {self.files_tried}, crashes: {self.crashes}, most steps lost: {self.max_steps_lost}, "
            f"temp files left by killed writes: {self.temp_files_after_kills} (still there at the end: "
            f"{self.leftover_temp_files}), final weights bit-identical to an "
            f"uninterrupted run: {self.bit_identical}, precision: {self.precision or '?'}, "
            f"problems: {len(self.problems)}"
        )


def train_command(out: Path, settings: SoakSettings, *, resume: bool) -> list[str]:
    command = [
        sys.executable, "-m", "trainer.cli", "--approach", settings.approach, "--data", "procedural:4:3",
        "--out", str(out), "--steps", str(settings.steps), "--device", "cpu",
        "--set", "batch_size=2", "--set", "image_size=32", "--set", "seed=7", "--set", "amp=false",
        "--set", f"checkpoint_every={settings.checkpoint_every}", "--set", f"keep_last={settings.keep_last}",
        "--set", "log_every=1", "--set", "preview_every=1000000", "--preset", "tiny",
        *(arg for override in settings.overrides for arg in ("--set", override)),
    ]  # fmt: skip
    return [*command, "--resume", str(out)] if resume else command


def child_env() -> dict[str, str]:
    """One thread everywhere: bit-for-bit comparisons must not depend on thread scheduling. The precision is
    `cpu_bf16: auto`, as a user's run chooses it: its choice is part of what must match."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("G2G_CPU_BF16", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def start(out: Path, settings: SoakSettings, *, resume: bool, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(
            train_command(out, settings, resume=resume), cwd=ROOT, env=child_env(), stdout=fh, stderr=fh
        )


def finish(proc: subprocess.Popen, log: Path, what: str, settings: SoakSettings, report: SoakReport) -> bool:
    """Wait for a run that must complete on its own; a non-zero exit is a crash."""
    if proc.wait(timeout=settings.start_timeout * 2) == 0:
        return True
    report.crashes += 1
    report.problems.append(f"{what} exited with {proc.returncode}: {log.read_text()[-1500:]}")
    return False


# --------------------------------------------------------------------------- observing a run


def log_mark(metrics: Path) -> tuple[int, int]:
    """Where metrics.jsonl stands before a run starts: its inode and size ((0, 0) when there is none)."""
    try:
        stat = metrics.stat()
    except FileNotFoundError:
        return 0, 0
    return stat.st_ino, stat.st_size


def reported_steps(metrics: Path, mark: tuple[int, int]) -> list[int]:
    """Steps in metrics.jsonl lines written since `mark` (a torn last line is ignored). A run that starts
    again drops the lines after its checkpoint by rewriting the file (a new inode): then every line counts,
    those it kept being at or before that checkpoint."""
    try:
        with open(metrics, "rb") as fh:
            inode, offset = mark
            fh.seek(offset if os.fstat(fh.fileno()).st_ino == inode else 0)
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    steps = []
    for line in lines:
        try:
            steps.append(int(json.loads(line)["step"]))
        except (ValueError, KeyError, TypeError):
            continue
    return steps


def temp_files(out: Path) -> list[Path]:
    """Temp files of `atomic_write` in the run folder: a write is in progress (or was killed)."""
    return atomic_write_leftovers(out) + atomic_write_leftovers(out / "checkpoints")


def checkpoint_writes(out: Path) -> list[Path]:
    """Temp files of a training state or of the inference snapshot being written right now."""
    return [p for p in temp_files(out) if p.name.startswith((".state_", f".{Path(RUN_MODEL_FILE).stem}"))]


def latest_checkpoint_step(out: Path) -> int:
    from trainer.state import latest_state

    found = latest_state(out)
    return int(found.name[len("state_") : -len(".pt")]) if found else 0


def check_files(out: Path, report: SoakReport) -> None:
    """Every checkpoint on disk must load; anything else is a problem in the report."""
    from g2g_desktop.core.checkpoint import load_generator
    from g2g_desktop.core.safe_io import CheckpointError
    from trainer.state import load_training_state

    files = sorted((out / "checkpoints").glob("state_*.pt"))
    for path in files:
        report.files_tried += 1
        try:
            load_training_state(path)
        except CheckpointError as exc:
            report.problems.append(f"unloadable checkpoint after a kill: {exc}")
    model = out / RUN_MODEL_FILE
    if model.exists():
        report.files_tried += 1
        try:
            load_generator(model)
        except CheckpointError as exc:
            report.problems.append(f"unloadable model after a kill: {exc}")
    index = out / "checkpoints" / "index.json"
    if index.exists():
        report.files_tried += 1
        try:
            listed = [e["file"] for e in json.loads(index.read_text())["checkpoints"]]
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"index.json unreadable after a kill: {exc}")
        else:
            if listed and not (out / "checkpoints" / listed[-1]).exists():
                report.problems.append(f"index.json names a missing newest checkpoint {listed[-1]}")


# --------------------------------------------------------------------------- one kill


def kill_once(proc: subprocess.Popen, out: Path, settings: SoakSettings, rng: random.Random, mid_write: bool):
    """Wait for the chosen moment and SIGKILL `proc`; returns (killed, during_write)."""
    metrics = out / "metrics.jsonl"
    mark = log_mark(metrics)
    first = latest_checkpoint_step(out)
    target = min(settings.steps - 1, first + rng.randint(1, 2 * settings.checkpoint_every))
    stale = set(checkpoint_writes(out))  # left by earlier kills: not a write in progress
    deadline = time.monotonic() + settings.start_timeout
    during_write = False
    while proc.poll() is None and time.monotonic() < deadline:
        if mid_write:
            if set(checkpoint_writes(out)) - stale:
                during_write = True
                break
            time.sleep(0.0005)
        else:
            steps = reported_steps(metrics, mark)
            if steps and steps[-1] >= target:
                time.sleep(rng.uniform(0.0, 0.05))  # land anywhere in the next step, checkpoint or not
                break
            time.sleep(0.005)
    if proc.poll() is not None:
        return False, False
    during_write = during_write or bool(set(checkpoint_writes(out)) - stale)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True, during_write


def soak(workdir: Path, settings: SoakSettings) -> SoakReport:
    """Run the kill/resume cycle in `workdir/killed` beside an uninterrupted run in `workdir/reference`."""
    report = SoakReport()
    rng = random.Random(settings.seed)
    out, log = workdir / "killed", workdir / "killed.log"
    reference, reference_log = workdir / "reference", workdir / "reference.log"
    reference_proc = start(reference, settings, resume=False, log=reference_log)  # runs alongside
    for i in range(settings.kills):
        metrics = out / "metrics.jsonl"
        mark = log_mark(metrics)
        # Killed before its first checkpoint, a run has nothing to resume from and starts afresh.
        proc = start(out, settings, resume=latest_checkpoint_step(out) > 0, log=log)
        killed, during_write = kill_once(proc, out, settings, rng, mid_write=i % 2 == 0)
        if not killed:  # it finished (or crashed) before the chosen moment
            finish(proc, log, f"run {i}", settings, report)
            break
        report.kills += 1
        report.kills_during_write += during_write
        report.temp_files_after_kills = max(report.temp_files_after_kills, len(temp_files(out)))
        steps = reported_steps(metrics, mark)
        lost = (steps[-1] if steps else 0) - latest_checkpoint_step(out)
        report.max_steps_lost = max(report.max_steps_lost, lost)
        if lost > settings.checkpoint_every:
            report.problems.append(f"kill {i}: {lost} steps lost (checkpoint every {settings.checkpoint_every})")
        check_files(out, report)
    proc = start(out, settings, resume=latest_checkpoint_step(out) > 0, log=log)
    finished = finish(proc, log, "final resume", settings, report)
    finished = finish(reference_proc, reference_log, "uninterrupted run", settings, report) and finished
    if finished:
        check_files(out, report)
        report.leftover_temp_files = len(temp_files(out))
        report.bit_identical = compare_runs(reference, out, settings.steps, report)
    return report


# --------------------------------------------------------------------------- bit-for-bit comparison


def _flatten(value, prefix: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}/{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}/{i}")
    else:
        yield prefix, value


PRECISION_NOTE = "extra/cpu_precision/note"  # why a run trains in its precision: differs after a resume


def compare_runs(reference: Path, other: Path, steps: int, report: SoakReport) -> bool:
    """Final training states equal bit for bit (modules, optimizers, extra, sampler, RNG, weights), and the
    precision recorded in their configs the same."""
    import torch

    from trainer.state import load_training_state

    name = f"checkpoints/state_{steps:08d}.pt"
    a, b = load_training_state(reference / name), load_training_state(other / name)
    report.precision = str(a.get("extra", {}).get("cpu_precision", {}).get("note", ""))
    differences = []
    if a["config"].get("cpu_precision") != b["config"].get("cpu_precision"):
        differences.append("config/cpu_precision")
    for key in ("step", "modules", "optimizers", "extra", "sampler", "rng", "weights"):
        left, right = (
            {path: value for path, value in _flatten(state.get(key), key) if path != PRECISION_NOTE}
            for state in (a, b)
        )
        if left.keys() != right.keys():
            differences.append(f"{key}: different entries")
            continue
        for path, value in left.items():
            other_value = right[path]
            same = (
                torch.equal(value, other_value)
                if isinstance(value, torch.Tensor) and isinstance(other_value, torch.Tensor)
                else value == other_value
            )
            if not same:
                differences.append(path)
    if differences:
        report.problems.append(f"final state differs from the uninterrupted run in {differences[:6]}")
    return not differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--checkpoint-every", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", help="folder for the runs (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    settings = SoakSettings(steps=args.steps, checkpoint_every=args.checkpoint_every, kills=args.kills,
                            seed=args.seed)  # fmt: skip
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="g2g-soak-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = soak(workdir, settings)
    print(report.summary())
    for problem in report.problems:
        print("problem:", problem)
    print(f"{settings.kills} kills planned, {settings.steps} steps, {time.perf_counter() - started:.0f} s")
    return 0 if not report.problems and report.bit_identical else 1


if __name__ == "__main__":
    sys.exit(main())
