"""`MixController`: wires the mixing session to the render worker, the task workers and the views.

Everything slow runs elsewhere: images and faces load on task threads, models load on a task thread,
rendering runs on the `RenderWorker`. The GUI thread only submits requests and shows results, so it
never waits on torch. Each flow has its own `TaskWorker` (`image_loads`, `detections`, `model_loads`,
`exports`), and its start and its outcome sit side by side below. Model and image loads carry a stamp like renders do: a
model that finishes loading after a newer one was asked for is dropped (so is an export replaced by a
newer one), and only the newest opened images become the pair.
"""

from __future__ import annotations

import contextlib
import os
import time
from functools import partial
from typing import NamedTuple

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from g2g_desktop.core.face_align import Detector, MtcnnDetector
from g2g_desktop.services.cancel import CancelToken
from g2g_desktop.services.export import ExportOptions, export_fade
from g2g_desktop.services.inputs import InputImage, LoadReport, detect_all, from_pil, load_inputs
from g2g_desktop.services.models import LoadedModel, load_model_file
from g2g_desktop.services.render_queue import RenderKind, RenderRequest, RenderResult, RenderWorker
from g2g_desktop.services.renderer import Renderer

from .qt_text import QtTextPainter
from .session import MixSession
from .settings import AppSettings, Recent
from .threads import Task, TaskWorker
from .undo import (
    ChooseFaceCommand,
    RemoveImagesCommand,
    SetAlignCommand,
    SetAlphaCommand,
    SetAlphasCommand,
    SetPairCommand,
)


class ShownGrid(NamedTuple):
    """The grid as last rendered, with what exports and the zoom title it by (not read back from the widgets)."""

    images: dict[str, np.ndarray]  # row name → (2, H, W, 3) uint8
    names: tuple[str, str]  # the pair's image names, "Image 1"/"Image 2" for one removed since
    alphas: tuple[float, float]  # the fade weights it was drawn with


