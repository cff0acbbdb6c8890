"""One timer for the app and the benchmark: wall milliseconds that include queued GPU work.

The status bar's decode/render ms and ``perchead bench`` must measure the same thing (issue 9),
so both go through ``timed``. On an accelerator, kernels run asynchronously: without a sync the
clock would stop when the launch returns, not when the work is done, so the timer synchronises
the device before starting (earlier work is not counted) and before stopping.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch

from models.device import synchronize


@dataclass
class Timer:
    """The result of one ``timed`` block; ``ms`` is set when the block ends without an error."""

    ms: float = 0.0


@contextmanager
def timed(device: torch.device | str) -> Iterator[Timer]:
    """Measure the wall time of a block in ms, device work included: ``with timed(dev) as t: ...; t.ms``."""
    dev = torch.device(device)
    synchronize(dev)
    timer = Timer()
    start = time.perf_counter()
    yield timer
    synchronize(dev)
    timer.ms = (time.perf_counter() - start) * 1000.0
