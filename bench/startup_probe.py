"""Child process of the start-up benchmark: one start of the real app (`g2g_desktop.ui.app.main`, the path
`g2g-desktop` takes) or of a bare PySide6 window, printing one JSON line.

`python -m bench.startup_probe bare|torch|app [--model PATH] [IMAGE ...]`. Times are wall-clock seconds from
`G2G_BENCH_T0` (the parent's clock just before it started this process): `first_window_s` when the first
top-level window is exposed (drawn), and for the app `first_mixed_image_s` when the grid shows a mix and
the resident memory then and after a second of idling (and whether torch had loaded when the first window
was drawn). `torch` is the bare window that then imports torch (`torch_imported_s`): no first mix can come
sooner. `quit_requested_s` is when the window was closed and the app told to quit; the parent notes when the
process was gone (`exited_s`), so the difference is what quitting takes. The probe creates the QApplication
itself (the app reuses it) to watch the windows; it imports nothing heavier than PySide6 before the app does.
"""

from __future__ import annotations

import os
import sys
import time

T0 = float(os.environ.get("G2G_BENCH_T0", time.time()))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtGui import QWindow  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow  # noqa: E402

MIX_TIMEOUT_S = 120.0


def rss_mb() -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class ExposeWatch(QObject):
    """Notes the first time any window is exposed (its first frame is on screen)."""

    def __init__(self):
        super().__init__()
        self.first_s: float | None = None
        self.torch_loaded: bool | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.first_s is None and event.type() == QEvent.Type.Expose and isinstance(obj, QWindow) and obj.isExposed():
            self.first_s = time.time() - T0
            self.torch_loaded = "torch" in sys.modules
        return False


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    model = None
    if rest[:1] == ["--model"]:
        model, rest = rest[1], rest[2:]
    app = QApplication(["g2g-bench"])
    watch = ExposeWatch()
    app.installEventFilter(watch)
    out: dict = {"mode": mode}

    if mode in ("bare", "torch"):
        window = QMainWindow()
        window.setWindowTitle("bare")
        window.setCentralWidget(QLabel("bare window"))
        window.resize(1000, 700)
        window.show()

        def shown() -> None:
            if watch.first_s is None:
                return
            poll.stop()
            if mode == "torch":  # the floor of any first mix: torch itself, imported once a window is up
                import torch  # noqa: F401

                out["torch_imported_s"] = round(time.time() - T0, 4)
            out["quit_requested_s"] = round(time.time() - T0, 4)
            app.quit()

        poll = QTimer()
        poll.timeout.connect(shown)
        poll.start(1)
        app.exec()
        out.update(first_window_s=round(watch.first_s, 4), rss_mb=rss_mb())
        print(json.dumps(out), flush=True)
        return 0

    state: dict = {"mixed_s": None, "deadline": time.time() + MIX_TIMEOUT_S}

    def check() -> None:
        from_app = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible()]
        if state["mixed_s"] is None:
            if from_app and from_app[0].grid_view.images:
                state["mixed_s"] = time.time() - T0
                state["rss_at_mix_mb"] = rss_mb()
                QTimer.singleShot(1000, lambda: finish(from_app[0]))
            elif time.time() > state["deadline"]:
                finish(from_app[0] if from_app else None)

    def finish(window) -> None:
        """Print the result now: the app's exit may end the process at once (`threads.exit_process` leaves a
        worker still inside a torch call behind with `os._exit`), so nothing after `app_main` is sure to run."""
        poll.stop()
        out.update(
            first_window_s=None if watch.first_s is None else round(watch.first_s, 4),
            torch_at_first_window=watch.torch_loaded,
            first_mixed_image_s=None if state["mixed_s"] is None else round(state["mixed_s"], 4),
            rss_at_mix_mb=state.get("rss_at_mix_mb"),
            rss_idle_mb=rss_mb(),
            loaded_at_idle={m: m in sys.modules for m in ("torch", "trainer", "torchvision", "facenet_pytorch")},
            quit_requested_s=round(time.time() - T0, 4),  # an idle app is told to quit now (window closed)
        )
        print(json.dumps(out), flush=True)
        if window is not None:
            window.close()
        app.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(5)
    from g2g_desktop.ui.app import main as app_main

    return app_main([], model_path=model, images=rest or None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
