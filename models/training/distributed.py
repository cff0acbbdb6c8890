"""Process-group set-up for torchrun; a plain single process works without it."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from models.device import accelerator_index, distributed_backend, is_accelerator, resolve_device


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_choice: str = "auto") -> DistInfo:
    """Join the torchrun group if launched by torchrun (env WORLD_SIZE > 1), else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_choice)
    if is_accelerator(device):
        device = accelerator_index(local_rank)
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend=distributed_backend(device))
    return DistInfo(rank, world, local_rank, device)


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    if dist.is_initialized() and dist.get_world_size() > 1:
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return value


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def rank_weight_spread(model: torch.nn.Module) -> float:
    """Largest difference, across ranks, of any parameter's sum: 0.0 when DDP kept them in sync."""
    sums = torch.stack([p.detach().double().sum() for p in model.parameters()])  # on the model's device
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return 0.0
    # NCCL gathers device tensors only (a CPU tensor failed the first 4-GPU run at its last step); gloo takes CPU ones
    sums = sums.to("cpu" if dist.get_backend() == "gloo" else next(model.parameters()).device)
    gathered = [torch.zeros_like(sums) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, sums)
    stacked = torch.stack(gathered)
    return float((stacked.max(0).values - stacked.min(0).values).max())
