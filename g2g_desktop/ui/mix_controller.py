"""`MixController`: wires the mixing session to the render worker, the task threads and the views.

Everything slow runs elsewhere: images and faces load on task threads, models load on a task thread,
rendering runs on the `RenderWorker`. The GUI thread only submits requests and shows results, so it
never waits on torch.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from g2g_desktop.core.face_align import Detector, MtcnnDetector

from .inputs import InputImage, LoadReport, detect, from_pil, load_inputs
from .models import LoadedModel, load_model_file
from .render_queue import RenderResult, RenderWorker
from .renderer import Renderer
from .session import MixSession
from .settings import AppSettings
from .threads import TaskRunner
from .undo import ChooseFaceCommand, SetAlphaCommand, SetAlphasCommand, SetPairCommand

Notice = tuple[str, list[tuple[str, Callable[[], None]]]]


class MixController(QObject):
    rendered = Signal(object)  # RenderResult, after the views were updated (tests wait on it)
    renderFailed = Signal(str)
    message = Signal(str)  # one line for the status bar
    notice = Signal(str, object)  # text, [(button title, callback)] for the notice bar
    modelLoaded = Signal(object)  # LoadedModel
    modelFailed = Signal(str)  # the CheckpointError message naming the file
    imagesLoaded = Signal(object)  # LoadReport, after the images were added
    _result = Signal(object)  # worker thread → GUI thread

    def __init__(self, settings: AppSettings, parent: QObject | None = None, *, detector: Detector | None = None):
        super().__init__(parent)
        self.settings = settings
        self.detector: Detector = detector or MtcnnDetector()
        self.renderer = Renderer()
        self.session = MixSession(self.renderer, self)
        self.undo_stack = QUndoStack(self)
        self.tasks = TaskRunner(self)
        self.tasks.finished.connect(self._task_done)
        self.tasks.failed.connect(self._task_failed)
        self._result.connect(self._on_result)
        self._closed = False
        self.worker = RenderWorker(self.renderer, self._deliver)
        self.worker.start()
        self.stamp = 0
        self.reset_stamp = 0  # results with an older stamp are dropped
        self.matrix_wanted = False
        self.last: dict[str, RenderResult] = {}
        for signal in (self.session.pairChanged, self.session.alphasChanged, self.session.modelChanged,
                       self.session.alignChanged, self.session.imagesChanged):
            signal.connect(self.schedule)
        self.session.alignChanged.connect(self._align_changed)

    # ------------------------------------------------------------------ rendering
    def schedule(self) -> None:
        """Submit the requests for the current state; with nothing to draw, drop whatever is in flight."""
        for kind in ("grid", "matrix"):
            if kind == "matrix" and not self.matrix_wanted:
                continue
            self.stamp += 1
            request = self.session.request(kind, self.stamp)
            if request is None:
                self.reset_stamp = self.stamp
                self.last.pop(kind, None)
                self.worker.forget()
            else:
                self.worker.submit(request)

    def set_matrix_wanted(self, wanted: bool) -> None:
        self.matrix_wanted = wanted
        if wanted:
            self.schedule()

    def _deliver(self, result: RenderResult) -> None:
        """Called on the render thread: hand the result to the GUI thread, unless the window has gone."""
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the controller was deleted while this render ran
            self._result.emit(result)

    def _on_result(self, result: RenderResult) -> None:
        if result.stamp < self.reset_stamp or result.request.model_id != self.session.model_id:
            return  # drawn for a state that is gone (e.g. a model replaced while it rendered)
        if result.error:
            self.worker.forget()
            self.renderFailed.emit(result.error)
            self.message.emit(f"Rendering failed: {result.error}")
        else:
            self.last[result.request.kind] = result
        self.rendered.emit(result)

    # ------------------------------------------------------------------ inputs
    def open_paths(self, paths: list[str | os.PathLike]) -> None:
        detector = self.detector if self.session.align else None
        self.message.emit(f"Loading {len(paths)} item(s)…")
        self.tasks.submit("images", load_inputs, [os.fspath(p) for p in paths], detector)

    def open_pil(self, image: Image.Image, name: str) -> None:
        detector = self.detector if self.session.align else None
        self.tasks.submit("images", from_pil, image, name, detector)

    def _images_loaded(self, report: LoadReport) -> None:
        self.session.add_images(report.images)
        if report.images:
            self.message.emit(f"Loaded {len(report.images)} image(s).")
        self._report_problems(report)
        self.imagesLoaded.emit(report)

    def _report_problems(self, report: LoadReport) -> None:
        if report.errors:
            self.message.emit(report.errors[0])
        no_face = report.no_face
        if no_face:
            names = ", ".join(im.name for im in no_face)
            ids = [im.id for im in no_face]
            text = f"No face found in {names}: the whole image is used."
            if report.errors:
                text += "  Also: " + "; ".join(report.errors)
            actions = [("Use whole image", lambda: None), ("Remove", lambda: self.remove_images(ids))]
            self.notice.emit(text, actions)
        elif report.errors:
            self.notice.emit("Could not use: " + "; ".join(report.errors), [])

    def remove_images(self, image_ids: list[str]) -> None:
        for image_id in image_ids:
            self.session.remove_image(image_id)
        self.undo_stack.clear()  # older pair choices may name removed images

    def choose_face(self, image_id: str, face_index: int | None) -> None:
        old = self.session.image(image_id)
        if old is not None:
            self.undo_stack.push(ChooseFaceCommand(self.session, old, old.with_face_index(face_index)))

    def _align_changed(self) -> None:
        if self.session.model is not None and self.session.model.path is not None:
            self.settings.set_alignment(self.session.model.path, self.session.align)
        if self.session.align:
            pending = [im for im in self.session.images if not im.detected]
            if pending:
                self.message.emit(f"Detecting faces in {len(pending)} image(s)…")
                self.tasks.submit("detect", _detect_all, pending, self.detector)

    def _faces_detected(self, report: LoadReport, originals: list[InputImage]) -> None:
        for old, new in zip(originals, report.images):
            self.session.replace_image(old.id, new)
        self._report_problems(report)

    # ------------------------------------------------------------------ undoable edits
    def request_pair(self, pair: tuple[str, str]) -> None:
        if pair != self.session.pair:
            self.undo_stack.push(SetPairCommand(self.session, pair))

    def preview_alphas(self, a1: float, a2: float) -> None:
        self.session.set_alphas((a1, a2))

    def commit_alpha(self, index: int, old: float, new: float) -> None:
        self.undo_stack.push(SetAlphaCommand(self.session, index, old, new))

    def reset_alphas(self) -> None:
        if self.session.alphas != (1.0, 1.0):
            self.undo_stack.push(SetAlphasCommand(self.session, (1.0, 1.0)))

    # ------------------------------------------------------------------ models
    def open_model(self, path: str | os.PathLike) -> None:
        self.message.emit(f"Loading model {os.fspath(path)}…")
        self.tasks.submit("model", load_model_file, os.fspath(path))

    def use_model(self, model: LoadedModel) -> None:
        # A snapshot of the model being trained keeps the current choice; a file uses the one remembered for it.
        align = self.session.align if model.path is None else self.settings.alignment(model.path, model.default_align)
        self.session.set_model(model)
        self.session.set_align(align)
        if model.path is not None:
            self.settings.add_recent("models", model.path)
        self.message.emit(f"Loaded model {model.name}.")
        self.modelLoaded.emit(model)

    # ------------------------------------------------------------------ task results
    def _task_done(self, name: str, result: object) -> None:
        if name == "images":
            self._images_loaded(result)
        elif name == "detect":
            self._faces_detected(*result)
        elif name == "model":
            self.use_model(result)

    def _task_failed(self, name: str, message: str) -> None:
        if name == "model":
            self.message.emit(f"Could not load the model: {message}")
            self.modelFailed.emit(message)
        else:
            self.message.emit(message)

    def shutdown(self) -> None:
        """Stop the render worker and wait for task threads (window closing)."""
        self._closed = True
        self.worker.stop()
        self.tasks.wait()


def _detect_all(images: list[InputImage], detector: Detector) -> tuple[LoadReport, list[InputImage]]:
    report = LoadReport([], [])
    for im in images:
        try:
            report.images.append(detect(im, detector))
        except Exception as exc:  # keep the image, lose only its alignment
            report.errors.append(f"{im.name}: face detection failed ({exc})")
            report.images.append(im.with_faces((), None))
    return report, images
