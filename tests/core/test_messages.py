"""The one-line form of an exception that notices, the render queue and the bench report show."""

from __future__ import annotations

import pytest

from g2g_desktop.core.messages import first_line, typed_first_line


@pytest.mark.parametrize(
    ("exc", "line", "typed"),
    [
        (ValueError("bad value\nsecond line"), "bad value", "ValueError: bad value"),
        (OSError("  padded  \n"), "padded", "OSError: padded"),
        (KeyError(), "KeyError", "KeyError"),
        (RuntimeError(""), "RuntimeError", "RuntimeError"),
    ],
)
def test_first_line_and_typed_first_line(exc, line, typed):
    assert first_line(exc) == line
    assert typed_first_line(exc) == typed
