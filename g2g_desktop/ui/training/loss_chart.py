"""`LossChart`: live loss curves (QtCharts) with the controls users of faceswap and DeepFaceLab expect.

* Every series has its own colour from a fixed palette of distinct hues (12+ losses, no repeats).
* The legend is a list under the chart that wraps its entries into rows (and scrolls past four), so every
  name is shown whole in a narrow dock; QtCharts' own legend beside the plot cut both the names ("G fm_…")
  and the entries that did not fit its height.
* Clicking a legend entry hides or shows that series; hidden entries are drawn faded.
* Linear or log scale. The log scale is a symmetric log, y' = sign(y)·log10(1 + |y|/c), drawn on a plain
  value axis with labels at 0, ±c, ±10c, …, where c is the power of ten below most losses shown: it
  shows negative losses (FUNIT's hinge generator loss is negative) where Qt's log axis drops them
  with a warning on stderr for every point, and spreads small losses (0.05 … 0.5) as a log axis does.
* Smoothing: the exponential moving average TensorBoard uses (0 = raw, 0.99 = very smooth).
* "Skip the first N steps": the early spike no longer squashes the rest of the curve.

Raw points are kept per series; a change of scale, smoothing or skip redraws from them.
"""

from __future__ import annotations

import math

from PySide6.QtCharts import QCategoryAxis, QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..theme import is_dark_theme

MAX_POINTS = 2000  # per series; older points are thinned to every other one beyond this
# Distinct hues in an order where neighbours differ (Kelly's / Glasbey-like), readable on light and dark.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#f0c419", "#003f5c", "#a05195", "#00a86b", "#ff6f91", "#6b8e23")
SCALES = ("linear", "log")
LEGEND_ROWS = 4  # rows of legend entries shown at once; more scroll


def symlog(value: float, c: float = 1.0) -> float:
    """sign(y)·log10(1 + |y|/c): monotonic, 0 at 0, ≈ log10(|y|/c) for |y| ≫ c, defined for negatives."""
    return math.copysign(math.log10(1.0 + abs(value) / c), value)


