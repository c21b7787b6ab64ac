"""Disentanglement metrics for any G2G generator.

On the procedural faces the true swap is known (`ProceduralFaceDataset.ground_truth`), so we measure:
* swap error: L1 / PSNR between the mixed image m1 = G(E_A(x1), E_B(x2)) and the render of "rest of
  x1, identity of x2", next to the copy-through baselines (output = content image x1; output = class
  image x2). A model that ignores its class input scores the content baseline, so `swap/ratio`
  (swap L1 / content-copy L1) below 1 means identity really moved.
* reconstruction error of the G2G cycle x̂1 = G(E_A(m1), E_B(m2)) (paper eq. 2-3) and of G(x, x);
* identity accuracy of mixed images, judged by a small CNN trained separately on ground-truth renders
  (never used in training, so the generator cannot have learned to fool it);
* leakage probes: ridge probes predicting identity factors from the content code and rest factors
  from the class code (R², chance 0; accuracy vs the majority-class rate for categorical factors).
On real identity folders: reconstruction errors and, with facenet weights, identity similarity.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from g2g_desktop.core.g2g import CrossPass, cross_pass
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.images import fit_square, pil_to_tensor, tensor_to_pil, tile
from g2g_desktop.core.safe_io import safe_torch_load
from trainer.datasets import IdentityDataset
from trainer.procedural_dataset import SPLITS, ProceduralFaceDataset, factor_rng
from trainer.procedural_faces import RENDERER_VERSION, RestFactors, factor_vector

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
    """`count` (content, class) item pairs of two different identities, a pure function of `seed`."""
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < 2:
        raise ValueError("evaluation needs images of at least 2 identities")
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < count:
        i, j = (int(v) for v in rng.integers(len(labels), size=2))
        if labels[i] != labels[j]:
            pairs.append((i, j))
    return pairs


def _batch(images: Sequence[Image.Image], size: int) -> torch.Tensor:
    return torch.stack([pil_to_tensor(fit_square(im, size)) for im in images])


@torch.no_grad()
def g2g_outputs(gen: DisentanglingGenerator, x1: torch.Tensor, x2: torch.Tensor) -> tuple[CrossPass, torch.Tensor]:
    """The cross pass of (x1, x2) without gradients, and the self reconstruction G(E_A(x1), E_B(x1)) ≈ x1."""
    p = cross_pass(gen, x1, x2)
    n = x1.shape[0]
    return p, gen.decode(p.content[:n], p.identity[:n])


def _device_of(gen: nn.Module) -> torch.device:
    return next(gen.parameters()).device


# --------------------------------------------------------------------------- swap error (procedural)


def swap_metrics(
    gen: DisentanglingGenerator,
    data: ProceduralFaceDataset,
    pairs: Sequence[tuple[int, int]],
    *,
    batch_size: int = 32,
    classifier: IdentityClassifier | None = None,
) -> Metrics:
    """Swap error vs ground truth and copy-through baselines, cycle/self reconstruction, identity accuracy."""
    size, device = gen.config.image_size, _device_of(gen)
    sums: dict[str, list[torch.Tensor]] = {}

    def add(name: str, values: torch.Tensor) -> None:
        sums.setdefault(name, []).append(values.float().cpu())

    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        x1 = _batch([data.get_image(i) for i, _ in chunk], size).to(device)
        x2 = _batch([data.get_image(j) for _, j in chunk], size).to(device)
        t1 = _batch([data.ground_truth(i, j) for i, j in chunk], size).to(device)
        t2 = _batch([data.ground_truth(j, i) for i, j in chunk], size).to(device)
        out, self1 = g2g_outputs(gen, x1, x2)
        mixed, truth = out.mixed, torch.cat([t1, t2])
        person = _masks([data.person_mask(i, j) for i, j in chunk] + [data.person_mask(j, i) for i, j in chunk],
                        size).to(device)
        for name, guess in (
            ("swap", mixed),
            ("copy_content", torch.cat([x1, x2])),
            ("copy_class", torch.cat([x2, x1])),
        ):
            add(f"{name}/l1", l1_error(guess, truth))
            add(f"{name}/psnr", psnr(guess, truth))
            add(f"{name}/l1_person", masked_l1_error(guess, truth, person))
            add(f"{name}/l1_background", masked_l1_error(guess, truth, ~person))
        originals = out.x
        add("cycle/l1", l1_error(out.recon, originals))
        add("cycle/psnr", psnr(out.recon, originals))
        add("self/l1", l1_error(self1, x1))
        add("self/psnr", psnr(self1, x1))
        if classifier is not None:
            targets = torch.tensor([data.labels[j] for _, j in chunk] + [data.labels[i] for i, _ in chunk])
            add("identity/mixed_acc", (classifier.predict(mixed) == targets).float())
            add("identity/truth_acc", (classifier.predict(truth) == targets).float())
            add("identity/content_copy_acc", (classifier.predict(originals) == targets).float())
    result = {name: float(torch.cat(values).mean()) for name, values in sums.items()}
    result["swap/ratio"] = result["swap/l1"] / max(result["copy_content/l1"], 1e-12)
    # The background of the true swap is the content image's, so only the person's part has a useful ratio.
    result["swap/ratio_person"] = result["swap/l1_person"] / max(result["copy_content/l1_person"], 1e-12)
    result["swap/ratio_vs_best_copy"] = result["swap/l1"] / max(
        min(result["copy_content/l1"], result["copy_class/l1"]), 1e-12
    )
    if classifier is not None:
        result["identity/chance"] = 1.0 / data.num_classes
    return result


SHEET_COLUMNS = ("content x1", "class x2", "mixed m1", "ground truth", "cycle x̂1")


@torch.no_grad()
def swap_sheet(
    gen: DisentanglingGenerator, data: ProceduralFaceDataset, pairs: Sequence[tuple[int, int]], *, scale: int = 2
) -> Image.Image:
    """One row per pair: content x1 | class x2 | mixed m1 | ground truth | cycle reconstruction x̂1."""
    size, device = gen.config.image_size, _device_of(gen)
    x1 = _batch([data.get_image(i) for i, _ in pairs], size).to(device)
    x2 = _batch([data.get_image(j) for _, j in pairs], size).to(device)
    truth = _batch([data.ground_truth(i, j) for i, j in pairs], size).to(device)
    out = cross_pass(gen, x1, x2)
    n = len(pairs)
    columns = torch.stack([x1, x2, out.mixed[:n], truth, out.recon[:n]], dim=1).flatten(0, 1).float().cpu()
    sheet = tensor_to_pil(tile(columns, len(pairs), len(SHEET_COLUMNS)))
    return sheet.resize((sheet.width * scale, sheet.height * scale), Image.Resampling.NEAREST)


# --------------------------------------------------------------------------- identity classifier


class IdentityClassifier(nn.Module):
    """A small CNN on 32×32 images that names the identity; trained on ground-truth renders only."""

    INPUT = 32

    def __init__(self, num_classes: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for out in (32, 64, 128):
            layers += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(self.INPUT, self.INPUT), mode="area")
        f = self.features(x)
        return self.head(torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1))

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
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), cache)
    return model


# --------------------------------------------------------------------------- leakage probes


def _ridge_fit_predict(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge regression in its dual form (cheap when features ≫ samples, as for content codes)."""
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-6
    a, b = (x_tr - mu) / sd, (x_te - mu) / sd
    y_mu = y_tr.mean(0)
    k = a @ a.T
    coef = np.linalg.solve(k + alpha * a.shape[1] * np.eye(len(k)), y_tr - y_mu)
    return (b @ a.T) @ coef + y_mu


