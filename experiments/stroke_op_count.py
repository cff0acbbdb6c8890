"""Measured: aten operations per brush stroke on the CPU, HeadPipeline.edit vs the network alone (a proxy for GPU kernel launches). Result: docs/performance.md "Sixth session (2026-11-27): GPU bench of the final code, target missed".

Count the torch operations one brush stroke costs in the edit path, on the CPU: a proxy for kernel
launches on a GPU when no GPU is at hand (each aten op that computes is one launch there; views are free).

    python experiments/stroke_op_count.py [--checkpoint DIR] [--strokes 8]

Runs the bench's strokes (``perchead bench``: brush movements on the "Long wavy hair" sample) through
``HeadPipeline.edit`` after 4 warm-up strokes, under the torch profiler, and again through the edit network
alone; prints aten operations per stroke for both, their difference (the work after the network: framing,
silhouette fit, pruning) and the most frequent operations. Used in the sixth session to compare the code
with that of 4a66df4 (run from a worktree of that commit with PYTHONPATH set to it; docs/performance.md).
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--strokes", type=int, default=8)
    args = p.parse_args(argv)

    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    from models.pipeline import HeadPipeline
    from perchead_gui.bench import BENCH_SAMPLE, stroke_maps
    from perchead_gui.gallery import load_gallery

    torch.set_num_threads(1)
    pipe = HeadPipeline(checkpoint_dir=args.checkpoint, device="cpu")
    sample = next((s for s in load_gallery() if s.title == BENCH_SAMPLE), load_gallery()[0])
    maps = stroke_maps(sample.labels, 4 + args.strokes)
    net = pipe.net("edit")
    style = torch.zeros(1, net.cfg.style_dim)
    for m in maps[:4]:
        pipe.edit(m, style)

    def count(step) -> tuple[float, list]:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for m in maps[4:]:
                step(m)
        ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
        return sum(e.count for e in ops) / args.strokes, sorted(ops, key=lambda e: -e.count)[:12]

    def net_only(m: np.ndarray) -> None:
        with torch.no_grad():
            net(torch.as_tensor(m[None].astype(np.int64)), style)

    total, top = count(lambda m: pipe.edit(m, style))
    alone, _ = count(net_only)
    print(f"aten ops per stroke: edit path {total:.0f}, network alone {alone:.0f}, after the network {total - alone:.0f}")
    print("most frequent:", ", ".join(f"{e.key} {e.count // args.strokes}" for e in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
