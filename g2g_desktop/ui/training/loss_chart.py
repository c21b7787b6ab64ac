"""`LossChart`: live loss curves (QtCharts), one series per loss term, optional log scale.

Points are kept in plain lists so switching the scale rebuilds the series; a log axis cannot show
values ≤ 0 (e.g. the hinge generator loss), so those points are left out there.
"""

from __future__ import annotations

import math

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QLogValueAxis, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QWidget

from ..theme import is_dark_theme

MAX_POINTS = 2000  # per series; older points are thinned to every other one beyond this


class LossChart(QChartView):
    def __init__(self, parent: QWidget | None = None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(180)
        legend = self.chart_.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignRight)
        legend.setShowToolTips(True)
        self.follow_theme()
        self.chart_.setMargins(self.chart_.margins() * 0)
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.series: dict[str, QLineSeries] = {}
        self.log_scale = False
        self._x_axis = QValueAxis()
        self._x_axis.setTitleText("step")
        self._x_axis.setLabelFormat("%d")
        self.chart_.addAxis(self._x_axis, Qt.AlignmentFlag.AlignBottom)
        self._y_axis: QValueAxis | QLogValueAxis = QValueAxis()
        self.chart_.addAxis(self._y_axis, Qt.AlignmentFlag.AlignLeft)
        self._bounds = [math.inf, -math.inf, math.inf, -math.inf]  # x min/max, y min/max (shown points)

    def follow_theme(self) -> None:
        """Dark chart under the dark theme (call again after the theme changes)."""
        dark = is_dark_theme()
        self.chart_.setTheme(QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight)
        legend = self.chart_.legend()
        font = legend.font()
        font.setPointSizeF(max(6.0, QApplication.font().pointSizeF() * 0.8))
        legend.setFont(font)

    def clear(self) -> None:
        self.chart_.removeAllSeries()
        self.history.clear()
        self.series.clear()
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
            elif self._shown(value):
                self._series(name).append(float(step), float(value))
                self._grow(step, value)
        self._apply_bounds()

    def set_log_scale(self, on: bool) -> None:
        if on == self.log_scale:
            return
        self.log_scale = on
        for s in self.series.values():
            s.detachAxis(self._y_axis)
        self.chart_.removeAxis(self._y_axis)
        self._y_axis = QLogValueAxis() if on else QValueAxis()
        if on:
            self._y_axis.setLabelFormat("%.2g")
            self._y_axis.setMinorTickCount(-1)
        self.chart_.addAxis(self._y_axis, Qt.AlignmentFlag.AlignLeft)
        self._bounds = [math.inf, -math.inf, math.inf, -math.inf]
        for name in self.history:
            self.series[name].attachAxis(self._y_axis)
            self._rebuild(name)
        self._apply_bounds()

    def _shown(self, value: float) -> bool:
        return value > 0 or not self.log_scale

    def _series(self, name: str) -> QLineSeries:
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = QLineSeries()
            series.setName(name.removeprefix("Loss/").replace("/", " "))
            self.chart_.addSeries(series)
            series.attachAxis(self._x_axis)
            series.attachAxis(self._y_axis)
        return series

    def _rebuild(self, name: str) -> None:
        shown = [(x, y) for x, y in self.history[name] if self._shown(y)]
        self._series(name).replace([QPointF(x, y) for x, y in shown])
        for x, y in shown:
            self._grow(x, y)

    def _grow(self, x: float, y: float) -> None:
        b = self._bounds
        b[0], b[1], b[2], b[3] = min(b[0], x), max(b[1], x), min(b[2], y), max(b[3], y)

    def _apply_bounds(self) -> None:
        x0, x1, y0, y1 = self._bounds
        if not math.isfinite(x0):
            return
        self._x_axis.setRange(x0, max(x1, x0 + 1))
        if self.log_scale:
            self._y_axis.setRange(y0 * 0.8, max(y1 * 1.25, y0 * 1.01))
        else:
            pad = max((y1 - y0) * 0.05, 1e-3)
            self._y_axis.setRange(y0 - pad, y1 + pad)
