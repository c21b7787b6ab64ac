"""`FadeSliders`: fade each mixed image's identity code between the two people, α ∈ [−0.5, 1.5].

α = 0 keeps the image's own identity, α = 1 is the plain mix, outside [0, 1] extrapolates (labelled).
While dragging, `alphasChanged` fires for live rendering; `alphaCommitted(index, old, new)` fires once
per finished edit (mouse release, key press) for the undo stack.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSlider, QWidget

from ..session import ALPHA_RANGE

SCALE = 100  # slider ticks per unit of α
EXTRAPOLATED = "\n(extrapolated)"  # under the value: beside it, the row was too wide for a 1024 px screen


class FadeSliders(QWidget):
    alphasChanged = Signal(float, float)
    alphaCommitted = Signal(int, float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QGridLayout(self)
        self.sliders: list[QSlider] = []
        self.value_labels: list[QLabel] = []
        self._committed = [1.0, 1.0]  # the values of the last finished edit (or shown by the model)
        self._drag_start = [1.0, 1.0]
        titles = ("Mix 1 identity (1 → 2)", "Mix 2 identity (2 → 1)")
        for i, title in enumerate(titles):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(round(ALPHA_RANGE[0] * SCALE), round(ALPHA_RANGE[1] * SCALE))
            slider.setSingleStep(5)
            slider.setPageStep(25)
            slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            slider.setTickInterval(50)
            slider.setValue(SCALE)
            slider.setMinimumWidth(72)  # with the Training dock open, the row fits a 1024 px screen
            slider.setToolTip(
                f"α{i + 1}: 0 = own identity, 1 = the other person's; below 0 or above 1 extrapolates.\n"
                "The encoders are not re-run: only the identity code is mixed and decoded."
            )
            slider.valueChanged.connect(lambda _v, i=i: self._moved(i))
            slider.sliderPressed.connect(lambda i=i: self._pressed(i))
            slider.sliderReleased.connect(lambda i=i: self._released(i))
            label = QLabel()
            # as wide as the widest value it shows and two lines high: a label that grows while dragging would reflow
            widest = max(f"α = {-0.5:+.2f}{EXTRAPOLATED}".splitlines(), key=label.fontMetrics().horizontalAdvance)
            label.setFixedSize(label.fontMetrics().horizontalAdvance(widest) + 8, 2 * label.fontMetrics().height())
            layout.addWidget(QLabel(title), i, 0)
            layout.addWidget(slider, i, 1)
            layout.addWidget(label, i, 2)
            self.sliders.append(slider)
            self.value_labels.append(label)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Both sliders back to α = 1 (the plain mix)")
        layout.addWidget(self.reset_button, 0, 3, 2, 1)
        layout.setColumnStretch(1, 1)
        self._update_labels()

    def alphas(self) -> tuple[float, float]:
        return tuple(s.value() / SCALE for s in self.sliders)

    def set_alphas(self, alphas: tuple[float, float]) -> None:
        """Reflect the model's values without emitting anything (no signal loops)."""
        for slider, alpha in zip(self.sliders, alphas):
            with QSignalBlocker(slider):
                slider.setValue(round(alpha * SCALE))
        self._committed = list(alphas)
        self._update_labels()

    def _pressed(self, index: int) -> None:
        self._drag_start[index] = self._committed[index]

    def _released(self, index: int) -> None:
        self._commit(index, self._drag_start[index])

    def _moved(self, index: int) -> None:
        old = self._committed[index]  # read first: the live update below reflects back through set_alphas
        self._update_labels()
        self.alphasChanged.emit(*self.alphas())
        if not self.sliders[index].isSliderDown():  # keyboard, wheel or programmatic: one finished edit
            self._commit(index, old)

    def _commit(self, index: int, old: float) -> None:
        new = self.sliders[index].value() / SCALE
        self._committed[index] = new
        if new != old:
            self.alphaCommitted.emit(index, old, new)

    def _update_labels(self) -> None:
        for label, alpha in zip(self.value_labels, self.alphas()):
            note = "" if 0.0 <= alpha <= 1.0 else EXTRAPOLATED
            label.setText(f"α = {alpha:+.2f}{note}")
