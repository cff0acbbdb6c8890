"""Training batches made ahead, in a producer process, while the training step runs.

On one H100 a step of the edit stage spends ~43 % of its time making its batch (engine heads, their renders,
input augmentation, style vectors; docs/quality.md "Training throughput"), mostly in Python per head, so a thread
would wait on the interpreter lock; a second process does not. The producer builds the same head source as the
training process would (the function it is given, models.training.stages.training_heads, from the same config and
rank, so the same batches in the same order) and puts finished batches on a queue ``depth`` deep. Tensors on a GPU
cross by CUDA IPC (torch.multiprocessing): the producer keeps each batch alive until ``depth + 2`` newer ones exist,
and the consumer copies each batch on arrival, so neither frees memory the other still reads.

``data.prefetch: N`` in a training config turns it on (N = queue depth); 0 makes batches in the training process.
"""
from __future__ import annotations

import logging
import queue
from collections import deque
from dataclasses import asdict, fields
from typing import Any, Callable

import torch
import torch.multiprocessing as mp

from models.errors import PercheadError
from models.networks.inputs import HeadBatch
from models.training.config import TrainConfig
from models.training.distributed import DistInfo

log = logging.getLogger(__name__)
START_TIMEOUT_S = 600.0   # the producer imports torch and builds the engine and style model first
BATCH_TIMEOUT_S = 300.0


def _copy(batch: HeadBatch) -> HeadBatch:
    """A batch in this process's own memory (tensors cloned; on a GPU, in this process's stream order)."""
    return HeadBatch(**{f.name: (v.clone() if isinstance(v := getattr(batch, f.name), torch.Tensor) else v)
                        for f in fields(HeadBatch)})


def _produce(make_heads: Callable[[TrainConfig, DistInfo], Callable[[int], HeadBatch]], cfg_dict: dict[str, Any],
             dist_fields: dict[str, Any], count: int, depth: int, threads: int, out: Any,
             stop: Any) -> None:
    """The producer process: batches of ``count`` heads onto ``out`` until ``stop`` is set. An error goes onto the
    queue as its message, so the training process can say what went wrong."""
    try:
        from models.device import is_accelerator

        torch.set_num_threads(threads)  # as the training process: the same sums in the same order, the same batches
        dist = DistInfo(**dist_fields)
        if is_accelerator(dist.device):
            torch.cuda.set_device(dist.device)
        heads = make_heads(TrainConfig(**cfg_dict), dist)
        parent = mp.parent_process()
        running = lambda: not stop.is_set() and (parent is None or parent.is_alive())  # noqa: E731
        alive: deque[HeadBatch] = deque(maxlen=depth + 2)  # the consumer has copied every batch older than these
        while running():  # a training process killed outright (out of memory, kill -9) sets no event: watch it too
            batch = heads(count)
            alive.append(batch)
            while running():
                try:
                    out.put(batch, timeout=0.5)
                    break
                except queue.Full:
                    continue
    except Exception as e:  # noqa: BLE001 - reported to the training process, which stops with it
        try:
            out.put(f"{type(e).__name__}: {e}", timeout=5.0)
        except queue.Full:
            pass
        raise


class Prefetcher:
    """``prefetcher(count) -> HeadBatch``, as the head source it stands for; ``count`` must stay the same."""

    def __init__(self, make_heads: Callable[[TrainConfig, DistInfo], Callable[[int], HeadBatch]], cfg: TrainConfig,
                 dist: DistInfo, depth: int = 2) -> None:
        """``make_heads(cfg, dist)``: the head source to run in the producer (a module-level function: it crosses to
        the new process by name), e.g. models.training.stages.training_heads."""
        if depth < 1:
            raise PercheadError(f"data.prefetch must be >= 1 to prefetch (got {depth}); 0 turns it off")
        self.count = cfg.batch_size
        ctx = mp.get_context("spawn")  # a CUDA context cannot be forked
        self.queue = ctx.Queue(maxsize=depth)
        self.stop = ctx.Event()
        dist_fields = {**asdict(dist), "device": dist.device}
        self.proc = ctx.Process(target=_produce, args=(make_heads, cfg.to_dict(), dist_fields, self.count, depth,
                                                       torch.get_num_threads(), self.queue, self.stop), daemon=True, name="perchead-prefetch")
        self.proc.start()
        self.first = True

    def __call__(self, count: int) -> HeadBatch:
        if count != self.count:
            raise PercheadError(f"the prefetcher makes batches of {self.count} heads, not {count}")
        timeout = START_TIMEOUT_S if self.first else BATCH_TIMEOUT_S
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            alive = self.proc.is_alive()
            self.close()
            raise PercheadError(f"no training batch from the prefetch process in {timeout:.0f} s "
                                f"({'still running' if alive else 'it has exited'}); set data.prefetch: 0 to make "
                                "batches in the training process") from None
        if isinstance(item, str):
            self.close()
            raise PercheadError(f"the prefetch process failed: {item}")
        self.first = False
        return _copy(item)

    def close(self) -> None:
        self.stop.set()
        self.proc.join(timeout=10.0)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5.0)

    def __del__(self) -> None:
        if getattr(self, "proc", None) is not None and self.proc.is_alive():
            self.close()
