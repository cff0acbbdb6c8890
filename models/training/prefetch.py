"""Training batches made ahead, in a producer process, while the training step runs.

On one H100 a step of the edit stage spends ~43 % of its time making its batch (engine heads, their renders,
input augmentation, style vectors; docs/quality.md "Training throughput"), mostly in Python per head, so a thread
would wait on the interpreter lock; a second process does not. The producer builds the same head source as the
training process would (the function it is given, models.training.stages.training_heads, from the same config and
rank, so the same batches in the same order) and puts finished batches on a queue ``depth`` deep. Tensors on a GPU
cross by CUDA IPC (torch.multiprocessing): the producer keeps each batch alive until ``depth + 2`` newer ones exist,
and the consumer copies each batch on arrival, so neither frees memory the other still reads.

``data.prefetch: N`` in a training config turns it on (N = queue depth); 0 makes batches in the training process.
``data.prefetch_workers: W`` (default 1) runs W producers, taken in turn: run 14 found one producer as slow as the
whole step (the step still waited for its batch 29 % of the time). Producer k > 0 makes its heads from the config
with ``seed + k * WORKER_SEED_STRIDE`` (its own engine stream, caption picks and augmentation), so batches stay
reproducible but are not the in-process ones; each producer gets an equal share of the training process's threads.
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
WORKER_SEED_STRIDE = 7_777_777  # producer k's config seed offset (its streams never meet producer 0's)


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
                 dist: DistInfo, depth: int = 2, workers: int = 1) -> None:
        """``make_heads(cfg, dist)``: the head source to run in the producers (a module-level function: it crosses
        to the new processes by name), e.g. models.training.stages.training_heads."""
        if depth < 1:
            raise PercheadError(f"data.prefetch must be >= 1 to prefetch (got {depth}); 0 turns it off")
        if workers < 1:
            raise PercheadError(f"data.prefetch_workers must be >= 1 (got {workers})")
        self.count = cfg.batch_size
        ctx = mp.get_context("spawn")  # a CUDA context cannot be forked
        self.stop = ctx.Event()
        dist_fields = {**asdict(dist), "device": dist.device}
        threads = max(1, torch.get_num_threads() // workers)
        self.queues, self.procs = [], []
        for k in range(workers):
            config = cfg.to_dict() if k == 0 else {**cfg.to_dict(), "seed": cfg.seed + k * WORKER_SEED_STRIDE}
            q = ctx.Queue(maxsize=depth)
            proc = ctx.Process(target=_produce, args=(make_heads, config, dist_fields, self.count, depth, threads, q,
                                                      self.stop), daemon=True, name=f"perchead-prefetch-{k}")
            proc.start()
            self.queues.append(q)
            self.procs.append(proc)
        self.taken = 0  # batches handed out: producer taken % workers gives the next
        self.first = [True] * workers

    @property
    def proc(self) -> mp.Process:
        """The first producer (one producer: the only one)."""
        return self.procs[0]

    def __call__(self, count: int) -> HeadBatch:
        if count != self.count:
            raise PercheadError(f"the prefetcher makes batches of {self.count} heads, not {count}")
        k = self.taken % len(self.procs)
        timeout = START_TIMEOUT_S if self.first[k] else BATCH_TIMEOUT_S
        try:
            item = self.queues[k].get(timeout=timeout)
        except queue.Empty:
            alive = self.procs[k].is_alive()
            self.close()
            raise PercheadError(f"no training batch from prefetch process {k} in {timeout:.0f} s "
                                f"({'still running' if alive else 'it has exited'}); set data.prefetch: 0 to make "
                                "batches in the training process") from None
        if isinstance(item, str):
            self.close()
            raise PercheadError(f"prefetch process {k} failed: {item}")
        self.first[k] = False
        self.taken += 1
        return _copy(item)

    def close(self) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(timeout=10.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5.0)

    def __del__(self) -> None:
        if any(p.is_alive() for p in getattr(self, "procs", [])):
            self.close()
