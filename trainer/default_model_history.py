"""The bundled model's learning curve over its landings: one row per exported step, and the figure drawn from them.

The run that trains the default model spans sessions and machines (`runs/` is not in the repository), so its
own logs do not survive to show how it got where it is. Each `make default-model` export appends its held-out
figures here instead (`docs/default_model_history.jsonl`, in the repository), and the curve
(`docs/images/default_model_curve.png`) is redrawn against the issue's targets: whether a lever moved the model,
and how fast it is still moving, is read off this figure rather than off a table of scattered steps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

HISTORY = Path("docs/default_model_history.jsonl")
CURVE = Path("docs/images/default_model_curve.png")

# The figures a row keeps, from `swap_metrics` (trainer/metrics.py): (row key, metric key, panel title, target,
# higher is better).
FIGURES = [
    ("swap_ratio", "swap/ratio", "swap L1 / content-copy L1", 0.5, False),
    ("person_ratio", "swap/ratio_person", "… on the person", None, False),
    ("identity", "identity/mixed_acc", "identity accuracy of mixes", 0.8, True),
    ("swap_psnr", "swap/psnr", "swap PSNR (dB)", 25.0, True),
    ("self_psnr", "self/psnr", "self reconstruction PSNR (dB)", 28.0, True),
    ("cycle_psnr", "cycle/psnr", "G2G cycle PSNR (dB)", 26.0, True),
]


def history_row(step: int, minutes: float, metrics: dict[str, float], note: str = "") -> dict[str, object]:
    """One landing's row: its step, training minutes so far and the held-out figures the curve shows."""
    row: dict[str, object] = {"step": step, "train_minutes": round(minutes, 1)}
    row.update({key: round(float(metrics[name]), 4) for key, name, *_ in FIGURES if name in metrics})
    if note:
        row["note"] = note
    return row


def read_history(path: Path) -> list[dict[str, object]]:
    """The rows, in step order (an unreadable line is skipped: the file is appended to by hand too)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)
    return sorted(rows, key=lambda row: row["step"])


def record(path: Path, row: dict[str, object]) -> list[dict[str, object]]:
    """Add `row`, replacing an earlier row of the same step (an export measured again), and return all rows."""
    rows = [r for r in read_history(path) if r["step"] != row["step"]] + [row]
    rows.sort(key=lambda r: r["step"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def draw_curve(rows: list[dict[str, object]], out: Path) -> bool:
    """The six figures against the step, each with its target; False (nothing drawn) for fewer than two rows."""
    if len(rows) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), dpi=90)
    for ax, (key, _, title, target, higher) in zip(axes.flat, FIGURES):
        points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        if points:
            ax.plot(*zip(*points), marker="o", color="tab:blue")
        if target is not None:
            ax.axhline(target, color="green", linestyle=":", linewidth=1.2,
                       label=f"target {'≥' if higher else '≤'} {target:g}")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for row in rows:  # where the recipe changed: a grey line on every panel, named on the first
        if row.get("note"):
            for ax in axes.flat:
                ax.axvline(row["step"], color="grey", linewidth=0.6, alpha=0.5)
    fig.suptitle("The bundled default model on held-out identities (128 pairs), by training step", fontsize=11)
    fig.subplots_adjust(left=0.05, right=0.98, top=0.91, bottom=0.08, hspace=0.35, wspace=0.2)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return True
