"""Data-parallel training under `torchrun --nproc_per_node N` (gloo on CPU, NCCL on CUDA).

Each process trains the same networks on its own shard of pairs; gradients are averaged across
processes during the backward pass, so every replica takes the same optimizer step and the weights
stay identical — DistributedDataParallel's contract. The approaches call their networks through
methods (`encode_content`, `decode`, ...) rather than `forward`, which a `DistributedDataParallel`
wrapper cannot intercept, so `synchronize` implements that contract directly with the same
collectives: a broadcast of every parameter and buffer from rank 0 at start, then an all-reduce of
each gradient as soon as backward has accumulated it (`register_post_accumulate_grad_hook`). Hooks
fire inside backward, before AMP's inf check, so every rank also agrees on skipped steps.

Only rank 0 writes checkpoints, logs and previews; `any_rank` lets all ranks agree on stopping, so
a SIGINT/SIGTERM that reaches the ranks at different moments still stops them all at the same step.
A failure on one rank (non-finite loss, out of memory) fails that process; torchrun then ends the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1


def init_from_env(device: str | None = None) -> DistInfo:
    """Join the process group torchrun describes in the environment; one CUDA device per local rank."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    use_cuda = (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        target = torch.device("cuda", local_rank)
    else:
        target = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world)
    return DistInfo(rank, world, local_rank, target)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def synchronize(modules: dict[str, nn.Module], world_size: int) -> list:
    """Make replicas start equal and stay equal: broadcast from rank 0, then average every gradient.

    Returns the hook handles (remove them to detach the modules from the process group).
    """
    handles = []
    for module in modules.values():
        with torch.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                dist.broadcast(tensor.data, src=0)
        for parameter in module.parameters():
            if parameter.requires_grad:
                handles.append(parameter.register_post_accumulate_grad_hook(_averager(world_size)))
    return handles


def _averager(world_size: int):
    def average(parameter: torch.Tensor) -> None:
        dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
        parameter.grad.div_(world_size)

    return average


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on at least one (e.g. a stop request or SIGTERM)."""
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)
