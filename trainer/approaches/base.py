"""What every training approach offers the engine, and the machinery they share.

The engine (trainer/engine.py) only talks to `Approach`: per iteration it calls
`discriminator_step`, then `generator_step` (which also updates the EMA copy) — FUNIT's order
(FUNIT_FACTS §5) — and reads `modules()`/`optimizers()`/`extra_state()` for checkpoints. It may swap
`approach.weights` for a new `LossWeights` between steps; every step reads the current value.

Every loss is checked (`checked`) before any optimizer step: a NaN or Inf raises `NonFiniteLossError` and
leaves all weights untouched, so the engine can roll back.

On the CPU, `autocast()` is bf16 autocast where `config.cpu_bf16` allows it: "on", "off", or "auto"
(which defers to $G2G_CPU_BF16, default auto). Under "auto" a run keeps the precision its config records
(`config.cpu_precision`, which the engine writes into config.json and every checkpoint, so a resume or a
rerun of the run's config continues in it; bf16 only where this CPU has it natively), and otherwise
`core.device.auto_cpu_bf16` decides from the CPU flags and the GFLOP of one G2G pass at the run's sizes.
No stopwatch is involved: the same config and seed give the same weights whatever the machine's load. A
non-finite loss under bf16 switches it off for the rest of the run (the engine rolls back, repeats the
step in fp32 and records fp32). `cpu_precision` and `extra_state()` say which precision is in use.
"""

from __future__ import annotations

import copy
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from g2g_desktop.core.device import auto_cpu_bf16, cpu_bf16_mode, cpu_has_native_bf16
from g2g_desktop.core.g2g import cross_pass
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.pipeline import G2GResult
from g2g_desktop.core.safe_io import CheckpointError
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.loss_weights import LossWeights

