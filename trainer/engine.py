"""The step-wise training engine: one loop for the CLI, the app's training panel and torchrun.

`TrainingEngine(config, sink)` builds the data, the approach and the run folder (what it starts from:
trainer/run_start.py), then `run()` loops in phases (commands, pause, step, upkeep) until `config.steps`.
Other threads steer it only through a thread-safe inbox of command objects (trainer/engine_control.py)
applied between steps, each by the handler its type maps to: `pause()` (the thread really sleeps on a
condition variable), `resume()`, `single_step()`, `stop()`, `save_now()`, `set_weights(**changes)` and
`request_snapshot()`. The loop's flags live in one `LoopState`. Everything it has to say goes to `sink` as
an event (trainer/events.py).

Rank 0 writes the run folder (trainer/run_folder.py, from trainer/engine_upkeep.py): config, metrics, audit
log of weight changes, previews, full training-state checkpoints (trainer/state.py), the latest snapshot.

Rollback policy: the last good state (`RollbackPoint`) is the one of the latest checkpoint (or the start
of the run), kept as a CPU copy in memory. A non-finite loss (`NonFiniteLossError`, raised before any optimizer
step) restores networks, optimizers, AMP scalers and the step counter from it, emits `RolledBack`,
and trains on: the data position and random streams are *not* rewound, so the batches that led to
the failure are not replayed, and loss weights changed since then stay in force (lowering a weight
is the usual cure). Checkpoints already saved are never touched; the metric and held-out lines of the steps
rolled back are dropped, as a resume drops them, so each step is logged once. After `max_rollbacks`
rollbacks without a checkpoint in between the run fails. Under torchrun a non-finite loss fails the run
instead, since the ranks cannot roll back together.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from g2g_desktop.core.safe_io import CheckpointError
from trainer import distributed
from trainer import events as ev
from trainer.approaches import NonFiniteLossError, build_approach
from trainer.config import TrainConfig
from trainer.datasets import IdentityDataset, open_dataset
from trainer.engine_control import (
    Command,
    Inbox,
    LoopState,
    Pause,
    Resume,
    RollbackPoint,
    SaveNow,
    SetWeights,
    SingleStep,
    Snapshot,
    Stop,
)
from trainer.engine_upkeep import EngineUpkeep
from trainer.heldout import HeldOutScore
from trainer.loss_weights import LossWeights
from trainer.run_folder import RunFolder, check_run_folder, same_path
from trainer.run_start import (
    configure_optimizers,
    discard_note,
    find_start,
    load_funit_start,
    load_modules_checked,
    load_warm_start,
)
from trainer.sampler import PairSampler
from trainer.state import SaveFn, capture_training_state, restore_training_state
from trainer.training_device import training_device, use_layout

log = logging.getLogger(__name__)


class TrainingEngine(EngineUpkeep):
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
        self.inbox = Inbox()
        self.run_state = LoopState()
        self.rollback_point = RollbackPoint()
        self.heldout: HeldOutScore | None = None

    # ------------------------------------------------------------------ commands (any thread)

    def pause(self) -> None:
        self.inbox.post(Pause())

    def resume(self) -> None:
        self.inbox.post(Resume())

    def single_step(self) -> None:
        """Pause (if running) and do exactly one more step."""
        self.inbox.post(SingleStep())

    def stop(self) -> None:
        """Finish after the current step, with a checkpoint."""
        self.inbox.post(Stop())

    def save_now(self) -> None:
        self.inbox.post(SaveNow())

    def request_snapshot(self) -> None:
        """Ask for a `ModelSnapshot` event (CPU copy of the inference generator) after the current step."""
        self.inbox.post(Snapshot())

    def set_weights(self, **changes: float) -> None:
        """Change loss weights from the next step on; bad names or values raise ValueError here, at once."""
        self.config.weights.replace(**changes)
        self.inbox.post(SetWeights(changes))

    # ------------------------------------------------------------------ the loop

    def run(self) -> ev.EndReason:
        """Train until `config.steps`, a stop command or a failure; returns the `Finished` reason."""
        try:
            # Set-up: data, networks, resume. Problems with inputs become a Failed event, not a traceback.
            self.setup()
            run = self.run_state
            self._emit(ev.Started(self.current_step, self.config.steps, str(self.run_dir), self.settings.label,
                               run.resumed_from, len(self.sampler.dataset), self.sampler.dataset.num_classes))
            for note in run.notes:  # what set-up inferred or started fresh, before the first step
                self._emit(ev.Noted(self.current_step, note))
            reason = ev.EndReason.COMPLETED
            while True:
                # Commands: everything queued since the last step, in order.
                self._apply_commands()
                if self._agreed_stop():
                    reason = ev.EndReason.STOPPED
                    break
                if run.failed:
                    reason = ev.EndReason.FAILED
                    break
                # Pause: sleep on the inbox (no CPU) until resume, single_step or stop arrives.
                if run.paused and run.step_budget == 0:
                    self.inbox.wait()
                    continue
                if self.current_step >= self.config.steps:
                    break
                # Step: one discriminator and one generator update on the next batch.
                run.step_budget = max(0, run.step_budget - 1)
                losses = self.step()
                # Upkeep: metrics line, preview, periodic checkpoint.
                if losses is not None:
                    self._upkeep(losses)
            # Last state: checkpoint what was trained, unless a failure left it inconsistent.
            if reason != ev.EndReason.FAILED:
                self._checkpoint(ev.CheckpointKind.STOP if reason == ev.EndReason.STOPPED else ev.CheckpointKind.FINAL)
        except (CheckpointError, ValueError, OSError) as exc:
            log.debug("training stopped by bad input", exc_info=True)
            self._fail(str(exc))
            reason = ev.EndReason.FAILED
        except Exception as exc:  # a bug, not bad input: keep the traceback in the log, report one line
            log.exception("training failed")
            self._fail(f"{type(exc).__name__}: {exc}")
            reason = ev.EndReason.FAILED
        finally:
            if self.sampler is not None:
                self.sampler.close()
        self._emit(ev.Finished(self.current_step, reason))
        return reason

    def step(self) -> dict[str, float] | None:
        """One training step; returns its losses, or None when it was rolled back or failed."""
        self.setup()
        batch = next(self.sampler).to(self.settings.device, self.settings.channels_last)
        started = time.perf_counter()
        try:
            losses = self.approach.discriminator_step(batch, self.current_step)
            losses.update(self.approach.generator_step(batch, self.current_step))
        except NonFiniteLossError as exc:
            self._roll_back(exc)
            return None
        except torch.OutOfMemoryError:
            self._restore(self.rollback_point.copy(), data=False)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            self._fail(f"out of GPU memory at batch size {self.config.batch_size} (image size "
                       f"{self.config.image_size}, step {self.current_step}): lower batch_size or image_size")
            return None
        self.current_step += 1
        it_per_s = self.run_state.time_step(time.perf_counter() - started)
        self._emit(ev.StepDone(self.current_step, self.config.steps, losses, it_per_s,
                            (self.config.steps - self.current_step) / it_per_s))
        return losses

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        """Build everything `run()` needs (idempotent); raises on bad data, config or checkpoint."""
        if self.run_state.ready:
            return
        config = self.config
        check_run_folder(self.run_dir, config.resume)  # before anything is read, built or written (every rank)
        self.settings = training_device(self.dist.device if self.dist else None, self.device_request)
        dataset = self.dataset if self.dataset is not None else open_dataset(config.data, config.image_size,
                                                                              align=config.align)
        self.heldout = HeldOutScore(dataset, config.image_size, config.seed) if config.best_metric == "heldout" \
            else None
        if self.heldout is not None:
            dataset = self.heldout.training_set  # its held-out images are never trained on
        start = find_start(config, self.run_dir)
        if start.warning is not None:
            self._emit(ev.Warned(int(start.state["step"]) if start.state else start.warm.step, start.warning))
        config = self.config = start.config
        state, state_path, funit_gen = start.state, start.state_path, start.funit_gen
        random.seed(config.seed)
        np.random.seed(config.seed % 2**32)
        torch.manual_seed(config.seed)
        self.approach = build_approach(config, dataset.num_classes, self.settings.device, len(dataset))
        use_layout(self.approach.modules(), self.settings)
        rank, world = (self.dist.rank, self.dist.world_size) if self.dist else (0, 1)
        options = {"same_identity": True, "ground_truth": config.weights.lambda_cross_gt > 0,
                   **self.approach.sampler_options()}
        self.sampler = PairSampler(dataset, batch_size=config.batch_size, image_size=config.image_size,
                                   seed=config.seed, rank=rank, world_size=world, num_workers=config.num_workers,
                                   **options)
        self.preview_batch = PairSampler(dataset, batch_size=1, image_size=config.image_size, seed=config.seed,
                                         train=False).batch(0)
        if config.weights.uses_critic:
            self._start_critic()
        if state is not None:
            self._load_state(state, state_path)
        elif funit_gen is not None:
            self._load_funit(funit_gen)
        elif start.warm is not None:
            self.current_step = start.warm.step
            self.run_state.notes.append(load_warm_start(self.approach, config, start.warm))
            self.run_state.resumed_from = str(start.warm.path)
        if self.dist:
            distributed.synchronize(self.approach.modules(), world)
        self._record_precision()
        if self.config.cpu_precision:  # on the CPU: which precision, and why
            self.run_state.notes.append(f"training precision: {self.approach.cpu_bf16_note}")
        self.rollback_point.mark(self._capture(None), self.current_step)
        metric_name = self.heldout.name if self.heldout is not None else config.best_metric
        self.files = RunFolder(self.run_dir, config.keep_last, self.save_fn, metric_name)
        kept_to = self.current_step if self.run_state.last_saved_step == self.current_step else -1  # in place?
        dropped = {}
        if self.is_main:
            removed = self.files.remove_leftover_temp_files()
            if removed:
                self._emit(ev.Warned(self.current_step, f"removed {removed} temp file(s) of interrupted writes"))
            dropped = self.files.discard_after(kept_to)  # else the curves would hold these steps twice
            self.files.write_config(self.config.to_dict())
        note = discard_note(self.run_dir, start.restarting, kept_to, dropped)
        if note is not None:
            self.run_state.notes.append(note)
        self.run_state.ready = True

    def _load_state(self, state: dict[str, Any], path: Path) -> None:
        load_modules_checked(self.approach, state, path)
        try:
            self._restore(state, data=True, modules=False)
        except (KeyError, ValueError, RuntimeError) as exc:
            raise CheckpointError(path, f"optimizer or sampler state does not fit this run ({exc})") from None
        asked = {k: getattr(self.config, k) for k in ("lr_gen", "lr_dis", "lr_latent", "weight_decay")}
        if any(state["config"].get(k, v) != v for k, v in asked.items()):  # else the state's own values hold
            self._configure_optimizers(path)
        requested = self.config.weights.to_dict()
        # what the run was started with, defaults filled in: a weight new to this version counts when asked for
        known = set(requested)
        stored = LossWeights.from_dict({k: v for k, v in state["config"].get("weights", {}).items() if k in known})
        edits = {k: v for k, v in requested.items() if getattr(stored, k) != v}
        self.audit = list(state["audit"])
        self.run_state.resumed_from = str(path)
        if same_path(path.parent.parent, self.run_dir):  # continued in place: this state is already on disk
            self.run_state.last_saved_step = self.current_step
        if self.current_step >= self.config.steps:
            self.run_state.notes.append(f"the run is already at step {self.current_step:,} of "
                                        f"{self.config.steps:,}: ask for more steps to train it further")
        if edits:
            self.inbox.post(SetWeights(edits))

    def _load_funit(self, gen_path: Path) -> None:
        """Start from FUNIT's files: sizes from the tensors, iteration from the name, and a note saying so."""
        start = load_funit_start(self.approach, self.config, gen_path)
        self.current_step, self.config = start.iteration, start.config
        self.run_state.resumed_from = str(gen_path)
        self.run_state.notes.append(start.note)
        if start.optimizer_path is not None:
            self._configure_optimizers(start.optimizer_path)

    def _configure_optimizers(self, source: Path) -> None:
        note = configure_optimizers(self.approach.optimizers(), self.config, source)
        if note is not None:
            self.run_state.notes.append(note)

    # ------------------------------------------------------------------ state capture / restore

    def _capture(self, metric: float | None) -> dict[str, Any]:
        """A CPU copy of everything needed to continue: the training-state checkpoint's contents."""
        return capture_training_state(self.approach, self.sampler, self.config, self.audit, self.current_step, metric)

    def _restore(self, state: dict[str, Any], *, data: bool, modules: bool = True) -> None:
        """Load `state` into the live run; `data` also rewinds the sampler and the random streams."""
        self.current_step = restore_training_state(self.approach, self.sampler, state, data=data, modules=modules)

    def _roll_back(self, exc: NonFiniteLossError) -> None:
        failed_step, point = self.current_step, self.rollback_point
        point.rollbacks += 1
        if self.dist or point.rollbacks > self.max_rollbacks:
            self._fail(f"{exc} at step {failed_step}" + ("" if self.dist else
                       f", {point.rollbacks} times since step {point.step}: lower the learning rate or "
                       "the loss weights"))
            return
        self._restore(point.copy(), data=False)
        precision_changed = self._record_precision()  # bf16 gave the NaN: the rest of the run is fp32
        if self.is_main:
            self.files.discard_after(self.current_step, logs=("metrics.jsonl", "eval.jsonl"), previews=False)
            if precision_changed:
                self.files.write_config(self.config.to_dict())
        self._emit(ev.RolledBack(self.current_step, str(exc), failed_step))

    def _record_precision(self) -> bool:
        """Put the approach's CPU precision into the config (config.json, checkpoints); True when it changed."""
        chosen = self.approach.cpu_precision
        if chosen == self.config.cpu_precision:
            return False
        self.config = dataclasses.replace(self.config, cpu_precision=chosen)
        return True

    # ------------------------------------------------------------------ commands (engine thread)

    def _apply_commands(self) -> None:
        for command in self.inbox.drain():
            HANDLERS[type(command)](self, command)

    def _on_pause(self, _: Command) -> None:
        if not self.run_state.paused:
            self.run_state.paused = True
            self._emit(ev.Paused(self.current_step))
            self._checkpoint(ev.CheckpointKind.PAUSE)

    def _on_single_step(self, _: Command) -> None:
        if not self.run_state.paused:
            self.run_state.paused = True
            self._emit(ev.Paused(self.current_step))
        self.run_state.step_budget += 1

    def _on_resume(self, _: Command) -> None:
        if self.run_state.paused:
            self.run_state.paused, self.run_state.step_budget = False, 0
            self._emit(ev.Resumed(self.current_step))

    def _on_stop(self, _: Command) -> None:
        self.run_state.stop = True

    def _on_save(self, _: Command) -> None:
        self._checkpoint(ev.CheckpointKind.MANUAL)

    def _on_weights(self, command: SetWeights) -> None:
        self._apply_weights(command.changes)

    def _on_snapshot(self, _: Command) -> None:
        self._snapshot()

    def _agreed_stop(self) -> bool:
        stop = self.run_state.stop
        return distributed.any_rank(stop, self.settings.device) if self.dist else stop

    # ------------------------------------------------------------------ helpers

    def _fail(self, message: str) -> None:
        self.run_state.failed = True
        self._emit(ev.Failed(message))

    def _emit(self, event: Any) -> None:
        self.sink(event)


HANDLERS: dict[type, Callable[[TrainingEngine, Any], None]] = {  # each command type and what it does
    Pause: TrainingEngine._on_pause,
    Resume: TrainingEngine._on_resume,
    SingleStep: TrainingEngine._on_single_step,
    Stop: TrainingEngine._on_stop,
    SaveNow: TrainingEngine._on_save,
    SetWeights: TrainingEngine._on_weights,
    Snapshot: TrainingEngine._on_snapshot,
}
