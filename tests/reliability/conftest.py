"""Shared fixtures of the reliability suite: the generated bad-input corpus and tiny model files."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """(corpus folder, list of Case) built once per session by scripts/make_bad_inputs.py."""
    corpus = load_script("make_bad_inputs")
    root = tmp_path_factory.mktemp("bad_inputs")
    cases = corpus.make_corpus(root)
    yield root, cases
    for case in cases:  # mode-000 files would make pytest's tmp clean-up complain
        path = case.path(root)
        if os.path.lexists(path) and not os.path.islink(path):
            os.chmod(path, 0o755)
