"""Full training-state checkpoints: everything a run needs to continue bit for bit.

A state file is a `torch.save`d dict of tensors and plain Python values only (so it loads with
`weights_only=True`): module and optimizer state dicts, the approach's extra state (AMP scaler),
the RNG states of Python, NumPy, torch and CUDA, the sampler position, the step, the run's config
(`asdict`), the current loss weights and the audit log of weight changes. Files are written with
core's `atomic_write` (temp file, fsync, rename), so a failed write leaves the previous file intact.

`CheckpointKeeper` names the files `checkpoints/state_XXXXXXXX.pt` in the run folder and deletes old
ones, keeping the last `keep_last` plus the best by the run's metric (lower is better); its index
`checkpoints/index.json` remembers the metric of every file it keeps and the metric's name, so values
of another metric (an older run's generator loss) are never compared with the current one.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from g2g_desktop.core.safe_io import CheckpointError, atomic_write, safe_torch_load
from trainer.loss_weights import LossWeights

if TYPE_CHECKING:
    from trainer.approaches import Approach
    from trainer.config import TrainConfig
    from trainer.sampler import PairSampler

STATE_FORMAT = "g2g-training-state"
STATE_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
STATE_PATTERN = re.compile(r"state_(\d{8})\.pt")
FUNIT_GEN = re.compile(r"gen_.*\.pt")  # FUNIT's generator checkpoints: gen_00005000.pt

SaveFn = Callable[[Any, str], None]  # (object, path) -> None, torch.save by default; tests inject failures


# --------------------------------------------------------------------------- RNG


def capture_rng() -> dict[str, Any]:
    """RNG states of Python, NumPy (legacy global), torch CPU and every initialised CUDA device."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": keys.tolist(), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], np.asarray(n["keys"], dtype=np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


# --------------------------------------------------------------------------- files


def save_training_state(path: str | Path, state: dict[str, Any], save_fn: SaveFn = torch.save) -> None:
    """Write `state` atomically; on any failure the file at `path` (if any) is unchanged and the error raised."""
    document = {"format": STATE_FORMAT, "format_version": STATE_VERSION, **state}
    atomic_write(path, lambda tmp: save_fn(document, tmp))


def load_training_state(path: str | Path) -> dict[str, Any]:
    """A state written by `save_training_state`; anything else is a `CheckpointError` naming the file."""
    path = Path(path)
    data = safe_torch_load(path)
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise CheckpointError(path, "not a G2G training state (no 'format': 'g2g-training-state')")
    if not isinstance(data.get("format_version"), int) or data["format_version"] > STATE_VERSION:
        raise CheckpointError(path, f"training-state version {data.get('format_version')!r} is newer than supported")
    for key in ("step", "modules", "optimizers", "sampler", "rng", "config", "weights", "audit"):
        if key not in data:
            raise CheckpointError(path, f"training state lacks {key!r}")
    return data


def latest_state(run_dir: str | Path) -> Path | None:
    """The newest `state_XXXXXXXX.pt` of a run folder, or None."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if STATE_PATTERN.fullmatch(p.name))
    return found[-1] if found else None


def run_folder_of(resume: str | Path | None) -> Path | None:
    """The run folder a resume path belongs to: the folder itself, or the one whose checkpoints/ holds
    the state file; None for a FUNIT file or anything else outside a run folder."""
    if resume is None:
        return None
    path = Path(resume)
    if path.is_dir():
        return path if (path / CHECKPOINT_DIR).is_dir() or (path / "config.json").is_file() else None
    if STATE_PATTERN.fullmatch(path.name) and path.parent.name == CHECKPOINT_DIR:
        return path.parent.parent
    return None


def resume_source(resume: str | None) -> tuple[dict[str, Any] | None, Path | None, Path | None]:
    """What `TrainConfig.resume` names: (training state, its path, None) for a run folder or state file,
    (None, None, path) for a FUNIT `gen_*.pt`, all None without one. Errors name the file."""
    if resume is None:
        return None, None, None
    path = Path(resume)
    if path.is_dir():
        found = latest_state(path)
        if found is None:
            raise CheckpointError(path, "run folder has no checkpoints/state_*.pt to resume from")
        path = found
    if FUNIT_GEN.fullmatch(path.name):
        if not path.is_file():
            raise CheckpointError(path, "file not found")
        return None, None, path
    return load_training_state(path), path, None


def state_to_cpu(value: Any) -> Any:
    """A deep copy of a (nested) state with every tensor cloned to the CPU; plain values are shared."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: state_to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(state_to_cpu(v) for v in value)
    return value


def capture_training_state(
    approach: Approach, sampler: PairSampler, config: TrainConfig, audit: list[dict[str, Any]], step: int,
    metric: float | None,
) -> dict[str, Any]:
    """A CPU copy of everything a run needs to continue from `step`: the training-state checkpoint's contents."""
    return state_to_cpu({
        "step": step,
        "approach": approach.name,
        "modules": {name: m.state_dict() for name, m in approach.modules().items()},
        "optimizers": {name: o.state_dict() for name, o in approach.optimizers().items()},
        "extra": approach.extra_state(),
        "sampler": sampler.state_dict(),
        "rng": capture_rng(),
        "config": config.to_dict(),
        "weights": approach.weights.to_dict(),
        "audit": list(audit),
        "metric": metric,
    })


def restore_training_state(
    approach: Approach, sampler: PairSampler, state: dict[str, Any], *, data: bool, modules: bool = True
) -> int:
    """Load `state` into a live run and return its step; `data` also rewinds the loss weights, the sampler
    and the random streams (a rollback does not: the batches that led to a failure are not replayed)."""
    if modules:
        for name, module in approach.modules().items():
            module.load_state_dict(state["modules"][name])
    for name, optimizer in approach.optimizers().items():
        optimizer.load_state_dict(state["optimizers"][name])
    approach.load_extra_state(state.get("extra", {}))
    if data:
        approach.weights = LossWeights.from_dict(state["weights"])
        sampler.load_state_dict(state["sampler"])
        restore_rng(state["rng"])
    return int(state["step"])


# --------------------------------------------------------------------------- rotation


@dataclass
class SavedCheckpoint:
    step: int
    path: Path
    metric: float | None  # the run's best_metric averaged since the previous checkpoint


class CheckpointKeeper:
    """Writes `checkpoints/state_XXXXXXXX.pt` and prunes to the last `keep_last` plus the best one."""

    def __init__(self, run_dir: str | Path, keep_last: int, save_fn: SaveFn = torch.save,
                 metric_name: str | None = None):
        self.folder = Path(run_dir) / CHECKPOINT_DIR
        self.keep_last = max(1, keep_last)
        self.save_fn = save_fn
        self.metric_name = metric_name  # e.g. "Eval/swap_l1"; index entries of another metric lose theirs
        self.index_path = self.folder / "index.json"
        self.saved = self._read_index()

    def path_for(self, step: int) -> Path:
        return self.folder / f"state_{step:08d}.pt"

    def save(self, step: int, state: dict[str, Any], metric: float | None) -> Path:
        """Write the state for `step`, then prune; raises OSError (nothing changed) if the write fails."""
        path = self.path_for(step)
        save_training_state(path, state, self.save_fn)
        self.saved = [c for c in self.saved if c.step != step] + [SavedCheckpoint(step, path, metric)]
        self._prune()
        return path

    @property
    def best(self) -> SavedCheckpoint | None:
        scored = [c for c in self.saved if c.metric is not None]
        return min(scored, key=lambda c: (c.metric, -c.step)) if scored else None

    def _prune(self) -> None:
        self.saved.sort(key=lambda c: c.step)
        keep = self.saved[-self.keep_last :]
        best = self.best
        if best is not None and best not in keep:
            keep = [best, *keep]
        for old in self.saved:
            if old not in keep:
                old.path.unlink(missing_ok=True)
        self.saved = keep
        document = {
            "best_step": best.step if best else None,
            "metric_name": self.metric_name,
            "checkpoints": [{"step": c.step, "file": c.path.name, "metric": c.metric} for c in keep],
        }
        atomic_write(self.index_path, lambda tmp: Path(tmp).write_text(json.dumps(document, indent=1)))

    def _read_index(self) -> list[SavedCheckpoint]:
        try:
            document = json.loads(self.index_path.read_text())
            same = document.get("metric_name", "Loss/G/total") == self.metric_name  # before names: the G loss
            entries = [SavedCheckpoint(int(e["step"]), self.folder / str(e["file"]), e["metric"] if same else None)
                       for e in document["checkpoints"]]
        except (OSError, ValueError, KeyError, TypeError):
            entries = [SavedCheckpoint(int(m.group(1)), p, None) for p in sorted(self.folder.glob("state_*.pt"))
                       if (m := STATE_PATTERN.fullmatch(p.name))]
        return [e for e in entries if e.path.is_file()]
