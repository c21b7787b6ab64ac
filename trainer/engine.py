"""The step-wise training engine: one loop for the CLI, the app's training panel and torchrun.

`TrainingEngine(config, sink)` builds the data, the approach and the run folder, then `run()` loops
in phases (commands, pause, step, upkeep) until `config.steps`. Other threads steer it only through
a thread-safe inbox whose commands are applied between steps: `pause()` (the thread really sleeps on
a condition variable), `resume()`, `single_step()`, `stop()`, `save_now()`, `set_weights(**changes)`
and `request_snapshot()`. Everything it has to say goes to `sink` as an event (trainer/events.py).

Rank 0 writes the run folder (trainer/run_folder.py): config, metrics, audit log of weight changes,
previews, full training-state checkpoints (trainer/state.py) and the latest inference snapshot.

Rollback policy: the last good state is the one of the latest checkpoint (or the start of the run),
kept as a CPU copy in memory. A non-finite loss (`NonFiniteLossError`, raised before any optimizer
step) restores networks, optimizers, AMP scalers and the step counter from it, emits `RolledBack`,
and trains on: the data position and random streams are *not* rewound, so the batches that led to
the failure are not replayed, and loss weights changed since then stay in force (lowering a weight
is the usual cure). Files already saved are never touched. After `max_rollbacks` rollbacks without
a checkpoint in between the run fails. Under torchrun a non-finite loss fails the run instead,
since the ranks cannot roll back together.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from g2g_desktop.core.checkpoint import (
    CheckpointError,
    infer_funit_discriminator_config,
    infer_funit_generator_config,
    safe_torch_load,
)
from g2g_desktop.core.device import DeviceSettings, pick_device
from g2g_desktop.core.images import tensor_to_uint8
from trainer import distributed
from trainer.approaches import NonFiniteLossError, build_approach
from trainer.config import TrainConfig
from trainer.datasets import IdentityDataset, faces_provenance, open_dataset
from trainer.events import (
    CheckpointSaved,
    Failed,
    Finished,
    ModelSnapshot,
    Noted,
    Paused,
    PreviewReady,
    Resumed,
    RolledBack,
    Started,
    StepDone,
    Warned,
    WeightsChanged,
)
from trainer.heldout import HeldOutScore
from trainer.loss_weights import LossWeights
from trainer.run_folder import RunFolder, check_run_folder, rebuildable, same_path
from trainer.sampler import PairSampler, has_ground_truth
from trainer.state import SaveFn, capture_rng, latest_state, restore_rng, resume_source, run_folder_of, state_to_cpu

log = logging.getLogger(__name__)
ARCHITECTURE_FIELDS = ("approach", "model", "dis", "image_size", "seed")  # a resumed run keeps these
FUNIT_DIS_WIDTH = 16  # FUNIT's discriminator widths stop at 16× its first (nf 64, max_nf 1024)


class TrainingEngine:
    """Trains one run; safe to steer from other threads while `run()` executes in its own."""

    def __init__(
        self,
        config: TrainConfig,  # the run (a resume keeps the architecture stored in the checkpoint)
        sink: Callable[[Any], None] | None = None,  # receives every event, on the engine's thread
        device: str | torch.device | None = None,  # "cpu", "cuda", "cuda:N"; None: CUDA when present
        *,
        dataset: IdentityDataset | None = None,  # default: open_dataset(config.data, config.image_size)
        save_fn: SaveFn = torch.save,  # writes a checkpoint object to a path (tests inject failures)
        dist_info: distributed.DistInfo | None = None,  # torchrun process group, None = one process
        max_rollbacks: int = 3,  # non-finite losses tolerated between two checkpoints
    ):
        self.config = config
        self.sink = sink if sink is not None else (lambda event: None)
        self.device_request = device
        self.dataset = dataset
        self.save_fn = save_fn
        self.dist = dist_info
        self.is_main = dist_info is None or dist_info.is_main
        self.max_rollbacks = max_rollbacks
        self.run_dir = Path(config.out)
        self.current_step = 0
        self.audit: list[dict[str, Any]] = []
        self.approach = None
        self.sampler: PairSampler | None = None
        self._cond = threading.Condition()
        self._inbox: deque[tuple[str, Any]] = deque()
        self._paused = False
        self._step_budget = 0  # steps allowed while paused (single_step)
        self._stop = False
        self._failed = False
        self._ready = False
        self._resumed_from: str | None = None
        self._good: dict[str, Any] = {}
        self._good_step = 0
        self._rollbacks = 0
        self._last_saved_step = -1
        self._interval: dict[str, list[float]] = {}  # losses since the last metrics line
        self._since_checkpoint: list[float] = []  # best_metric values since the last checkpoint
        self._step_seconds: float | None = None  # smoothed duration of one step
        self._notes: list[str] = []  # said once, right after Started
        self.heldout: HeldOutScore | None = None

    # ------------------------------------------------------------------ commands (any thread)

    def pause(self) -> None:
        self._post("pause")

    def resume(self) -> None:
        self._post("resume")

    def single_step(self) -> None:
        """Pause (if running) and do exactly one more step."""
        self._post("single_step")

    def stop(self) -> None:
        """Finish after the current step, with a checkpoint."""
        self._post("stop")

    def save_now(self) -> None:
        self._post("save")

    def request_snapshot(self) -> None:
        """Ask for a `ModelSnapshot` event (CPU copy of the inference generator) after the current step."""
        self._post("snapshot")

    def set_weights(self, **changes: float) -> None:
        """Change loss weights from the next step on; bad names or values raise ValueError here, at once."""
        self.config.weights.replace(**changes)
        self._post("weights", changes)

    def _post(self, name: str, payload: Any = None) -> None:
        with self._cond:
            self._inbox.append((name, payload))
            self._cond.notify_all()

    # ------------------------------------------------------------------ the loop

    def run(self) -> str:
        """Train until `config.steps`, a stop command or a failure; returns the `Finished` reason."""
        try:
            # Set-up: data, networks, resume. Problems with inputs become a Failed event, not a traceback.
            self.setup()
            self._emit(Started(self.current_step, self.config.steps, str(self.run_dir), self.settings.label,
                               self._resumed_from, len(self.sampler.dataset), self.sampler.dataset.num_classes))
            for note in self._notes:  # what set-up inferred or started fresh, before the first step
                self._emit(Noted(self.current_step, note))
            reason = "completed"
            while True:
                # Commands: everything queued since the last step, in order.
                self._apply_commands()
                if self._agreed_stop():
                    reason = "stopped"
                    break
                if self._failed:
                    reason = "failed"
                    break
                # Pause: sleep on the inbox (no CPU) until resume, single_step or stop arrives.
                if self._paused and self._step_budget == 0:
                    self._wait_for_command()
                    continue
                if self.current_step >= self.config.steps:
                    break
                # Step: one discriminator and one generator update on the next batch.
                self._step_budget = max(0, self._step_budget - 1)
                losses = self.step()
                # Upkeep: metrics line, preview, periodic checkpoint.
                if losses is not None:
                    self._upkeep(losses)
            # Last state: checkpoint what was trained, unless a failure left it inconsistent.
            if reason != "failed":
                self._checkpoint("stop" if reason == "stopped" else "final")
        except (CheckpointError, ValueError, OSError) as exc:
            log.debug("training stopped by bad input", exc_info=True)
            self._fail(str(exc))
            reason = "failed"
        except Exception as exc:  # a bug, not bad input: keep the traceback in the log, report one line
            log.exception("training failed")
            self._fail(f"{type(exc).__name__}: {exc}")
            reason = "failed"
        finally:
            if self.sampler is not None:
                self.sampler.close()
        self._emit(Finished(self.current_step, reason))
        return reason

    def step(self) -> dict[str, float] | None:
        """One training step; returns its losses, or None when it was rolled back or failed."""
        self.setup()
        batch = next(self.sampler)
        started = time.perf_counter()
        try:
            losses = self.approach.discriminator_step(batch, self.current_step)
            losses.update(self.approach.generator_step(batch, self.current_step))
        except NonFiniteLossError as exc:
            self._roll_back(exc)
            return None
        except torch.OutOfMemoryError:
            self._restore(state_to_cpu(self._good), data=False)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            self._fail(f"out of GPU memory at batch size {self.config.batch_size} (image size "
                       f"{self.config.image_size}, step {self.current_step}): lower batch_size or image_size")
            return None
        self.current_step += 1
        elapsed = time.perf_counter() - started
        self._step_seconds = elapsed if self._step_seconds is None else 0.9 * self._step_seconds + 0.1 * elapsed
        it_per_s = 1.0 / max(self._step_seconds, 1e-9)
        self._emit(StepDone(self.current_step, self.config.steps, losses, it_per_s,
                            (self.config.steps - self.current_step) / it_per_s))
        return losses

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        """Build everything `run()` needs (idempotent); raises on bad data, config or checkpoint."""
        if self._ready:
            return
        config = self.config
        check_run_folder(self.run_dir, config.resume)  # before anything is read, built or written (every rank)
        try:
            self.settings = DeviceSettings(self.dist.device, None, False) if self.dist else pick_device(
                None if self.device_request is None else str(self.device_request))
        except RuntimeError as exc:  # e.g. CUDA asked for on a machine without it: bad input, not a bug
            raise ValueError(f"device: {exc}") from None
        dataset = self.dataset if self.dataset is not None else open_dataset(config.data, config.image_size,
                                                                              align=config.align)
        self.heldout = HeldOutScore(dataset, config.image_size, config.seed) if config.best_metric == "heldout" \
            else None
        if self.heldout is not None:
            dataset = self.heldout.training_set  # its held-out images are never trained on
        own = run_folder_of(config.resume)
        if own is not None and latest_state(own) is None and same_path(own, self.run_dir):
            state, state_path, funit_gen = None, None, None  # this very run, with nothing to continue yet
        else:
            state, state_path, funit_gen = resume_source(config.resume)
        if state is None and funit_gen is None and (self.run_dir / "config.json").is_file():
            self._notes.append(f"{self.run_dir}: the run here stopped before its first checkpoint; "
                               "it starts again from step 0")
        if state is not None:
            config = self._adopt_stored(state)
        random.seed(config.seed)
        np.random.seed(config.seed % 2**32)
        torch.manual_seed(config.seed)
        if funit_gen is not None and config.approach == "funit2funit":
            config = self.config = self._sized_from_funit(funit_gen)
        self.approach = build_approach(config, dataset.num_classes, self.settings.device)
        rank, world = (self.dist.rank, self.dist.world_size) if self.dist else (0, 1)
        self.sampler = PairSampler(dataset, batch_size=config.batch_size, image_size=config.image_size,
                                   seed=config.seed, rank=rank, world_size=world, num_workers=config.num_workers,
                                   same_identity=True, ground_truth=config.weights.lambda_cross_gt > 0)
        self.preview_batch = PairSampler(dataset, batch_size=1, image_size=config.image_size, seed=config.seed,
                                         train=False).batch(0)
        if state is not None:
            self._load_state(state, state_path)
        elif funit_gen is not None:
            self._load_funit(funit_gen)
        if self.dist:
            distributed.synchronize(self.approach.modules(), world)
        self._good, self._good_step = self._capture(None), self.current_step
        metric_name = self.heldout.name if self.heldout is not None else config.best_metric
        self.files = RunFolder(self.run_dir, config.keep_last, self.save_fn, metric_name)
        if self.is_main:
            removed = self.files.remove_leftover_temp_files()
            if removed:
                self._emit(Warned(self.current_step, f"removed {removed} temp file(s) of interrupted writes"))
            self.files.write_config(self.config.to_dict())
        self._ready = True

    def _adopt_stored(self, state: dict[str, Any]) -> TrainConfig:
        """The run's config with the checkpoint's architecture fields; a warning names any asked to differ."""
        stored = state["config"]
        kept = {k: stored[k] for k in ARCHITECTURE_FIELDS if k in stored}
        overridden = [f"{k}={v!r} (asked {getattr(self.config, k)!r})" for k, v in kept.items()
                      if v != getattr(self.config, k)]
        if overridden:
            self._emit(Warned(int(state["step"]), "the resumed run keeps its " + ", ".join(overridden)))
        self.config = dataclasses.replace(self.config, **kept)
        return self.config

    def _load_state(self, state: dict[str, Any], path: Path) -> None:
        if state.get("approach") != self.approach.name:
            raise CheckpointError(path, f"holds a {state.get('approach')!r} run, not {self.approach.name!r}")
        for name, module in self.approach.modules().items():
            if name not in state["modules"]:
                raise CheckpointError(path, f"training state lacks module {name!r}")
            try:
                module.load_state_dict(state["modules"][name], strict=True)
            except (RuntimeError, TypeError, AttributeError) as exc:
                problem = " ".join(str(exc).split())
                raise CheckpointError(path, f"module {name!r} does not fit this run: {problem[:400]}") from None
        try:
            self._restore(state, data=True, modules=False)
        except (KeyError, ValueError, RuntimeError) as exc:
            raise CheckpointError(path, f"optimizer or sampler state does not fit this run ({exc})") from None
        asked = {k: getattr(self.config, k) for k in ("lr_gen", "lr_dis", "weight_decay")}
        if any(state["config"].get(k, v) != v for k, v in asked.items()):  # else the state's own values hold
            self._configure_optimizers(path)
        requested = self.config.weights.to_dict()
        # what the run was started with, defaults filled in: a weight new to this version counts when asked for
        known = set(requested)
        stored = LossWeights.from_dict({k: v for k, v in state["config"].get("weights", {}).items() if k in known})
        edits = {k: v for k, v in requested.items() if getattr(stored, k) != v}
        self.audit = list(state["audit"])
        self._resumed_from = str(path)
        if same_path(path.parent.parent, self.run_dir):  # continued in place: this state is already on disk
            self._last_saved_step = self.current_step
        if self.current_step >= self.config.steps:
            self._notes.append(f"the run is already at step {self.current_step:,} of {self.config.steps:,}: "
                               "ask for more steps to train it further")
        if edits:
            self._post("weights", edits)

    def _load_funit(self, gen_path: Path) -> None:
        """Start from FUNIT's files: sizes from the tensors, iteration from the name, and a note saying so."""
        if not hasattr(self.approach, "load_funit_pair"):
            raise CheckpointError(gen_path, f"a FUNIT checkpoint can only start a funit2funit run, "
                                            f"not {self.approach.name}")
        dis_path = _dis_path(gen_path)
        optimizer_path = gen_path.with_name("optimizer.pt")
        has_dis, has_optimizer = dis_path.is_file(), optimizer_path.is_file()
        iteration = self.approach.load_funit_pair(gen_path, dis_path if has_dis else None,
                                                  optimizer_path if has_optimizer else None) or 0
        if iteration >= self.config.steps:
            raise ValueError(f"{gen_path.name} is at FUNIT iteration {iteration:,} and steps counts the whole run: "
                             f"ask for more than {iteration:,} (e.g. {iteration + 2000:,} for 2,000 more)")
        self.current_step = iteration
        # FUNIT files carry no config: the sizes read from their tensors become the run's, so the
        # run's own checkpoints rebuild networks that fit them on resume.
        self.config = dataclasses.replace(self.config, **self.approach.architecture())
        self._resumed_from = str(gen_path)
        sizes = ", ".join(f"{k}={v}" for k, v in self.config.model.items())
        dis = ", ".join(f"{k}={v}" for k, v in self.config.dis.items())
        self._notes.append(
            f"{gen_path.name}: generator sizes read from the file ({sizes}); images {self.config.image_size} px "
            "(FUNIT files store no image size; FUNIT trained at 128); "
            + (f"discriminator from {dis_path.name} ({dis})" if has_dis else
               f"discriminator FRESH, no {dis_path.name} beside it ({dis}; FUNIT's proportions to this generator "
               "unless dis.X says otherwise)")
            + ("; optimizer state from optimizer.pt" if has_optimizer else "; optimizer state fresh (no optimizer.pt)")
            + (f"; continues FUNIT's iteration {iteration:,} toward step {self.config.steps:,}" if iteration else ""))
        if has_optimizer:
            self._configure_optimizers(optimizer_path)

    def _sized_from_funit(self, gen_path: Path) -> TrainConfig:
        """The config with the sizes of a FUNIT start, read before any network is built (FUNIT files carry
        no config, and building the configured sizes first would cost a full-size network): the generator's
        from its tensors, the discriminator's from the dis_*.pt beside it, else fresh in FUNIT's proportions
        to that generator (its nf, widths up to 16×), under any `dis.X` the config gives."""
        data = safe_torch_load(gen_path)
        if not isinstance(data, Mapping) or not {"gen", "gen_test"} & set(data):
            return self.config  # load_funit_pair says what is wrong with it
        gen = infer_funit_generator_config(data.get("gen_test", data.get("gen")), gen_path)
        model = {k: v for k, v in gen.to_dict().items() if k != "image_size"}
        dis_path = _dis_path(gen_path)
        if dis_path.is_file():
            stored = safe_torch_load(dis_path)
            dis = infer_funit_discriminator_config(stored["dis"], dis_path).to_dict() \
                if isinstance(stored, Mapping) and "dis" in stored else dict(self.config.dis)
        else:
            dis = {"nf": gen.nf, "max_nf": FUNIT_DIS_WIDTH * gen.nf, **self.config.dis}
        return dataclasses.replace(self.config, model=model, dis=dis)

    def _configure_optimizers(self, source: Path) -> None:
        """The configured lr and weight decay replace those of optimizer states loaded from `source`; a note
        names each change (FUNIT's optimizer.pt, or a run resumed with new values, would otherwise win)."""
        wanted = {"gen": {"lr": self.config.lr_gen}, "dis": {"lr": self.config.lr_dis}}
        changes = []
        for name, optimizer in self.approach.optimizers().items():
            for key, value in {**wanted.get(name, {}), "weight_decay": self.config.weight_decay}.items():
                old = sorted({group[key] for group in optimizer.param_groups if key in group})
                if old and old != [value]:
                    for group in optimizer.param_groups:
                        group[key] = value
                    changes.append(f"{name} {key} {'/'.join(f'{v:g}' for v in old)} -> {value:g}")
        if changes:
            self._notes.append(f"{source.name}: optimizer state loaded with the configured values, not the "
                               f"file's: {', '.join(changes)}")

    # ------------------------------------------------------------------ state capture / restore

    def _capture(self, metric: float | None) -> dict[str, Any]:
        """A CPU copy of everything needed to continue: the training-state checkpoint's contents."""
        approach = self.approach
        return state_to_cpu({
            "step": self.current_step,
            "approach": approach.name,
            "modules": {name: m.state_dict() for name, m in approach.modules().items()},
            "optimizers": {name: o.state_dict() for name, o in approach.optimizers().items()},
            "extra": approach.extra_state(),
            "sampler": self.sampler.state_dict(),
            "rng": capture_rng(),
            "config": self.config.to_dict(),
            "weights": approach.weights.to_dict(),
            "audit": list(self.audit),
            "metric": metric,
        })

    def _restore(self, state: dict[str, Any], *, data: bool, modules: bool = True) -> None:
        """Load `state` into the live run; `data` also rewinds the sampler and the random streams."""
        approach = self.approach
        if modules:
            for name, module in approach.modules().items():
                module.load_state_dict(state["modules"][name])
        for name, optimizer in approach.optimizers().items():
            optimizer.load_state_dict(state["optimizers"][name])
        approach.load_extra_state(state.get("extra", {}))
        self.current_step = int(state["step"])
        if data:
            approach.weights = LossWeights.from_dict(state["weights"])
            self.sampler.load_state_dict(state["sampler"])
            restore_rng(state["rng"])

    def _roll_back(self, exc: NonFiniteLossError) -> None:
        failed_step = self.current_step
        self._rollbacks += 1
        if self.dist or self._rollbacks > self.max_rollbacks:
            self._fail(f"{exc} at step {failed_step}" + ("" if self.dist else
                       f", {self._rollbacks} times since step {self._good_step}: lower the learning rate or "
                       "the loss weights"))
            return
        self._restore(state_to_cpu(self._good), data=False)
        self._emit(RolledBack(self.current_step, str(exc), failed_step))

    # ------------------------------------------------------------------ commands (engine thread)

    def _apply_commands(self) -> None:
        with self._cond:
            commands = list(self._inbox)
            self._inbox.clear()
        for name, payload in commands:
            if name == "pause" and not self._paused:
                self._paused = True
                self._emit(Paused(self.current_step))
                self._checkpoint("pause")
            elif name == "single_step":
                if not self._paused:
                    self._paused = True
                    self._emit(Paused(self.current_step))
                self._step_budget += 1
            elif name == "resume" and self._paused:
                self._paused, self._step_budget = False, 0
                self._emit(Resumed(self.current_step))
            elif name == "stop":
                self._stop = True
            elif name == "save":
                self._checkpoint("manual")
            elif name == "weights":
                self._apply_weights(payload)
            elif name == "snapshot":
                self._snapshot()

    def _wait_for_command(self) -> None:
        with self._cond:
            while not self._inbox:
                self._cond.wait()

    def _agreed_stop(self) -> bool:
        return distributed.any_rank(self._stop, self.settings.device) if self.dist else self._stop

    def _apply_weights(self, changes: dict[str, float]) -> None:
        old = self.approach.weights
        new = old.replace(**changes)
        diff = {k: (getattr(old, k), getattr(new, k)) for k in changes if getattr(old, k) != getattr(new, k)}
        if not diff:
            return
        self.approach.weights = new
        if new.lambda_cross_gt > 0 and not self.sampler.ground_truth:
            self._start_ground_truth()
        records = [{"step": self.current_step, "field": k, "old": o, "new": n} for k, (o, n) in diff.items()]
        self.audit.extend(records)
        self._write("audit.jsonl", self.files.append_audit, records)
        self._emit(WeightsChanged(self.current_step, diff, new.to_dict()))

    def _start_ground_truth(self) -> None:
        """λ_cross raised mid-run: the sampler starts rendering true swaps (x1, x2 stay as they were)."""
        if has_ground_truth(self.sampler.dataset):
            self.sampler.ground_truth = True
            self.sampler.close()  # loader workers restart with the flag, from the same position
        else:
            self._emit(Warned(self.current_step, "λ_cross has no effect here: photos have no ground-truth swaps "
                                                 "(only procedural faces do)"))

    def _snapshot(self) -> None:
        generator = self.approach.inference_generator()
        if not rebuildable(generator):
            self._emit(Warned(self.current_step, f"the {generator.architecture} generator needs the face network "
                                                 "and cannot be copied out for mixing"))
            return
        self._emit(ModelSnapshot(self.current_step, state_to_cpu(generator.state_dict()), generator.config,
                                 self.approach.name))

    # ------------------------------------------------------------------ upkeep

    def _upkeep(self, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            self._interval.setdefault(name, []).append(value)
        if self.config.best_metric in losses:
            self._since_checkpoint.append(losses[self.config.best_metric])
        step = self.current_step
        if step % self.config.log_every == 0:
            self._write_metrics()
        if step % self.config.preview_every == 0:
            self._preview()
        if step % self.config.checkpoint_every == 0:
            self._checkpoint("periodic")

    def _write_metrics(self) -> None:
        means = {name: float(np.mean(values)) for name, values in self._interval.items()}
        self._interval = {}
        speed = 0.0 if self._step_seconds is None else 1.0 / max(self._step_seconds, 1e-9)
        line = {"step": self.current_step, "time": time.time(), "it_per_s": speed, **means}
        self._write("metrics.jsonl", self.files.append_metrics, line)

    def _preview(self) -> None:
        devices = [self.settings.device.index or 0] if self.settings.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # previews never disturb the training's random streams
            result = self.approach.preview(self.preview_batch)
        grid = tensor_to_uint8(result.grid())
        self._emit(PreviewReady(self.current_step, grid, tensor_to_uint8(result.original),
                                tensor_to_uint8(result.mixed), tensor_to_uint8(result.reconstructed)))
        self._write("preview", self.files.save_preview, self.current_step, grid)

    def _checkpoint(self, kind: str) -> None:
        """Save the full training state (rank 0) and remember it as the rollback point (every rank)."""
        if self.current_step == self._last_saved_step:
            if kind == "manual" and self.is_main:  # already on disk: say where
                self._emit(CheckpointSaved(str(self.files.checkpoint_path(self.current_step)), self.current_step, kind))
            return
        if self.heldout is not None:
            metric = self.heldout(self.approach.inference_generator()) if self.is_main else None
        else:
            metric = float(np.mean(self._since_checkpoint)) if self._since_checkpoint else None
        state = self._capture(metric)
        self._good, self._good_step, self._rollbacks = state, self.current_step, 0
        self._since_checkpoint = []
        if not self.is_main:
            self._last_saved_step = self.current_step
            return
        try:
            generator = self.approach.inference_generator()
            weights = "gen" if generator is self.approach.generator else "gen_test"
            path = self.files.save_checkpoint(self.current_step, state, metric, generator,
                                              {"run": str(self.run_dir), "data": self.config.data,
                                               **faces_provenance(self.config.align)}, weights)
        except (OSError, RuntimeError) as exc:
            self._emit(Warned(self.current_step, f"checkpoint at step {self.current_step} not saved ({exc}); "
                                                 "the previous checkpoint is intact and training goes on"))
            return
        self._last_saved_step = self.current_step
        score_name = self.heldout.name if self.heldout is not None and metric is not None else None
        if score_name is not None:
            self._write("eval.jsonl", self.files.append_eval,
                        {"step": self.current_step, "time": time.time(), score_name: metric})
        self._emit(CheckpointSaved(str(path), self.current_step, kind, metric if score_name else None, score_name))

    # ------------------------------------------------------------------ helpers

    def _write(self, what: str, write: Callable[..., Any], *args: Any) -> None:
        """A run-folder write on rank 0; a failure is a warning, never the end of the run."""
        if not self.is_main:
            return
        try:
            write(*args)
        except OSError as exc:
            self._emit(Warned(self.current_step, f"{what} not written ({exc})"))

    def _fail(self, message: str) -> None:
        self._failed = True
        self._emit(Failed(message))

    def _emit(self, event: Any) -> None:
        self.sink(event)


def _dis_path(gen_path: Path) -> Path:
    """FUNIT saves dis_XXXXXXXX.pt beside gen_XXXXXXXX.pt."""
    return gen_path.with_name("dis_" + gen_path.name[len("gen_"):])

