"""`IdentityMeter`: under the grid, what the independent judge (dlib) says about each mix.

One row per mix: its descriptor distance to person 1 and to person 2, which one it is closer to, and a small
curve of both distances along the fade weight α with the 0.6 same-person line. Where dlib finds no face the
row says so instead of showing a number.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from g2g_desktop.core.identity_meter import MeterReading
from g2g_desktop.core.judge import SAME_PERSON_THRESHOLD, Verdict

NO_FACE = "no face found by the judge"
WAITING = "Identity judge: waiting for a mix"  # before the first mix, and when the pair is gone
COLOURS = (QColor(66, 133, 244), QColor(234, 120, 40))  # person 1, person 2
MAX_DISTANCE = 1.2  # top of the curve's scale; dlib distances of unrelated faces rarely exceed ~1.0


def verdict_text(index: int, verdict: Verdict, inputs_found: tuple[bool, bool]) -> str:
    """One line for mix `index` (1 or 2)."""
    if not verdict.mix_found:
        return f"Mix {index}: {NO_FACE}"
    missing = [str(i + 1) for i, found in enumerate(inputs_found) if not found]
    if missing:
        return f"Mix {index}: {NO_FACE} in image {' and '.join(missing)}"
    closer = verdict.closer
    same = min(verdict.to_first, verdict.to_second) < SAME_PERSON_THRESHOLD
    return (f"Mix {index}: distance to person 1 {verdict.to_first:.2f} · to person 2 {verdict.to_second:.2f} → "
            f"closer to person {closer}" + ("" if same else " (neither under 0.6)"))


class FadeCurve(QWidget):
    """Both distances against α (x axis −0.5 … 1.5), the 0.6 line dashed, the slider's α marked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.alphas: tuple[float, ...] = ()
        self.verdicts: tuple[Verdict, ...] = ()
        self.alpha = 1.0
        self.setMinimumSize(140, 44)
        self.setToolTip("dlib distance to person 1 (blue) and person 2 (orange) along the fade slider; "
                        "under the dashed 0.6 line the judge calls it the same person")

    def sizeHint(self) -> QSize:
        return QSize(180, 48)

    def set_curve(self, alphas: tuple[float, ...], verdicts: tuple[Verdict, ...]) -> None:
        self.alphas, self.verdicts = alphas, verdicts
        self.update()

    def set_alpha(self, alpha: float) -> None:
        self.alpha = alpha
        self.update()

    def _point(self, alpha: float, distance: float) -> QPointF:
        r = self.contentsRect().adjusted(2, 2, -2, -2)
        lo, hi = (self.alphas[0], self.alphas[-1]) if len(self.alphas) > 1 else (-0.5, 1.5)
        x = r.left() + (alpha - lo) / (hi - lo) * r.width()
        y = r.bottom() - min(distance, MAX_DISTANCE) / MAX_DISTANCE * r.height()
        return QPointF(x, y)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.contentsRect(), self.palette().base())
        grey = self.palette().mid().color()
        painter.setPen(QPen(grey, 1, Qt.PenStyle.DashLine))
        left, right = self._point(-10, SAME_PERSON_THRESHOLD), self._point(10, SAME_PERSON_THRESHOLD)
        painter.drawLine(QPointF(self.contentsRect().left(), left.y()), QPointF(self.contentsRect().right(), right.y()))
        for person, colour in enumerate(COLOURS):
            path = QPainterPath()
            started = False
            for alpha, verdict in zip(self.alphas, self.verdicts):
                distance = verdict.to_first if person == 0 else verdict.to_second
                if distance is None:
                    started = False
                    continue
                point = self._point(alpha, distance)
                path.lineTo(point) if started else path.moveTo(point)
                started = True
            painter.setPen(QPen(colour, 1.6))
            painter.drawPath(path)
        painter.setPen(QPen(self.palette().text().color(), 1))
        marker = self._point(self.alpha, 0).x()
        painter.drawLine(QPointF(marker, self.contentsRect().top()), QPointF(marker, self.contentsRect().bottom()))
        painter.end()


class IdentityMeter(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("identityMeter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.rows: list[tuple[QLabel, FadeCurve]] = []
        for _ in range(2):
            row = QHBoxLayout()
            label, curve = QLabel(wordWrap=True), FadeCurve()
            row.addWidget(label, 1)
            row.addWidget(curve)
            layout.addLayout(row)
            self.rows.append((label, curve))
        self.reading: MeterReading | None = None
        self.show_message(WAITING)

    def show_message(self, text: str) -> None:
        """A state without numbers (judge not installed, working, no pair)."""
        self.rows[0][0].setText(text)
        self.rows[1][0].setText("")
        for _, curve in self.rows:
            curve.set_curve((), ())

    def show_reading(self, reading: MeterReading) -> None:
        self.reading = reading
        for index, ((label, curve), verdict) in enumerate(zip(self.rows, reading.mixes), start=1):
            label.setText(verdict_text(index, verdict, reading.inputs_found))
            if reading.alphas:
                curve.set_curve(reading.alphas, reading.curves[index - 1])

    def set_alphas(self, alphas: tuple[float, float]) -> None:
        for (_, curve), alpha in zip(self.rows, alphas):
            curve.set_alpha(alpha)

    def texts(self) -> list[str]:
        return [label.text() for label, _ in self.rows]
