"""Shared fixtures of the reliability suite: the generated bad-input corpus and tiny model files."""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

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


TINY_NAIVE = {"image_size": 32, "nf": 8, "max_nf": 16, "n_downs": 2, "content_dim": 8, "class_dim": 8, "nf_mlp": 16}
TINY_FUNIT = {
    "nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8,
    "n_mlp_blks": 2, "n_downs_content": 1, "n_downs_class": 2, "image_size": 32,
}  # fmt: skip


def tiny_naive():
    from g2g_desktop.core.config import NaiveConfig
    from g2g_desktop.core.naive import NaiveGenerator

    torch.manual_seed(0)
    return NaiveGenerator(NaiveConfig(**TINY_NAIVE))


def tiny_funit():
    from g2g_desktop.core.config import FunitGeneratorConfig
    from g2g_desktop.core.funit import FunitGenerator

    torch.manual_seed(0)
    return FunitGenerator(FunitGeneratorConfig(**TINY_FUNIT))


@pytest.fixture(scope="session")
def tiny_model_files(tmp_path_factory):
    """A valid tiny project model (.safetensors) and a valid tiny FUNIT gen file (.pt)."""
    from g2g_desktop.core.funit_files import save_funit_generators
    from g2g_desktop.core.model_file import save_model

    root = tmp_path_factory.mktemp("tiny_models")
    model, funit = root / "tiny.safetensors", root / "gen_00000010.pt"
    save_model(model, tiny_naive(), approach="naive", step=10)
    save_funit_generators(funit, tiny_funit(), tiny_funit())
    return model, funit


def run_limited(code: str, *, memory_gb: float = 8.0, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run Python `code` in a child with an address-space limit, so a regression that allocates without
    bound fails with MemoryError in the child instead of exhausting the shared machine."""

    def limit() -> None:
        size = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT, preexec_fn=limit
    )
