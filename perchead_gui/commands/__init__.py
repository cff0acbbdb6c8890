"""One module per ``perchead`` subcommand; each exposes ``register(subparsers)`` and ``run(args)``."""
from __future__ import annotations

import time
from pathlib import Path

HEAD_FILES = "OUT.ply|.spz|.splat"  # the head formats a command writes (models/io/splats.py)


def wrote(path: str | Path, what: str, t0: float) -> None:
    """The one line a command ends with: what it wrote and how long the command took."""
    print(f"wrote {path}: {what} in {time.perf_counter() - t0:.1f} s", flush=True)
