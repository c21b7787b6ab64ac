"""Entry point of the desktop app.

`main()` shows a window before torch loads: it creates the QApplication, applies the theme and shows the
`StartupWindow` (all torch-free), then imports the main window, and with it torch, on a task thread. When
that is done the main window takes the loading window's place and opens the model and the images (each
on its own task thread again) with a "Loading…" state in the grid. `create_window` is the synchronous
path the tests, the self-test and the screenshots use.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from g2g_desktop import use_passive_openmp_wait
from g2g_desktop.core.resources import default_model_path, resource_path, sample_paths

from .session_store import restore_session
from .settings import APPLICATION, ORGANISATION, AppSettings
from .startup import StartupWindow, create_application, display_problem, place_window, screen_size
from .theme import apply_theme
from .threads import Task, TaskWorker, exit_process

if TYPE_CHECKING:
    from g2g_desktop.services.inputs import LoadReport

    from .main_window import MainWindow

MAIN_WINDOW_MODULE = "g2g_desktop.ui.main_window"


def create_window(
    model_path: str | os.PathLike | None = None,
    settings: AppSettings | None = None,
    images: Sequence[str | os.PathLike] | None = None,
) -> MainWindow:
    """The main window with a model and images loading (both off the GUI thread).

    `images` become the gallery (the first two the pair); None means the first two bundled samples.
    """
    from .main_window import MainWindow

    window = MainWindow(settings)
    model = model_path or default_model_path()
    if os.path.isfile(model):
        window.controller.open_model(model)
    else:
        window.set_missing_model(os.fspath(model))
    paths = list(images) if images is not None else sample_paths()[:2]
    if paths:
        window.controller.open_paths(paths)
    return window


class Launch(QObject):
    """The start-up sequence behind the loading window; it owns the windows until the main one is up.

    What the command line does not name (the model, the images) comes from the last session.
    """

    def __init__(self, app: QApplication, settings: AppSettings, model_path, images):
        super().__init__(app)
        self.settings = settings
        last = restore_session(settings.qsettings)
        self.model_path = model_path or last.model
        self.images = images if images is not None else (last.images or None)
        self.note = last.note(model=model_path is None, images=images is None)
        self.last = last
        self.fallback = last.images if images is not None else []  # when none of the images given open
        self.fallback_note = ""
        self.groups = last.groups if images is None else []  # same-person groups to mark once the images are in
        self.window: MainWindow | None = None
        self.startup = StartupWindow()
        place_window(self.startup, settings.geometry(screen_size(self.startup)))
        self.main_import: TaskWorker[object] = TaskWorker(Task.MAIN_WINDOW, self)
        self.main_import.done.connect(self._imported)
        self.main_import.failed.connect(lambda _stamp, message: self.startup.show_error(message))

    def start(self) -> None:
        self.startup.show()
        self.main_import.start(importlib.import_module, MAIN_WINDOW_MODULE)

    def _imported(self, _stamp: int, _module: object) -> None:
        self.window = create_window(self.model_path, self.settings, self.images)
        if self.startup.isMaximized():
            self.window.showMaximized()
        else:
            self.window.setGeometry(self.startup.geometry())
            self.window.show()
        self.startup.close()
        if self.note:
            self.window.notice_bar.show_notice(self.note)
        if self.fallback or self.groups:
            self.window.controller.imagesLoaded.connect(self._images_loaded)

    def _images_loaded(self, report: LoadReport) -> None:
        """The first images are in: mark the last session's same-person groups; or, when none of the images the
        command line named could be opened, reopen the last session's images rather than start empty."""
        window = self.window
        if not report.images and self.fallback:
            images, self.fallback, self.groups = self.fallback, [], self.last.groups
            self.fallback_note = (f"None of the images given could be opened ({'; '.join(report.errors)}): the "
                                  f"{len(images)} image(s) of the last session were reopened.")
            window.controller.open_paths(images)
            return
        window.controller.imagesLoaded.disconnect(self._images_loaded)
        ids = {os.path.abspath(im.path): im.id for im in window.session.images if im.path is not None}
        for group in self.groups:
            found = [ids[p] for p in map(os.path.abspath, group) if p in ids]
            if len(found) > 1:
                window.session.set_same_person(found)
        if self.fallback_note:
            window.notice_bar.show_notice(self.fallback_note, keep=True)  # above what the load or the model has to say


def main(
    argv: list[str] | None = None,
    *,
    model_path: str | os.PathLike | None = None,
    images: Sequence[str | os.PathLike] | None = None,
) -> int:
    """Run the app and end the process with its exit status (`threads.exit_process`); 2 with one line on stderr
    when there is no display to open a window on."""
    use_passive_openmp_wait()  # torch loads later, on a task thread
    problem = display_problem()
    if problem:
        print(f"g2g-desktop: error: {problem}", file=sys.stderr)
        return 2
    argv = sys.argv[:1] if argv is None else [sys.argv[0] if sys.argv else "g2g-desktop", *argv]
    app = QApplication.instance() or create_application(
        argv, lambda line: print(f"g2g-desktop: error: {line}", file=sys.stderr, flush=True)
    )
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("G2G Desktop")
    app.setWindowIcon(QIcon(str(resource_path("icons", "g2g.svg"))))
    settings = AppSettings()
    apply_theme(app, settings.theme())
    launch = Launch(app, settings, model_path, images)
    launch.start()
    code = app.exec()
    settings.sync()  # the window saves its settings as it closes; a session that ends otherwise keeps them too
    exit_process(code)  # not the interpreter's teardown: seconds with torch loaded (see `threads`)
