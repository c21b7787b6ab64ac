"""What the training engine reports: plain frozen dataclasses handed to its `sink` callable.

The engine knows nothing about its listeners. The CLI's sink prints and draws a progress bar; the
app's sink forwards each event through a Qt signal to the GUI thread. Images are uint8 numpy arrays
and model weights are CPU tensors, so nothing in an event aliases the live training modules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from g2g_desktop.core.config import GeneratorConfig
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.model_file import build_generator


class _Word(str, enum.Enum):
    """A fixed word of an event: compares equal to its text and prints as it (also in f-strings, JSON)."""

    def __str__(self) -> str:
        return self.value

    __hash__ = str.__hash__  # Enum hashes the member's name: a dict keyed by the text would not find it


class EndReason(_Word):
    """Why `TrainingEngine.run` returned."""

    COMPLETED = "completed"  # all steps done
    STOPPED = "stopped"  # asked to stop (Stop, a closing window, a CLI interrupt)
    FAILED = "failed"  # bad input or a bug; `Failed` said what


class CheckpointKind(_Word):
    """What made the engine write a checkpoint."""

    PERIODIC = "periodic"  # every `checkpoint_every` steps
    PAUSE = "pause"  # on Pause
    MANUAL = "manual"  # Save now
    STOP = "stop"  # the last state of a stopped run
    FINAL = "final"  # the last state of a completed run


@dataclass(frozen=True)
class Started:
    step: int  # steps already done (> 0 after a resume)
    total: int  # the run ends at this step
    run_dir: str
    device: str  # e.g. "CPU (2 threads)"
    resumed_from: str | None  # checkpoint, FUNIT file or model file the run continues from
    num_images: int
    num_classes: int


@dataclass(frozen=True)
class StepDone:
    step: int  # steps done, counting this one
    total: int
    losses: dict[str, float]  # "Loss/G/total", "Loss/D/total", ...
    it_per_s: float  # smoothed training speed
    eta_s: float  # seconds to `total` at that speed


@dataclass(frozen=True)
class PreviewReady:
    step: int
    grid: np.ndarray  # H×W×3 uint8: the paper's 3×2 plot (Original / Mixed / Reconstructed)


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    step: int
    kind: CheckpointKind
    score: float | None = None  # the held-out score of this checkpoint (trainer/heldout.py), lower is better
    score_name: str | None = None  # e.g. "Eval/swap_l1"


@dataclass(frozen=True)
class WeightsChanged:
    step: int  # the first step that uses the new weights
    changes: dict[str, tuple[float, float]]  # field -> (old, new)
    weights: dict[str, float]  # all weights now in force


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class RolledBack:
    step: int  # the run continues from this step (its last checkpoint)
    reason: str
    failed_step: int  # the step whose loss was not finite


@dataclass(frozen=True)
class Warned:
    step: int
    message: str  # e.g. a checkpoint write that failed while the run goes on


@dataclass(frozen=True)
class Noted:
    step: int
    message: str  # what the run inferred or decided before its first step (sizes read from a file, fresh parts)


@dataclass(frozen=True)
class Failed:
    message: str


@dataclass(frozen=True)
class Finished:
    step: int
    reason: EndReason


@dataclass(frozen=True)
class ModelSnapshot:
    """A CPU copy of the inference generator (EMA when the approach keeps one), on `request_snapshot()`."""

    step: int
    state_dict: dict[str, torch.Tensor] = field(repr=False)
    config: GeneratorConfig  # architecture sizes: `build_generator(config)` accepts `state_dict`
    approach: str
    weights: str = "gen"  # which copy: "gen_test" (EMA) or "gen" (raw), as `save_model` records it
    provenance: dict[str, Any] = field(default_factory=dict)  # what a model file of it records (run, data, aligned)

    def build(self) -> DisentanglingGenerator:
        """A fresh generator (CPU, eval mode) holding these weights."""
        generator = build_generator(self.config)
        generator.load_state_dict(self.state_dict)
        return generator.eval()


Event = Started | StepDone | PreviewReady | CheckpointSaved | WeightsChanged | Paused | Resumed | RolledBack | \
    Warned | Noted | Failed | Finished | ModelSnapshot


def describe(event: object) -> str | None:
    """The one wording of an event as a log line: `g2g-train` prints it, the app's training log shows it.

    None for what each front end shows its own way: steps (progress bar, status line), previews, snapshots,
    and `Failed`, an error (the CLI's `g2g-train: error:` line, the app's notice).
    """
    if isinstance(event, Started):
        origin = f", resumed from {event.resumed_from}" if event.resumed_from else ""
        return (f"started at step {event.step} of {event.total} on {event.device}: {event.num_images} images of "
                f"{event.num_classes} identities{origin} -> {event.run_dir}")
    if isinstance(event, CheckpointSaved):
        score = f" ({event.score_name} {event.score:.4f})" if event.score_name else ""
        return f"{event.kind} checkpoint at step {event.step}: {event.path}{score}"
    if isinstance(event, WeightsChanged):
        changes = ", ".join(f"{k} {old:g} → {new:g}" for k, (old, new) in event.changes.items())
        return f"weights from step {event.step}: {changes}"
    if isinstance(event, Paused):
        return f"paused at step {event.step}"
    if isinstance(event, Resumed):
        return f"resumed at step {event.step}"
    if isinstance(event, Noted):
        return f"note: {event.message}"
    if isinstance(event, RolledBack):
        return f"rolled back to step {event.step} (step {event.failed_step} failed: {event.reason})"
    if isinstance(event, Warned):
        return f"warning at step {event.step}: {event.message}"
    if isinstance(event, Finished):
        return f"finished at step {event.step} ({event.reason})"
    return None
