"""``perchead bench [--device D] [--json]``: measured speed, printed as a table or JSON."""
from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure render speed (p50/p95)",
                       description="Time the renderer on a 32k-Gaussian head-sized scene at 256² and 512², and one "
                                   "edit decode with the shipped edit model (p50/p95 over the frames after warm-up).")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--frames", type=int, default=30, help="measured frames per row (>= 20 recommended)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--no-decode", action="store_true", help="skip the edit-model decode timing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from models.device import resolve_device
    from models.errors import PercheadError
    from perchead_gui.bench import bench_decode, bench_render, rows_as_dicts

    if args.frames < 1:
        raise PercheadError("--frames must be at least 1")
    device = resolve_device(args.device)
    rows = bench_render(device, frames=args.frames)
    decode = bench_decode(device, frames=args.frames) if not args.no_decode else []
    info = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "render": rows_as_dicts(rows), "decode": rows_as_dicts(decode)}
    rows = rows + decode
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"device {info['device']}  torch {info['torch']}  threads {info['threads']}")
    print(f"{'op':<8}{'backend':<10}{'size':>6}{'gaussians':>11}{'frames':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for r in rows:
        print(f"{r.name:<8}{r.backend:<10}{r.size:>6}{r.gaussians:>11}{r.frames:>8}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}")
    return 0
