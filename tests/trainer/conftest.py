"""Fixtures of the trainer tests: one torch thread, a tiny in-memory dataset, an image folder (the factories
they use live in tests/trainer/factories.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.trainer.factories import TinyDataset, write_image


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """One torch thread: the machine is shared, and results must not depend on thread scheduling."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_dataset() -> TinyDataset:
    return TinyDataset()


@pytest.fixture
def image_tree(tmp_path) -> Path:
    """`faces/<identity>/<n>.png`: 3 identities × 2 images."""
    root = tmp_path / "faces"
    for i, name in enumerate(("alice", "bob", "carol")):
        for n in range(2):
            write_image(root / name / f"{n}.png", (60 * i, 100, 30 * n))
    return root
