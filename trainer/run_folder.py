"""The files of one run folder, written by the engine on rank 0 only.

    config.json                 the resolved TrainConfig (asdict)
    metrics.jsonl               one line per `log_every` steps: step, time, speed, mean of each loss
    audit.jsonl                 one line per loss-weight change: step, field, old, new
    eval.jsonl                  one line per checkpoint: step, time, its held-out score (trainer/heldout.py)
    previews/step_XXXXXXXX.png  the 3×2 Original / Mixed / Reconstructed grid
    checkpoints/                full training states (trainer/state.py `CheckpointKeeper`)
    model_latest.safetensors    inference snapshot of the latest checkpoint (core's `save_model`)

Every method raises OSError (or RuntimeError from torch.save) on a failed write; the engine turns
that into a warning and trains on. Whole files are replaced atomically; JSONL logs are appended.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from g2g_desktop.core.config import GENERATOR_CONFIGS
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.model_file import RUN_MODEL_FILE, save_model
from g2g_desktop.core.safe_io import atomic_write, atomic_write_leftovers
from trainer.state import STATE_PATTERN, CheckpointKeeper, SaveFn, latest_state, run_folder_of

LOGS = ("metrics.jsonl", "audit.jsonl", "eval.jsonl")  # one JSON object a line, each with its "step"


class RunFolder:
    def __init__(self, path: Path, keep_last: int, save_fn: SaveFn, metric_name: str | None = None):
        self.path = path
        self.keeper = CheckpointKeeper(path, keep_last, save_fn, metric_name)

    def remove_leftover_temp_files(self) -> int:
        """Delete the temp files of writes killed mid-way (each up to a checkpoint's size); returns how many.

        Only the run's own writer touches this folder, so when a run starts here none can be in progress.
        """
        leftovers = [p for folder in (self.path, self.keeper.folder, self.path / "previews")
                     for p in atomic_write_leftovers(folder)]  # fmt: skip
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    def discard_after(self, step: int, logs: tuple[str, ...] = LOGS, previews: bool = True) -> dict[str, int]:
        """Drop what the folder records of steps after `step`, which the run trains again: the lines of `logs`
        and the previews (-1: all of them, an abandoned run's). Returns how many of each went, naming only what
        changed; a file with nothing to drop is not rewritten.

        Without this a restart, a resume or a rollback appended to the old lines, and the curves had each step
        twice. A rollback keeps the audit log (the weights changed since stay in force) and the previews (the
        steps trained again overwrite them).
        """
        dropped = {}
        for name in logs:
            path = self.path / name
            if not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if _line_step(line) <= step]
            if len(kept) < len(lines):
                atomic_write(path, lambda tmp, kept=kept: Path(tmp).write_text("".join(kept), encoding="utf-8"))
                dropped[name] = len(lines) - len(kept)
        later = [p for p in (self.path / "previews").glob("step_*.png") if _preview_step(p) > step] if previews else []
        for path in later:
            path.unlink()
        if later:
            dropped["previews"] = len(later)
        return dropped

    def write_config(self, config: dict[str, Any]) -> None:
        text = json.dumps(config, indent=2)
        atomic_write(self.path / "config.json", lambda tmp: Path(tmp).write_text(text))

    def append_metrics(self, line: dict[str, Any]) -> None:
        self._append(self.path / "metrics.jsonl", [line])

    def append_eval(self, line: dict[str, Any]) -> None:
        self._append(self.path / "eval.jsonl", [line])

    def append_audit(self, records: list[dict[str, Any]]) -> None:
        self._append(self.path / "audit.jsonl", records)

    def save_preview(self, step: int, grid: np.ndarray) -> Path:
        path = self.path / "previews" / f"step_{step:08d}.png"
        atomic_write(path, lambda tmp: Image.fromarray(grid).save(tmp, format="PNG"))
        return path

    def checkpoint_path(self, step: int) -> Path:
        return self.keeper.path_for(step)

    def save_checkpoint(self, step: int, state: dict[str, Any], metric: float | None,
                        generator: DisentanglingGenerator, provenance: dict[str, Any], weights: str = "gen") -> Path:
        """The full training state, then the inference snapshot of its generator (when core can rebuild it).

        `weights` is what `generator` is ('gen_test': the EMA, 'gen': the raw one), recorded in the model file.
        """
        path = self.keeper.save(step, state, metric)
        if rebuildable(generator):
            save_model(self.path / RUN_MODEL_FILE, generator, approach=state["approach"], step=step,
                       provenance={**provenance, "checkpoint": path.name}, weights=weights)
        return path

    def _append(self, path: Path, records: list[dict[str, Any]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records)


def _line_step(line: str) -> float:
    """A log line's step; a line torn by a kill mid-write, or without a step, counts as after every step."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


def _preview_step(path: Path) -> float:
    try:
        return int(path.stem.removeprefix("step_"))
    except ValueError:
        return -1  # not one of the run's previews: left alone


def describe_discarded(dropped: dict[str, int]) -> str:
    """'metrics.jsonl (2 lines), previews (2 files)'."""
    return ", ".join(f"{name} ({count} {'file' if name == 'previews' else 'line'}{'' if count == 1 else 's'})"
                     for name, count in dropped.items())


def existing_run(folder: str | Path) -> str | None:
    """What shows that `folder` already holds a run ("a run with checkpoints up to step 40"), or None.

    A folder whose run never reached a checkpoint (config.json, a few metrics lines) holds nothing to
    continue or to lose: a new start there begins again from step 0, and the engine says so.
    """
    folder = Path(folder)
    state = latest_state(folder)
    if state is not None:
        return f"a run with checkpoints up to step {int(STATE_PATTERN.fullmatch(state.name).group(1))}"
    if (folder / RUN_MODEL_FILE).exists():
        return f"a run's {RUN_MODEL_FILE}"
    return None


def check_run_folder(out: str | Path, resume: str | Path | None) -> None:
    """Refuse to start a run in a folder that holds another one: it is resumed in place or left alone.

    Raises ValueError with the one-line message the CLI and the app show; a resume of that very folder
    (or of a state file in its checkpoints/) passes.
    """
    found = existing_run(out)
    if found is None:
        return
    source = run_folder_of(resume)
    if source is not None and same_path(source, out):
        return
    raise ValueError(f"{out} already holds {found}; nothing there was changed: resume it (--resume {out}) "
                     "or choose a new output folder")


def same_path(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def rebuildable(generator: DisentanglingGenerator) -> bool:
    """Whether core can rebuild this generator from its config alone (CycleFUNIT's face-network E_B cannot)."""
    return generator.architecture in GENERATOR_CONFIGS
