"""The model study (`make study`): named training recipes on a fixed budget, measured on ground truth.

Each row of `docs/study.md` is one `StudyRun` of trainer/study_recipes.py: a change to the shared base
recipe, trained by the project's own engine on procedural faces for a fixed number of steps on one CPU
thread, then measured on held-out identities with the `g2g-eval` metrics (trainer/metrics.py). Every
`curve_every(steps)` steps a small evaluation goes into the row's `curves.jsonl`, which
`trainer.study_report` draws as learning curves. A run folder that already holds checkpoints is resumed,
a row with `results.json` is skipped, so an interrupted study continues where it stopped:

    python -m trainer.study                     # every run, then the report
    python -m trainer.study --only same_lord    # one row (what docs/study.md quotes as its command)

Two folders: `--dir` (runs/study) holds each row's training run (checkpoints, model), which is large and
stays out of the repository; `--rows` (docs/study_rows) holds what the report is made of — each row's
`curves.jsonl`, appended point by point as it trains, and its `results.json` and swap sheet once measured —
and is committed, so a fresh clone keeps every measured row and `--report-only` redraws the page. A row
whose training folder is gone (a fresh machine) starts again from step 0 and its partial curve with it,
unless `--park` committed its latest state there.

Fine-tuning rows (`start_from`) continue another row's final checkpoint with other loss weights,
as the paper fine-tuned FUNIT's animals model with its G2G losses (§V-C).

Where the study writes is a `StudyPaths` (from the flags) and how it measures a `StudySettings`; both are
passed down as arguments, so a test runs a tiny study in its own folders without patching this module.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from g2g_desktop.core.checkpoint import load_generator
from trainer import study_recipes as recipes
from trainer.config import config_from_dict
from trainer.critic_check import CriticCurve
from trainer.datasets import open_dataset
from trainer.engine import TrainingEngine
from trainer.events import Failed, StepDone
from trainer.identity_classifier import IdentityClassifier, train_identity_classifier
from trainer.metrics import mask_sheet, sample_pairs, swap_metrics, swap_sheet
from trainer.probes import leakage_probes
from trainer.procedural_dataset import ProceduralFaceDataset
from trainer.state import latest_state
from trainer.study_recipes import StudyRun
from trainer.study_report import ReportFiles, read_curve, write_report


@dataclass(frozen=True)
class StudyPaths:
    """Where the study writes (`--dir`, `--rows`) and the report it draws from the rows."""

    runs: Path = Path("runs/study")  # each row's training run: checkpoints, model (large, not committed)
    rows: Path = Path("docs/study_rows")  # each row's curve, results and sheets: what the report is made of
    report: ReportFiles = field(default_factory=ReportFiles)  # docs/study.md and its two pictures


@dataclass(frozen=True)
class EvalSet:
    """One held-out evaluation: procedural identities × samples each, the (content, class) pairs measured."""

    identities: int = 30
    samples: int = 8
    pairs: int = 128  # as default.md's evaluation
    seed: int = 0


@dataclass(frozen=True)
class StudySettings:
    """How the study measures its rows; the defaults made docs/study.md's figures."""

    eval_every: int = 50  # steps between two points of the learning curves (at least; long rows space them out)
    curve_points: int = 20  # a long row's curve gets about this many points: the evaluation costs ~3 s each
    curve_eval: EvalSet = EvalSet(pairs=48)  # small: cheap enough every 50 steps
    final_eval: EvalSet = EvalSet()
    classifier_cache: Path | None = None  # the judge's weight cache; None = identity_classifier.default_cache_dir()

    def curve_every(self, steps: int) -> int:
        """Steps between two curve points: `eval_every` for the 300-step rows, about `curve_points` along a long
        row (a multiple of `eval_every`, so the first 300 steps of every row share their points)."""
        return max(1, round(steps / self.curve_points / self.eval_every)) * self.eval_every


class Evaluator:
    """Held-out procedural data, pairs and identity classifier at one image size, built once per study."""

    def __init__(self, image_size: int, eval_set: EvalSet, classifier_cache: Path | None = None):
        self.eval_set = eval_set
        self.data = ProceduralFaceDataset(eval_set.identities, eval_set.samples, image_size, eval_set.seed, "heldout")
        self.pairs = sample_pairs(self.data.labels, eval_set.pairs, eval_set.seed)
        self.classifier: IdentityClassifier = train_identity_classifier(
            self.data, seed=eval_set.seed, cache_dir=classifier_cache
        )

    def __call__(self, gen, *, probes: bool = False) -> dict[str, float]:
        was_training = gen.training
        gen.eval()
        try:
            metrics = swap_metrics(gen, self.data, self.pairs, classifier=self.classifier)
            if probes:
                metrics.update(leakage_probes(gen, self.data, seed=self.eval_set.seed))
        finally:
            gen.train(was_training)
        return metrics


