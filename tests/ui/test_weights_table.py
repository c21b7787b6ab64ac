"""The weights table in a docked panel: every weight's name and paper symbol shown whole (issue 21 item 13)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics

from g2g_desktop.ui.training.weights_table import WeightsTable
from trainer.loss_weights import LOSS_WEIGHT_SPECS

CELL_MARGIN = 4  # the style's text margin inside a cell, each side


def test_weight_names_are_not_cut_in_a_narrow_dock(qtbot):
    table = WeightsTable()
    qtbot.addWidget(table)
    table.set_approach("funit2funit")  # greys (italic) the weights this approach does not read
    table.resize(262, 600)  # the Training dock on a 1024×700 screen: it showed "Percep…" and "Discrim…"
    table.show()
    qtbot.waitExposed(table)
    for row, spec in enumerate(LOSS_WEIGHT_SPECS):
        item = table.item(row, 0)
        assert spec.label in item.text() and spec.symbol in item.text()
        rect = table.visualItemRect(item)
        room = QRect(0, 0, rect.width() - 2 * CELL_MARGIN, 10_000)
        needed = QFontMetrics(item.font()).boundingRect(room, Qt.TextFlag.TextWordWrap, item.text())
        assert needed.width() <= room.width() and needed.height() <= rect.height(), spec.name
