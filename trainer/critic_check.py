"""Is the identity critic fooled? Its verdict on the mixes against an independent classifier of the same people.

A generator trained against a frozen critic can learn the critic's blind spots instead of the identity
(the G2G authors' own critic on CelebA was fooled within 50 iterations). So along the learning curve of a
critic row, on pairs of *training* images (the people the critic knows), two networks name the identity of
each mix m = G(E_A(x1), E_B(x2)): the critic, and a separate classifier of the training identities, trained
like the held-out judge (`train_identity_classifier`, its own rest stream) and never used in a loss. When the
critic names far more mixes than the classifier, it is over-rewarding (issue 19's probe: about 2×).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from g2g_desktop.core.g2g import cross_pass, swap_sides
from trainer.identity_classifier import IdentityClassifier, train_identity_classifier
from trainer.identity_critic import IdentityCritic
from trainer.losses import critic_cosine_loss
from trainer.metrics import device_of, image_batch, sample_pairs
from trainer.procedural_dataset import ProceduralFaceDataset

if TYPE_CHECKING:
    from pathlib import Path

    from g2g_desktop.core.generator import DisentanglingGenerator
    from trainer.engine import TrainingEngine

PAIRS = 48  # training pairs per curve point (96 mixes)


class CriticCheck:
    """The critic's and an independent classifier's identity accuracy on the mixes of fixed training pairs."""

    def __init__(self, data: ProceduralFaceDataset, critic: IdentityCritic, *, pairs: int = PAIRS, seed: int = 0,
                 renders_per_identity: int = 24, cache_dir: Path | None = None):
        self.data, self.critic = data, critic
        self.pairs = sample_pairs(data.labels, pairs, seed)
        self.targets = swap_sides(torch.tensor([data.labels[i] for i, _ in self.pairs]
                                               + [data.labels[j] for _, j in self.pairs]))
        with torch.random.fork_rng(devices=[]):  # training it seeds torch: built mid-run, it must not reseed the run
            self.classifier: IdentityClassifier = train_identity_classifier(
                data, renders_per_identity=renders_per_identity, seed=seed, cache_dir=cache_dir)

    @torch.no_grad()
    def __call__(self, gen: DisentanglingGenerator) -> dict[str, float]:
        """critic/mixed_acc, critic/classifier_acc (identity accuracy of the mixes) and critic/cosine (1 − cos)."""
        device, size = device_of(gen), gen.config.image_size
        x1 = image_batch([self.data.get_image(i) for i, _ in self.pairs], size).to(device)
        x2 = image_batch([self.data.get_image(j) for _, j in self.pairs], size).to(device)
        was_training = gen.training
        gen.eval()
        try:
            p = cross_pass(gen, x1, x2)
        finally:
            gen.train(was_training)
        with torch.random.fork_rng(devices=[]):  # the critic's random view never moves the training's stream
            torch.manual_seed(0)
            cosine = float(critic_cosine_loss(self.critic, p.mixed, swap_sides(p.x)))
        return {
            "critic/mixed_acc": float((self.critic.predict(p.mixed) == self.targets).float().mean()),
            "critic/classifier_acc": float((self.classifier.predict(p.mixed) == self.targets).float().mean()),
            "critic/cosine": cosine,
        }


class CriticCurve:
    """The check for a study row's curve sink: {} unless the engine's approach has a critic on procedural faces."""

    def __init__(self) -> None:
        self.check: CriticCheck | None = None

    def __call__(self, engine: TrainingEngine) -> dict[str, float]:
        critic = getattr(engine.approach, "critic", None)
        data = engine.sampler.dataset
        if critic is None or not isinstance(data, ProceduralFaceDataset):
            return {}
        if self.check is None or self.check.critic is not critic:
            self.check = CriticCheck(data, critic)
        return self.check(engine.approach.inference_generator())
