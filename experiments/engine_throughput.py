"""Measured: the procedural head engine's throughput (rendered views/s and heads/s, generation included, and the generation / render split). Result: docs/engine.md "Throughput".

Throughput of the procedural head engine: rendered views per second, generation included.

Runs ``HeadSampler.make_batch`` (generate B heads in one batched pass, then render V views of
each: one gsplat launch per head on a GPU, the torch rasteriser on a CPU) for --seconds after
one warm-up batch, and prints one JSON object: views/s, heads/s and the generation / render
split. Example (the issue-4 target is >= 1000 views/s at 256 px on an H100):

    python experiments/engine_throughput.py --device cuda --batch 64 --views 8 --size 256 --seconds 20
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time



def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--batch", type=int, default=64, help="heads per batch")
    p.add_argument("--views", type=int, default=8, help="views per head (view 0 canonical)")
    p.add_argument("--size", type=int, default=256, help="square view size in pixels")
    p.add_argument("--seconds", type=float, default=20.0, help="measured wall time (after one warm-up batch)")
    p.add_argument("--gaussians", type=int, default=None, help="slot budget per head (default: engine default)")
    p.add_argument("--backend", default="auto", choices=("auto", "cpu", "gsplat"))
    args = p.parse_args(argv)

    import torch

    from models.device import is_accelerator, resolve_device
    from models.synthetic import EngineConfig, HeadSampler

    device = resolve_device(args.device)
    config = EngineConfig() if args.gaussians is None else EngineConfig(gaussians=args.gaussians)
    sampler = HeadSampler("train", stream=12345, device=device, config=config, backend=args.backend)
    sampler.make_batch(args.batch, views=args.views, size=args.size)  # warm-up: caches, allocator, kernels
    gen = ren = 0.0
    heads = views = gaussians = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        b = sampler.make_batch(args.batch, views=args.views, size=args.size)
        gen += b.timings["generate"]
        ren += b.timings["render"]
        heads += len(b.seeds)
        views += len(b.seeds) * args.views
        gaussians += sum(len(g) for g in b.gaussians)
    wall = time.perf_counter() - start
    info = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if is_accelerator(device) else platform.processor() or platform.machine(),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "backend": args.backend,
        "batch": args.batch, "views": args.views, "size": args.size, "slot_budget": config.gaussians,
        "mean_gaussians_per_head": round(gaussians / max(1, heads)),
        "heads": heads, "rendered_views": views, "wall_s": round(wall, 3),
        "views_per_s": round(views / wall, 1), "heads_per_s": round(heads / wall, 2),
        "generate_s": round(gen, 3), "render_s": round(ren, 3),
        "generate_ms_per_head": round(1000 * gen / max(1, heads), 2),
        "render_ms_per_view": round(1000 * ren / max(1, views), 2),
        "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 2) if is_accelerator(device) else None,
    }
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
