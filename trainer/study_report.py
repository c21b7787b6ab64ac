"""The model study's report: the measured table in docs/study.md and its learning curves.

`write_report(rows_dir, names)` reads every measured row's `results.json` and `curves.jsonl` (written by
trainer/study.py into the committed rows folder, docs/study_rows) and rewrites the generated block of
`docs/study.md` between two markers, so the hand-written reading around it stays. Curves are drawn with
matplotlib (Agg, no display), one figure per step budget (`docs/images/study_curves.png` for the shortest,
`study_curves_<steps>_steps.png` beside it for each longer one), and the swap sheets of all rows are stacked,
labelled, into `docs/images/study_sheets.png`; rows without them (recovered ones) are left out.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from trainer.markdown_block import replace_block

MARK_START, MARK_END = "<!-- study:start -->", "<!-- study:end -->"

# (metrics key, column title, format); L1 errors are on the [0, 1] pixel scale, as everywhere in the project.
COLUMNS = (
    ("swap/ratio", "swap ratio", "{:.3f}"),
    ("swap/ratio_person", "person ratio", "{:.3f}"),
    ("swap/l1_background", "bg L1", "{:.4f}"),
    ("identity/mixed_acc", "id acc", "{:.3f}"),
    ("self/psnr", "self PSNR", "{:.2f}"),
    ("cycle/psnr", "cycle PSNR", "{:.2f}"),
    ("probe/identity_from_content/acc", "id←content acc", "{:.3f}"),
    ("probe/rest_from_class/r2", "rest←class R²", "{:.3f}"),
)
CURVE_PANELS = (
    ("swap/ratio", "swap L1 / content-copy L1 (lower better)"),
    ("swap/ratio_person", "swap ratio on the person (lower better)"),
    ("identity/mixed_acc", "identity accuracy of mixes (higher better)"),
    ("self/psnr", "self reconstruction PSNR dB (higher better)"),
)


@dataclass(frozen=True)
class ReportFiles:
    """The files the report writes: the page (only its generated block) and its two pictures."""

    page: Path = Path("docs/study.md")
    curves: Path = Path("docs/images/study_curves.png")
    sheets: Path = Path("docs/images/study_sheets.png")


def read_curve(path: Path) -> list[dict[str, float]]:
    """The learning-curve points of one row (an empty list before its first point)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_results(rows_dir: Path, names: list[str]) -> list[dict[str, Any]]:
    """The measured rows among `names`, in that order (the study's table order)."""
    paths = (rows_dir / name / "results.json" for name in names)
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths if path.exists()]


def uses_ground_truth(config: dict[str, Any]) -> bool:
    """Whether a row trains on the renderer's true swaps (the supervised cross loss), which photos never have."""
    return config.get("weights", {}).get("lambda_cross_gt", 0.0) > 0


