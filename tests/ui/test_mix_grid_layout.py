"""The mix grid's layout (issue 13 item 19): compact and centred at wide sizes, still while a slider moves."""

from __future__ import annotations

import numpy as np
import pytest

from g2g_desktop.ui.widgets.mix_grid import GAP, ROWS, MixGridView


@pytest.fixture
def grid(qtbot):
    view = MixGridView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    view.show_images({row: rng.integers(0, 255, (2, 64, 64, 3), dtype=np.uint8) for row in ROWS})
    view.set_titles("a.png", "b.png")
    view.show()
    qtbot.waitExposed(view)
    return view


def _cells(view):
    return {key: cell.geometry() for key, cell in view.cells.items()}


@pytest.mark.parametrize(("width", "height"), [(2560, 900), (1900, 700), (600, 900)])
def test_cells_are_square_packed_and_centred(qtbot, grid, width, height):
    grid.resize(width, height)
    qtbot.waitUntil(lambda: grid.page.width() == grid.width())
    left, right = grid.cells[("mixed", 0)].geometry(), grid.cells[("mixed", 1)].geometry()
    assert left.width() == left.height() == right.width() >= 64
    assert right.left() - left.right() - 1 == GAP  # neighbours, not 250 px apart
    block_centre = (grid.row_titles["mixed"].geometry().left() + right.right()) / 2
    assert abs(block_centre - grid.page.width() / 2) <= GAP
    assert all(grid.page.rect().contains(r) for r in _cells(grid).values())


def test_the_mixed_title_changing_never_moves_a_cell(qtbot, grid):
    grid.resize(1400, 800)
    qtbot.waitUntil(lambda: grid.page.width() == grid.width())
    before = _cells(grid)
    for alphas in ((0.95, 1.0), (-0.5, 1.5), (1.5, -0.45), (1.0, 1.0)):
        grid.set_mixed_title(alphas)
        qtbot.wait(1)
        assert _cells(grid) == before


def test_the_grid_asks_for_little_room():
    view = MixGridView()
    assert view.minimumSizeHint().width() <= 400 and view.minimumSizeHint().height() <= 400
