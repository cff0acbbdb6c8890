"""Fixed-shape tensor functions replayed from CUDA graphs.

Why: the steps after the network on each stroke (the silhouette fit's outline moves, region following's
registration) are hundreds of kernels on small tensors; on a GPU their launches cost the host more time
than the GPU spends running them. Captured once per function, input shapes and device, a replay is one
launch. Off a GPU, or where a capture fails (an old driver, an operation a graph cannot hold), the function
simply runs (the failure is logged once).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import Tensor

from models.device import is_accelerator

log = logging.getLogger(__name__)
CACHE_SIZE = 8  # graphs kept (each holds its own buffers); the live editor needs two
WARMUP_RUNS = 2


class GraphedFunction:
    """``fn(*tensors) -> Tensor`` captured for inputs shaped like ``examples``; calls copy their inputs into
    the graph's buffers, replay it and return a copy of its output."""

    def __init__(self, fn: Callable[..., Tensor], examples: tuple[Tensor, ...]) -> None:
        device = examples[0].device
        with torch.inference_mode():  # buffers, warm-up, capture and replays all in inference mode
            self.inputs = tuple(t.clone() for t in examples)
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):
                for _ in range(WARMUP_RUNS):  # lazy set-up (cached constants, cuBLAS handles) happens here
                    fn(*self.inputs)
            torch.cuda.current_stream(device).wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.output = fn(*self.inputs)

    def __call__(self, *args: Tensor) -> Tensor:
        with torch.inference_mode():
            for buffer, value in zip(self.inputs, args):
                buffer.copy_(value)
            self.graph.replay()
            return self.output.clone()


_graphs: OrderedDict[tuple, GraphedFunction | None] = OrderedDict()


def graphed_call(name: str, fn: Callable[..., Tensor], *args: Tensor) -> Tensor:
    """``fn(*args)``, from a CUDA graph where the arguments live on a GPU. ``name`` identifies ``fn`` with
    whatever it closes over (two functions must not share a name); shapes, dtypes and the device complete the
    key."""
    if not args or not is_accelerator(args[0].device):
        return fn(*args)
    key = (name, str(args[0].device), tuple((tuple(a.shape), a.dtype) for a in args))
    if key not in _graphs:
        try:
            _graphs[key] = GraphedFunction(fn, args)
        except RuntimeError as e:
            log.warning("CUDA graph capture of %s failed (%s); running it eagerly", name, e)
            _graphs[key] = None
        while len(_graphs) > CACHE_SIZE:
            _graphs.popitem(last=False)
    _graphs.move_to_end(key)
    graphed = _graphs[key]
    return fn(*args) if graphed is None else graphed(*args)


def is_graphed(name: str) -> bool:
    """Whether a graph of ``name`` was captured and is kept (for tests)."""
    return any(k[0] == name and g is not None for k, g in _graphs.items())
