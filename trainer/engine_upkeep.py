"""The upkeep of a running `TrainingEngine`: what it records between steps.

Metrics lines, previews, checkpoints (each also the new rollback point), model snapshots and loss-weight
changes (with their audit records). Rank 0 writes the run folder; a failed write is a warning, never the
end of the run. `TrainingEngine` mixes this in; the attributes below are the engine's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from g2g_desktop.core.images import tensor_to_uint8
from trainer import approach_registry as registry
from trainer.datasets import faces_provenance
from trainer.events import CheckpointKind, CheckpointSaved, ModelSnapshot, Noted, PreviewReady, Warned, WeightsChanged
from trainer.identity_critic import train_identity_critic
from trainer.run_folder import rebuildable
from trainer.sampler import has_ground_truth
from trainer.state import state_to_cpu

if TYPE_CHECKING:
    from g2g_desktop.core.device import DeviceSettings
    from trainer.approaches import Approach
    from trainer.batch import PairBatch
    from trainer.config import TrainConfig
    from trainer.engine_control import LoopState, RollbackPoint
    from trainer.heldout import HeldOutScore
    from trainer.run_folder import RunFolder
    from trainer.sampler import PairSampler


class EngineUpkeep:
    """Metrics, previews, checkpoints, snapshots and weight changes of the engine this is mixed into."""

    config: TrainConfig
    approach: Approach
    files: RunFolder
    run_dir: Path
    settings: DeviceSettings
    preview_batch: PairBatch
    sampler: PairSampler
    heldout: HeldOutScore | None
    is_main: bool
    current_step: int
    audit: list[dict[str, Any]]
    run_state: LoopState
    rollback_point: RollbackPoint
    _emit: Callable[[Any], None]  # the event to the sink
    _capture: Callable[[float | None], dict[str, Any]]  # the training state, with this metric

    def _upkeep(self, losses: dict[str, float]) -> None:
        run = self.run_state
        for name, value in losses.items():
            run.interval.setdefault(name, []).append(value)
        if self.config.best_metric in losses:
            run.since_checkpoint.append(losses[self.config.best_metric])
        step = self.current_step
        if step % self.config.log_every == 0:
            self._write_metrics()
        if step % self.config.preview_every == 0:
            self._preview()
        if step % self.config.checkpoint_every == 0:
            self._checkpoint(CheckpointKind.PERIODIC)

    def _write_metrics(self) -> None:
        means = {name: float(np.mean(values)) for name, values in self.run_state.interval.items()}
        self.run_state.interval = {}
        line = {"step": self.current_step, "time": time.time(), "it_per_s": self.run_state.speed(), **means}
        self._write("metrics.jsonl", self.files.append_metrics, line)

    def _preview(self) -> None:
        devices = [self.settings.device.index or 0] if self.settings.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # previews never disturb the training's random streams
            result = self.approach.preview(self.preview_batch)
        grid = tensor_to_uint8(result.grid())
        self._emit(PreviewReady(self.current_step, grid))
        self._write("preview", self.files.save_preview, self.current_step, grid)

    def _checkpoint(self, kind: CheckpointKind) -> None:
        """Save the full training state (rank 0) and remember it as the rollback point (every rank)."""
        run = self.run_state
        if self.current_step == run.last_saved_step:
            if kind == CheckpointKind.MANUAL and self.is_main:  # already on disk: say where
                self._emit(CheckpointSaved(str(self.files.checkpoint_path(self.current_step)), self.current_step, kind))
            return
        if self.heldout is not None:
            metric = self.heldout(self.approach.inference_generator()) if self.is_main else None
        else:
            metric = float(np.mean(run.since_checkpoint)) if run.since_checkpoint else None
        state = self._capture(metric)
        self.rollback_point.mark(state, self.current_step)
        run.since_checkpoint = []
        if not self.is_main:
            run.last_saved_step = self.current_step
            return
        try:
            generator = self.approach.inference_generator()
            path = self.files.save_checkpoint(self.current_step, state, metric, generator, self._provenance(),
                                              self._weights_of(generator))
        except (OSError, RuntimeError) as exc:
            self._emit(Warned(self.current_step, f"checkpoint at step {self.current_step} not saved ({exc}); "
                                                 "the previous checkpoint is intact and training goes on"))
            return
        run.last_saved_step = self.current_step
        score_name = self.heldout.name if self.heldout is not None and metric is not None else None
        if score_name is not None:
            self._write("eval.jsonl", self.files.append_eval,
                        {"step": self.current_step, "time": time.time(), score_name: metric})
        self._emit(CheckpointSaved(str(path), self.current_step, kind, metric if score_name else None, score_name))

    def _apply_weights(self, changes: dict[str, float]) -> None:
        old = self.approach.weights
        new = old.replace(**changes)
        diff = {k: (getattr(old, k), getattr(new, k)) for k in changes if getattr(old, k) != getattr(new, k)}
        if not diff:
            return
        self.approach.weights = new
        if new.lambda_cross_gt > 0 and not self.sampler.ground_truth:
            self._start_ground_truth()
        for note in set(self.approach.unused_weights(new)) - set(self.approach.unused_weights(old)):
            self._emit(Warned(self.current_step, note))
        if new.uses_critic and getattr(self.approach, "critic", None) is None:
            self._start_critic()
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

    def _provenance(self) -> dict[str, object]:
        """What a model file of this run records: the run, its data and how its faces were aligned."""
        return {"run": str(self.run_dir), "data": self.config.data, **faces_provenance(self.config.align)}

    def _weights_of(self, generator) -> str:
        return "gen" if generator is self.approach.generator else "gen_test"
    def _start_critic(self) -> None:
        """λ_crit or λ_crit,CE on (at the start or raised mid-run): load or pre-train the frozen identity critic
        of the training identities (a few minutes the first time, then cached)."""
        if self.approach.name not in registry.readers("lambda_critic"):
            owners = " or ".join(registry.readers("lambda_critic"))
            self._emit(Warned(self.current_step, f"λ_crit has no effect here: the {self.approach.name} approach "
                                                 f"has no identity critic (only {owners} does)"))
            return
        critic = train_identity_critic(self.sampler.dataset, say=lambda line: self._emit(Noted(self.current_step,
                                                                                               line)))
        self.approach.critic = critic.to(self.approach.device)

    def _snapshot(self) -> None:
        generator = self.approach.inference_generator()
        if not rebuildable(generator):
            self._emit(Warned(self.current_step, f"the {generator.architecture} generator needs the face network "
                                                 "and cannot be copied out for mixing"))
            return
        self._emit(ModelSnapshot(self.current_step, state_to_cpu(generator.state_dict()), generator.config,
                                 self.approach.name, self._weights_of(generator), self._provenance()))

    def _write(self, what: str, write: Callable[..., Any], *args: Any) -> None:
        """A run-folder write on rank 0; a failure is a warning, never the end of the run."""
        if not self.is_main:
            return
        try:
            write(*args)
        except OSError as exc:
            self._emit(Warned(self.current_step, f"{what} not written ({exc})"))
