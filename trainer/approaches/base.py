"""What every training approach offers the engine, and the machinery they share.

The engine (trainer/engine.py) only talks to `Approach`: per iteration it calls
`discriminator_step`, then `generator_step` (which also updates the EMA copy) — FUNIT's order
(FUNIT_FACTS §5) — and reads `modules()`/`optimizers()`/`extra_state()` for checkpoints. It may swap
`approach.weights` for a new `LossWeights` between steps; every step reads the current value.

Every loss is checked (`checked`) before any optimizer step: a NaN or Inf raises `NonFiniteLossError` and
leaves all weights untouched, so the engine can roll back.

On the CPU, `autocast()` is bf16 autocast where `config.cpu_bf16` allows it: "on", "off", or "auto"
(which defers to $G2G_CPU_BF16, default auto): on a CPU with native bf16 the first `autocast()` times
one forward + backward of the generator in fp32 and in bf16 on a fixed batch and keeps bf16 only when it
was faster and its loss finite. A non-finite loss under bf16 switches it off for the rest of the run
(the engine rolls back and repeats the step in fp32). The choice goes into `extra_state()`, and a
resumed "auto" run keeps it instead of measuring again.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from g2g_desktop.core.device import Bf16Trial, compare_bf16, cpu_bf16_mode, cpu_has_native_bf16
from g2g_desktop.core.g2g import cross_pass, swap_sides
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
    """One of the paper's training set-ups (naive, CycleFUNIT, FUNIT2FUNIT)."""

    name: str
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
        self.bf16_trial: Bf16Trial | None = None

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
        """AMP loss-scaler state and the CPU precision choice, for the training-state checkpoint."""
        precision = {"mode": self.cpu_bf16_mode, "bf16": bool(self.cpu_bf16), "note": self.cpu_bf16_note,
                     "trial": self.bf16_trial.to_dict() if self.bf16_trial else None}
        return {"scalers": {name: scaler.state_dict() for name, scaler in self.scalers.items()},
                "cpu_precision": precision}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name, scaler_state in state.get("scalers", {}).items():
            if name in self.scalers and scaler_state:
                self.scalers[name].load_state_dict(scaler_state)
        # a resumed "auto" run keeps the measured choice (and so its numerics), unless this CPU lacks native bf16
        saved = state.get("cpu_precision") or {}
        keep = self.cpu_bf16 is None and self.cpu_bf16_mode == "auto" and saved.get("mode") == "auto"
        if keep and (not saved.get("bf16") or cpu_has_native_bf16()):
            self.cpu_bf16 = bool(saved.get("bf16"))
            self.cpu_bf16_note = f"{saved.get('note', '')} (kept from the checkpoint)".strip()

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
            return self.cpu_bf16_mode == "on", f"bf16 autocast {self.cpu_bf16_mode} (cpu_bf16 = {self.cpu_bf16_mode})"
        if not cpu_has_native_bf16():
            return False, "fp32 (this CPU has no native bf16)"
        trial = self.bf16_trial = compare_bf16(self._precision_probe, repeats=1)
        verdict = f"fp32 {trial.fp32_ms:.0f} ms, bf16 {trial.bf16_ms:.0f} ms per probe step"
        if trial.faster():
            return True, f"bf16 autocast ({trial.speedup:.2f}× faster: {verdict})"
        reason = "its loss was not finite" if not trial.finite else "it was not faster"
        return False, f"fp32 (bf16 {reason}: {verdict})"

    def _precision_probe(self) -> Tensor:
        """Forward + backward of one G2G pass on a fixed pair; gradients are dropped, no weight changes.

        It runs at the first `autocast()`, which may be inside a step's `torch.no_grad()` block.
        """
        size = self.config.image_size
        x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0)).to(self.device) * 2 - 1
        with torch.enable_grad():
            p = cross_pass(self.generator, x[:1], x[1:])
            loss = (p.recon - p.x).abs().mean() + (p.mixed - swap_sides(p.x)).abs().mean()
            if loss.requires_grad:  # a generator with every weight frozen has nothing to back-propagate
                loss.backward()
        self.generator.zero_grad(set_to_none=True)
        return loss.detach()

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

    def update(self, which: str, loss: Tensor, step: int) -> None:
        """Back-propagate `loss` and step optimizer `which` ('gen' or 'dis') through its AMP scaler.

        With `config.lr_warmup_steps`, the learning rate rises linearly to the configured one by `step`.
        """
        optimizer, scaler = self.optimizers()[which], self.scalers[which]
        warmup = self.config.lr_warmup_steps
        if warmup > 0:
            base = self.config.lr_gen if which == "gen" else self.config.lr_dis
            for group in optimizer.param_groups:
                group["lr"] = base * min(1.0, (step + 1) / warmup)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def update_ema(self) -> None:
        if self.ema is not None:
            ema_update(self.ema, self.generator, self.config.ema_beta)
