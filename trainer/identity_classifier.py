"""The identity judge of the procedural metrics: a small CNN that names who a face is.

It is trained on ground-truth renders only (fresh rest samples, never the data set's own items), so a
generator cannot have learned to fool it; `swap_metrics` asks it whose identity a mixed image carries.
Trained weights are cached per data set (seed, split, size, renderer version), written atomically.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from g2g_desktop.core.images import pil_to_tensor
from g2g_desktop.core.safe_io import atomic_write, safe_torch_load
from trainer.face_factors import RestFactors
from trainer.procedural_dataset import SPLITS, ProceduralFaceDataset, factor_rng
from trainer.procedural_faces import RENDERER_VERSION


class IdentityClassifier(nn.Module):
    """A small CNN on 32×32 images that names the identity; trained on ground-truth renders only.

    `deep_last_stage` adds a second conv to the last stage: the identity critic's variant
    (trainer/identity_critic.py), which needs finer features than the judge.
    """

    INPUT = 32

    def __init__(self, num_classes: int, *, deep_last_stage: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        widths = (32, 64, 128)
        for out in widths:
            layers += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            if deep_last_stage and out == widths[-1]:
                layers += [nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            layers.append(nn.MaxPool2d(2))
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * width, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate features: the last stage's mean and max over positions (B × 2·128)."""
        x = F.interpolate(x, size=(self.INPUT, self.INPUT), mode="area")
        f = self.features(x)
        return torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        self.eval()
        p = next(self.parameters())
        return self(x.to(p.device, p.dtype)).argmax(dim=1).cpu()


def _classifier_cache_file(data: ProceduralFaceDataset, renders: int, seed: int, cache_dir: Path) -> Path:
    key = f"{data.seed}-{data.split}-{data.num_classes}-{data.image_size}-{renders}-{seed}-r{RENDERER_VERSION}"
    return cache_dir / f"identity_clf_{hashlib.sha1(key.encode()).hexdigest()[:16]}.pt"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "g2g-desktop" / "eval"


def train_identity_classifier(
    data: ProceduralFaceDataset,
    *,
    renders_per_identity: int = 24,  # fresh rest samples per identity (not the data set's own items)
    epochs: int = 12,
    seed: int = 0,
    cache_dir: Path | None = None,  # trained weights are cached here; None = default_cache_dir()
    log: Callable[[str], None] | None = None,
) -> IdentityClassifier:
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    cache = _classifier_cache_file(data, renders_per_identity, seed, cache_dir)
    model = IdentityClassifier(data.num_classes)
    if cache.exists():
        state = safe_torch_load(cache)
        if isinstance(state, dict) and state.keys() == model.state_dict().keys():
            model.load_state_dict(state)
            return model.eval()
    code = 2 + SPLITS[data.split]  # a rest stream the data set's own items never use
    images, labels = [], []
    for label in range(data.num_classes):
        for j in range(renders_per_identity):
            rest = RestFactors.sample(factor_rng(data.seed, code, 7, label, j))
            images.append(pil_to_tensor(data.render(label, rest)))
            labels.append(label)
    x, y = torch.stack(images), torch.tensor(labels)
    x = F.interpolate(x, size=(IdentityClassifier.INPUT, IdentityClassifier.INPUT), mode="area")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = IdentityClassifier(data.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    steps_per_epoch = max(1, len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps_per_epoch)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for k in range(steps_per_epoch):
            idx = order[k * 64 : (k + 1) * 64]
            xb = x[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if log:
            log(f"identity classifier epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}")
    model.eval()
    state = model.state_dict()
    atomic_write(cache, lambda tmp: torch.save(state, tmp))  # a killed run leaves no half-written cache
    return model
