"""The held-out score that picks a run's "best" checkpoint: a quality measure, not a training loss.

The GAN generator loss is no quality measure (it rises when D improves) and changes scale whenever
a loss weight is edited mid-run, so the run measures its inference generator (EMA when there is one)
at every checkpoint on a few fixed images it never trains on, with `trainer.metrics`' L1 (the [0, 1]
pixel scale, lower is better):

* procedural faces: `Eval/swap_l1`, the swap error of both mixes of 8 pairs of the held-out identity
  split against their ground truth (what `g2g-eval` calls swap/l1, on a much smaller set);
* any other data: `Eval/self_l1`, the short reconstruction G(x, x) of one image of each of up to 8
  identities with at least 3 images; those images are taken out of the training set.

Everything is rendered or loaded once; a score is one forward pass of a few images.
"""

from __future__ import annotations

import torch
from PIL import Image

from g2g_desktop.core.g2g import cross_pass
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.images import fit_square, pil_to_tensor
from trainer.datasets import IdentityDataset
from trainer.metrics import l1_error, sample_pairs
from trainer.procedural_dataset import ProceduralFaceDataset

PAIRS = 8  # procedural swap pairs
IMAGES = 8  # real held-out images, one per identity
MIN_IMAGES = 3  # an identity gives one image away only if it keeps at least two to train on


class HeldOutSubset(IdentityDataset):
    """`dataset` without the held-out items: same identities and labels, fewer images."""

    def __init__(self, dataset: IdentityDataset, removed: set[int]):
        self.dataset = dataset
        self.kept = [i for i in range(len(dataset)) if i not in removed]
        self.labels = [dataset.labels[i] for i in self.kept]
        self.class_names = dataset.class_names

    def get_image(self, index: int) -> Image.Image:
        return self.dataset.get_image(self.kept[index])

    def describe(self, index: int) -> str:
        return self.dataset.describe(self.kept[index])

    def fingerprint(self, index: int) -> str:
        return self.dataset.fingerprint(self.kept[index])


class HeldOutScore:
    """Built from the run's dataset; `training_set` is what the sampler may train on."""

    def __init__(self, dataset: IdentityDataset, image_size: int, seed: int):
        self.image_size = image_size
        if isinstance(dataset, ProceduralFaceDataset):
            self.name = "Eval/swap_l1"
            heldout = ProceduralFaceDataset(num_identities=PAIRS, samples_per_identity=2,
                                            image_size=dataset.image_size, seed=dataset.seed, split="heldout")
            pairs = sample_pairs(heldout.labels, PAIRS, seed)
            self.x1 = self._tensor([heldout.get_image(i) for i, _ in pairs])
            self.x2 = self._tensor([heldout.get_image(j) for _, j in pairs])
            self.truth = torch.cat([self._tensor([heldout.ground_truth(i, j) for i, j in pairs]),
                                    self._tensor([heldout.ground_truth(j, i) for i, j in pairs])])
            self.training_set = dataset
            return
        self.name = "Eval/self_l1"
        chosen: list[int] = []
        for label in range(dataset.num_classes):
            members = [i for i, lab in enumerate(dataset.labels) if lab == label]
            if len(members) >= MIN_IMAGES and len(chosen) < IMAGES:
                chosen.append(members[-1])
        self.x1 = self._tensor([dataset.get_image(i) for i in chosen]) if chosen else None
        self.truth = self.x1
        self.training_set = HeldOutSubset(dataset, set(chosen)) if chosen else dataset

    def _tensor(self, images: list[Image.Image]) -> torch.Tensor:
        return torch.stack([pil_to_tensor(fit_square(im.convert("RGB"), self.image_size)) for im in images])

    @property
    def available(self) -> bool:
        """False when no identity has enough images to spare one (tiny folders): no score, no "best"."""
        return self.x1 is not None

    @torch.no_grad()
    def __call__(self, generator: DisentanglingGenerator) -> float | None:
        if not self.available:
            return None
        device = next(generator.parameters()).device
        was_training = generator.training
        generator.eval()
        try:
            if self.name == "Eval/swap_l1":
                guess = cross_pass(generator, self.x1.to(device), self.x2.to(device)).mixed
            else:
                x = self.x1.to(device)
                guess = generator(x, x)  # G(x, x), blended onto x by a mask head
        finally:
            generator.train(was_training)
        return float(l1_error(guess.float(), self.truth.to(device)).mean())
