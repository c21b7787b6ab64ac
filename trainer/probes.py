"""Leakage probes: how much of each factor a code carries, read by ridge regression.

Ridge probes predict identity factors from the content code and rest factors from the class code
(leakage: low is good), and the other two pairings to show what each code does carry. R² has chance 0;
categorical factors report accuracy next to the majority-class rate. Items are split by identity, so a
probe cannot win by memorising people.
"""

from __future__ import annotations

import numpy as np
import torch

from g2g_desktop.core.generator import DisentanglingGenerator
from trainer.face_factors import factor_vector
from trainer.metrics import Metrics, device_of, image_batch
from trainer.procedural_dataset import ProceduralFaceDataset


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
    size, device = gen.config.image_size, device_of(gen)
    rng = np.random.default_rng(seed)
    items = np.sort(rng.permutation(len(data))[: min(max_items, len(data))])
    content, klass = [], []
    for start in range(0, len(items), batch_size):
        x = image_batch([data.get_image(int(i)) for i in items[start : start + batch_size]], size).to(device)
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
