"""Two CPU processes with gloo: different shards, identical replicas, a joint stop, only rank 0 writes."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from tests.trainer.factories import Events, TinyDataset, tiny_config
from trainer import distributed
from trainer.engine import TrainingEngine
from trainer.events import Finished, StepDone

STEPS = 5
STOP_AT = 3
ROOT = Path(__file__).resolve().parents[2]


def _replica(rank: int, world_size: int, port: int, tmp_path) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    info = distributed.init_from_env("cpu")
    try:
        # Rank 1 is told to use another run folder: only rank 0 may create or write one.
        config = tiny_config(tmp_path / f"rank{rank}", steps=STEPS, checkpoint_every=2)
        events = Events()
        engine = TrainingEngine(config, events, dataset=TinyDataset(), dist_info=info)
        if rank == 1:  # only rank 1 is asked to stop (as if only it got SIGTERM): both must stop together

            def sink(event):
                events(event)
                if isinstance(event, StepDone) and event.step == STOP_AT:
                    engine.stop()

            engine.sink = sink
        engine.run()
        assert events[-1] == Finished(STOP_AT, "stopped"), events[-1]
        weights = {k: v for k, v in engine.approach.generator.state_dict().items()}
        torch.save({"weights": weights, "first_batch": engine.sampler.batch(0).x1}, tmp_path / f"result{rank}.pt")
    finally:
        distributed.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(600)  # a rank left waiting in a collective would otherwise hang the suite
def test_two_gloo_processes_train_identical_replicas(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # spawned children import this module through the parent's sys.path
    mp.start_processes(_replica, args=(2, _free_port(), tmp_path), nprocs=2, join=True, start_method="spawn")
    results = [torch.load(tmp_path / f"result{r}.pt", weights_only=True) for r in range(2)]
    assert not torch.equal(results[0]["first_batch"], results[1]["first_batch"])  # each rank has its own shard
    for key, value in results[0]["weights"].items():
        assert torch.equal(value, results[1]["weights"][key]), key
    assert (tmp_path / "rank0" / "run" / "checkpoints" / "state_00000003.pt").is_file()  # the stop checkpoint
    assert not (tmp_path / "rank1").exists()
    # Different shards yet identical weights: the gradients were averaged. And training did move them.
    start = TrainingEngine(tiny_config(tmp_path / "init", steps=STEPS), Events(), "cpu", dataset=TinyDataset())
    start.setup()
    initial = start.approach.generator.state_dict()
    assert any(not torch.equal(value, initial[key]) for key, value in results[0]["weights"].items())
