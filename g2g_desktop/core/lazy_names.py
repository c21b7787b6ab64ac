"""Names a package exports but loads on first use (PEP 562), so that importing the package stays cheap.

`g2g_desktop.core` and `trainer.approaches` both export torch classes while a torch-free submodule of theirs
(`core.resources`, the approach registry) must import without torch: the app shows its window before torch
has loaded, and `g2g-train --help` answers at once. Each gives its table of names here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_module_getattr(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: `name` is imported from its submodule `homes[name]` when first
    asked for and then kept in the package, so the next lookup is an ordinary attribute."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{home}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
