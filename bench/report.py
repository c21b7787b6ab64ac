"""Benchmark results: rows grouped in sections, written as JSON (for machines) and Markdown (for people).

A row compares a *candidate* (the project's path, an optimisation) with a *baseline* measured in the same
run; `ratio` is baseline time / candidate time unless the row says otherwise (`ratio_meaning`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .harness import Comparison, Timing

SCHEMA = "g2g-bench/1"


@dataclass
class Row:
    name: str  # what was measured, e.g. "forward batch 1"
    candidate: str  # label of the measured path
    baseline: str | None = None  # label of the reference path, None for a plain measurement
    comparison: Comparison | None = None
    timing: Timing | None = None  # a plain measurement (no baseline)
    ratio_meaning: str = "speed-up (baseline ms / candidate ms)"
    ratio: float | None = None  # set from `comparison` unless given (e.g. fade ms / forward ms)
    target: str | None = None  # the goal, in words
    met: bool | None = None  # whether the goal holds in this run
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.comparison is not None:
            self.ratio = self.comparison.ratio

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "candidate_timing": self._candidate_timing().to_dict() if self._candidate_timing() else None,
            "baseline_timing": self.comparison.baseline.to_dict() if self.comparison else None,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "ratio_meaning": self.ratio_meaning,
            "target": self.target,
            "met": self.met,
            "extra": self.extra,
        }

    def _candidate_timing(self) -> Timing | None:
        return self.comparison.candidate if self.comparison else self.timing


@dataclass
class Section:
    key: str
    title: str
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    skipped: str | None = None  # why the whole section did not run

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "notes": self.notes,
            "skipped": self.skipped,
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass
class Report:
    machine: dict[str, Any]
    settings: dict[str, Any]  # how the bench was run: quick, repeats, threads, …
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "machine": self.machine,
            "settings": self.settings,
            "notes": self.notes,
            "duration_s": round(self.duration_s, 1),
            "sections": [s.to_dict() for s in self.sections],
        }

    def write(self, folder: str | Path, name: str) -> tuple[Path, Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        md_path.write_text(to_markdown(self), encoding="utf-8")
        return json_path, md_path


def _ms(t: Timing | None) -> str:
    if t is None:
        return ""
    return f"{_num(t.median_ms)} ms [{_num(t.min_ms)}–{_num(t.max_ms)}]"


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _met(row: Row) -> str:
    if row.target is None:
        return ""
    mark = {True: "yes", False: "**no**", None: "n/a"}[row.met]
    return f"{row.target}: {mark}"


def _extra(row: Row) -> str:
    return "; ".join(f"{k}: {v}" for k, v in row.extra.items())


def to_markdown(report: Report) -> str:
    m = report.machine
    gpu = m.get("gpu")
    lines = [
        "# G2G Desktop benchmark results",
        "",
        "Written by `make bench` (`python -m bench.run`); do not edit by hand. Times are medians over repeated",
        "runs with [min–max]; every ratio compares two paths measured interleaved in this same run.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']} ({m['usable_cpus']} usable of {m['logical_cpus']} logical; "
        f"flags {', '.join(m['cpu_flags']) or 'none of note'})",
        f"- GPU: {gpu['name'] + ', ' + str(gpu['memory_gib']) + ' GiB' if gpu else 'no GPU in this run'}",
        f"- torch {m['torch']} (CUDA build {m['cuda_build']}, CUDA available: {m['cuda_available']}), "
        f"{m['torch_threads']} threads, Python {m['python']}, {m['platform']}",
        f"- load average at start: {m.get('load_average')}; at end: {report.settings.get('load_average_end')}",
        f"- fp32 matmul peak (best of 10, 1536²): {report.settings.get('matmul_peak_gflops')} GFLOP/s at start, "
        f"{report.settings.get('matmul_peak_gflops_end')} at end",
        f"- settings: {json.dumps(report.settings)}; total {report.duration_s:.0f} s",
        "",
    ]
    for note in report.notes:
        lines.append(f"> {note}")
        lines.append("")
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        if section.skipped:
            lines += [f"Skipped: {section.skipped}", ""]
            continue
        for note in section.notes:
            lines.append(f"- {note}")
        if section.notes:
            lines.append("")
        lines += [
            "| measured | candidate | time | baseline | time | ratio | target | details |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in section.rows:
            ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
            base_t = r.comparison.baseline if r.comparison else None
            lines.append(
                f"| {r.name} | {r.candidate} | {_ms(r._candidate_timing())} | {r.baseline or ''} | {_ms(base_t)} "
                f"| {ratio} | {_met(r)} | {_extra(r)} |"
            )
        meanings = sorted({r.ratio_meaning for r in section.rows if r.ratio is not None})
        if meanings:
            lines += ["", "Ratio: " + "; ".join(meanings) + "."]
        lines.append("")
    return "\n".join(lines)
