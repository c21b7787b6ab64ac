"""The weights table in a docked panel: every weight's name and paper symbol shown whole (issue 21 item 13)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QStyle

from g2g_desktop.ui.settings import Theme
from g2g_desktop.ui.theme import apply_theme
from g2g_desktop.ui.training.weights_table import WeightsTable
from trainer.loss_weights import LOSS_WEIGHT_SPECS


def _cut(table: WeightsTable) -> list[str]:
    """The weights whose name does not fit its cell, wrapped at the cell's width."""
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1  # Qt's delegate
    cut = []
    for row, spec in enumerate(LOSS_WEIGHT_SPECS):
        item = table.item(row, 0)
        rect = table.visualItemRect(item)
        room = QRect(0, 0, rect.width() - 2 * margin, 10_000)
        needed = QFontMetrics(item.font()).boundingRect(room, Qt.TextFlag.TextWordWrap, item.text())
        if needed.width() > room.width() or needed.height() > rect.height():
            cut.append(spec.name)
    return cut


@pytest.fixture
def app_theme():
    """The app's light theme (a style sheet: it is what the app runs under, and it defers the rows' sizing)."""
    app = QApplication.instance()
    style, sheet = app.style().name(), app.styleSheet()
    apply_theme(app, Theme.LIGHT)
    yield
    app.setStyleSheet(sheet)
    app.setStyle(style)


def test_weight_names_are_not_cut_in_a_narrow_dock(qtbot, app_theme):
    table = WeightsTable()
    qtbot.addWidget(table)
    table.set_approach("funit2funit")  # greys (italic) the weights this approach does not read
    table.resize(500, 600)
    table.show()
    qtbot.waitExposed(table)
    for row, spec in enumerate(LOSS_WEIGHT_SPECS):
        assert spec.label in table.item(row, 0).text() and spec.symbol in table.item(row, 0).text()
    table.resize(262, 600)  # the Training dock on a 1024×700 screen: it showed "Percep…" and "Discrim…"
    qtbot.waitUntil(lambda: not _cut(table), timeout=5000)  # rows grow to the wrapped names as the dock narrows
