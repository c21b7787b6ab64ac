"""The render function behind the `RenderWorker`: request in, named uint8 images out. Qt-free.

It holds the pipelines and input images the GUI registered, looked up by id, so a `RenderRequest` stays
a small frozen value. A fade slider only decodes from cached codes (`G2GPipeline.fade`); the
reconstructed row (which needs the encoders on the mixed images) is computed once per pair and model
and cached here. The swap matrix is decoded row by row: each row goes to the GUI as it is done, and a
cancelled or superseded matrix stops after the row in progress.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from g2g_desktop.core.images import tensor_to_uint8
from g2g_desktop.core.lru import LruCache
from g2g_desktop.core.pipeline import G2GPipeline, G2GResult

from .inputs import InputImage, forget_crops
from .render_queue import RenderJob, RenderKind, RenderRequest


class Renderer:
    """Callable `RenderFn`. Registration happens on the GUI thread, rendering on the worker thread."""

    def __init__(self, *, run_cache_size: int = 32):
        self._lock = threading.Lock()
        self._models: dict[int, G2GPipeline] = {}
        self._images: dict[str, InputImage] = {}
        self._runs: LruCache[tuple, G2GResult] = LruCache(run_cache_size)
        self._next_model = 1

    # ------------------------------------------------------------------ registration (GUI thread)
    def add_model(self, pipeline: G2GPipeline) -> int:
        with self._lock:
            model_id = self._next_model
            self._next_model += 1
            self._models[model_id] = pipeline
            return model_id

    def remove_model(self, model_id: int) -> None:
        with self._lock:
            self._models.pop(model_id, None)
            self._runs.discard_if(lambda key: key[0] == model_id)

    def add_image(self, image: InputImage) -> None:
        with self._lock:
            self._images[image.id] = image

    def remove_image(self, image_id: str) -> None:
        """Free an image the session no longer shows: its entry, its cached runs and its crops."""
        with self._lock:
            self._images.pop(image_id, None)
            self._runs.discard_if(lambda key: image_id in _run_images(key))
        forget_crops(image_id)

    def image_count(self) -> int:
        with self._lock:
            return len(self._images)

    def pipeline(self, model_id: int) -> G2GPipeline:
        with self._lock:
            found = self._models.get(model_id)
        if found is None:
            raise LookupError(f"model {model_id} is no longer loaded")
        return found

    def tensors(self, image_ids: tuple[str, ...], size: int, align: bool) -> torch.Tensor:
        with self._lock:
            missing = [i for i in image_ids if i not in self._images]
            images = [self._images.get(i) for i in image_ids]
        if missing:
            raise LookupError(f"image(s) {', '.join(missing)} are no longer loaded")
        return torch.stack([im.tensor(size, align) for im in images])

    # ------------------------------------------------------------------ rendering (worker thread)
    def __call__(self, request: RenderRequest, job: RenderJob | None = None) -> dict[str, np.ndarray]:
        if request.kind == RenderKind.GRID:
            return self.render_grid(request)
        if request.kind == RenderKind.MATRIX:
            return self.render_matrix(request, job)
        raise ValueError(f"unknown render kind {request.kind!r}")

    def people(self, people: tuple[tuple[str, ...], tuple[str, ...]] | None, size: int, align: bool):
        """The K×3×H×W images of person 1 and person 2 (None for a side of one image)."""
        if people is None:
            return None
        return tuple(self.tensors(ids, size, align) if len(ids) > 1 else None for ids in people)

    def masks(self, request: RenderRequest) -> tuple[torch.Tensor | None, ...]:
        """The paste-back mask of each mix of a grid request (a mask head's, as `mix --paste-back` and the batch
        paste use); Nones for a model without a mask head."""
        pipeline = self.pipeline(request.model_id)
        size = pipeline.image_size
        x = self.tensors(request.image_ids, size, request.align)
        people = self.people(request.people, size, request.align) or (None, None)
        others = [people[1] if people[1] is not None else x[1:], people[0] if people[0] is not None else x[:1]]
        return tuple(pipeline.mask(x[i], others[i]) for i in range(2))

    def run(self, model_id: int, image_ids: tuple[str, ...], align: bool,
            people: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> G2GResult:
        """The plain G2G pass of a pair, cached: mixing at α=1 and the reconstruction."""
        key = (model_id, image_ids, align, people)
        hit = self._runs.get(key)
        if hit is not None:
            return hit
        pipeline = self.pipeline(model_id)
        x = self.tensors(image_ids, pipeline.image_size, align)
        result = pipeline.run(x[0], x[1], self.people(people, pipeline.image_size, align))
        with self._lock:
            if model_id not in self._models or any(i not in self._images for i in _run_images(key)):
                return result  # removed while this ran: caching it would keep it alive
            self._runs.put(key, result)  # under the lock: a removal cannot slip between the check and the put
        return result

    def render_grid(self, request: RenderRequest) -> dict[str, np.ndarray]:
        if len(request.image_ids) != 2:
            raise ValueError("the grid needs exactly two images")
        pipeline = self.pipeline(request.model_id)
        result = self.run(request.model_id, request.image_ids, request.align, request.people)
        a1, a2 = request.alphas
        if (a1, a2) == (1.0, 1.0):
            mixed = result.mixed
        else:
            x = self.tensors(request.image_ids, pipeline.image_size, request.align)
            people = self.people(request.people, pipeline.image_size, request.align)
            mixed = pipeline.fade(x[0], x[1], a1, a2, people)
        return {
            "original": tensor_to_uint8(result.original),
            "mixed": tensor_to_uint8(mixed),
            "reconstructed": tensor_to_uint8(result.reconstructed),
        }

    def render_matrix(self, request: RenderRequest, job: RenderJob | None = None) -> dict[str, np.ndarray]:
        if len(request.image_ids) < 2:
            raise ValueError("the swap matrix needs at least two images")
        pipeline = self.pipeline(request.model_id)
        x = self.tensors(request.image_ids, pipeline.image_size, request.align)
        originals, n = tensor_to_uint8(x), len(request.image_ids)
        rows: list[np.ndarray] = []
        for row in pipeline.matrix_rows(x):
            rows.append(tensor_to_uint8(row))
            if job is not None and len(rows) < n:
                job.partial({"originals": originals, "matrix": np.stack(rows)}, len(rows), n)
                job.check()
        return {"originals": originals, "matrix": np.stack(rows)}


def _run_images(key: tuple) -> set[str]:
    """Every image a cached run was computed from: the pair and, K-shot, the images of both people."""
    _model_id, image_ids, _align, people = key
    return set(image_ids).union(*(people or ()))
