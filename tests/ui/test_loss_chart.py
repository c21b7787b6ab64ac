"""The loss chart: distinct colours, legend clicks toggle series, a log scale that keeps negative losses
(and warns about nothing), smoothing and skipping the first steps."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QtMsgType

from g2g_desktop.ui.training.loss_chart import LossChart, symlog

NAMES = ["Loss/G/adv", "Loss/G/recon_short", "Loss/G/recon_long", "Loss/G/fm_short", "Loss/G/fm_mix",
         "Loss/G/fm_mix_recon", "Loss/G/fm_long", "Loss/G/total", "Loss/D/real", "Loss/D/fake", "Loss/D/r1",
         "Loss/D/total"]  # FUNIT2FUNIT's twelve curves


def _chart(qtbot, steps: int = 20) -> LossChart:
    chart = LossChart()
    qtbot.addWidget(chart)
    for step in range(1, steps + 1):
        chart.add_point(step, {name: (-10.0 if name.endswith("adv") else 1.0 + i) / step
                               for i, name in enumerate(NAMES)})
    return chart


def _ys(chart: LossChart, name: str) -> list[float]:
    return [p.y() for p in chart.series[name].points()]


def test_every_curve_has_its_own_colour(qtbot):
    chart = _chart(qtbot)
    colours = {chart.series[name].pen().color().name() for name in NAMES}
    assert len(colours) == len(NAMES)


def _click(qtbot, chart: LossChart, name: str) -> None:
    item = chart.legend_items[name]
    chart.legend.scrollToItem(item)
    qtbot.mouseClick(chart.legend.viewport(), Qt.MouseButton.LeftButton, pos=chart.legend.visualItemRect(item).center())


def test_clicking_a_legend_entry_hides_and_shows_its_curve(qtbot):
    chart = _chart(qtbot)
    chart.show()
    entry = chart.legend_items["Loss/D/r1"]
    _click(qtbot, chart, "Loss/D/r1")
    assert not chart.series["Loss/D/r1"].isVisible() and not entry.isHidden()
    assert entry.foreground().color().alphaF() < 0.5
    _click(qtbot, chart, "Loss/D/r1")
    assert chart.series["Loss/D/r1"].isVisible() and entry.foreground().color().alphaF() == 1.0


def test_a_narrow_dock_shows_every_legend_entry_whole(qtbot):
    """At the 262 px of a docked panel on a 1024×700 screen QtCharts' legend showed 8 of 12 entries, cut."""
    chart = _chart(qtbot)
    chart.resize(262, 330)
    chart.show()
    qtbot.waitExposed(chart)
    metrics = chart.legend.fontMetrics()
    viewport = chart.legend.viewport().rect()
    for name in NAMES:
        item = chart.legend_items[name]
        assert item.text() == name.removeprefix("Loss/").replace("/", " ")
        chart.legend.scrollToItem(item)
        rect = chart.legend.visualItemRect(item)
        assert viewport.contains(rect) and rect.width() > metrics.horizontalAdvance(item.text()), name
    assert chart.legend.verticalScrollBar().maximum() == 0  # all twelve at once, no scrolling


def test_log_scale_keeps_negative_losses_and_warns_about_nothing(qtbot, qtlog):
    chart = _chart(qtbot)
    chart.show()
    chart.set_scale("log")
    qtbot.wait(50)
    adv = _ys(chart, "Loss/G/adv")
    assert chart.threshold == 0.1  # the smallest |loss| is 2 / 20
    assert len(adv) == 20 and adv[0] == symlog(-10.0, 0.1) < 0
    labels = chart._log_labels.categoriesLabels()
    assert {"-10", "-1", "0", "0.1", "1", "10"} <= set(labels)
    chart.set_scale("linear")
    assert _ys(chart, "Loss/G/adv")[0] == -10.0
    warnings = [m.message for m in qtlog.records if m.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg)
                and "propagateSizeHints" not in m.message]  # that one is the offscreen platform's, not ours
    assert not warnings


def test_smoothing_and_skipping_the_first_steps(qtbot):
    chart = _chart(qtbot)
    raw = _ys(chart, "Loss/G/total")
    chart.set_smoothing(0.5)
    smooth = _ys(chart, "Loss/G/total")
    assert smooth[0] == raw[0] and smooth[1] == 0.5 * raw[0] + 0.5 * raw[1]
    chart.add_point(21, {"Loss/G/total": 0.0})
    assert math.isclose(_ys(chart, "Loss/G/total")[-1], 0.5 * smooth[-1])
    chart.set_smoothing(0.0)
    chart.set_skip_steps(5)
    assert chart.series["Loss/G/total"].points()[0].x() == 5.0
    assert chart._y_axis.max() < raw[0]  # the first steps no longer set the range
