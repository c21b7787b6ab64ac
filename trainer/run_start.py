"""What a run starts from, besides nothing: its own training state, FUNIT's checkpoint files, or a project
model file.

Pure steps of `TrainingEngine.setup` that read files and configs and return what they found — a
config, a note for the user, a warning — so the engine only decides what to tell and keep:
* `find_start`: what `config.resume` points at; a resumed run keeps the architecture stored in its
  checkpoint (`adopt_stored`); `discard_note` says what the folder recorded of steps trained again;
* a FUNIT start reads every network size from the tensors before anything is built (`sized_from_funit`),
  then loads FUNIT's generator, discriminator and optimizer files into the approach (`load_funit_start`);
* a project model file (core `save_model`, e.g. the shipped default model) is a warm start: core's loader
  reads it, its sizes become the run's, its generator becomes both G and the EMA, the discriminator and the
  optimisers start fresh, and the step counts on from the file's (`read_warm_start`, `load_warm_start`);
* loaded optimizer states take the configured learning rates and weight decay (`configure_optimizers`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.funit_files import infer_funit_discriminator_config, infer_funit_generator_config
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.safe_io import CheckpointError, file_kind, safe_torch_load
from trainer import approach_registry as registry
from trainer.approaches import Approach
from trainer.config import TrainConfig
from trainer.run_folder import describe_discarded, same_path
from trainer.state import latest_state, resume_source, run_folder_of

ARCHITECTURE_FIELDS = ("approach", "model", "dis", "image_size", "seed")  # a resumed run keeps these
FUNIT_DIS_WIDTH = 16  # FUNIT's discriminator widths stop at 16× its first (nf 64, max_nf 1024)


@dataclass(frozen=True)
class WarmStart:
    """A project model file a run starts from: the generator core's loader read from it, and its step."""

    path: Path
    generator: DisentanglingGenerator
    step: int
    approach: str | None  # the approach that trained it, as the file says


@dataclass(frozen=True)
class StartPoint:
    """What `config.resume` points at, read before the approach's networks are built."""

    config: TrainConfig  # with the checkpoint's architecture, or the sizes of FUNIT's files or the model file
    state: dict[str, Any] | None  # the training state the run continues
    state_path: Path | None
    funit_gen: Path | None  # or the FUNIT gen_*.pt it starts from
    warning: str | None  # architecture fields the resumed run keeps against the config's
    restarting: bool  # the folder's run stopped before its first checkpoint: this one starts it again
    warm: WarmStart | None = None  # or the project model file it warm-starts from


def find_start(config: TrainConfig, run_dir: Path) -> StartPoint:
    """The state, FUNIT file or model file a run continues (none for a fresh run), and the config that fits it."""
    if config.resume is not None and Path(config.resume).is_file() and file_kind(Path(config.resume)) == "safetensors":
        warm = read_warm_start(Path(config.resume))
        if warm.approach is not None and warm.approach != config.approach:
            raise CheckpointError(warm.path, f"holds a {warm.approach!r} model, not one of {config.approach!r}")
        config, warning = sized_from_model(config, warm)
        return StartPoint(config, None, None, None, warning, restarting=False, warm=warm)
    own = run_folder_of(config.resume)
    if own is not None and latest_state(own) is None and same_path(own, run_dir):
        state, state_path, funit_gen = None, None, None  # this very run, with nothing to continue yet
    else:
        state, state_path, funit_gen = resume_source(config.resume)
    restarting = state is None and funit_gen is None and (run_dir / "config.json").is_file()
    warning = None
    if state is not None:
        config, warning = adopt_stored(config, state)
    if funit_gen is not None and registry.get(config.approach).funit_files:
        config = sized_from_funit(config, funit_gen)
    return StartPoint(config, state, state_path, funit_gen, warning, restarting)


def discard_note(run_dir: Path, restarting: bool, kept_to: int, dropped: dict[str, int]) -> str | None:
    """What the user is told about a folder's records of steps the run trains again (`RunFolder.discard_after`
    up to `kept_to`, -1 for all), or None when there is nothing to tell."""
    gone = describe_discarded(dropped)
    if restarting:
        return (f"{run_dir}: the run here stopped before its first checkpoint; it starts again from step 0"
                + (f" and its records were removed: {gone}" if gone else ""))
    if not dropped:
        return None
    if kept_to < 0:
        return f"{run_dir}: removed the records of the run abandoned here: {gone}"
    return (f"{run_dir}: removed what was recorded after step {kept_to:,}, the checkpoint this run continues "
            f"from (those steps are trained again): {gone}")


