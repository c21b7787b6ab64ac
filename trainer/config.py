"""`TrainConfig`: everything a training run needs, built by the CLI or the app's training panel.

Frozen: a run's config never changes behind the engine's back. The one thing users edit while a
run goes on, the loss weights, is replaced as a whole through the engine (`set_weights`), which
records every change in the run's audit log.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from trainer.losses import LossWeights

APPROACHES = ("naive", "cycle_funit", "funit2funit")


@dataclass(frozen=True)
class TrainConfig:
    approach: str = "funit2funit"  # naive | cycle_funit | funit2funit (paper §IV-A/B/C)
    data: str = "procedural"  # dataset folder, CelebA root, FUNIT list file, or "procedural"
    out: str = "runs/run"  # run folder: checkpoints, metrics.jsonl, previews, audit log
    resume: str | None = None  # project training state, run folder, or a FUNIT gen_*.pt (dis_*.pt beside it)
    steps: int = 1000  # total optimizer steps of the run (resume continues up to this)
    batch_size: int = 4  # pairs per step (paper FUNIT2FUNIT: 4)
    image_size: int = 64
    seed: int = 0
    model: dict[str, Any] = field(default_factory=dict)  # generator config overrides (core config fields)
    dis: dict[str, Any] = field(default_factory=dict)  # discriminator config overrides
    weights: LossWeights = field(default_factory=LossWeights)
    lr_gen: float = 1e-4  # FUNIT: RMSprop lr 1e-4 (Adam 2e-4 for naive, see approaches)
    lr_dis: float = 1e-4
    weight_decay: float = 1e-4
    ema_beta: float = 0.999  # FUNIT_FACTS §7: gen_test = 0.999·gen_test + 0.001·gen
    vgg_weights: str | None = None  # torchvision VGG16 state-dict path for the perceptual loss
    face_weights: str | None = None  # facenet-pytorch InceptionResnetV1 state-dict path (identity loss)
    identity_encoder_as_eb: bool = False  # CycleFUNIT variant: E_B replaced by the identity network
    amp: bool = True  # mixed precision when on CUDA (ignored on CPU)
    num_workers: int = 0  # DataLoader worker processes (0 in the frozen app)
    log_every: int = 10  # steps between metric lines
    preview_every: int = 50  # steps between preview grids
    checkpoint_every: int = 500  # steps between full training-state checkpoints
    keep_last: int = 3  # checkpoints kept besides the best
    best_metric: str = "Loss/G/total"  # lower is better

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
