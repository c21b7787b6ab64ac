"""`MixSession`: the state of the mixing view (images, chosen pair, fade weights, alignment, model).

A view-model in napari's sense: widgets write it through its setters, and redraw from its signals. It
owns no torch math; the `Renderer` it registers images and models with does that off the GUI thread, and
it unregisters every image it drops, so removed images and replaced face variants are freed.

An image replaced by a variant (faces detected, another face chosen) gets a new id; the session keeps
the old id as an alias of the new one, so an undo step that names the old id still finds the image.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from g2g_desktop.services.inputs import InputImage
from g2g_desktop.services.models import LoadedModel
from g2g_desktop.services.render_queue import RenderKind, RenderRequest
from g2g_desktop.services.renderer import Renderer

ALPHA_RANGE = (-0.5, 1.5)  # the fade sliders' range: beyond [0, 1] extrapolates
MAX_MATRIX_IMAGES = 32
"""The swap matrix shows every image up to this many (the first ones, in gallery order): it decodes N² mixes
(1,024 at 32) and its canvas, redrawn as each row arrives, grows with N² too (14 MB at 32 images of 64 px)."""


class MixSession(QObject):
    imagesChanged = Signal()
    pairChanged = Signal()
    alphasChanged = Signal()
    alignChanged = Signal()
    modelChanged = Signal()

    def __init__(self, renderer: Renderer, parent: QObject | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.images: list[InputImage] = []
        self.pair: tuple[str, str] | None = None
        self.alphas: tuple[float, float] = (1.0, 1.0)
        self.align = False
        self.model: LoadedModel | None = None
        self.model_id: int | None = None
        self._aliases: dict[str, str] = {}  # replaced id → the id of its replacement
        self.groups: list[tuple[str, ...]] = []  # images marked "same person": one K-shot identity each

    def resolve(self, image_id: str) -> str:
        """The id the image now has (following replacements), or `image_id` when it is unknown."""
        seen = set()
        while self.image(image_id) is None and image_id in self._aliases and image_id not in seen:
            seen.add(image_id)
            image_id = self._aliases[image_id]
        return image_id

    # ------------------------------------------------------------------ queries
    def aliases(self) -> dict[str, str]:
        """A copy of the replaced ids (old id → id of its replacement)."""
        return dict(self._aliases)

    def image(self, image_id: str) -> InputImage | None:
        return next((im for im in self.images if im.id == image_id), None)

    def index_of(self, image_id: str) -> int:
        return next((i for i, im in enumerate(self.images) if im.id == image_id), -1)

    def pair_images(self) -> tuple[InputImage, InputImage] | None:
        if self.pair is None:
            return None
        first, second = self.image(self.pair[0]), self.image(self.pair[1])
        return (first, second) if first and second else None

    def request(self, kind: RenderKind, stamp: int) -> RenderRequest | None:
        """The render request for the current state, or None when there is nothing to draw."""
        if self.model_id is None:
            return None
        if kind == RenderKind.GRID:
            if self.pair_images() is None:
                return None
            people = (self.person_of(self.pair[0]), self.person_of(self.pair[1]))
            kshot = people if any(len(ids) > 1 for ids in people) else None
            return RenderRequest(RenderKind.GRID, self.model_id, self.pair, self.alphas, self.align, stamp, kshot)
        if len(self.images) < 2:
            return None
        ids = tuple(im.id for im in self.images[:MAX_MATRIX_IMAGES])
        return RenderRequest(RenderKind.MATRIX, self.model_id, ids, (1.0, 1.0), self.align, stamp)

    # ------------------------------------------------------------------ images
    def add_images(self, images: list[InputImage], pair: tuple[str, str] | None = None) -> None:
        """Append images; `pair` (ids of loaded images) becomes the pair at once, else the first two do
        when no pair is chosen yet."""
        for im in images:
            self.renderer.add_image(im)
        self.images.extend(images)
        if images:
            self.imagesChanged.emit()
        if pair is not None:
            self.set_pair(pair)
        elif self.pair_images() is None and len(self.images) >= 2:
            self.set_pair((self.images[0].id, self.images[1].id))

    def person_of(self, image_id: str) -> tuple[str, ...]:
        """The images of the person `image_id` shows: its "same person" group, else just itself."""
        return next((g for g in self.groups if image_id in g), (image_id,))

    def set_same_person(self, image_ids: list[str]) -> None:
        """Group images as one person (their mean class code is that person's identity); one id ungroups it."""
        ids = [i for i in dict.fromkeys(image_ids) if self.image(i)]
        self.groups = [g for g in ([tuple(i for i in g if i not in ids) for g in self.groups]) if len(g) > 1]
        if len(ids) > 1:
            self.groups.append(tuple(ids))
        self.imagesChanged.emit()

    def _regroup(self, old_id: str, new_id: str | None) -> None:
        groups = [tuple(new_id if i == old_id else i for i in g if new_id is not None or i != old_id)
                  for g in self.groups]
        self.groups = [g for g in groups if len(g) > 1]

    def remove_image(self, image_id: str) -> None:
        index = self.index_of(image_id)
        if index < 0:
            return
        del self.images[index]
        self.renderer.remove_image(image_id)
        self._aliases = {old: new for old, new in self._aliases.items() if image_id not in (old, new)}
        self._regroup(image_id, None)
        self.imagesChanged.emit()
        if self.pair and image_id in self.pair:
            rest = [im.id for im in self.images]
            self.set_pair((rest[0], rest[1]) if len(rest) >= 2 else None)

    def clear_images(self) -> None:
        for im in self.images:
            self.renderer.remove_image(im.id)
        self.images, self._aliases, self.groups = [], {}, []
        self.imagesChanged.emit()
        self.set_pair(None)
        self.set_alphas((1.0, 1.0))  # the next pair starts as the plain mix, not at the weights of one removed

    def restore_images(self, removed: list[tuple[int, InputImage]], pair: tuple[str, str] | None,
                       groups: list[tuple[str, ...]], aliases: dict[str, str]) -> None:
        """Put removed images back at their places (`removed`: index, image, in ascending order), with the pair,
        the same-person groups and the replaced ids they had (undoing a removal)."""
        for index, image in removed:
            if self.image(image.id) is None:
                self.renderer.add_image(image)
                self.images.insert(min(index, len(self.images)), image)
        known = {im.id for im in self.images}
        self._aliases.update({old: new for old, new in aliases.items() if new in known})
        kept = [g for g in self.groups if not any(i in g2 for g2 in groups for i in g)]
        self.groups = kept + [g for g in groups if all(i in known for i in g)]
        self.imagesChanged.emit()
        if pair is not None:
            self.set_pair(pair)

    def move_images(self, order: list[str]) -> None:
        """Put the images in `order` (ids; any left out keep their relative order at the end)."""
        rank = {image_id: i for i, image_id in enumerate(order)}
        moved = sorted(self.images, key=lambda im: rank.get(im.id, len(rank)))
        if [im.id for im in moved] != [im.id for im in self.images]:
            self.images = moved
            self.imagesChanged.emit()

    def replace_image(self, old_id: str, new: InputImage) -> None:
        """Swap an image for a variant (another face, detection done): same place, same pair slot."""
        index = self.index_of(old_id)
        if index < 0:
            return
        self.renderer.add_image(new)
        self.images[index] = new
        self.renderer.remove_image(old_id)
        self._aliases[old_id] = new.id
        self._aliases.pop(new.id, None)
        self._regroup(old_id, new.id)
        in_pair = bool(self.pair and old_id in self.pair)
        if in_pair:  # before imagesChanged, so no view ever sees a pair naming a missing image
            self.pair = tuple(new.id if i == old_id else i for i in self.pair)
        self.imagesChanged.emit()
        if in_pair:
            self.pairChanged.emit()

    def set_pair(self, pair: tuple[str, str] | None) -> None:
        if pair is not None:
            pair = tuple(self.resolve(i) for i in pair)
        if pair is not None and (len(pair) != 2 or not all(self.image(i) for i in pair)):
            return
        if pair != self.pair:
            self.pair = pair
            self.pairChanged.emit()

    # ------------------------------------------------------------------ fade, alignment, model
    def set_alphas(self, alphas: tuple[float, float]) -> None:
        low, high = ALPHA_RANGE
        alphas = tuple(round(min(max(float(a), low), high), 4) for a in alphas)
        if alphas != self.alphas:
            self.alphas = alphas
            self.alphasChanged.emit()

    def set_align(self, on: bool) -> None:
        if bool(on) != self.align:
            self.align = bool(on)
            self.alignChanged.emit()

    def set_model(self, model: LoadedModel) -> None:
        old = self.model_id
        self.model_id = self.renderer.add_model(model.pipeline)
        self.model = model
        if old is not None:
            self.renderer.remove_model(old)
        self.modelChanged.emit()