def linear_threshold(values: list[float]) -> float:
    """The power of ten at or below the 10th percentile of the non-zero |values| (1e-6 … 1): where the log
    part starts. A percentile, not the minimum: a curve that crosses zero (the hinge loss) would otherwise
    give its few near-zero points most of the axis."""
    magnitudes = sorted(abs(v) for v in values if v != 0)
    low = magnitudes[len(magnitudes) // 10] if magnitudes else 1.0
    return 10.0 ** min(0, max(-6, math.floor(math.log10(low))))


class LossChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.chart_ = QChart()
        self.chart_.legend().hide()  # `self.legend` below shows every entry
        self.view = QChartView(self.chart_)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(150)
        self.legend = QListWidget()
        self.legend.setFlow(QListView.Flow.LeftToRight)
        self.legend.setWrapping(True)
        self.legend.setResizeMode(QListView.ResizeMode.Adjust)
        self.legend.setSpacing(1)
        self.legend.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setFrameShape(QFrame.Shape.NoFrame)
        self.legend.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.legend.itemClicked.connect(lambda item: self.toggle_series(item.data(Qt.ItemDataRole.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        self.legend_items: dict[str, QListWidgetItem] = {}
        self.follow_theme()
        self.chart_.setMargins(self.chart_.margins() * 0)
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.series: dict[str, QLineSeries] = {}
        self.hidden: set[str] = set()
        self.scale = "linear"
        self.smoothing = 0.0
        self.skip_steps = 0
        self._smoothed: dict[str, float] = {}  # last EMA value per series (incremental appends)
        self.threshold = 1.0  # c of the symmetric log scale
        self._x_axis = QValueAxis()
        self._x_axis.setTitleText("step")
        self._x_axis.setLabelFormat("%d")
        self.chart_.addAxis(self._x_axis, Qt.AlignmentFlag.AlignBottom)
        self._y_axis = QValueAxis()
        self.chart_.addAxis(self._y_axis, Qt.AlignmentFlag.AlignLeft)
        self._log_labels = QCategoryAxis()  # real-value labels for the symlog positions
        self._log_labels.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        self._bounds = [math.inf, -math.inf, math.inf, -math.inf]  # x min/max, y min/max (shown points)

    def follow_theme(self) -> None:
        """Dark chart under the dark theme (call again after the theme changes); series keep their colours."""
        dark = is_dark_theme()
        self.chart_.setTheme(QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight)
        self.chart_.legend().hide()  # a theme change shows QtCharts' legend again
        font = self.legend.font()
        font.setPointSizeF(max(6.0, QApplication.font().pointSizeF() * 0.85))
        self.legend.setFont(font)
        self._fit_legend()
        for series in getattr(self, "series", {}).values():
            self._colour(series)
        self._style_legend()

    # ------------------------------------------------------------------ data
    def clear(self) -> None:
        self.chart_.removeAllSeries()
        self.legend.clear()
        self.legend_items.clear()
        self.history.clear()
        self.series.clear()
        self._smoothed.clear()
        self._bounds = [math.inf, -math.inf, math.inf, -math.inf]

    def point_count(self) -> int:
        return sum(s.count() for s in self.series.values())

    def add_point(self, step: int, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if not math.isfinite(value):
                continue
            points = self.history.setdefault(name, [])
            points.append((float(step), float(value)))
            if len(points) > MAX_POINTS:
                del points[: MAX_POINTS // 2 : 2]
                self._rebuild(name)
            elif step >= self.skip_steps:
                y = self._shown(name, float(value))
                self._series(name).append(float(step), y)
                if name not in self.hidden:
                    self._grow(step, y)
        self._apply_bounds()

    # ------------------------------------------------------------------ view settings
    def set_scale(self, scale: str) -> None:
        """'linear' or 'log' (symmetric log: negative values stay visible)."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if scale != self.scale:
            self.scale = scale
            self._redraw()

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 1): 0 draws the raw values."""
        weight = min(max(float(weight), 0.0), 0.999)
        if weight != self.smoothing:
            self.smoothing = weight
            self._redraw()

    def set_skip_steps(self, steps: int) -> None:
        steps = max(0, int(steps))
        if steps != self.skip_steps:
            self.skip_steps = steps
            self._redraw()

    def toggle_series(self, name: str) -> None:
        """Hide a shown series or show a hidden one (what a click on its legend entry does)."""
        self.hidden.symmetric_difference_update({name})
        if name in self.series:
            self.series[name].setVisible(name not in self.hidden)
        self._style_legend()
        self._recompute_bounds()

    # ------------------------------------------------------------------ drawing
    def _shown(self, name: str, value: float) -> float:
        """The y drawn for a new raw value: smoothed (incrementally), then scaled."""
        if self.smoothing > 0 and name in self._smoothed:
            value = self.smoothing * self._smoothed[name] + (1 - self.smoothing) * value
        self._smoothed[name] = value
        return symlog(value, self.threshold) if self.scale == "log" else value

    def _series(self, name: str) -> QLineSeries:
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = QLineSeries()
            series.setName(name.removeprefix("Loss/").replace("/", " "))
            series.setProperty("palette_index", len(self.series) - 1)
            self.chart_.addSeries(series)
            series.attachAxis(self._x_axis)
            series.attachAxis(self._y_axis)
            item = self.legend_items[name] = QListWidgetItem(series.name())
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"{series.name()}: click to hide or show this curve")
            self.legend.addItem(item)
            self._fit_legend()
            self._colour(series)
            series.setVisible(name not in self.hidden)
            self._style_legend()
        return series

    def _fit_legend(self) -> None:
        """Room for LEGEND_ROWS rows of entries as they are really drawn: the app's style sheet pads each
        entry, so a height from the font alone left the last row a pixel short (and a scroll bar)."""
        row = self.legend.fontMetrics().height() + 4
        if self.legend.count():
            row = max(row, self.legend.sizeHintForRow(0))
        self.legend.setFixedHeight(LEGEND_ROWS * (row + 2 * self.legend.spacing()) + 2 * self.legend.frameWidth() + 4)

    def _colour(self, series: QLineSeries) -> None:
        pen = QPen(QColor(PALETTE[int(series.property("palette_index")) % len(PALETTE)]))
        pen.setWidthF(1.6)
        series.setPen(pen)

    def _style_legend(self) -> None:
        """Each legend entry in its curve's colour; a hidden curve's entry faded."""
        side = self.legend.fontMetrics().height() * 2 // 3
        for name, series in getattr(self, "series", {}).items():
            colour = QColor(series.pen().color())
            label = QColor(self.legend.palette().text().color())
            if name in self.hidden:
                colour.setAlphaF(0.25)
                label.setAlphaF(0.4)
            swatch = QPixmap(side, side)
            swatch.fill(colour)
            item = self.legend_items[name]
            item.setIcon(QIcon(swatch))
            item.setForeground(label)

    def _rebuild(self, name: str) -> None:
        self._smoothed.pop(name, None)
        shown = [QPointF(x, self._shown(name, y)) for x, y in self.history[name] if x >= self.skip_steps]
        self._series(name).replace(shown)

    def _redraw(self) -> None:
        self.threshold = linear_threshold([y for points in self.history.values() for x, y in points
                                           if x >= self.skip_steps])
        for name in self.history:
            self._rebuild(name)
        self._recompute_bounds()
        self._update_labels()

    def _recompute_bounds(self) -> None:
        self._bounds = [math.inf, -math.inf, math.inf, -math.inf]
        for name, series in self.series.items():
            if name not in self.hidden:
                for point in series.points():
                    self._grow(point.x(), point.y())
        self._apply_bounds()

    def _grow(self, x: float, y: float) -> None:
        b = self._bounds
        b[0], b[1], b[2], b[3] = min(b[0], x), max(b[1], x), min(b[2], y), max(b[3], y)

    def _apply_bounds(self) -> None:
        x0, x1, y0, y1 = self._bounds
        if not math.isfinite(x0):
            return
        self._x_axis.setRange(x0, max(x1, x0 + 1))
        self._x_axis.setTickCount(max(2, min(5, int(x1 - x0) + 1)))  # whole steps only: no repeated labels
        pad = max((y1 - y0) * 0.05, 1e-3)
        self._y_axis.setRange(y0 - pad, y1 + pad)
        self._update_labels()

    def _update_labels(self) -> None:
        """Under the log scale, label the symlog axis with real values at 0, ±1, ±10, ±100, …"""
        log = self.scale == "log"
        if log and self._log_labels not in self.chart_.axes():
            self.chart_.addAxis(self._log_labels, Qt.AlignmentFlag.AlignLeft)
            self._y_axis.setLabelsVisible(False)
        elif not log and self._log_labels in self.chart_.axes():
            self.chart_.removeAxis(self._log_labels)
            self._y_axis.setLabelsVisible(True)
        if not log:
            return
        low, high = self._y_axis.min(), self._y_axis.max()
        for label in list(self._log_labels.categoriesLabels()):
            self._log_labels.remove(label)
        self._log_labels.setRange(low, high)
        c = self.threshold
        ticks = sorted([0.0] + [sign * c * 10.0**power for power in range(14) for sign in (1, -1)])
        for value in ticks:  # QCategoryAxis takes categories in increasing order only
            if low <= symlog(value, c) <= high:
                self._log_labels.append(f"{value:g}", symlog(value, c))