class MixController(QObject):
    rendered = Signal(object)  # RenderResult (whole, failed or cancelled), after the views were updated
    renderProgress = Signal(object)  # RenderResult holding part of a picture (the first rows of the matrix)
    renderFailed = Signal(str)
    message = Signal(str)  # one line for the status bar
    notice = Signal(str, object)  # text, [(button title, callback)] for the notice bar
    modelLoaded = Signal(object)  # LoadedModel
    modelFailed = Signal(str)  # the CheckpointError message naming the file
    imagesLoading = Signal(int)  # this many files, folders or pasted images started loading
    imagesLoaded = Signal(object)  # LoadReport, after the images were added
    modelLoading = Signal(str)  # the file of a model that started loading
    matrixStarted = Signal(int)  # a swap matrix of this many images was asked for
    _result = Signal(object)  # worker thread → GUI thread

    def __init__(self, settings: AppSettings, parent: QObject | None = None, *, detector: Detector | None = None):
        super().__init__(parent)
        self.settings = settings
        self.detector: Detector = detector or MtcnnDetector()
        self.renderer = Renderer()
        self.session = MixSession(self.renderer, self)
        self.undo_stack = QUndoStack(self)
        self.image_loads: TaskWorker[LoadReport] = TaskWorker(Task.IMAGES, self)
        self.image_loads.done.connect(self._images_loaded)
        self.image_loads.failed.connect(lambda _stamp, message: self.message.emit(message))
        self.detections: TaskWorker[tuple[LoadReport, list[InputImage]]] = TaskWorker(Task.DETECT, self)
        self.detections.done.connect(self._faces_detected)
        self.detections.failed.connect(lambda _stamp, message: self.message.emit(message))
        self.model_loads: TaskWorker[LoadedModel] = TaskWorker(Task.MODEL, self, latest_only=True)
        self.model_loads.done.connect(lambda _stamp, model: self.use_model(model))
        self.model_loads.failed.connect(self._model_failed)
        self.exports: TaskWorker[list] = TaskWorker(Task.EXPORT, self, latest_only=True)
        self.exports.failed.connect(lambda _stamp, message: self.message.emit(message))
        self._result.connect(self._on_result)
        self._closed = False
        self.worker = RenderWorker(self.renderer, self._deliver)
        self.worker.start()
        self.stamp = 0
        self.reset_stamp = 0  # results with an older stamp are dropped
        self.latest: dict[RenderKind, int] = {}  # per kind: the stamp of the newest request submitted
        self.matrix_wanted = False
        self.matrix_held = False  # cancelled by the user: not computed again by itself (issue 21 item 5)
        self.last: dict[RenderKind, RenderResult] = {}
        self._pair_stamp = 0  # the image load that last chose the pair; older ones add images but not the pair
        self._matrix_key: tuple | None = None  # the matrix being computed (or last computed)
        for signal in (self.session.pairChanged, self.session.alphasChanged, self.session.modelChanged,
                       self.session.alignChanged, self.session.imagesChanged):
            signal.connect(self.schedule)
        self.session.alignChanged.connect(self._align_changed)

    # ------------------------------------------------------------------ rendering
    def schedule(self) -> None:
        """Submit the requests for the current state; with nothing to draw, drop whatever is in flight."""
        for kind in RenderKind:
            if kind == RenderKind.MATRIX and (not self.matrix_wanted or self.matrix_held):
                continue
            self.stamp += 1
            request = self.session.request(kind, self.stamp)
            if request is None:
                self.latest[kind] = self.reset_stamp = self.stamp
                self.last.pop(kind, None)
                self._matrix_key = None
                self.worker.forget()
            else:
                self._submit(request)

    def _submit(self, request: RenderRequest) -> None:
        if request.kind == RenderKind.MATRIX:
            if request.key == self._matrix_key:
                return  # already being computed: a new request would restart it (e.g. the pair changed)
            self._matrix_key = request.key
            self.matrixStarted.emit(len(request.image_ids))
        self.latest[request.kind] = request.stamp
        self.worker.submit(request)

    def set_matrix_wanted(self, wanted: bool) -> None:
        """The matrix tab was opened (computed now, also after a cancel) or left."""
        self.matrix_wanted = wanted
        if wanted:
            self.matrix_held = False
            self.schedule()

    def compute_matrix(self) -> None:
        """Render the swap matrix now (again after a cancel), even when its tab is not shown."""
        self.matrix_held = False
        self.worker.forget()
        self.stamp += 1
        request = self.session.request(RenderKind.MATRIX, self.stamp)
        if request is not None:
            self.last.pop(RenderKind.MATRIX, None)
            self._matrix_key = None
            self._submit(request)

    def cancel_matrix(self) -> None:
        """Stop the matrix, and keep it stopped while images change (faces detected, images added) until it is
        asked for again: Compute again, an export, or its tab opened anew."""
        self.matrix_held = True
        self.worker.cancel(RenderKind.MATRIX, self.latest.get(RenderKind.MATRIX, 0))

    def _deliver(self, result: RenderResult) -> None:
        """Called on the render thread: hand the result to the GUI thread, unless the window has gone."""
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the controller was deleted while this render ran
            self._result.emit(result)

    def _on_result(self, result: RenderResult) -> None:
        if result.stamp < self.reset_stamp or result.request.model_id != self.session.model_id:
            return  # drawn for a state that is gone (e.g. a model replaced while it rendered)
        stale = result.stamp < self.latest.get(result.request.kind, 0)
        if not result.final and stale:
            return  # an error, a cancel or a partial picture of a request that a newer one replaced
        if (result.error or result.cancelled) and result.request.kind == RenderKind.MATRIX:
            self._matrix_key = None  # asking again computes it again
        if result.error:
            self.last.pop(result.request.kind, None)  # what is shown now is the error, not the earlier picture
            self.worker.forget()
            self.renderFailed.emit(result.error)
            self.message.emit(f"Rendering failed: {result.error}")
        elif result.cancelled:
            self.message.emit("Swap matrix cancelled.")
        elif not result.final:
            self.renderProgress.emit(result)
            return
        else:
            self.last[result.request.kind] = result
        self.rendered.emit(result)

    def shown_grid(self) -> ShownGrid | None:
        """The last rendered grid and the names of its pair, or None when no grid is shown."""
        result = self.last.get(RenderKind.GRID)
        if result is None:
            return None
        images = [self.session.image(i) for i in result.request.image_ids]
        names = tuple(im.name if im is not None else f"Image {n}" for n, im in enumerate(images, 1))
        return ShownGrid(result.images, (names[0], names[1]), result.request.alphas)

    # ------------------------------------------------------------------ inputs
    def open_paths(self, paths: list[str | os.PathLike]) -> None:
        """The one way in for image files and folders (a drop, the menus, the clipboard's files, start-up):
        they go into the recent lists and load; the images become the pair (unless a newer load wins)."""
        paths = [os.fspath(p) for p in paths]
        for p in paths:
            self.settings.add_recent(Recent.FOLDERS if os.path.isdir(p) else Recent.FILES, p)
        detector = self.detector if self.session.align else None
        self.message.emit(f"Loading {len(paths)} item(s)…")
        self.imagesLoading.emit(len(paths))
        self.image_loads.start(load_inputs, paths, detector)

    def open_pil(self, image: Image.Image, name: str) -> None:
        detector = self.detector if self.session.align else None
        self.imagesLoading.emit(1)
        self.image_loads.start(from_pil, image, name, detector)

    def _images_loaded(self, stamp: int, report: LoadReport) -> None:
        new, chosen = [], []
        for im in report.images:
            same = self._already_open(im, new)
            if same is None:
                new.append(im)
            chosen.append(same or im)
        pair = None
        if stamp > self._pair_stamp and chosen:
            self._pair_stamp = stamp
            pair = self._pair_for(chosen)
        self.session.add_images(new, pair)
        if new:
            self.message.emit(f"Loaded {len(new)} image(s).")
        if len(new) < len(report.images):
            names = ", ".join(im.name for im in chosen if im not in new)
            self.message.emit(f"Already open: {names}.")
        self._report_problems(report)
        if self.session.align and any(not im.detected for im in new):
            self._align_changed()  # loaded while alignment was off: detect now
        elif any(im.photo for im in new) and not report.errors:
            self._offer_alignment()
        self.imagesLoaded.emit(report)

    def _already_open(self, image: InputImage, loading: list[InputImage]) -> InputImage | None:
        """The open (or just loaded) image of the same file, if any: a file is listed once."""
        if image.path is None:
            return None
        for other in [*self.session.images, *loading]:
            if other.path is not None and _same_file(other.path, image.path):
                return other
        return None

    def _pair_for(self, chosen: list[InputImage]) -> tuple[str, str] | None:
        """Two or more opened: the first two. One: it becomes image 2, the old image 2 moves to image 1."""
        if len(chosen) >= 2:
            return chosen[0].id, chosen[1].id
        current = self.session.pair
        partner = current[1] if current and current[1] != chosen[0].id else current[0] if current else None
        if partner is None or partner == chosen[0].id:
            others = [im.id for im in self.session.images if im.id != chosen[0].id]
            partner = others[-1] if others else None
        return (partner, chosen[0].id) if partner else None

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

    def _offer_alignment(self) -> None:
        """Photos with alignment off are mixed as their centre square (a torso, often): say so and offer to align.
        Alignment stays the user's choice: it is remembered per model and off for drawn faces."""
        photos = [im.name for im in self.session.images if im.photo]
        if self.session.align or self.session.model is None or not photos:
            return
        names = ", ".join(photos[:2]) + (f" and {len(photos) - 2} more" if len(photos) > 2 else "")
        self.notice.emit(f"Face alignment is off for this model, so the centre square of {names} is mixed, not "
                         "the face. Photos need their faces detected and aligned.",
                         [("Align faces", lambda: self.request_align(True))])

    def remove_images(self, image_ids: list[str]) -> None:
        """Remove images (undoable: Ctrl+Z puts them back, and the steps before stay in the history)."""
        if any(self.session.image(self.session.resolve(i)) for i in image_ids):
            self.undo_stack.push(RemoveImagesCommand(self.session, image_ids))
            self.message.emit(f"{self.undo_stack.undoText()}: Ctrl+Z brings them back.")

    def remove_all_images(self) -> None:
        self.image_loads.invalidate()
        self._pair_stamp = self.image_loads.stamp  # loads still running add their images but choose no pair
        self.remove_images([im.id for im in self.session.images])

    def move_images(self, order: list[str]) -> None:
        self.session.move_images(order)

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
                token = CancelToken()
                self.detections.start(_detect_pending, pending, self.detector, token, token=token)

    def _faces_detected(self, _stamp: int, outcome: tuple[LoadReport, list[InputImage]]) -> None:
        report, originals = outcome
        for old, new in zip(originals, report.images):
            self.session.replace_image(old.id, new)
        self._report_problems(report)

    # ------------------------------------------------------------------ undoable edits
    def request_pair(self, pair: tuple[str, str]) -> None:
        if pair != self.session.pair:
            self.undo_stack.push(SetPairCommand(self.session, pair))

    def request_align(self, on: bool) -> None:
        if bool(on) != self.session.align:
            self.undo_stack.push(SetAlignCommand(self.session, bool(on)))

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
        self.modelLoading.emit(os.fspath(path))
        self.model_loads.start(load_model_file, os.fspath(path))

    def use_model(self, model: LoadedModel) -> None:
        """Mix with `model` now; a file load still running is dropped when it finishes."""
        self.model_loads.invalidate()
        # A snapshot of the model being trained keeps the current choice; a file uses the one remembered for it.
        align = self.session.align if model.snapshot else self.settings.alignment(model.path, model.default_align)
        self.session.set_model(model)
        self.session.set_align(align)
        if model.snapshot and model.path is not None:  # the next start reopens the kept copy as it is mixed now
            self.settings.set_alignment(model.path, align)
        if not model.snapshot:
            self.settings.add_recent(Recent.MODELS, model.path)
        self.message.emit(f"Loaded model {model.name}.")
        self.modelLoaded.emit(model)
        self._offer_alignment()

    # ------------------------------------------------------------------ exports
    def export_fade(self, path: str | os.PathLike, options: ExportOptions | None = None) -> bool:
        """Start writing the fade on a task thread (progress, cancel); False when there is no pair."""
        request = self.session.request(RenderKind.GRID, 0)
        pair = self.session.pair_images()
        if request is None or pair is None:
            return False
        self.exports.cancel()  # an export still running stops; its outcome is dropped
        token = CancelToken()
        names = (pair[0].name, pair[1].name)
        self.exports.start(partial(export_fade, painter=QtTextPainter()), self.renderer, request, os.fspath(path),
                           options or ExportOptions(), names, token, self.exports.report, token=token)
        return True

    def cancel_export(self) -> None:
        self.exports.cancel()

    def _model_failed(self, _stamp: int, message: str) -> None:
        """A model load failed; one that a newer model replaced was dropped by `model_loads` (latest_only)."""
        self.message.emit(f"Could not load the model: {message}")
        self.modelFailed.emit(message)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop everything (window closing): cancel long work, then wait up to `timeout` s in all for the
        render worker and the task threads. True when they ended; what is left is a daemon thread inside
        one torch call, which `threads.exit_process` leaves behind."""
        deadline = time.monotonic() + timeout
        self._closed = True
        workers = (self.image_loads, self.detections, self.model_loads, self.exports)
        for worker in workers:
            worker.cancel()
        rendered = self.worker.stop(timeout)
        return all([worker.wait(max(0.0, deadline - time.monotonic())) for worker in workers]) and rendered


def _same_file(a: os.PathLike, b: os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _detect_pending(
    images: list[InputImage], detector: Detector, token: CancelToken
) -> tuple[LoadReport, list[InputImage]]:
    return detect_all(images, detector, token.check), images
