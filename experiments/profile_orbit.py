"""Measured: where an orbit frame's time goes on a GPU: the general render path vs the engine's prepared path, piece by piece, plus a torch.profiler table. Result: docs/performance.md "NVIDIA H200 (torch 2.11.0+cu130, gsplat 1.5.3), 512² viewport".

Where an orbit frame's time goes on a GPU (issue 9: orbit_frame_ms_p50 <= 2 at 512²).

Decodes the benchmark's sample head through the real engine, then times, per frame along the
bench's orbit path: the general render path (render + view image + host copy, what the engine
did before the prepared path), the engine's ``render`` as it is now, and the prepared path's
pieces one by one (each synchronised). A torch.profiler table of the engine's frames goes to
``--out``.

    python experiments/profile_orbit.py --device cuda --size 512 --out runs/profile
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from models.cameras import canonical_view, orbit_camera
from models.device import resolve_device, synchronize, to_host
from models.render import render
from models.render.prepared import prepare_head, render_prepared_rgb
from perchead_gui.bench import BENCH_SAMPLE, bench_style_images
from perchead_gui.engine import InferenceEngine
from perchead_gui.gallery import load_gallery


def _cams(n: int, size: int) -> list:
    return [orbit_camera(canonical_view().orbit_at(360.0 * i / n, 10.0 * np.sin(i / 7.0)), size) for i in range(n)]


def _timed(fn, cams, warmup: int, dev: torch.device) -> list[float]:
    out = []
    for i, cam in enumerate(cams):
        synchronize(dev)
        t0 = time.perf_counter()
        fn(cam)
        synchronize(dev)
        if i >= warmup:
            out.append((time.perf_counter() - t0) * 1000.0)
    return out


def _p(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "n": int(a.size)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=80)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("runs/profile"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(args.device)
    cams = _cams(args.frames + args.warmup, args.size)
    bg = (0.0, 0.0, 0.0)
    report: dict[str, object] = {"device": torch.cuda.get_device_name(dev) if dev.type != "cpu" else "cpu",
                                 "size": args.size}
    with InferenceEngine(None, str(dev)) as engine:
        sample = next((s for s in load_gallery() if s.title == BENCH_SAMPLE), load_gallery()[0])
        engine.set_style_image(bench_style_images(1, 128)[0])
        engine.set_segmentation(sample.labels)
        assert engine.wait_idle(300.0), "decode did not finish"
        head = engine.head
        assert head is not None, engine.last_error
        report["gaussians"] = len(head)
        with torch.inference_mode():
            general = lambda c: render(head, c, background=bg, classes=False).rgb.clamp(0, 1).cpu().numpy()  # noqa: E731
            report["general_path_ms"] = _p(_timed(general, cams, args.warmup, dev))
            report["engine_render_ms"] = _p(_timed(lambda c: engine.render(c), cams, args.warmup, dev))
            if dev.type == "cpu":  # the prepared path is the GPU's (gsplat)
                print(json.dumps(report, indent=1))
                return
            prepared = prepare_head(head)
            synchronize(dev)
            t0 = time.perf_counter()
            for _ in range(20):
                prepare_head(head)
            synchronize(dev)
            report["prepare_head_ms"] = (time.perf_counter() - t0) * 50.0
            report["camera_to_device_ms"] = _p(_timed(lambda c: c.to(dev), cams, args.warmup, dev))
            report["prepared_render_ms"] = _p(_timed(lambda c: render_prepared_rgb(prepared, c, bg), cams,
                                                     args.warmup, dev))
            frame = render_prepared_rgb(prepared, cams[0], bg)
            report["host_copy_pinned_ms"] = _p(_timed(lambda c: to_host(frame), cams, args.warmup, dev))
            report["host_copy_pageable_ms"] = _p(_timed(lambda c: frame.cpu(), cams, args.warmup, dev))
            from torch.profiler import ProfilerActivity, profile  # noqa: PLC0415

            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                for cam in cams[:20]:
                    engine.render(cam)
            table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40)
            (args.out / "orbit_profile.txt").write_text(table)
    (args.out / "orbit_profile.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