log = logging.getLogger(__name__)


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or Inf; raised before any optimizer step of that update."""

    def __init__(self, name: str, value: float):
        self.name = name
        self.value = value
        super().__init__(f"loss {name} is not finite ({value}); no weights were updated")




@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Build networks from `seed` without disturbing the caller's CPU random stream."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """No parameter gradients for `module` (D during the G step: its optimizer does not step there)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """ema = β·ema + (1−β)·model over parameters (FUNIT_FACTS §7: buffers are not averaged)."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p.detach(), 1.0 - beta)


def trainable(module: nn.Module) -> list[nn.Parameter]:
    return [p for p in module.parameters() if p.requires_grad]


class Approach(ABC):
    """One training set-up (the paper's naive, CycleFUNIT, FUNIT2FUNIT; LORD), built by the registry from its
    `ApproachSpec` (trainer/approach_registry/spec.py), which declares everything the rest of the project reads."""

    generator: DisentanglingGenerator
    ema: DisentanglingGenerator | None

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str):
        if num_classes < 2:
            raise ValueError(f"G2G training needs at least 2 identities, the dataset has {num_classes}")
        self.config = config
        self.weights: LossWeights = config.weights
        self.num_classes = num_classes
        self.device = torch.device(device)
        self.amp = bool(config.amp) and self.device.type == "cuda"
        self.scalers = {name: torch.amp.GradScaler("cuda", enabled=self.amp) for name in ("gen", "dis")}
        self.cpu_bf16_mode = cpu_bf16_mode(None if config.cpu_bf16 == "auto" else config.cpu_bf16)
        self.cpu_bf16: bool | None = None if self.device.type == "cpu" else False  # None: not decided yet
        self.cpu_bf16_note = ""  # why bf16 is on or off, once decided

    @property
    def name(self) -> str:
        """The registry name it was built under (`TrainConfig.approach`): its checkpoints and model files say it."""
        return self.config.approach

    # ------------------------------------------------------------------ the engine's contract
    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every module whose state goes into a checkpoint (read again after `load_funit_pair`)."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    def discriminator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        """One D update; approaches without a discriminator return {}."""
        return {}

    @abstractmethod
    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        """One G update followed by the EMA update."""

    def inference_generator(self) -> DisentanglingGenerator:
        return self.ema if self.ema is not None else self.generator

    def sampler_options(self) -> dict[str, bool]:
        """`PairSampler` options this approach's batches need beyond the engine's; {} for ordinary pairs."""
        return {}

    @torch.no_grad()
    def preview(self, batch: PairBatch) -> G2GResult:
        """Original / mixed / reconstructed of the first pair, from the EMA generator when there is one, as the
        app shows them (a mask head's reconstructions blended onto the mixes)."""
        gen = self.inference_generator()
        p = cross_pass(gen, batch.x1[:1].to(self.device), batch.x2[:1].to(self.device))
        return G2GResult(
            original=p.x.float().cpu(), mixed=p.mixed.float().cpu(), reconstructed=p.shown_recon.float().cpu()
        )

    def architecture(self) -> dict[str, dict[str, int]]:
        """`TrainConfig.model`/`dis` values that rebuild networks of exactly the shapes in use.

        After `load_funit_pair` the sizes (and D's class count) come from FUNIT's files, not from the
        config; a run that stores these in its config resumes into matching networks.
        """
        model = {k: v for k, v in self.generator.config.to_dict().items() if k != "image_size"}
        dis = getattr(self, "dis", None)
        return {"model": model, "dis": dis.config.to_dict() if dis is not None else {}}

    @property
    def cpu_precision(self) -> str:
        """"bf16" or "fp32" on the CPU (deciding now if not yet decided), "" on other devices."""
        if self.device.type != "cpu":
            return ""
        return "bf16" if self._use_cpu_bf16() else "fp32"
    def warm_start(self, generator: DisentanglingGenerator, path: Path) -> None:
        """G and its EMA both from `generator`'s weights (a model file holds one copy, usually the EMA), copied
        in place so the fresh optimisers keep their parameters; the discriminator stays as built."""
        weights = generator.state_dict()
        for name, module in (("gen", self.generator), ("gen_test", self.ema)):
            if module is None:
                continue
            try:
                module.load_state_dict(weights, strict=True)
            except RuntimeError as exc:
                problem = " ".join(str(exc).split())
                raise CheckpointError(path, f"its generator does not fit this run's {name!r}: {problem[:400]}") \
                    from None

    def extra_state(self) -> dict[str, Any]:
        """AMP loss-scaler state and the CPU precision choice (with why), for the training-state checkpoint."""
        precision = {"mode": self.cpu_bf16_mode, "bf16": bool(self.cpu_bf16), "note": self.cpu_bf16_note}
        return {"scalers": {name: scaler.state_dict() for name, scaler in self.scalers.items()},
                "cpu_precision": precision}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """The loss scalers. The precision is not touched: a resume takes it from the config (run_start), and a
        rollback to an earlier state must not undo a fall-back to fp32."""
        for name, scaler_state in state.get("scalers", {}).items():
            if name in self.scalers and scaler_state:
                self.scalers[name].load_state_dict(scaler_state)

    # ------------------------------------------------------------------ helpers for subclasses
    def autocast(self):
        if self.device.type != "cpu":
            return torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp)
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._use_cpu_bf16())

    def _use_cpu_bf16(self) -> bool:
        if self.cpu_bf16 is None:
            self.cpu_bf16, self.cpu_bf16_note = self._decide_cpu_bf16()
            log.info("training precision: %s", self.cpu_bf16_note)
        return self.cpu_bf16

    def _decide_cpu_bf16(self) -> tuple[bool, str]:
        if self.cpu_bf16_mode != "auto":
            on = self.cpu_bf16_mode == "on"
            return on, f"{'bf16 autocast' if on else 'fp32'} (cpu_bf16 = {self.cpu_bf16_mode})"
        recorded = self.config.cpu_precision
        if recorded == "fp32":
            return False, "fp32 (recorded in the run's config)"
        if recorded == "bf16":
            if cpu_has_native_bf16():
                return True, "bf16 autocast (recorded in the run's config)"
            return False, "fp32 (the run's config records bf16, but this CPU has no native bf16)"
        return auto_cpu_bf16(self.cross_pass_gflop())

    def cross_pass_gflop(self) -> float:
        """GFLOP of one G2G cross pass of one pair at the run's image size, counted on a meta-device copy of the
        generator: no arithmetic and no memory, and the same count on every machine."""
        from torch.utils.flop_counter import FlopCounterMode  # here: importing it loads triton (~1 s), for this only

        size = self.config.image_size
        meta = copy.deepcopy(self.generator).to("meta")
        x = torch.empty(1, 3, size, size, device="meta")
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            cross_pass(meta, x, x)
        return counter.get_total_flops() / 1e9

    def checked(self, terms: dict[str, Tensor], total: str, step: int) -> dict[str, float]:
        """Loss values as floats; raises NonFiniteLossError (before any update) if one is not finite."""
        values = {name: float(t.detach().float()) for name, t in terms.items()}
        for name, value in values.items():
            if not math.isfinite(value):
                if self.cpu_bf16:  # the engine repeats the step; from now on in fp32
                    self.cpu_bf16, self.cpu_bf16_note = False, f"fp32 (bf16 gave a non-finite {name} at step {step})"
                    log.warning("training precision: %s", self.cpu_bf16_note)
                raise NonFiniteLossError(name, value)
        return values

    def make_optimizer(self, params, lr: float, default: str) -> torch.optim.Optimizer:
        """`config.optimizer` ("auto" = the approach's own `default`): RMSprop as FUNIT, or Adam β (0.5, 0.999)."""
        kind = default if self.config.optimizer == "auto" else self.config.optimizer
        if kind == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), weight_decay=self.config.weight_decay)
        return torch.optim.RMSprop(params, lr=lr, weight_decay=self.config.weight_decay)

    def base_lr(self, which: str) -> float:
        """The configured learning rate of optimizer `which` (what a warm-up rises to)."""
        return self.config.lr_gen if which == "gen" else self.config.lr_dis

    def update(self, which: str | tuple[str, ...], loss: Tensor, step: int) -> None:
        """Back-propagate `loss` and step optimizer `which` ('gen' or 'dis', or several names whose parameters
        share this loss) through the AMP scaler of the first.

        With `config.lr_warmup_steps`, the learning rate rises linearly to the configured one by `step`.
        """
        names = (which,) if isinstance(which, str) else which
        optimizers, scaler = [self.optimizers()[name] for name in names], self.scalers[names[0]]
        warmup = self.config.lr_warmup_steps
        for name, optimizer in zip(names, optimizers):
            if warmup > 0:
                for group in optimizer.param_groups:
                    group["lr"] = self.base_lr(name) * min(1.0, (step + 1) / warmup)
            optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        for optimizer in optimizers:
            scaler.step(optimizer)
        scaler.update()

    def update_ema(self) -> None:
        if self.ema is not None:
            ema_update(self.ema, self.generator, self.config.ema_beta)

    def unused_weights(self, weights: LossWeights) -> list[str]:
        """Why a weight raised during the run has no effect here (a module it needs was not built at the start)."""
        return []
