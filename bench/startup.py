"""Start-up benchmark: `g2g-desktop` from process start to its first window and to its first mixed image.

The baseline is measured in the same run, interleaved (bare, app, bare, app, …): a process that creates a
QApplication and shows a bare QMainWindow, the floor of any PySide6 app on this machine. Both are timed by
`bench.startup_probe` from the parent's clock just before the child started, until the first window is
exposed. The app side goes through `g2g_desktop.ui.app.main`, the real start (loading window, torch on a
task thread, then the main window), with settings in a throw-away file.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from .child_probe import PROBE_ERRORS, run_child_probe
from .harness import Comparison, Timing
from .report import Row, Section

FIRST_WINDOW_TARGET_S = 1.5
FIRST_MIX_AFTER_WINDOW_TARGET_S = 1.0
IDLE_QUIT_TARGET_S = 1.0


def run_probe(mode: str, args: list[str], settings_file: Path) -> dict:
    return run_child_probe(
        "bench.startup_probe",
        [mode, *args],
        what=f"start-up probe ({mode})",
        timeout=300,
        env={"G2G_SETTINGS_FILE": str(settings_file)},
    )


def stand_ins(folder: Path) -> list[str]:
    """A tiny model and two images for the quick run (the full run opens the bundled model and samples)."""
    from g2g_desktop.core.images import tensor_to_pil
    from g2g_desktop.core.model_file import save_model

    from .workloads import images, tiny_model

    model = folder / "model.safetensors"
    save_model(model, tiny_model().generator, approach="funit2funit", step=0, provenance={"bench": "stand-in"})
    paths = []
    for i, x in enumerate(images(2, 64, seed=5)):
        paths.append(folder / f"sample{i}.png")
        tensor_to_pil(x).save(paths[-1])
    return ["--model", str(model), *map(str, paths)]


def measure(rounds: int, app_args: list[str], folder: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """Rounds of (bare window, bare window + import torch, app), the order turned round every other round."""
    bare, floor, app = [], [], []
    for i in range(rounds):
        settings = folder / f"settings{i}.ini"  # a fresh file each start: no session to restore
        order = (("bare", bare, []), ("torch", floor, []), ("app", app, app_args))
        for mode, into, args in order if i % 2 == 0 else order[::-1]:
            into.append(run_probe(mode, args, settings))
    return bare, floor, app


def _span(runs: list[dict], start: str, end: str) -> list[float | None]:
    return [None if r.get(start) is None or r.get(end) is None else r[end] - r[start] for r in runs]


def span_row(name: str, app: list[float | None], baseline: list[float | None], baseline_name: str,
             target_s: float) -> Row:
    """A span of the app (seconds per round) against the same span of a probe in the same rounds."""
    if any(s is None for s in app + baseline):
        return Row(name=name, candidate="g2g-desktop", extra={"result": "not reached in 120 s"})
    app_t, base_t = Timing.of([s * 1000 for s in app]), Timing.of([s * 1000 for s in baseline])
    median_s = statistics.median(app)
    return Row(
        name=name,
        candidate="g2g-desktop (ui.app.main)",
        baseline=baseline_name,
        comparison=Comparison(base_t, app_t, statistics.median(b / a for a, b in zip(app, baseline))),
        ratio=statistics.median(a / b for a, b in zip(app, baseline)),
        ratio_meaning="app seconds / baseline seconds (median over rounds)",
        target=f"≤ {target_s} s",
        met=median_s <= target_s,
    )


def startup_section(quick: bool) -> Section:
    section = Section("startup", "Start-up: first window and first mixed image (real app, offscreen)")
    rounds = 1 if quick else 5
    with tempfile.TemporaryDirectory(prefix="g2g-bench-startup-") as tmp:
        folder = Path(tmp)
        try:
            bare, floor, app = measure(rounds, stand_ins(folder) if quick else [], folder)
        except PROBE_ERRORS as exc:
            section.skipped = f"the start-up could not be measured: {exc}"
            return section
    section.notes.append(
        f"{rounds} interleaved round(s); model: {'tiny stand-in' if quick else 'bundled default'}. Baseline: "
        "QApplication + a bare QMainWindow shown; the floor of a first mix is that window importing torch once "
        "it is up. First window = first window exposed (the app's loading window); first mixed image = the "
        "main window's grid showing a mix; idle quit = from closing the window, a second after the first mix, "
        "until the process is gone."
    )
    bare_s = [b["first_window_s"] for b in bare]
    base = Timing.of([s * 1000 for s in bare_s])
    window_s = [a["first_window_s"] for a in app]
    mixed_s = [a["first_mixed_image_s"] for a in app]
    rows = (("start → first window", window_s, FIRST_WINDOW_TARGET_S), ("start → first mixed image", mixed_s, None))
    for name, seconds, target in rows:
        if any(s is None for s in seconds):
            section.rows.append(Row(name=name, candidate="g2g-desktop", extra={"result": "not reached in 120 s"}))
            continue
        per_round = [s / b for s, b in zip(seconds, bare_s)]
        app_t = Timing.of([s * 1000 for s in seconds])
        median_s = statistics.median(seconds)
        section.rows.append(
            Row(
                name=name,
                candidate="g2g-desktop (ui.app.main)",
                baseline="bare QApplication + QMainWindow",
                comparison=Comparison(base, app_t, statistics.median(b / s for s, b in zip(seconds, bare_s))),
                ratio=statistics.median(per_round),
                ratio_meaning="app seconds / bare-window seconds (median over rounds)",
                target=None if target is None else f"≤ {target} s",
                met=None if target is None else median_s <= target,
            )
        )
    section.rows.append(span_row(
        "first window → first mixed image", _span(app, "first_window_s", "first_mixed_image_s"),
        _span(floor, "first_window_s", "torch_imported_s"), "bare window, then import torch (the floor)",
        FIRST_MIX_AFTER_WINDOW_TARGET_S))
    section.rows.append(span_row(
        "idle quit (window closed → process gone)", _span(app, "quit_requested_s", "exited_s"),
        _span(bare, "quit_requested_s", "exited_s"), "bare QApplication + QMainWindow", IDLE_QUIT_TARGET_S))
    last = app[-1]
    section.rows.append(
        Row(
            name="resident memory, idle after the first mix",
            candidate="g2g-desktop",
            extra={
                "rss_at_mix_mb": last["rss_at_mix_mb"],
                "rss_idle_mb": last["rss_idle_mb"],
                "bare_window_rss_mb": bare[-1]["rss_mb"],
                "loaded_at_idle": last["loaded_at_idle"],
            },
        )
    )
    return section