def adopt_stored(config: TrainConfig, state: dict[str, Any]) -> tuple[TrainConfig, str | None]:
    """`config` with the checkpoint's architecture fields and CPU precision, and a warning naming any
    architecture field asked to differ."""
    stored = state["config"]
    kept = {k: stored[k] for k in ARCHITECTURE_FIELDS if k in stored}
    overridden = [f"{k}={v!r} (asked {getattr(config, k)!r})" for k, v in kept.items()
                  if _differs(v, getattr(config, k))]
    warning = "the resumed run keeps its " + ", ".join(overridden) if overridden else None
    precision = stored_precision(state)
    if precision:
        kept["cpu_precision"] = precision
    return dataclasses.replace(config, **kept), warning


def stored_precision(state: dict[str, Any]) -> str:
    """The CPU precision ("bf16", "fp32") a checkpoint's run trained in; "" when it does not say.

    Its config records it ("" for a run on a GPU); a checkpoint written before the config did (2026-12) has
    only the choice in its approach's extra state.
    """
    if "cpu_precision" in state["config"]:
        return state["config"]["cpu_precision"]
    saved = state.get("extra", {}).get("cpu_precision") or {}
    return ("bf16" if saved["bf16"] else "fp32") if "bf16" in saved else ""
def _differs(stored: Any, asked: Any) -> bool:
    """Whether an asked field differs from the stored one; of a size mapping (`model`, `dis`) only the sizes
    asked count, since the stored one has every default filled in."""
    if isinstance(stored, Mapping) and isinstance(asked, Mapping):
        return any(stored.get(k) != v for k, v in asked.items())
    return stored != asked


def read_warm_start(path: Path) -> WarmStart:
    """A project model file read by core's loader (the one the app and `g2g-eval` use)."""
    generator, info = load_generator_with_info(path)
    return WarmStart(path, generator, info.step or 0, info.approach)


def warm_sizes(warm: WarmStart) -> dict[str, Any]:
    """The `TrainConfig.model` that rebuilds the model file's generator."""
    return {k: v for k, v in warm.generator.config.to_dict().items() if k != "image_size"}


def sized_from_model(config: TrainConfig, warm: WarmStart) -> tuple[TrainConfig, str | None]:
    """`config` with the model file's generator sizes and image size, and a warning naming any asked to differ
    (only the sizes the config gives: the file's others are its defaults filled in)."""
    sizes, image_size = warm_sizes(warm), warm.generator.config.image_size
    differ = [f"model.{k}={sizes.get(k)!r} (asked {v!r})" for k, v in config.model.items() if sizes.get(k) != v]
    if image_size != config.image_size:
        differ.append(f"image_size={image_size} (asked {config.image_size})")
    warning = f"{warm.path.name} keeps its " + ", ".join(differ) if differ else None
    return dataclasses.replace(config, model=sizes, image_size=image_size), warning


def load_warm_start(approach: Approach, config: TrainConfig, warm: WarmStart) -> str:
    """Copy the model file's generator into the approach's G and EMA; returns the note for the user."""
    if warm.step >= config.steps:
        raise ValueError(f"{warm.path.name} is at step {warm.step:,} and steps counts the whole run: ask for more "
                         f"than {warm.step:,} (e.g. {warm.step + 2000:,} for 2,000 more)")
    approach.warm_start(warm.generator, warm.path)
    sizes = ", ".join(f"{k}={v}" for k, v in warm_sizes(warm).items())
    return (f"warm start from {warm.path} (step {warm.step:,}): its generator is both G and the EMA ({sizes}; "
            f"{warm.generator.config.image_size} px); discriminator and optimisers fresh; "
            f"continues toward step {config.steps:,}")


def load_modules_checked(approach: Approach, state: dict[str, Any], path: Path) -> None:
    """The state's networks into the approach's, strictly; a mismatch names the file and the module."""
    if state.get("approach") != approach.name:
        raise CheckpointError(path, f"holds a {state.get('approach')!r} run, not {approach.name!r}")
    for name, module in approach.modules().items():
        if name not in state["modules"]:
            raise CheckpointError(path, f"training state lacks module {name!r}")
        try:
            module.load_state_dict(state["modules"][name], strict=True)
        except (RuntimeError, TypeError, AttributeError) as exc:
            problem = " ".join(str(exc).split())
            raise CheckpointError(path, f"module {name!r} does not fit this run: {problem[:400]}") from None


def dis_path(gen_path: Path) -> Path:
    """FUNIT saves dis_XXXXXXXX.pt beside gen_XXXXXXXX.pt."""
    return gen_path.with_name("dis_" + gen_path.name[len("gen_") :])