def exported_faces(study_dir: Path, spec: str, image_size: int) -> Path:
    """The procedural data set `spec` written once as an identity-folder tree (`<study_dir>/_faces/…`).

    A row trained from it sees exactly what a user's photo folder gives the trainer — labels from folder
    names, no renderer, no true swaps — yet the same pixels in the same order (PNG is lossless, folders and
    files sort like the procedural items), so its figures against its procedural twin's show what the photo
    path itself changes.
    """
    dataset = open_dataset(spec, image_size)
    folder = study_dir / "_faces" / f"{spec.replace(':', '-')}-{dataset.image_size}px"
    complete = folder / ".complete"  # written last: an interrupted export is redone
    if not complete.exists():
        shutil.rmtree(folder, ignore_errors=True)
        dataset.export(folder)
        complete.touch()
    return folder


def parked_state(row: Path) -> Path | None:
    """The training state `--park` committed into a row's folder (an unfinished long row), or None."""
    found = sorted(row.glob("state_*.pt"))
    return found[-1] if found else None


def park(run: StudyRun, folder: Path, row: Path, log: Callable[[str], None] = print) -> Path | None:
    """Copy an unfinished row's latest training state into its committed folder, so a session on a fresh
    machine continues it instead of starting again (~7 MB a row at study size; removed once measured)."""
    state = latest_state(folder)
    if state is None or (row / "results.json").exists():
        log(f"study: {run.name} has nothing to park (no checkpoint, or already measured)")
        return None
    row.mkdir(parents=True, exist_ok=True)
    target = row / state.name
    partial = target.with_suffix(".partial")
    shutil.copyfile(state, partial)
    partial.replace(target)
    for older in row.glob("state_*.pt"):
        if older != target:
            older.unlink()
    log(f"study: {run.name} parked at {target}")
    return target


def train_run(run: StudyRun, paths: StudyPaths, curve_eval: Evaluator, settings: StudySettings,
              log: Callable[[str], None] = print) -> bool:
    """Train (or resume) one row into its folder of `paths.runs`, appending learning-curve points to its
    `paths.rows` folder's curves.jsonl; True when it completed. A fine-tuning row starts from its parent's
    final state in `paths.runs`."""
    folder, row = paths.runs / run.name, paths.rows / run.name
    config = dict(run.config(), out=str(folder))
    if run.from_folder:
        config["data"] = str(exported_faces(paths.runs, config["data"], config["image_size"]))
    curve_path = row / "curves.jsonl"
    parked = parked_state(row)
    if any((folder / "checkpoints").glob("state_*.pt")):
        config["resume"] = str(folder)
    elif parked is not None:  # a fresh machine: go on from the state an earlier session committed
        log(f"study: {run.name} continues from the parked {parked}")
        config["resume"] = str(parked)
    else:  # from step 0 (or the parent's end): points of an earlier attempt would mix two runs
        curve_path.unlink(missing_ok=True)
        if run.start_from is not None:
            start = latest_state(paths.runs / run.start_from)
            if start is None:
                log(f"study: {run.name} needs {run.start_from} first")
                return False
            config["resume"] = str(start)
    done_steps = {int(point["step"]) for point in read_curve(curve_path)}
    folder.mkdir(parents=True, exist_ok=True)
    row.mkdir(parents=True, exist_ok=True)
    every = settings.curve_every(config["steps"])
    started = time.perf_counter()
    failure: list[str] = []
    critic_curve = CriticCurve()  # issue 19: is the identity critic fooled? ({} for rows without it)

    def sink(event: Any) -> None:
        if isinstance(event, Failed):
            failure.append(event.message)
        if isinstance(event, StepDone) and event.step % every == 0 and event.step not in done_steps:
            metrics = curve_eval(engine.approach.inference_generator())
            metrics.update(critic_curve(engine))
            point = {"step": event.step, "seconds": time.perf_counter() - started, **metrics,
                     **{k: v for k, v in event.losses.items() if k.endswith("total")}}
            with curve_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(point) + "\n")
            log(f"study: {run.name} step {event.step}: swap ratio {metrics['swap/ratio']:.3f}, "
                f"person {metrics['swap/ratio_person']:.3f}, self PSNR {metrics['self/psnr']:.1f} dB, "
                f"identity {metrics['identity/mixed_acc']:.2f}")

    engine = TrainingEngine(config_from_dict(config), sink, device="cpu")
    reason = engine.run()
    if reason != "completed":
        log(f"study: {run.name} {reason}: {'; '.join(failure)}")
        return False
    return True


