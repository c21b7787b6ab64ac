"""The frozen identity critic: a small ensemble that knows the *training* identities, for a loss on the mixes.

SimSwap and FaceShifter make a swap carry the source's identity with a frozen face recogniser (ArcFace);
here the recogniser is the judge's CNN (`IdentityClassifier` with a second conv in its last stage), trained
before the run on the training data set's own people and then frozen, so that
`trainer.losses.critic_cosine_loss` can ask whether a mix m1 = G(E_A(x1), E_B(x2)) looks like x2's person —
something a copy of the content image x1 cannot satisfy. Issue 19 measured it as the first term without
ground truth that moves identity (held-out person ratio 0.905 → 0.665 at 2000 steps, cosine on features).

What it learns from:
* procedural faces: `renders_per_identity` fresh renders of each training identity from a rest stream
  (`CRITIC_STREAM`) that neither the data set's items (streams 0/1) nor the judges (stream 7) use;
* any other identity data set (a folder with one sub-folder per person): its own images; the augmentation
  then has to stand in for fresh situations.
Every sample is augmented on the fly (`augment`): flip, ±3 px shift with 1.0–1.1 zoom, brightness ±0.1,
contrast 0.8–1.2, Gaussian blur σ 0.3–1.2 on half the images, noise σ 0.03 — drawn per image, in one
batched call (torchvision.transforms.v2 draws one set of parameters per call, i.e. per batch).
The trained ensemble is cached (key: the data set's identity, sizes, seeds, renderer version), written
atomically, so a second run — or a resumed one — does not train it again.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from g2g_desktop.core.images import fit_square, pil_to_tensor
from g2g_desktop.core.safe_io import atomic_write, safe_torch_load
from trainer.face_factors import RestFactors
from trainer.identity_classifier import IdentityClassifier, default_cache_dir
from trainer.identity_dataset import IdentityDataset
from trainer.procedural_dataset import SPLITS, ProceduralFaceDataset, factor_rng
from trainer.procedural_faces import RENDERER_VERSION

log = logging.getLogger(__name__)

CRITIC_STREAM = 8  # the rest stream of the critic's renders (data set items: 0/1, judges: 7)
CRITIC_VERSION = 1  # bump when the critic's training changes, so old caches are not reused
RENDERS = 40  # fresh renders per training identity (procedural faces)
EPOCHS = 4  # ≈ 2–5 min a member on one thread (the probe: 3 min)
SEEDS = (0, 1)  # the ensemble's members
BATCH = 64


class IdentityCritic(nn.Module):
    """An ensemble of `IdentityClassifier(deep_last_stage=True)` members, frozen: always in eval mode.

    `train()` cannot switch it back to training mode, so its batch-norm statistics never move, and it has
    no trainable parameters; gradients flow *through* it into the images it scores, never into it.
    """

    def __init__(self, num_classes: int, members: int = len(SEEDS)):
        super().__init__()
        self.members = nn.ModuleList(IdentityClassifier(num_classes, deep_last_stage=True) for _ in range(members))
        self.freeze()

    def freeze(self) -> IdentityCritic:
        self.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> IdentityCritic:
        return super().train(False)

    def embed(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each member's penultimate (mean + max pooled) features of `x`."""
        return [member.embed(x) for member in self.members]

    def logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each member's class logits of `x`."""
        return [member(x) for member in self.members]

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's identity (argmax of the mean softmax) of each image."""
        p = next(self.parameters())
        probs = torch.stack([z.softmax(dim=1) for z in self.logits(x.to(p.device, p.dtype))])
        return probs.mean(dim=0).argmax(dim=1).cpu()


# --------------------------------------------------------------------------- batched random views


