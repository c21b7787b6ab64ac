"""Child process of the GUI benchmark: starts the real app offscreen and prints one JSON line of timings.

Measured, once the first mixed image is drawn (start-up times are `bench/startup.py`'s):
- the GUI event loop's longest stall while a fade slider is dragged (a 60 Hz stream of slider moves),
  while a training run starts (until its first step) and while it runs, with a 5 ms precise QTimer: a
  stall is the gap between two ticks minus the interval.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from g2g_desktop.core.images import tensor_to_pil
from g2g_desktop.core.model_file import save_model
from g2g_desktop.core.resources import default_model_path, sample_paths

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication, which main() creates


class StallMonitor(QObject):
    """Ticks every `interval_ms` on the GUI thread; `gaps_ms` are the delays beyond the interval."""

    def __init__(self, interval_ms: int = 5):
        super().__init__()
        self.interval_ms = interval_ms
        self.gaps_ms: list[float] = []
        self.times_ms: list[float] = []  # when each gap ended, from start()
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None

    def start(self) -> None:
        self.gaps_ms.clear()
        self.times_ms.clear()
        self._last = None
        self._clock.start()
        self._timer.start()

    def stop(self) -> dict:
        self._timer.stop()
        gaps = sorted(self.gaps_ms) or [0.0]
        worst = max(range(len(self.gaps_ms)), key=self.gaps_ms.__getitem__) if self.gaps_ms else None
        return {
            "longest_stall_ms": round(gaps[-1], 2),
            "longest_at_s": None if worst is None else round(self.times_ms[worst] / 1000, 2),
            "p99_stall_ms": round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 2),
            "median_stall_ms": round(statistics.median(gaps), 2),
            "ticks": len(self.gaps_ms),
        }

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.gaps_ms.append(max(0.0, now - self._last - self.interval_ms))
            self.times_ms.append(now)
        self._last = now


def wait_until(app: QApplication, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def spin(app: QApplication, seconds: float) -> None:
    wait_until(app, lambda: False, seconds)


def model_and_samples(tmp: Path, quick: bool) -> tuple[Path, list[Path], str]:
    """The shipped default model and samples, or stand-ins written to `tmp` (the report says which)."""
    from bench.workloads import default_model, images, tiny_model

    model = tiny_model() if quick else default_model()
    path = default_model_path()
    if quick or not path.is_file():
        path = tmp / "model.safetensors"
        save_model(path, model.generator, approach="funit2funit", step=0, provenance={"bench": "stand-in"})
    samples = sample_paths()[:2]
    if quick or len(samples) < 2:
        samples = []
        for i, x in enumerate(images(2, 64, seed=5)):
            samples.append(tmp / f"sample{i}.png")
            tensor_to_pil(x).save(samples[-1])
    return path, samples, model.source


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    drag_s = 1.0 if quick else 4.0
    train_s = 2.0 if quick else 8.0
    tmp = Path(tempfile.mkdtemp(prefix="g2g-bench-gui-"))
    # Never touch the user's settings: every AppSettings reads its file from G2G_SETTINGS_FILE, not from the
    # application name (the form values of a bench run, 100000 steps into a temporary folder, used to land there).
    os.environ["G2G_SETTINGS_FILE"] = str(tmp / "settings.ini")
    model_path, samples, model_source = model_and_samples(tmp, quick)

    from g2g_desktop.ui.app import create_window
    from g2g_desktop.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(["g2g-bench"])
    window = create_window(model_path, AppSettings())
    window.controller.open_paths(samples)
    window.show()
    results: list = []
    window.controller.rendered.connect(results.append)
    got_mix = wait_until(app, lambda: any(r.request.kind == "grid" and not r.error for r in results), 120)
    out: dict = {"model": model_source, "mixed": got_mix, "errors": [r.error for r in results if r.error]}

    monitor = StallMonitor()
    # idle loop for reference
    monitor.start()
    spin(app, 0.5)
    out["idle"] = monitor.stop()

    # slider drag: 60 moves per second between α = −0.5 and 1.5
    slider = window.sliders.sliders[0]
    results.clear()
    values = list(range(slider.minimum(), slider.maximum() + 1, 4))
    values += values[::-1]
    moves = {"n": 0}

    def move():
        slider.setValue(values[moves["n"] % len(values)])
        moves["n"] += 1

    mover = QTimer()
    mover.setInterval(16)
    mover.timeout.connect(move)
    slider.setSliderDown(True)
    monitor.start()
    mover.start()
    spin(app, drag_s)
    mover.stop()
    drag = monitor.stop()
    slider.setSliderDown(False)
    wait_until(app, lambda: not window.controller.worker.slot._pending, 30)
    render_ms = [r.ms for r in results if r.request.kind == "grid" and not r.error]
    drag.update({
        "slider_moves": moves["n"],
        "renders": len(render_ms),
        "render_ms_median": round(statistics.median(render_ms), 2) if render_ms else None,
        "dropped_stale_requests": window.controller.worker.slot.dropped,
    })
    out["slider_drag"] = drag

    # training: the Tiny preset on procedural faces, previews every 5 steps
    panel = window.training_panel
    form = panel.form
    form.size.setCurrentIndex(0)
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.steps.setValue(100_000)
    form.preview_every.setValue(5)
    form.checkpoint_every.setValue(100_000)
    form.out.setText(str(tmp / "run"))
    from trainer.events import StepDone

    events: list = []
    monitor.start()
    t_start = time.time()
    started = panel.start()
    if started:
        panel.worker.event.connect(events.append)
    wait_until(app, lambda: any(isinstance(e, StepDone) for e in events), 120)
    startup = monitor.stop()
    startup["seconds_to_first_step"] = round(time.time() - t_start, 2)
    out["training_start"] = startup
    monitor.start()
    spin(app, train_s)
    training = monitor.stop()
    training.update({"started": started, "engine_events": len(events)})
    if started:
        panel.worker.engine.stop()
        panel.worker.stop_and_wait(60_000)
    out["training"] = training

    window.close()  # stops the render worker and task threads
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
