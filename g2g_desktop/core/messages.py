"""One line from an exception, for the places that show a failure in a single line: the app's notices, the
render queue's error, a checkpoint message, the bench report. Torch-free, so any layer can use it.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def typed_first_line(exc: BaseException) -> str:
    """`Type: first line` (just `Type` when there is no message): where the kind of failure matters too."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text.splitlines()[0]}" if text else name
