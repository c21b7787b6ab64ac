"""The training approaches behind one interface (`Approach`), chosen by name through the registry.

The paper's three: naive (§IV-A) · cycle_funit (§IV-B, CycleFUNIT) · funit2funit (§IV-C, FUNIT2FUNIT);
and lord (Gabbay & Hoshen's LORD: latent optimisation, then encoders distilled to the learned embeddings).
Their declarations are `specs.py`, registered on import; `registry.py` is the one list everything reads.

Importing this package stays torch-free (the CLI's `--help` and the config check read the registry): the
torch names below load on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trainer.approaches import specs as _builtin  # noqa: F401  registers the four built-in approaches
from trainer.approaches.registry import ApproachSpec, build_approach, get, names, register

_HOMES = {
    "Approach": "base",
    "NonFiniteLossError": "base",
    "CycleFunitApproach": "cycle_funit",
    "Funit2FunitApproach": "funit2funit",
    "LordApproach": "lord",
    "NaiveApproach": "naive",
}

if TYPE_CHECKING:
    from trainer.approaches.base import Approach, NonFiniteLossError
    from trainer.approaches.cycle_funit import CycleFunitApproach
    from trainer.approaches.funit2funit import Funit2FunitApproach
    from trainer.approaches.lord import LordApproach
    from trainer.approaches.naive import NaiveApproach


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Approach",
    "ApproachSpec",
    "CycleFunitApproach",
    "Funit2FunitApproach",
    "LordApproach",
    "NaiveApproach",
    "NonFiniteLossError",
    "build_approach",
    "get",
    "names",
    "register",
]