def sized_from_funit(config: TrainConfig, gen_path: Path) -> TrainConfig:
    """The config with the sizes of a FUNIT start, read before any network is built (FUNIT files carry
    no config, and building the configured sizes first would cost a full-size network): the generator's
    from its tensors, the discriminator's from the dis_*.pt beside it, else fresh in FUNIT's proportions
    to that generator (its nf, widths up to 16×), under any `dis.X` the config gives."""
    data = safe_torch_load(gen_path)
    if not isinstance(data, Mapping) or not {"gen", "gen_test"} & set(data):
        return config  # load_funit_pair says what is wrong with it
    gen = infer_funit_generator_config(data.get("gen_test", data.get("gen")), gen_path)
    model = {k: v for k, v in gen.to_dict().items() if k != "image_size"}
    dis_file = dis_path(gen_path)
    if dis_file.is_file():
        stored = safe_torch_load(dis_file)
        dis = infer_funit_discriminator_config(stored["dis"], dis_file).to_dict() \
            if isinstance(stored, Mapping) and "dis" in stored else dict(config.dis)
    else:
        dis = {"nf": gen.nf, "max_nf": FUNIT_DIS_WIDTH * gen.nf, **config.dis}
    return dataclasses.replace(config, model=model, dis=dis)


@dataclass(frozen=True)
class FunitStart:
    """A run started from FUNIT's files: where it continues, its config now, and what to tell the user."""

    iteration: int
    config: TrainConfig  # with the sizes read from the tensors
    note: str
    optimizer_path: Path | None  # FUNIT's optimizer.pt, when one was loaded


def load_funit_start(approach: Approach, config: TrainConfig, gen_path: Path) -> FunitStart:
    """Load FUNIT's files into `approach`: sizes from the tensors, iteration from the name."""
    if not registry.get(approach.name).funit_files:
        owners = " or ".join(spec.name for spec in registry.specs() if spec.funit_files)
        raise CheckpointError(gen_path, f"a FUNIT checkpoint can only start a {owners} run, not {approach.name}")
    dis_file = dis_path(gen_path)
    optimizer_path = gen_path.with_name("optimizer.pt")
    has_dis, has_optimizer = dis_file.is_file(), optimizer_path.is_file()
    iteration = approach.load_funit_pair(gen_path, dis_file if has_dis else None,
                                         optimizer_path if has_optimizer else None) or 0
    if iteration >= config.steps:
        raise ValueError(f"{gen_path.name} is at FUNIT iteration {iteration:,} and steps counts the whole run: "
                         f"ask for more than {iteration:,} (e.g. {iteration + 2000:,} for 2,000 more)")
    # FUNIT files carry no config: the sizes read from their tensors become the run's, so the
    # run's own checkpoints rebuild networks that fit them on resume.
    config = dataclasses.replace(config, **approach.architecture())
    sizes = ", ".join(f"{k}={v}" for k, v in config.model.items())
    dis = ", ".join(f"{k}={v}" for k, v in config.dis.items())
    note = (
        f"{gen_path.name}: generator sizes read from the file ({sizes}); images {config.image_size} px "
        "(FUNIT files store no image size; FUNIT trained at 128); "
        + (f"discriminator from {dis_file.name} ({dis})" if has_dis else
           f"discriminator FRESH, no {dis_file.name} beside it ({dis}; FUNIT's proportions to this generator "
           "unless dis.X says otherwise)")
        + ("; optimizer state from optimizer.pt" if has_optimizer else "; optimizer state fresh (no optimizer.pt)")
        + (f"; continues FUNIT's iteration {iteration:,} toward step {config.steps:,}" if iteration else ""))
    return FunitStart(iteration, config, note, optimizer_path if has_optimizer else None)


def configure_optimizers(
    optimizers: Mapping[str, torch.optim.Optimizer], config: TrainConfig, source: Path
) -> str | None:
    """The configured lr and weight decay replace those of optimizer states loaded from `source`; the note
    names each change (FUNIT's optimizer.pt, or a run resumed with new values, would otherwise win)."""
    wanted = {"gen": {"lr": config.lr_gen}, "dis": {"lr": config.lr_dis},
              "latent": {"lr": config.lr_latent, "weight_decay": 0.0}}  # LORD's embeddings: no weight decay
    changes = []
    for name, optimizer in optimizers.items():
        for key, value in {"weight_decay": config.weight_decay, **wanted.get(name, {})}.items():
            old = sorted({group[key] for group in optimizer.param_groups if key in group})
            if old and old != [value]:
                for group in optimizer.param_groups:
                    group[key] = value
                changes.append(f"{name} {key} {'/'.join(f'{v:g}' for v in old)} -> {value:g}")
    if not changes:
        return None
    return f"{source.name}: optimizer state loaded with the configured values, not the file's: {', '.join(changes)}"
