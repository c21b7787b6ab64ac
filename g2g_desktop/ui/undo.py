"""Undoable edits: the chosen pair, the face used, alignment and the fade weights of the mixing view (the
controller's stack), and the loss weights edited in the training dock (the dock's own stack). The window's
QUndoGroup makes Ctrl+Z act on the stack of the view that has focus."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from g2g_desktop.services.inputs import InputImage

from .session import MixSession


class _ValueCommand(QUndoCommand):
    """An edit that sets one value: redo applies `new`, undo applies `old`; subclasses say how in `_apply`."""

    def __init__(self, text: str, old: object, new: object):
        super().__init__(text)
        self.old, self.new = old, new

    def _apply(self, value) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class SetPairCommand(_ValueCommand):
    def __init__(self, session: MixSession, new: tuple[str, str]):
        super().__init__("Choose pair", session.pair, new)
        self.session = session

    def _apply(self, value: tuple[str, str]) -> None:
        self.session.set_pair(value)


class SetAlphaCommand(_ValueCommand):
    """One finished slider edit. The session already shows `new` when it is pushed; redo re-applies it."""

    def __init__(self, session: MixSession, index: int, old: float, new: float):
        super().__init__(f"Fade image {index + 1} to α = {new:.2f}", old, new)
        self.session, self.index = session, index

    def _apply(self, value: float) -> None:
        alphas = list(self.session.alphas)
        alphas[self.index] = value
        self.session.set_alphas(tuple(alphas))


class SetAlphasCommand(_ValueCommand):
    def __init__(self, session: MixSession, new: tuple[float, float], text: str = "Reset fade"):
        super().__init__(text, session.alphas, new)
        self.session = session

    def _apply(self, value: tuple[float, float]) -> None:
        self.session.set_alphas(value)


class SetAlignCommand(_ValueCommand):
    """Face alignment on or off. Switching it on replaces images by detected variants with new ids; the
    session's aliases keep the older commands' ids valid, so undoing past this step still works."""

    def __init__(self, session: MixSession, on: bool):
        super().__init__("Align faces" if on else "Stop aligning faces", not on, on)
        self.session, self.on = session, on

    def _apply(self, value: bool) -> None:
        self.session.set_align(value)


class ChooseFaceCommand(QUndoCommand):
    """Use another face of an image (or the whole image): the image is swapped for its variant."""

    def __init__(self, session: MixSession, old: InputImage, new: InputImage):
        super().__init__(f"Choose face in {old.name}")
        self.session, self.old, self.new = session, old, new

    def redo(self) -> None:
        self.session.replace_image(self.session.resolve(self.old.id), self.new)

    def undo(self) -> None:
        self.session.replace_image(self.session.resolve(self.new.id), self.old)


class RemoveImagesCommand(QUndoCommand):
    """Remove images, one or all: undo puts them back where they were, with the pair, the same-person groups
    and the replaced ids they had, so Remove all is one Ctrl+Z from undone and older steps stay undoable."""

    def __init__(self, session: MixSession, image_ids: list[str]):
        super().__init__("Remove all images" if len(image_ids) == len(session.images) else
                         f"Remove {len(image_ids)} image(s)")
        self.session, self.ids = session, list(image_ids)
        self.removed: list[tuple[int, InputImage]] = []
        self.pair: tuple[str, str] | None = None
        self.groups: list[tuple[str, ...]] = []
        self.aliases: dict[str, str] = {}

    def redo(self) -> None:
        s = self.session
        ids = {s.resolve(i) for i in self.ids}
        self.removed = [(i, im) for i, im in enumerate(s.images) if im.id in ids]
        self.pair, self.groups, self.aliases = s.pair, list(s.groups), s.aliases()
        if len(self.removed) == len(s.images):
            s.clear_images()
        else:
            for _index, image in self.removed:
                s.remove_image(image.id)

    def undo(self) -> None:
        self.session.restore_images(self.removed, self.pair, self.groups, self.aliases)


class SetLossWeightCommand(_ValueCommand):
    """One edit of a loss weight. Undo and redo (including the first, when the table pushes it) go through
    `apply`, which shows the value and reaches a running engine like a typed edit would. Consecutive edits
    of the same weight (arrow clicks) merge into one step."""

    MERGE_ID = 1001

    def __init__(self, apply: Callable[[str, float], None], name: str, symbol: str, old: float, new: float):
        super().__init__("", old, new)
        self.apply, self.name, self.symbol = apply, name, symbol
        self._describe()

    def _describe(self) -> None:
        self.setText(f"Set loss weight {self.symbol} to {self.new:g}")

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetLossWeightCommand) or other.name != self.name:
            return False
        self.new = other.new
        self._describe()
        return True

    def _apply(self, value: float) -> None:
        self.apply(self.name, value)
