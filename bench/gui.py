"""GUI benchmarks: start-up time and event-loop stalls of the real app, run offscreen in child processes.

Baselines measured in the same run: start-up is compared with a bare process that only imports torch
and PySide6 (the floor any PySide6 + torch app pays), stalls with the idle event loop of the same app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from .harness import Comparison, Timing
from .options import REPO
from .report import Row, Section

STALL_TARGET_MS = 50.0
BARE_IMPORT = "import torch, PySide6.QtWidgets; from PySide6.QtWidgets import QApplication; QApplication([])"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["G2G_DEVICE"] = env.get("G2G_DEVICE", "cpu")
    return env


def bare_start_s() -> float:
    """Seconds for a process that imports torch and PySide6 and creates a QApplication, then exits."""
    start = time.time()
    subprocess.run([sys.executable, "-c", BARE_IMPORT], cwd=REPO, env=_env(), check=True, timeout=300,
                   capture_output=True)
    return time.time() - start


def run_probe(quick: bool) -> dict:
    env = _env()
    env["G2G_BENCH_T0"] = repr(time.time())
    args = [sys.executable, "-m", "bench.gui_probe", *(["--quick"] if quick else [])]
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"GUI probe failed (exit {done.returncode}): {tail[0]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _single(ms: float) -> Timing:
    return Timing.of([ms])


def gui_section(quick: bool) -> Section:
    section = Section("gui", "GUI: start-up and event-loop stalls (real app, offscreen)")
    try:
        bare = bare_start_s()
        probe = run_probe(quick)
    except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError, OSError) as exc:
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
    bare_t = _single(bare * 1000)
    starts = (("first_window_s", "start → first window"), ("first_mixed_image_s", "start → first mixed image"))
    for key, label in starts:
        seconds = probe[key]
        if seconds is None:
            section.rows.append(Row(name=label, candidate="g2g-desktop", extra={"result": "no mixed image in 120 s"}))
            continue
        app_t = _single(seconds * 1000)
        section.rows.append(
            Row(
                name=label,
                candidate="g2g-desktop (python -m bench.gui_probe)",
                baseline="bare: import torch + PySide6, QApplication",
                comparison=Comparison(bare_t, app_t, bare / seconds),
                ratio=seconds / bare,
                ratio_meaning="app seconds / bare-import seconds",
            )
        )
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
