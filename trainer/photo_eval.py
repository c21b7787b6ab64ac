"""Judge mixes of real photos with an independent face recogniser (dlib), next to copy-through baselines.

For every ordered pair of people (p, q) of a photo folder (one sub-folder per person) each mix keeps the rest
of a photo of p and takes the identity of a photo of q. dlib's descriptor of the mix is compared with each
person's reference (the mean descriptor of that person's crops): "verified as the identity person" means
closer than 0.6 to q, "still the content person" closer than 0.6 to p. The same two shares for the two
copy-through baselines — output the content photo unchanged, or the identity photo unchanged — say what the
numbers mean: a model that only copies its content input scores like the first.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from g2g_desktop.core.face_cache import AlignedCropCache
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.images import ImageLoadError, fit_square, open_image, pil_to_tensor, tensor_to_pil
from g2g_desktop.core.judge import IdentityJudge
from trainer.datasets import DatasetError, FolderDataset

KINDS = ("mix", "copy_content", "copy_identity")


class TooFewJudgedFaces(DatasetError):
    """dlib found faces of fewer than two people (procedural faces, animals): no judge shares to report."""


@dataclass
class PairCounts:
    total: int = 0
    no_face: int = 0
    identity: int = 0  # verified as the identity person q
    content: int = 0  # still verified as the content person p

    def add(self, descriptor: np.ndarray | None, content_ref: np.ndarray, identity_ref: np.ndarray,
            judge: IdentityJudge) -> None:
        self.total += 1
        if descriptor is None:
            self.no_face += 1
            return
        self.identity += bool(judge.same_person(descriptor, identity_ref))
        self.content += bool(judge.same_person(descriptor, content_ref))

    def shares(self) -> dict[str, float]:
        n = max(self.total, 1)
        return {"identity_verified": self.identity / n, "content_verified": self.content / n,
                "no_face": self.no_face / n}


def judge_photo_folder(
    gen: DisentanglingGenerator,
    root: str | os.PathLike,
    *,
    align: bool,
    judge: IdentityJudge | None = None,
    cache_dir: str | os.PathLike | None = None,
    per_pair: int = 16,  # at most this many (content photo, identity photo) mixes per ordered pair of people
    log: Callable[[str], None] = print,
) -> dict:
    """Shares of mixes (and baselines) verified as each person, overall and per ordered pair of people."""
    judge = judge or IdentityJudge()
    size = gen.config.image_size
    data = FolderDataset(root)
    cache = AlignedCropCache(size, cache_dir) if align else None
    crops: dict[int, list[Image.Image]] = {c: [] for c in range(data.num_classes)}
    skipped = 0
    for path, label in zip(data.paths, data.labels):
        try:
            crop = cache.crop(path) if cache is not None else fit_square(open_image(path), size)
        except ImageLoadError as exc:
            log(f"skipped {exc}")
            crop = None
        if crop is None:
            skipped += 1
            continue
        crops[label].append(crop)
    refs: dict[int, np.ndarray] = {}
    for label, images in crops.items():
        found = [d for d in (judge.descriptor(im) for im in images) if d is not None]
        if found:
            refs[label] = np.mean(found, axis=0)
    people = sorted(refs)
    if len(people) < 2:
        raise TooFewJudgedFaces(f"{root}: dlib found faces of {len(people)} people (need 2; not real photos?)")
    totals = {kind: PairCounts() for kind in KINDS}
    pairs = []
    device = next(gen.parameters()).device
    for p, q in itertools.permutations(people, 2):
        counts = {kind: PairCounts() for kind in KINDS}
        combos = list(itertools.product(crops[p], crops[q]))[:per_pair]
        content = torch.stack([pil_to_tensor(c) for c, _ in combos]).to(device)
        identity = torch.stack([pil_to_tensor(i) for _, i in combos]).to(device)
        with torch.no_grad():
            mixes = gen(content, identity).float().cpu()
        for (c_img, i_img), mix in zip(combos, mixes):
            outputs = {"mix": tensor_to_pil(mix), "copy_content": c_img, "copy_identity": i_img}
            for kind, image in outputs.items():
                descriptor = judge.descriptor(image)
                counts[kind].add(descriptor, refs[p], refs[q], judge)
                totals[kind].add(descriptor, refs[p], refs[q], judge)
        pairs.append({"content": data.class_names[p], "identity": data.class_names[q], "mixes": len(combos),
                      **{kind: counts[kind].shares() for kind in KINDS}})
    metrics = {f"judge/{kind}/{name}": value for kind in KINDS for name, value in totals[kind].shares().items()}
    metrics["judge/mixes"] = float(totals["mix"].total)
    metrics["judge/photos_without_face"] = float(skipped)
    return {"metrics": metrics, "pairs": pairs}


def format_judge(result: dict) -> str:
    """The judge's table: verified shares of the mixes next to the two copy-through baselines."""
    m = result["metrics"]
    lines = [f"{'dlib judge (threshold 0.6)':<30} {'identity ✓':>11} {'content ✓':>10} {'no face':>8}", "-" * 62]
    labels = {"mix": "mixes", "copy_content": "copy content (baseline)", "copy_identity": "copy identity (baseline)"}
    for kind in KINDS:
        lines.append(f"{labels[kind]:<30} {m[f'judge/{kind}/identity_verified']:>11.1%} "
                     f"{m[f'judge/{kind}/content_verified']:>10.1%} {m[f'judge/{kind}/no_face']:>8.1%}")
    lines += ["", f"{'rest of → identity of':<30} {'mixes':>6} {'identity ✓':>11} {'content ✓':>10}"]
    for pair in result["pairs"]:
        name = f"{pair['content']} → {pair['identity']}"
        lines.append(f"{name:<30} {pair['mixes']:>6} {pair['mix']['identity_verified']:>11.1%} "
                     f"{pair['mix']['content_verified']:>10.1%}")
    return "\n".join(lines)
