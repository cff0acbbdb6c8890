"""The one place that decides which torch device runs the work."""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from models.errors import PercheadError

DeviceChoice = Literal["auto", "cpu", "cuda"]


def accelerator_available() -> bool:
    """True when a CUDA device can be used."""
    return torch.cuda.is_available()


def resolve_device(choice: str = "auto") -> torch.device:
    """Map a user's ``auto|cpu|cuda`` choice to a device, refusing an impossible one clearly."""
    if choice == "auto":
        return torch.device("cuda" if accelerator_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda":
        if not accelerator_available():
            raise PercheadError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
        return torch.device("cuda")
    raise PercheadError(f"unknown device {choice!r}; use auto, cpu or cuda")


def is_accelerator(device: torch.device) -> bool:
    """True for a GPU device (the only kind gsplat runs on)."""
    return device.type == "cuda"


def accelerator_index(index: int) -> torch.device:
    """The GPU with this local index (one process per GPU under torchrun)."""
    return torch.device("cuda", index)


def distributed_backend(device: torch.device) -> str:
    """NCCL between GPUs, gloo between CPU processes."""
    return "nccl" if is_accelerator(device) else "gloo"


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so timings measure the work, not the launch."""
    if is_accelerator(device):
        torch.cuda.synchronize(device)


def to_host(tensor: Tensor) -> Tensor:
    """``tensor`` on the CPU, finished when this returns (a CPU tensor is returned as it is).

    From an accelerator the copy lands in page-locked memory (the caching host allocator reuses
    it), which is several times faster than a copy into ordinary memory for a viewport frame.
    """
    if not is_accelerator(tensor.device):
        return tensor.detach().cpu()
    host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    host.copy_(tensor.detach(), non_blocking=True)
    synchronize(tensor.device)
    return host
