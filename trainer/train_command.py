"""The work behind `g2g-train` (`trainer/cli.py` parses the arguments): the config built in layers, the
console sink, and the engine run in a worker thread that Ctrl-C / SIGTERM ask to stop.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from tqdm import tqdm

from g2g_desktop.core.funit_files import funit_step_from_name
from trainer import approach_registry as registry
from trainer import distributed
from trainer.config import (
    TrainConfig,
    TrainConfigError,
    apply_overrides,
    config_from_dict,
    load_config_file,
    validate_config,
)
from trainer.engine import TrainingEngine
from trainer.events import Failed, Finished, Started, StepDone, describe
from trainer.presets import default_preset, merge_changes, preset_sizes, recipe_changes
from trainer.run_folder import check_run_folder
from trainer.state import FUNIT_GEN, run_folder_of

REQUIRED = ("approach", "data", "out")
FUNIT_IMAGE_SIZE = 128  # the size FUNIT's published models were trained at (their files do not say)


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """The run's stored config (resuming a run folder), the recipe, config file, flags, then --set; raises
    TrainConfigError naming the bad field.

    Resuming a run folder (or a state file in it) continues that run in place: its config.json is the
    first layer, so its data, output folder and step target hold unless a flag changes them. A fresh
    run takes its sizes from `--preset` (default: tiny on the CPU, funit on a GPU) under any
    `model.X`/`dis.X`; a FUNIT gen_*.pt gives its own sizes and FUNIT's 128 px.
    """
    data: dict[str, Any] = {}
    run_dir = run_folder_of(args.resume) if args.resume else None
    if run_dir is not None:
        data = {k: v for k, v in stored_run_config(run_dir).items() if k != "resume"}
        data["out"] = str(run_dir)
    elif args.resume and FUNIT_GEN.fullmatch(Path(args.resume).name):
        data["image_size"] = FUNIT_IMAGE_SIZE
    if args.recipe:
        data = merge_changes(data, recipe_changes(args.recipe))
    if args.config:  # its weights/model/dis merge into the recipe's rather than drop them
        data = merge_changes(data, load_config_file(args.config))
    for name in ("approach", "data", "align", "out", "resume", "steps"):
        value = getattr(args, name)
        if value is not None:
            data[name] = value
    data = apply_overrides(data, args.overrides)
    missing = [name for name in REQUIRED if name not in data]
    if missing:
        raise TrainConfigError(" and ".join(f"--{name}" for name in missing) + " required (as flags or in --config)")
    if args.preset is not None or not args.resume:
        if data["approach"] not in registry.names():
            raise TrainConfigError(f"approach: {data['approach']!r} is not one of {', '.join(registry.names())}")
        model, dis = preset_sizes(args.preset or default_preset(args.device), data["approach"])
        for name, sizes in (("model", model), ("dis", dis)):
            given = data.get(name, {})
            data[name] = {**sizes, **given} if isinstance(given, dict) else given
    config = config_from_dict(data, args.config or "arguments")
    validate_config(config)
    iteration = funit_step_from_name(Path(config.resume)) if config.resume and run_dir is None else None
    if iteration is not None and config.steps <= iteration:
        raise TrainConfigError(f"--steps: {Path(config.resume).name} is at FUNIT iteration {iteration:,} and steps "
                               f"counts the whole run: give more (e.g. {iteration + 2000:,} for 2,000 more)")
    return config


def stored_run_config(run_dir: Path) -> dict[str, Any]:
    """The config.json a run folder's engine wrote; TrainConfigError when it is missing or unreadable."""
    path = run_dir / "config.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainConfigError(f"--resume {run_dir}: cannot read the run's {path.name} ({exc})") from None
    if not isinstance(stored, dict):
        raise TrainConfigError(f"--resume {run_dir}: {path.name} is not a mapping of TrainConfig fields")
    return stored


class ConsoleSink:
    """Progress bar and messages on the terminal; TensorBoard scalars when available (rank 0 only)."""

    def __init__(self, config: TrainConfig, is_main: bool):
        self.config = config
        self.is_main = is_main
        self.bar: tqdm | None = None
        self.writer = _tensorboard(Path(config.out) / "tb") if is_main else None
        self.failed: str | None = None

    def __call__(self, event: Any) -> None:
        if isinstance(event, Failed):
            self.failed = event.message
        if not self.is_main:
            return
        if isinstance(event, Started):
            # tqdm's own rate and remaining time: wall-clock steps/s including data and upkeep, and the ETA
            self.bar = tqdm(total=event.total, initial=event.step, unit="step", dynamic_ncols=True, mininterval=0.5,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]")
        elif isinstance(event, StepDone):
            self._progress(event)
        elif isinstance(event, Failed):
            self._say(f"g2g-train: error: {event.message}", err=True)
        elif isinstance(event, Finished):
            self.close()
        line = describe(event)
        if line is None:
            return
        if isinstance(event, Finished):
            print(line, file=sys.stderr)
        else:
            self._say(line)

    def _progress(self, event: StepDone) -> None:
        if self.bar is not None:
            if event.step >= self.bar.n:
                self.bar.update(event.step - self.bar.n)
            else:  # rolled back to an earlier checkpoint
                self.bar.n = event.step
            shown = {k.removeprefix("Loss/"): f"{v:.3g}" for k, v in event.losses.items() if k.endswith("/total")}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.refresh()
        if self.writer is not None and event.step % self.config.log_every == 0:
            for name, value in event.losses.items():
                self.writer.add_scalar(name, value, event.step)
            self.writer.add_scalar("Speed/it_per_s", event.it_per_s, event.step)

    def _say(self, text: str, err: bool = False) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr if err else sys.stdout)
        else:
            print(text, file=sys.stderr if err else sys.stdout)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _tensorboard(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(folder))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The run behind parsed `g2g-train` arguments: resolve the config, then train in a worker thread."""
    try:
        config = resolve_config(args)
    except TrainConfigError as exc:
        parser.exit(2, f"g2g-train: error: {exc}\n")
    if args.dry_run:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    try:
        check_run_folder(config.out, config.resume)  # the engine checks too; here it is one line, at once
    except ValueError as exc:
        parser.exit(2, f"g2g-train: error: {exc}\n")
    dist_info = distributed.init_from_env(args.device) if distributed.launched_by_torchrun() else None
    sink = ConsoleSink(config, dist_info is None or dist_info.is_main)
    engine = TrainingEngine(config, sink, args.device, dist_info=dist_info)
    worker = threading.Thread(target=engine.run, name="g2g-train", daemon=True)  # a 2nd Ctrl-C aborts

    def request_stop(signum, frame):
        sink._say(f"{signal.Signals(signum).name}: stopping after this step (again to abort)")
        signal.signal(signal.SIGINT, signal.default_int_handler)
        engine.stop()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sink.close()
        if dist_info is not None:
            distributed.shutdown()
    return 1 if sink.failed else 0