def finish_run(run: StudyRun, folder: Path, row: Path, final_eval: Evaluator) -> dict[str, Any]:
    """Final metrics (with probes) of a completed row and its swap sheet, written into `row`."""
    gen = load_generator(folder)  # the run folder's model_latest.safetensors
    metrics = final_eval(gen, probes=True)
    curve = read_curve(row / "curves.jsonl")
    result = {
        "name": run.name,
        "question": run.question,
        "config": run.config(),
        "from_folder": run.from_folder,
        "command": f"python -m trainer.study --only {run.name}",
        "train_seconds": curve[-1]["seconds"] if curve else None,
        "metrics": metrics,
    }
    swap_sheet(gen, final_eval.data, final_eval.pairs[:6], scale=2).save(row / "sheet.png")
    if gen.has_mask_head:
        mask_sheet(gen, final_eval.data, final_eval.pairs[:6], scale=2).save(row / "mask_sheet.png")
    (row / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    for parked in row.glob("state_*.pt"):  # measured: the parked state has served its purpose
        parked.unlink()
    return result


def claim(folder: Path) -> bool:
    """Take the row's lock (its PID in `.study-lock`) so two study processes can share one list of rows.

    A lock whose process is gone (killed study) is taken over.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".study-lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            owner = int(lock.read_text() or 0)
            os.kill(owner, 0)
            return owner == os.getpid()
        except (ValueError, ProcessLookupError):
            lock.unlink(missing_ok=True)
            return claim(folder)
        except PermissionError:
            return False
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    return True


def release(folder: Path) -> None:
    (folder / ".study-lock").unlink(missing_ok=True)


def main(argv: list[str] | None = None, *, settings: StudySettings | None = None,
         report: ReportFiles | None = None) -> int:
    """The `python -m trainer.study` command; `settings` and `report` (default: the shipped study's) are for
    callers that run a study of their own, such as the tests."""
    settings, defaults = settings or StudySettings(), StudyPaths()
    parser = argparse.ArgumentParser(description="Train and measure the model study's runs (docs/study.md).")
    parser.add_argument("--only", nargs="+", help="run only these rows (default: all, in table order)")
    parser.add_argument("--dir", type=Path, default=defaults.runs, help="folder of the rows' training runs")
    parser.add_argument("--rows", type=Path, default=defaults.rows,
                        help="folder of the measured rows the report is made of (committed)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 suits a shared CPU)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite docs/study.md from results")
    parser.add_argument("--no-report", action="store_true", help="train and measure only (another process reports)")
    parser.add_argument("--park", action="store_true",
                        help="copy the latest state of each unfinished row (--only, or all) into its --rows folder "
                             "for a later session to continue, then stop")
    args = parser.parse_args(argv)
    paths = StudyPaths(args.dir, args.rows, report or defaults.report)
    torch.set_num_threads(max(1, args.threads))

    try:
        runs = [recipes.run_by_name(name) for name in args.only or [run.name for run in recipes.RUNS]]
    except KeyError as exc:
        print(f"study: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.park:
        for run in runs:
            park(run, paths.runs / run.name, paths.rows / run.name)
        return 0
    if not args.report_only:
        evaluators: dict[tuple[int, str], Evaluator] = {}

        def evaluator(size: int, kind: str) -> Evaluator:
            if (size, kind) not in evaluators:
                eval_set = settings.curve_eval if kind == "curve" else settings.final_eval
                evaluators[(size, kind)] = Evaluator(size, eval_set, settings.classifier_cache)
            return evaluators[(size, kind)]

        for run in runs:
            folder, row = paths.runs / run.name, paths.rows / run.name
            if (row / "results.json").exists():
                print(f"study: {run.name} already measured ({row / 'results.json'})")
                continue
            if not claim(folder):
                print(f"study: {run.name} is being trained by another study process; next row")
                continue
            try:
                size = run.config()["image_size"]
                if train_run(run, paths, evaluator(size, "curve"), settings):
                    result = finish_run(run, folder, row, evaluator(size, "final"))
                    print(f"study: {run.name} done: swap ratio {result['metrics']['swap/ratio']:.3f}")
            finally:
                release(folder)
    if not args.no_report:
        write_report(paths.rows, [run.name for run in recipes.RUNS], paths.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
