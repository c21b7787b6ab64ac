"""GUI benchmarks: event-loop stalls of the real app, run offscreen in a child process.

The baseline, measured in the same run, is the idle event loop of the same app. Start-up times are in
`bench/startup.py`.
"""

from __future__ import annotations

from .child_probe import PROBE_ERRORS, run_child_probe
from .harness import Comparison, Timing
from .report import Row, Section

STALL_TARGET_MS = 50.0


def run_probe(quick: bool) -> dict:
    return run_child_probe("bench.gui_probe", ["--quick"] if quick else [], what="GUI probe", timeout=600)


def _single(ms: float) -> Timing:
    return Timing.of([ms])


def gui_section(quick: bool) -> Section:
    section = Section("gui", "GUI: event-loop stalls (real app, offscreen)")
    try:
        probe = run_probe(quick)
    except PROBE_ERRORS as exc:
        section.skipped = f"the app could not be measured: {exc}"
        return section
    section.notes.append(
        f"model: {probe['model']}. Stalls: a 5 ms precise QTimer on the GUI thread; a stall is the gap between two "
        "ticks minus 5 ms. The slider is dragged with 60 moves/s across its range; training runs the Tiny preset "
        "(32 px, FUNIT2FUNIT) with previews every 5 steps; start-up = from Start until its first step, then the run "
        "is watched for a fixed time."
    )
    if probe["errors"]:
        section.notes.append("render errors: " + "; ".join(probe["errors"]))
    idle = probe["idle"]["longest_stall_ms"]
    stalls = (("slider_drag", "longest stall, slider drag"), ("training_start", "longest stall, training start-up"),
              ("training", "longest stall, training run"))
    for key, label in stalls:
        stats = probe[key]
        longest = stats["longest_stall_ms"]
        extra = {k: v for k, v in stats.items() if k != "longest_stall_ms"}
        section.rows.append(
            Row(
                name=label,
                candidate="GUI event loop",
                baseline="same loop idle",
                timing=_single(longest),
                comparison=Comparison(_single(idle), _single(longest), idle / longest if longest else 1.0),
                ratio=longest / idle if idle else None,
                ratio_meaning="stall ms / idle-loop stall ms",
                target=f"≤ {STALL_TARGET_MS:.0f} ms",
                met=longest <= STALL_TARGET_MS,
                extra=extra,
            )
        )
    return section
