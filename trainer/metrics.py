"""Disentanglement metrics for any G2G generator.

On the procedural faces the true swap is known (`ProceduralFaceDataset.ground_truth`), so we measure:
* swap error: L1 / PSNR between the mixed image m1 = G(E_A(x1), E_B(x2)) and the render of "rest of
  x1, identity of x2", next to the copy-through baselines (output = content image x1; output = class
  image x2). A model that ignores its class input scores the content baseline, so `swap/ratio`
  (swap L1 / content-copy L1) below 1 means identity really moved.
* reconstruction error of the G2G cycle x̂1 = G(E_A(m1), E_B(m2)) (paper eq. 2-3) and of G(x, x);
* identity accuracy of mixed images, judged by a small CNN trained separately on ground-truth renders
  (trainer/identity_classifier.py; never used in training, so the generator cannot have learned to fool it);
* leakage probes (trainer/probes.py): ridge probes predicting identity factors from the content code and
  rest factors from the class code.
On real identity folders: reconstruction errors and, with facenet weights, identity similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from g2g_desktop.core.g2g import CrossPass, cross_pass
from g2g_desktop.core.generator import DisentanglingGenerator, blend
from g2g_desktop.core.images import fit_square, pil_to_tensor, tensor_to_pil, tile
from trainer.datasets import IdentityDataset
from trainer.identity_classifier import IdentityClassifier
from trainer.procedural_dataset import ProceduralFaceDataset

Metrics = dict[str, float]


# --------------------------------------------------------------------------- basics


def l1_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute error on the [0, 1] pixel scale (inputs in [-1, 1])."""
    return (a - b).abs().mean(dim=(1, 2, 3)) / 2


def masked_l1_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute error over the pixels of `mask` (B×H×W bool), [0, 1] scale."""
    weight = mask[:, None].float()
    return ((a - b).abs() * weight).sum(dim=(1, 2, 3)) / (3 * weight.sum(dim=(1, 2, 3))).clamp_min(1) / 2


def _masks(masks: Sequence[np.ndarray], size: int) -> torch.Tensor:
    """Bool masks as a B×size×size tensor (nearest resize when the model's size differs from the renders')."""
    t = torch.from_numpy(np.stack(masks)).float()[:, None]
    if t.shape[-1] != size:
        t = F.interpolate(t, size=(size, size), mode="nearest")
    return t[:, 0] > 0.5


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB on the [0, 1] pixel scale (inputs in [-1, 1])."""
    mse = ((a - b) / 2).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
    return -10 * torch.log10(mse)


def sample_pairs(labels: Sequence[int], count: int, seed: int) -> list[tuple[int, int]]:
    """`count` (content, class) item pairs of two different identities, a pure function of `seed`; every such
    pair once (in order) when there are no more than `count`, so a small folder is not reported as `count`
    pairs that repeat the same few."""
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < 2:
        raise ValueError("evaluation needs images of at least 2 identities")
    _, sizes = np.unique(labels, return_counts=True)
    if int((sizes * (len(labels) - sizes)).sum()) <= count:
        return [(i, j) for i in range(len(labels)) for j in range(len(labels)) if labels[i] != labels[j]]
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < count:
        i, j = (int(v) for v in rng.integers(len(labels), size=2))
        if labels[i] != labels[j]:
            pairs.append((i, j))
    return pairs


def image_batch(images: Sequence[Image.Image], size: int) -> torch.Tensor:
    return torch.stack([pil_to_tensor(fit_square(im, size)) for im in images])


@torch.no_grad()
def g2g_outputs(gen: DisentanglingGenerator, x1: torch.Tensor, x2: torch.Tensor) -> tuple[CrossPass, torch.Tensor]:
    """The cross pass of (x1, x2) without gradients, and the self reconstruction G(E_A(x1), E_B(x1)) ≈ x1.

    A mask head's outputs are measured as the app shows them: blended onto their content images
    (`CrossPass.shown_recon` for the cycle).
    """
    p = cross_pass(gen, x1, x2)
    n = x1.shape[0]
    return p, gen.decode_onto(p.content[:n], p.identity[:n], x1)


def device_of(gen: nn.Module) -> torch.device:
    return next(gen.parameters()).device


Pairs = Sequence[tuple[int, int]]
Measure = Callable[[Pairs, torch.Tensor, torch.Tensor, CrossPass, torch.Tensor], dict[str, torch.Tensor]]
"""Per-image values of one batch from (its pairs, x1, x2, their cross pass, the self reconstruction of x1)."""


def mean_over_pairs(gen: DisentanglingGenerator, data: IdentityDataset, pairs: Pairs, batch_size: int,
                    measure: Measure) -> Metrics:
    """Each value of `measure` averaged over every pair, running the cross pass `batch_size` pairs at a time."""
    values: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        x1, x2 = _pair_images(gen, data, chunk)
        out, self1 = g2g_outputs(gen, x1, x2)
        for name, batch in measure(chunk, x1, x2, out, self1).items():
            values.setdefault(name, []).append(batch.float().cpu())
    return {name: float(torch.cat(v).mean()) for name, v in values.items()}


