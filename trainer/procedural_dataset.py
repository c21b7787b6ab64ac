"""The procedural face data set: N identities × M rest samples, with exact ground truth for any swap.

Train and held-out identities come from different seed streams, so a model evaluated on the
held-out split has never seen those people. Every image is a pure function of (seed, split,
identity, sample), rendered on first use and cached in memory, so rendering does not dominate
training time and a data set rebuilt with the same arguments is pixel-identical.

    python -m trainer.procedural_dataset --out faces/ --identities 50 --samples 10

writes the same images as an identity-folder tree (one sub-folder per person); `--sheet PNG`
instead draws every identity under the same rest factors (rows = people, columns = situations).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from trainer.face_factors import IdentityFactors, RestFactors
from trainer.identity_dataset import IdentityDataset
from trainer.procedural_faces import SIZES, contact_sheet, render, render_with_masks

SPLITS = {"train": 0, "heldout": 1}


def factor_rng(*key: int) -> np.random.Generator:
    """A generator seeded by a tuple of ints: every factor draw has its own independent stream."""
    return np.random.default_rng(np.random.SeedSequence(list(key)))


class ProceduralFaceDataset(IdentityDataset):
    """Rendered faces grouped by identity; item i = (identity labels[i], rest factors rest[i])."""

    def __init__(
        self,
        num_identities: int = 200,  # people in this split
        samples_per_identity: int = 20,  # images (rest samples) per person
        image_size: int = 64,  # rendered side length in pixels
        seed: int = 0,  # the whole data set is a pure function of this seed
        split: str = "train",  # "train" or "heldout" (disjoint identity streams)
    ):
        if split not in SPLITS:
            raise ValueError(f"procedural faces: unknown split {split!r} (use one of {', '.join(SPLITS)})")
        if num_identities < 1 or samples_per_identity < 1:
            raise ValueError("procedural faces: num_identities and samples_per_identity must be positive")
        if image_size not in SIZES:
            raise ValueError(f"procedural faces: image_size must be one of {SIZES}, got {image_size}")
        self.image_size = image_size
        self.seed = seed
        self.split = split
        code = SPLITS[split]
        self.identities = [IdentityFactors.sample(factor_rng(seed, code, 0, k)) for k in range(num_identities)]
        self.class_names = [f"{split}_{k:04d}" for k in range(num_identities)]
        self.labels = [k for k in range(num_identities) for _ in range(samples_per_identity)]
        self.rests = [
            RestFactors.sample(factor_rng(seed, code, 1, k, j))
            for k in range(num_identities)
            for j in range(samples_per_identity)
        ]
        self._cache: dict[int, np.ndarray] = {}

    def get_image(self, index: int) -> Image.Image:
        if index not in self._cache:
            self._cache[index] = np.asarray(self.render(self.labels[index], self.rests[index]))
        return Image.fromarray(self._cache[index], "RGB")

    def render(self, label: int, rest: RestFactors) -> Image.Image:
        """Identity `label` under any rest factors (not cached: used for ground truth and probes)."""
        return render(self.identities[label], rest, self.image_size)

    def ground_truth(self, content_index: int, class_index: int) -> Image.Image:
        """The true "rest of item content_index with the identity of item class_index"."""
        if self.labels[content_index] == self.labels[class_index]:
            return self.get_image(content_index)
        return self.render(self.labels[class_index], self.rests[content_index])

    def person_mask(self, content_index: int, class_index: int) -> np.ndarray:
        """Where a person is in the true swap or in the content image (bool H×W): face, ears, neck, hair.

        Swap errors split by it tell a model that moves the person from one that moves the background.
        """
        rest = self.rests[content_index]
        masks = (render_with_masks(self.identities[self.labels[k]], rest, self.image_size).head
                 for k in {class_index, content_index})
        return np.logical_or.reduce(list(masks))

    def identity_of(self, index: int) -> IdentityFactors:
        return self.identities[self.labels[index]]

    def describe(self, index: int) -> str:
        return f"procedural face {self.split}/seed {self.seed}/identity {self.labels[index]}/item {index}"

    def export(self, folder: str | Path) -> int:
        """Write every image as `folder/<class name>/<item>.png`; returns the number written."""
        folder = Path(folder)
        for index, label in enumerate(self.labels):
            target = folder / self.class_names[label]
            target.mkdir(parents=True, exist_ok=True)
            self.get_image(index).save(target / f"{index:06d}.png")
        return len(self.labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export procedural faces as an identity-folder tree.")
    parser.add_argument("--out", help="folder to create (one sub-folder per identity)")
    parser.add_argument("--sheet", help="write a PNG contact sheet instead: rows = identities, columns = rests")
    parser.add_argument("--identities", type=int, default=50)
    parser.add_argument("--samples", type=int, default=10, help="images per identity")
    parser.add_argument("--size", type=int, default=64, choices=SIZES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="train", choices=sorted(SPLITS))
    args = parser.parse_args(argv)
    if bool(args.out) == bool(args.sheet):
        parser.error("give exactly one of --out and --sheet")
    try:
        data = ProceduralFaceDataset(args.identities, args.samples, args.size, args.seed, args.split)
        if args.sheet:
            rests = [data.rests[j] for j in range(args.samples)]  # the first identity's situations
            contact_sheet(data.identities, rests, args.size).save(args.sheet)
            print(f"wrote a {data.num_classes}×{args.samples} contact sheet to {args.sheet}")
            return 0
        count = data.export(args.out)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {count} images of {data.num_classes} identities to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
