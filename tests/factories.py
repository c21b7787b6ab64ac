"""Suite-wide test helpers, imported by tests and conftest files of every package: the repository root, the
long-variant switch, scripts/ as modules, a memory-limited child, tiny generators, and waiting until a
condition holds (instead of sleeping a fixed time)."""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LONG = os.environ.get("G2G_LONG_TESTS") == "1"
long_only = pytest.mark.skipif(not LONG, reason="long variant: set G2G_LONG_TESTS=1")


def load_script(name: str):
    """Import `scripts/<name>.py` as a module (scripts/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


TINY_NAIVE_SIZES = {
    "image_size": 32, "nf": 8, "max_nf": 16, "n_downs": 2, "content_dim": 8, "class_dim": 8, "nf_mlp": 16,
}  # fmt: skip
TINY_FUNIT_SIZES = {
    "nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8,
    "n_mlp_blks": 2, "n_downs_content": 1, "n_downs_class": 2, "image_size": 32,
}  # fmt: skip


def tiny_naive_generator():
    import torch

    from g2g_desktop.core.config import NaiveConfig
    from g2g_desktop.core.naive import NaiveGenerator

    torch.manual_seed(0)
    return NaiveGenerator(NaiveConfig(**TINY_NAIVE_SIZES))


def tiny_funit_generator():
    import torch

    from g2g_desktop.core.config import FunitGeneratorConfig
    from g2g_desktop.core.funit import FunitGenerator

    torch.manual_seed(0)
    return FunitGenerator(FunitGeneratorConfig(**TINY_FUNIT_SIZES))


def run_limited(code: str, *, memory_gb: float = 8.0, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run Python `code` in a child with an address-space limit, so a regression that allocates without
    bound fails with MemoryError in the child instead of exhausting the shared machine."""

    def limit() -> None:
        size = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT, preexec_fn=limit
    )


def wait_until(condition: Callable[[], object], timeout: float, poll: float = 0.01):
    """Poll `condition` until it returns something truthy, at most `timeout` seconds; return its last value,
    so that the caller asserts it (`assert wait_until(...)`). A test waits as long as the machine needs and
    no longer, never a fixed guess that is too short under load."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(poll)
    return value