def reconstruction_errors(x1: torch.Tensor, out: CrossPass, self1: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image errors of the G2G cycle (x̂ against the originals) and of the self reconstruction G(x1, x1)."""
    return {
        "cycle/l1": l1_error(out.shown_recon, out.x),
        "cycle/psnr": psnr(out.shown_recon, out.x),
        "self/l1": l1_error(self1, x1),
        "self/psnr": psnr(self1, x1),
    }


def _pair_images(gen: DisentanglingGenerator, data: IdentityDataset, pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor]:
    """The content and class images of `pairs`, at the model's size, on its device."""
    size, device = gen.config.image_size, device_of(gen)
    x1 = image_batch([data.get_image(i) for i, _ in pairs], size).to(device)
    x2 = image_batch([data.get_image(j) for _, j in pairs], size).to(device)
    return x1, x2


# --------------------------------------------------------------------------- swap error (procedural)


def swap_metrics(
    gen: DisentanglingGenerator,
    data: ProceduralFaceDataset,
    pairs: Pairs,
    *,
    batch_size: int = 32,
    classifier: IdentityClassifier | None = None,
) -> Metrics:
    """Swap error vs ground truth and copy-through baselines, cycle/self reconstruction, identity accuracy."""
    size = gen.config.image_size

    def measure(chunk: Pairs, x1: torch.Tensor, x2: torch.Tensor, out: CrossPass,
                self1: torch.Tensor) -> dict[str, torch.Tensor]:
        t1 = image_batch([data.ground_truth(i, j) for i, j in chunk], size).to(x1.device)
        t2 = image_batch([data.ground_truth(j, i) for i, j in chunk], size).to(x1.device)
        mixed, truth = out.mixed, torch.cat([t1, t2])
        person = _masks([data.person_mask(i, j) for i, j in chunk] + [data.person_mask(j, i) for i, j in chunk],
                        size).to(x1.device)
        values: dict[str, torch.Tensor] = {}
        for name, guess in (
            ("swap", mixed),
            ("copy_content", torch.cat([x1, x2])),
            ("copy_class", torch.cat([x2, x1])),
        ):
            values[f"{name}/l1"] = l1_error(guess, truth)
            values[f"{name}/psnr"] = psnr(guess, truth)
            values[f"{name}/l1_person"] = masked_l1_error(guess, truth, person)
            values[f"{name}/l1_background"] = masked_l1_error(guess, truth, ~person)
        values.update(reconstruction_errors(x1, out, self1))
        if classifier is not None:
            targets = torch.tensor([data.labels[j] for _, j in chunk] + [data.labels[i] for i, _ in chunk])
            values["identity/mixed_acc"] = (classifier.predict(mixed) == targets).float()
            values["identity/truth_acc"] = (classifier.predict(truth) == targets).float()
            values["identity/content_copy_acc"] = (classifier.predict(out.x) == targets).float()
        return values

    result = mean_over_pairs(gen, data, pairs, batch_size, measure)
    result["swap/ratio"] = result["swap/l1"] / max(result["copy_content/l1"], 1e-12)
    # The background of the true swap is the content image's, so only the person's part has a useful ratio.
    result["swap/ratio_person"] = result["swap/l1_person"] / max(result["copy_content/l1_person"], 1e-12)
    result["swap/ratio_vs_best_copy"] = result["swap/l1"] / max(
        min(result["copy_content/l1"], result["copy_class/l1"]), 1e-12
    )
    if classifier is not None:
        result["identity/chance"] = 1.0 / data.num_classes
    return result


def _sheet(columns: Sequence[torch.Tensor], scale: int) -> Image.Image:
    """One row per pair, one column per tensor (each N×3×H×W on the [-1, 1] scale), scaled up by `scale`."""
    cells = torch.stack(list(columns), dim=1).flatten(0, 1).float().cpu()
    sheet = tensor_to_pil(tile(cells, len(columns[0]), len(columns)))
    return sheet.resize((sheet.width * scale, sheet.height * scale), Image.Resampling.NEAREST)


@torch.no_grad()
def swap_sheet(
    gen: DisentanglingGenerator, data: ProceduralFaceDataset, pairs: Pairs, *, scale: int = 2
) -> Image.Image:
    """One row per pair: content x1 | class x2 | mixed m1 | ground truth | cycle reconstruction x̂1."""
    x1, x2 = _pair_images(gen, data, pairs)
    truth = image_batch([data.ground_truth(i, j) for i, j in pairs], gen.config.image_size).to(x1.device)
    out = cross_pass(gen, x1, x2)
    n = len(pairs)
    return _sheet([x1, x2, out.mixed[:n], truth, out.shown_recon[:n]], scale)


@torch.no_grad()
def mask_sheet(
    gen: DisentanglingGenerator, data: ProceduralFaceDataset, pairs: Pairs, *, scale: int = 2
) -> Image.Image:
    """A mask-head model's mixes taken apart, one row per pair: content x1 | class x2 | G's image | mask | mix."""
    x1, x2 = _pair_images(gen, data, pairs)
    image, mask = gen.decode_parts(gen.encode_content(x1), gen.encode_class(x2))
    if mask is None:
        raise ValueError("mask_sheet needs a generator with a mask head")
    shown = (mask * 2 - 1).expand_as(image)  # 0 → black, 1 → white on the [-1, 1] scale
    return _sheet([x1, x2, image, shown, blend(image, mask, x1)], scale)


# --------------------------------------------------------------------------- real folders


def real_metrics(
    gen: DisentanglingGenerator,
    data: IdentityDataset,
    pairs: Pairs,
    *,
    batch_size: int = 16,
    face_encoder: nn.Module | None = None,
) -> Metrics:
    """Reconstruction errors on any identity data set; identity similarity when a face net is given.

    identity/sim_class is cos(E_ID(m1), E_ID(x2)) (higher = the identity came across), shown next to
    cos(E_ID(m1), E_ID(x1)) and the similarity of the two originals.
    """

    def measure(chunk: Pairs, x1: torch.Tensor, x2: torch.Tensor, out: CrossPass,
                self1: torch.Tensor) -> dict[str, torch.Tensor]:
        values = reconstruction_errors(x1, out, self1)
        if face_encoder is not None:
            with torch.no_grad():
                e1, e2, em = (face_encoder(t).float().cpu() for t in (x1, x2, out.mixed[: len(chunk)]))
            values["identity/sim_class"] = F.cosine_similarity(em, e2)
            values["identity/sim_content"] = F.cosine_similarity(em, e1)
            values["identity/sim_originals"] = F.cosine_similarity(e1, e2)
        return values

    return mean_over_pairs(gen, data, pairs, batch_size, measure)


# --------------------------------------------------------------------------- table


ROWS = [
    ("swap/l1", "swap L1 vs ground truth (lower better)"),
    ("copy_content/l1", "  baseline: output = content image"),
    ("copy_class/l1", "  baseline: output = class image"),
    ("swap/ratio", "swap L1 / content-copy L1"),
    ("swap/l1_person", "  swap L1 on the person"),
    ("copy_content/l1_person", "    baseline: output = content image"),
    ("swap/ratio_person", "    ratio on the person"),
    ("swap/l1_background", "  swap L1 on the background (content's = truth)"),
    ("swap/psnr", "swap PSNR dB (higher better)"),
    ("copy_content/psnr", "  baseline: output = content image"),
    ("copy_class/psnr", "  baseline: output = class image"),
    ("cycle/l1", "G2G cycle reconstruction L1"),
    ("cycle/psnr", "G2G cycle reconstruction PSNR dB"),
    ("self/l1", "self reconstruction G(x,x) L1"),
    ("self/psnr", "self reconstruction PSNR dB"),
    ("identity/mixed_acc", "identity accuracy of mixed images"),
    ("identity/truth_acc", "  on ground-truth renders"),
    ("identity/content_copy_acc", "  on content images (copy-through)"),
    ("identity/chance", "  chance"),
    ("identity/sim_class", "face-net cos(mixed, class image)"),
    ("identity/sim_content", "face-net cos(mixed, content image)"),
    ("identity/sim_originals", "face-net cos(content, class images)"),
]


SCALE_NOTE = "L1 errors are mean absolute pixel differences on the [0, 1] scale (half the [-1, 1] value)."


def format_table(metrics: Metrics) -> str:
    lines = [SCALE_NOTE, "", f"{'metric':<44} {'value':>9}", "-" * 54]
    for key, label in ROWS:
        if key in metrics:
            lines.append(f"{label:<44} {metrics[key]:>9.4f}")
    probe_keys = sorted(k for k in metrics if k.startswith("probe/") and k.endswith("/r2"))
    if probe_keys:
        lines += ["", f"{'linear probe (held-out identities)':<36} {'R²':>7} {'acc':>7} {'chance':>7}", "-" * 60]
        for key in probe_keys:
            stem = key[: -len("/r2")]
            name = stem[len("probe/") :].replace("_from_", " from ")
            leak = "  ← leakage" if name in ("identity from content", "rest from class") else ""
            lines.append(
                f"{name:<36} {metrics[stem + '/r2']:>7.3f} {metrics[stem + '/acc']:>7.3f} "
                f"{metrics[stem + '/chance_acc']:>7.3f}{leak}"
            )
    return "\n".join(lines)