def table(results: list[dict[str, Any]]) -> str:
    header = "| run | question | steps | supervised | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines = [header, "|" + "---|" * (4 + len(COLUMNS))]
    for result in results:
        metrics = result["metrics"]
        cells = [fmt.format(metrics[key]) if key in metrics else "–" for key, _, fmt in COLUMNS]
        supervised = "yes" if uses_ground_truth(result["config"]) else "no"
        lines.append(f"| `{result['name']}` | {result['question']} | {result['config']['steps']} | {supervised} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def baselines(results: list[dict[str, Any]]) -> str:
    """The copy-through and judge baselines, the same for every row (one evaluation set and judge)."""
    m = next((r["metrics"] for r in results if "copy_content/l1" in r["metrics"]), None)
    if m is None:
        return ""
    return (f"Baselines on the same pairs: copying the content image scores swap L1 {m['copy_content/l1']:.4f} "
            f"(ratio 1 by definition; {m['copy_content/l1_person']:.4f} on the person), copying the class image "
            f"{m['copy_class/l1']:.4f} (ratio {m['copy_class/l1'] / m['copy_content/l1']:.2f}); the identity "
            f"classifier names {m['identity/truth_acc']:.0%} of true swaps and {m['identity/content_copy_acc']:.0%} "
            f"of copied content images right (chance {m['identity/chance']:.1%}). The probes' chance accuracy "
            f"(majority class of held-out identities) is {m['probe/identity_from_content/chance_acc']:.3f}.")


def draw_curves(rows_dir: Path, names: list[str], out: Path) -> bool:
    """The learning curves of the rows that have one; False (nothing drawn) when none has."""
    curves = {name: read_curve(rows_dir / name / "curves.jsonl") for name in names}
    if not any(curves.values()):
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    legend_rows = math.ceil(sum(1 for curve in curves.values() if curve) / 6)
    legend_inches = 0.6 + 0.19 * legend_rows  # the legend under the panels, as tall as its rows: never over an axis
    height = 7.5 + legend_inches
    fig, axes = plt.subplots(2, 2, figsize=(13, height), dpi=90)
    cmap = plt.get_cmap("tab10")
    for k, (name, curve) in enumerate((name, curve) for name, curve in curves.items() if curve):
        steps = [p["step"] for p in curve]
        style = ("-", "--", ":")[(k // 10) % 3]  # ten colours, then the next ten rows dashed
        for ax, (key, _) in zip(axes.flat, CURVE_PANELS):
            ax.plot(steps, [p.get(key, float("nan")) for p in curve], label=name, color=cmap(k % 10),
                    linestyle=style, marker=".")
    for ax, (_, title) in zip(axes.flat, CURVE_PANELS):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes.flat[0].axhline(1.0, color="grey", linewidth=0.8)
    axes.flat[0].axhline(0.5, color="green", linewidth=0.8, linestyle=":")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.95, bottom=(legend_inches + 0.5) / height,
                        hspace=0.35, wspace=0.15)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return True


def curve_files(results: list[dict[str, Any]], curves: Path) -> dict[int, Path]:
    """One curve figure per step budget, shortest first in `curves` itself, each longer one beside it
    (`<stem>_<steps>_steps.png`): rows of 300 and 3000 steps on one axis made the short ones unreadable."""
    budgets = sorted({r["config"]["steps"] for r in results})
    return {b: curves if k == 0 else curves.with_name(f"{curves.stem}_{b}_steps{curves.suffix}")
            for k, b in enumerate(budgets)}


def stack_sheets(rows_dir: Path, names: list[str], out: Path) -> bool:
    """Every row's swap sheet (content | class | mixed | truth | cycle) under a label with its name;
    False (nothing written) when no row has one."""
    sheets = [(name, Image.open(rows_dir / name / "sheet.png").convert("RGB"))
              for name in names if (rows_dir / name / "sheet.png").exists()]
    if not sheets:
        return False
    # Two pairs of each sheet keep the picture readable: the first two rows of the 6-row sheets.
    crops = [(name, im.crop((0, 0, im.width, im.height // 3))) for name, im in sheets]
    label_h = 14
    width = max(im.width for _, im in crops)
    canvas = Image.new("RGB", (width, sum(im.height + label_h for _, im in crops)), "white")
    draw = ImageDraw.Draw(canvas)
    y = 0
    for name, im in crops:
        draw.text((2, y + 1), name + "   (content | class | mixed | ground truth | cycle)", fill="black")
        canvas.paste(im, (0, y + label_h))
        y += im.height + label_h
    canvas.save(out)
    return True


def write_report(rows_dir: Path, names: list[str], files: ReportFiles | None = None) -> None:
    """Rewrite the generated block of `files.page` (default: docs/study.md) from the measured rows among
    `names` (table order)."""
    files = files or ReportFiles()
    results = load_results(rows_dir, names)
    measured = [r["name"] for r in results]
    pictures = []
    for budget, path in curve_files(results, files.curves).items():
        names_at = [r["name"] for r in results if r["config"]["steps"] == budget]
        if draw_curves(rows_dir, names_at, path):
            pictures += ["", f"![Learning curves of the {budget}-step runs]"
                             f"({os.path.relpath(path, files.page.parent)})"]
    if stack_sheets(rows_dir, measured, files.sheets):
        pictures += ["", f"![Two held-out pairs per run]({os.path.relpath(files.sheets, files.page.parent)})"]
    body = [
        f"Generated by `make study` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} from "
        f"{len(results)} measured runs. Each row: `python -m trainer.study --only NAME`. L1 errors on the [0, 1] "
        "pixel scale; PSNR in dB for [0, 1] images; *person ratio* = swap L1 / content-copy L1 inside the person "
        "mask; *bg L1* = swap L1 outside it, where the content image is the truth; *supervised* = trained on the "
        "renderer's true swaps (λ_cross), which a user's photos never have.",
        "",
        table(results),
        "",
        baselines(results),
        *pictures,
    ]
    replace_block(files.page, MARK_START, MARK_END, body, "Model study")
    print(f"study: wrote {files.page} ({len(results)} runs, {len(pictures) // 2} picture(s))")
