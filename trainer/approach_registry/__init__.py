"""The one list of training approaches (`spec.py`), with the built-in four already on it (`builtin.py`).

Importing this package registers the built-in approaches, so whoever asks `names()` (the CLI, `validate_config`,
the presets, the Training form) sees them. Torch-free, and it imports neither `trainer.config` nor
`trainer.approaches`: both import it, the config to check `approach`, the approaches' package to build one
(`trainer.approaches.build_approach`), so it sits below them and no import cycle joins the three.
"""

from __future__ import annotations

from trainer.approach_registry import builtin as _builtin  # noqa: F401  registers the four built-in approaches
from trainer.approach_registry.spec import (
    ApproachSpec,
    get,
    names,
    readers,
    register,
    specs,
    unregister,
    weights_read_by,
)

__all__ = ["ApproachSpec", "get", "names", "readers", "register", "specs", "unregister", "weights_read_by"]
