"""The pair sampler: batches of image pairs of two different identities, seeded and resumable mid-epoch.

Every pair is a pure function of (seed, its index in an endless stream). Pair k of rank r is stream
item g = k·world_size + r; g falls in epoch g // N at position g % N of that epoch's permutation
(seeded by (seed, epoch)), which gives the anchor image x1. The partner x2 (a different identity) and
the augmentation of both come from a generator seeded by (seed, g). So the sampler's whole state —
position and randomness — is the number of pairs this rank has consumed: `state_dict()` stores it,
`load_state_dict()` jumps there, and worker processes produce exactly what the main process would.

Augmentation is FUNIT's (FUNIT_FACTS §8): random horizontal flip → resize of the shorter side to
image_size·140/128 → random image_size crop. Evaluation mode resizes straight to a square.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, default_collate

from g2g_desktop.core.images import ImageLoadError, pil_to_tensor
from trainer.batch import PairBatch
from trainer.datasets import DatasetError, DatasetWarning, IdentityDataset

RESIZE_RATIO = 140 / 128  # FUNIT: resize to 140, crop 128


class PairSampler:
    """Endless iterator of `PairBatch`es for one rank; `label1 != label2` in every pair."""

    def __init__(
        self,
        dataset: IdentityDataset,
        *,
        batch_size: int,  # pairs per batch (per rank)
        image_size: int,  # side of the square crops
        seed: int = 0,  # the whole sequence of pairs follows from it
        train: bool = True,  # FUNIT augmentation; False: plain square resize, no flip
        rank: int = 0,  # this process's shard ...
        world_size: int = 1,  # ... of this many disjoint shards
        num_workers: int = 0,  # DataLoader worker processes; 0 loads in the calling thread
        same_identity: bool = False,  # also load another image of each person (PairBatch.x1_same/x2_same)
        ground_truth: bool = False,  # also render the true swaps (PairBatch.m_true; procedural faces only)
        indices: bool = False,  # also hand out the data set indices of x1 and x2 (PairBatch.index1/index2)
    ):
        if dataset.num_classes < 2:
            raise DatasetError("the pair sampler needs at least 2 identities")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of size {world_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.image_size = image_size
        self.seed = seed
        self.train = train
        self.rank = rank
        self.world_size = world_size
        self.num_workers = num_workers
        self.same_identity = same_identity
        if ground_truth and not has_ground_truth(dataset):
            source = getattr(dataset, "source", type(dataset).__name__)
            raise DatasetError(f"{source}: photos have no ground-truth swaps (only procedural faces do), "
                               "so the supervised cross loss (lambda_cross_gt) cannot be used")
        self.ground_truth = ground_truth
        self.indices = indices
        labels = np.asarray(dataset.labels, dtype=np.int64)
        self._labels = labels
        self._by_class = [np.flatnonzero(labels == c) for c in range(dataset.num_classes)]
        self._present = np.asarray([c for c, items in enumerate(self._by_class) if len(items)], dtype=np.int64)
        if len(self._present) < 2:
            raise DatasetError("the pair sampler needs images of at least 2 identities")
        self._perm_cache: dict[int, np.ndarray] = {}
        self._broken: set[int] = set()  # items already reported as undecodable
        self.batches_done = 0  # batches handed out by __next__ (not counting prefetched ones)
        self._loader_iter: Iterator | None = None

    # ------------------------------------------------------------------ one pair

    def _permutation(self, epoch: int) -> np.ndarray:
        perm = self._perm_cache.get(epoch)
        if perm is None:
            perm = np.random.default_rng((self.seed, epoch)).permutation(len(self._labels))
            self._perm_cache = {epoch: perm}
        return perm

    def pair_indices(self, g: int) -> tuple[int, int, np.random.Generator]:
        """Dataset indices of stream item g and the generator that drives its augmentation."""
        n = len(self._labels)
        i = int(self._permutation(g // n)[g % n])
        rng = np.random.default_rng((self.seed, 1, g))
        label = self._labels[i]
        others = self._present[self._present != label]
        partner_class = others[rng.integers(len(others))]
        members = self._by_class[partner_class]
        j = int(members[rng.integers(len(members))])
        return i, j, rng

    def same_identity_partner(self, index: int, rng: np.random.Generator) -> int:
        """Another item of `index`'s identity (the item itself when the person has only one image)."""
        members = self._by_class[self._labels[index]]
        others = members[members != index]
        return index if not len(others) else int(others[rng.integers(len(others))])

    def load_pair(self, g: int) -> dict[str, torch.Tensor | int]:
        """Stream item g as `PairBatch` fields: x1, label1, x2, label2; x1_same/x2_same when `same_identity`
        is on; m_true (the two true swaps, stacked [m1* | m2*]) when `ground_truth` is on; index1/index2 (the
        data set indices of x1/x2) when `indices` is on.

        The partners draw from their own stream (seed, 2, g), and each true swap repeats the flip and crop
        of its content image from a copy of that image's generator, so turning either on leaves x1, x2 and
        their augmentation exactly as they were.
        """
        i, j, rng = self.pair_indices(g)
        rng_x1 = copy.deepcopy(rng) if self.ground_truth else None  # the true swaps repeat these draws
        x1 = self._transform(self._image(i), rng)
        rng_x2 = copy.deepcopy(rng) if self.ground_truth else None
        item: dict[str, torch.Tensor | int] = {
            "x1": x1, "label1": int(self._labels[i]),
            "x2": self._transform(self._image(j), rng), "label2": int(self._labels[j]),
        }
        if self.indices:
            item["index1"], item["index2"] = i, j
        if self.same_identity:
            same_rng = np.random.default_rng((self.seed, 2, g))
            i_same, j_same = (self.same_identity_partner(k, same_rng) for k in (i, j))
            item["x1_same"] = self._transform(self._image(i_same), same_rng)
            item["x2_same"] = self._transform(self._image(j_same), same_rng)
        if self.ground_truth:
            truth = self.dataset.ground_truth  # type: ignore[attr-defined]  (checked in __init__)
            item["m_true"] = torch.stack([self._transform(truth(i, j), rng_x1), self._transform(truth(j, i), rng_x2)])
        return item

    def _image(self, index: int) -> Image.Image:
        """The image of `index`; one that fails to decode (truncated past its header) is replaced by the
        next readable image of the same identity, with a warning naming the file, so training goes on."""
        members = self._by_class[self._labels[index]]
        start = int(np.searchsorted(members, index))
        for candidate in np.roll(members, -start):
            try:
                return self.dataset.get_image(int(candidate))
            except ImageLoadError as exc:
                if int(candidate) not in self._broken:
                    self._broken.add(int(candidate))
                    warnings.warn(f"{exc}; using another image of the same identity", DatasetWarning,
                                  stacklevel=2)
        raise DatasetError(f"no image of identity {self.dataset.class_names[self._labels[index]]!r} "
                           f"can be decoded (e.g. {self.dataset.describe(index)})")

    def _transform(self, image: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        size = self.image_size
        if not self.train:
            return pil_to_tensor(image.resize((size, size), Image.Resampling.BILINEAR))
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        w, h = image.size
        short = round(size * RESIZE_RATIO)
        new_w, new_h = (short, max(short, int(short * h / w))) if w <= h else (max(short, int(short * w / h)), short)
        image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
        left = int(rng.integers(new_w - size + 1))
        top = int(rng.integers(new_h - size + 1))
        return pil_to_tensor(image.crop((left, top, left + size, top + size)))

    # ------------------------------------------------------------------ batches

    def stream_indices(self, batch: int) -> list[int]:
        """Stream items of this rank's batch number `batch`."""
        first = batch * self.batch_size
        return [k * self.world_size + self.rank for k in range(first, first + self.batch_size)]

    def batch(self, batch: int) -> PairBatch:
        """Batch number `batch` of this rank, loaded in the calling thread (does not move the position)."""
        return _to_batch(default_collate([self.load_pair(g) for g in self.stream_indices(batch)]))

    def __iter__(self) -> PairSampler:
        return self

    def __next__(self) -> PairBatch:
        if self.num_workers <= 0:
            result = self.batch(self.batches_done)
        else:
            if self._loader_iter is None:
                self._loader_iter = iter(self._loader(self.batches_done))
            result = _to_batch(next(self._loader_iter))
        self.batches_done += 1
        return result

    def _loader(self, start: int) -> DataLoader:
        return DataLoader(
            _StreamItems(self),
            batch_sampler=_BatchIndices(self, start),
            num_workers=self.num_workers,
            collate_fn=default_collate,
            persistent_workers=False,
        )

    def close(self) -> None:
        """Stop worker processes, if any (they restart from the current position on the next batch)."""
        self._loader_iter = None

    # ------------------------------------------------------------------ resume

    def state_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "pairs_done": self.batches_done * self.batch_size * self.world_size,  # over all ranks
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"sampler state was saved with seed {state['seed']}, this run uses {self.seed}")
        self.batches_done = int(state["pairs_done"]) // (self.batch_size * self.world_size)
        self.close()


class _StreamItems(Dataset):
    """Map-style view of the stream for DataLoader workers: item g is `load_pair(g)`."""

    def __init__(self, sampler: PairSampler):
        self.sampler = sampler

    def __getitem__(self, g: int):
        return self.sampler.load_pair(g)


class _BatchIndices:
    """Endless batch sampler for the DataLoader, starting at batch `start` of the sampler's rank."""

    def __init__(self, sampler: PairSampler, start: int):
        self.sampler = sampler
        self.start = start

    def __iter__(self):
        batch = self.start
        while True:
            yield self.sampler.stream_indices(batch)
            batch += 1


def _to_batch(fields: dict[str, torch.Tensor]) -> PairBatch:
    m_true = fields.get("m_true")
    if m_true is not None:  # B×2×C×H×W → [m1* | m2*] along the batch, like the cross pass's mixes
        fields = {**fields, "m_true": torch.cat([m_true[:, 0], m_true[:, 1]])}
    return PairBatch(**fields)


def has_ground_truth(dataset: IdentityDataset) -> bool:
    """Whether `dataset` can render the true swap of any two of its items (procedural faces can)."""
    return callable(getattr(dataset, "ground_truth", None))