def _shift_zoom(x: torch.Tensor, max_shift_px: float, max_zoom: float) -> torch.Tensor:
    """Each image shifted by up to ±`max_shift_px` pixels and zoomed in by 1..`max_zoom` (differentiable)."""
    n, _, h, w = x.shape
    shift = (torch.rand(n, 2, device=x.device) * 2 - 1) * max_shift_px * 2 / torch.tensor([w, h], device=x.device)
    scale = 1 / (1 + torch.rand(n, device=x.device) * (max_zoom - 1))
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _blur(x: torch.Tensor, sigma_range: tuple[float, float], taps: int = 5) -> torch.Tensor:
    """A separable `taps`-tap Gaussian blur, σ drawn per image from `sigma_range` (differentiable)."""
    n, c, h, w = x.shape
    lo, hi = sigma_range
    sigma = lo + torch.rand(n, 1, device=x.device) * (hi - lo)
    offsets = torch.arange(taps, device=x.device, dtype=x.dtype) - (taps - 1) / 2
    kernel = torch.exp(-offsets[None] ** 2 / (2 * sigma.to(x.dtype) ** 2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (n·c) × taps
    pad = taps // 2
    y = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode="replicate")
    y = F.conv2d(y, kernel[:, None, None, :], groups=n * c)
    y = F.conv2d(y, kernel[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


def critic_view(x: torch.Tensor) -> torch.Tensor:
    """T: a random ±2 px shift (grid_sample) then a 5-tap Gaussian blur σ 0.3–0.8, per image.

    What the critic sees of a mix and of its class image: the shift and blur keep the generator from
    answering the critic with pixel-exact adversarial texture (issue 19's probe).
    """
    return _blur(_shift_zoom(x, 2.0, 1.0), (0.3, 0.8))


def augment(x: torch.Tensor) -> torch.Tensor:
    """The pre-training augmentation of images in [-1, 1], drawn per image (module docstring)."""
    n = x.shape[0]
    ones = (n, 1, 1, 1)
    x = torch.where(torch.rand(ones) < 0.5, x.flip(-1), x)
    x = _shift_zoom(x, 3.0, 1.1)
    x = x + (torch.rand(ones) * 2 - 1) * 0.2  # brightness ±0.1 on the [0, 1] scale
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * (0.8 + torch.rand(ones) * 0.4)  # contrast 0.8–1.2
    x = torch.where(torch.rand(ones) < 0.5, _blur(x, (0.3, 1.2)), x)
    return (x + torch.randn_like(x) * 0.06).clamp(-1, 1)  # noise σ 0.03 on the [0, 1] scale


# --------------------------------------------------------------------------- pre-training and cache


def _dataset_key(data: IdentityDataset) -> str:
    """What identifies a data set's people and images: the renderer's seeds, or every item's label and fingerprint
    (its file's name, size and modification time)."""
    if isinstance(data, ProceduralFaceDataset):
        return f"procedural-{data.seed}-{data.split}-{data.num_classes}-{data.image_size}-r{RENDERER_VERSION}"
    names = "\n".join(f"{label}\t{data.fingerprint(i)}" for i, label in enumerate(data.labels))
    return f"items-{len(data)}-{data.num_classes}-{hashlib.sha1(names.encode()).hexdigest()}"


def critic_cache_file(data: IdentityDataset, renders: int, epochs: int, seeds: Sequence[int], cache_dir: Path) -> Path:
    key = f"{_dataset_key(data)}-{renders}-{epochs}-{list(seeds)}-v{CRITIC_VERSION}"
    return cache_dir / f"identity_critic_{hashlib.sha1(key.encode()).hexdigest()[:16]}.pt"


def critic_training_images(data: IdentityDataset, renders_per_identity: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(images at the critic's 32 px, labels): fresh renders of procedural faces, else the data set's own images."""
    size = IdentityClassifier.INPUT
    if isinstance(data, ProceduralFaceDataset):
        code = 2 + SPLITS[data.split]
        pairs = [(label, data.render(label, RestFactors.sample(factor_rng(data.seed, code, CRITIC_STREAM, label, j))))
                 for label in range(data.num_classes) for j in range(renders_per_identity)]
    else:
        pairs = [(label, data.get_image(i)) for i, label in enumerate(data.labels)]
    x = torch.stack([pil_to_tensor(fit_square(image.convert("RGB"), size)) for _, image in pairs])
    return x, torch.tensor([label for label, _ in pairs])


def _train_member(x: torch.Tensor, y: torch.Tensor, num_classes: int, epochs: int, seed: int,
                  say: Callable[[str], None]) -> IdentityClassifier:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = IdentityClassifier(num_classes, deep_last_stage=True)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        steps_per_epoch = max(1, math.ceil(len(x) / BATCH))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps_per_epoch)
        model.train()
        for epoch in range(epochs):
            order, total = torch.randperm(len(x)), 0.0
            for k in range(steps_per_epoch):
                idx = order[k * BATCH : (k + 1) * BATCH]
                loss = F.cross_entropy(model(augment(x[idx])), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item()
            say(f"identity critic (seed {seed}) epoch {epoch + 1}/{epochs}: loss {total / steps_per_epoch:.3f}")
    return model.eval()


def train_identity_critic(
    data: IdentityDataset,
    *,
    renders_per_identity: int = RENDERS,  # procedural faces only: fresh renders per identity
    epochs: int = EPOCHS,
    seeds: Sequence[int] = SEEDS,  # one ensemble member per seed
    cache_dir: Path | None = None,  # None = the judge's cache folder (identity_classifier.default_cache_dir)
    say: Callable[[str], None] | None = None,  # progress lines (also logged)
) -> IdentityCritic:
    """The frozen critic of `data`'s identities: from the cache when it holds one, else pre-trained (minutes)."""
    def report(message: str) -> None:
        log.info(message)
        if say is not None:
            say(message)

    cache = critic_cache_file(data, renders_per_identity, epochs, seeds, default_cache_dir() if cache_dir is None
                              else Path(cache_dir))
    critic = IdentityCritic(data.num_classes, len(seeds))
    if cache.exists():
        state = safe_torch_load(cache)
        if isinstance(state, dict) and state.keys() == critic.state_dict().keys():
            critic.load_state_dict(state)
            report(f"identity critic: loaded from {cache}")
            return critic.freeze()
    report(f"identity critic: pre-training {len(seeds)} members on {data.num_classes} identities")
    x, y = critic_training_images(data, renders_per_identity)
    for member, seed in zip(critic.members, seeds):
        member.load_state_dict(_train_member(x, y, data.num_classes, epochs, seed, report).state_dict())
    critic.freeze()
    state = critic.state_dict()
    atomic_write(cache, lambda tmp: torch.save(state, tmp))  # a killed run leaves no half-written cache
    report(f"identity critic: saved to {cache}")
    return critic