def _split_by_group(groups: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    unique = np.unique(groups)
    rng = np.random.default_rng(seed)
    held = set(rng.permutation(unique)[: max(1, len(unique) // 3)].tolist())
    test = np.array([g in held for g in groups])
    return ~test, test


def linear_probe(
    codes: np.ndarray, continuous: np.ndarray, categorical: np.ndarray, groups: np.ndarray, seed: int = 0
) -> Metrics:
    """Ridge probe: mean R² over continuous targets; mean accuracy and chance over categorical ones.

    Train and test items are split by `groups` (identities), so a probe cannot win by memorising
    people. The ridge strength is picked on a further group split of the training part.
    """
    tr, te = _split_by_group(groups, seed)
    fit, val = _split_by_group(groups[tr], seed + 1)
    onehots = [np.eye(int(categorical[:, k].max()) + 1)[categorical[:, k]] for k in range(categorical.shape[1])]
    targets = np.concatenate([_standardise(continuous), *onehots], axis=1)

    def score(pred: np.ndarray, truth_rows: np.ndarray) -> tuple[float, float]:
        n = continuous.shape[1]
        y = targets[truth_rows]
        ss_res = ((pred[:, :n] - y[:, :n]) ** 2).sum(0)
        ss_tot = ((y[:, :n] - y[:, :n].mean(0)) ** 2).sum(0) + 1e-12
        r2 = float(np.mean(1 - ss_res / ss_tot))
        accs, col = [], n
        for onehot in onehots:
            width = onehot.shape[1]
            accs.append(np.mean(pred[:, col : col + width].argmax(1) == y[:, col : col + width].argmax(1)))
            col += width
        return r2, float(np.mean(accs)) if accs else float("nan")

    x_tr, y_tr = codes[tr], targets[tr]
    best = max(
        (10.0**e for e in range(-3, 3)),
        key=lambda alpha: score(_ridge_fit_predict(x_tr[fit], y_tr[fit], x_tr[val], alpha), np.flatnonzero(tr)[val])[0],
    )
    r2, acc = score(_ridge_fit_predict(x_tr, y_tr, codes[te], best), np.flatnonzero(te))
    chance = [
        np.mean(categorical[te, k] == np.bincount(categorical[te, k]).argmax()) for k in range(categorical.shape[1])
    ]
    return {"r2": r2, "acc": acc, "chance_acc": float(np.mean(chance)) if chance else float("nan")}


def _standardise(y: np.ndarray) -> np.ndarray:
    return (y - y.mean(0)) / (y.std(0) + 1e-9)


@torch.no_grad()
def leakage_probes(
    gen: DisentanglingGenerator,
    data: ProceduralFaceDataset,
    *,
    max_items: int = 600,
    batch_size: int = 32,
    seed: int = 0,
) -> Metrics:
    """Four probes: {identity, rest} factors from {content, class} codes.

    Leakage = identity from the content code and rest from the class code (low is good); the other
    two show what each code does carry.
    """
    size, device = gen.config.image_size, _device_of(gen)
    rng = np.random.default_rng(seed)
    items = np.sort(rng.permutation(len(data))[: min(max_items, len(data))])
    content, klass = [], []
    for start in range(0, len(items), batch_size):
        x = _batch([data.get_image(int(i)) for i in items[start : start + batch_size]], size).to(device)
        content.append(gen.encode_content(x).flatten(1).float().cpu())
        klass.append(gen.encode_class(x).flatten(1).float().cpu())
    codes = {"content": torch.cat(content).numpy(), "class": torch.cat(klass).numpy()}
    factors = {
        "identity": [factor_vector(data.identity_of(int(i))) for i in items],
        "rest": [factor_vector(data.rests[int(i)]) for i in items],
    }
    groups = np.array([data.labels[int(i)] for i in items])
    result: Metrics = {}
    for code_name, code in codes.items():
        for factor_name, vectors in factors.items():
            cont = np.stack([v[1] for v in vectors])
            cat = np.stack([v[3] for v in vectors])
            probe = linear_probe(code.astype(np.float64), cont, cat, groups, seed)
            for key, value in probe.items():
                result[f"probe/{factor_name}_from_{code_name}/{key}"] = value
    return result


# --------------------------------------------------------------------------- real folders


def real_metrics(
    gen: DisentanglingGenerator,
    data: IdentityDataset,
    pairs: Sequence[tuple[int, int]],
    *,
    batch_size: int = 16,
    face_encoder: nn.Module | None = None,
) -> Metrics:
    """Reconstruction errors on any identity data set; identity similarity when a face net is given.

    identity/sim_class is cos(E_ID(m1), E_ID(x2)) (higher = the identity came across), shown next to
    cos(E_ID(m1), E_ID(x1)) and the similarity of the two originals.
    """
    size, device = gen.config.image_size, _device_of(gen)
    sums: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        x1 = _batch([data.get_image(i) for i, _ in chunk], size).to(device)
        x2 = _batch([data.get_image(j) for _, j in chunk], size).to(device)
        out, self1 = g2g_outputs(gen, x1, x2)
        values = {
            "cycle/l1": l1_error(out.recon, out.x),
            "cycle/psnr": psnr(out.recon, out.x),
            "self/l1": l1_error(self1, x1),
            "self/psnr": psnr(self1, x1),
        }
        if face_encoder is not None:
            with torch.no_grad():
                e1, e2, em = (face_encoder(t.to(device)).float().cpu() for t in (x1, x2, out.mixed[: len(chunk)]))
            values["identity/sim_class"] = F.cosine_similarity(em, e2)
            values["identity/sim_content"] = F.cosine_similarity(em, e1)
            values["identity/sim_originals"] = F.cosine_similarity(e1, e2)
        for name, v in values.items():
            sums.setdefault(name, []).append(v.float().cpu())
    return {name: float(torch.cat(v).mean()) for name, v in sums.items()}


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
