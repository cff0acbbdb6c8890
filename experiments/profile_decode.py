"""Measured: where an edit decode's time goes on a GPU: HeadPipeline.edit with the framing normaliser new / kept / off, its host work, the network graphed vs eager (p50). Result: docs/performance.md "Final code of the second session (2026-11-27)".

Where an edit decode's time goes on a GPU: the whole ``HeadPipeline.edit`` with the framing
normaliser on and off, the normaliser's host work alone, and the network call alone (CUDA graph or
eager). p50 of ``--runs`` synchronised calls on the benchmark's sample map.

    python experiments/profile_decode.py --device cuda
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from models.device import resolve_device, synchronize
from models.pipeline import HeadPipeline
from models.fitting.framing import plan_framing
from perchead_gui.bench import BENCH_SAMPLE, bench_style_images
from perchead_gui.gallery import load_gallery


def _p50(fn, dev: torch.device, runs: int) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        synchronize(dev)
        t0 = time.perf_counter()
        fn()
        synchronize(dev)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.percentile(times, 50))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    dev = resolve_device(args.device)
    pipe = HeadPipeline(None, str(dev))
    labels = next((s for s in load_gallery() if s.title == BENCH_SAMPLE), load_gallery()[0]).labels
    style = pipe.style_from_image(bench_style_images(1, 128)[0])
    pipe.prepare_fast_decode()
    lab = torch.as_tensor(labels.astype(np.int64), device=dev)[None]  # [1, S, S]
    net = pipe.net("edit")
    graphed = pipe._graphed_edit(net)
    report = {"graphed": graphed is not None}
    with torch.inference_mode():
        # every call a new map (the estimate runs), and every call a stroke on the last map (kept)
        report["edit_framing_new_map_ms"] = _p50(lambda: (pipe.fit.forget_framing(), pipe.edit(labels, style)), dev, args.runs)
        report["edit_framing_kept_ms"] = _p50(lambda: pipe.edit(labels, style), dev, args.runs)
        pipe.fit.framing = "off"
        report["edit_framing_off_ms"] = _p50(lambda: pipe.edit(labels, style), dev, args.runs)
        report["framing_host_ms"] = _p50(lambda: plan_framing(labels, "auto"), dev, args.runs)
        if graphed is not None:
            report["net_graphed_ms"] = _p50(lambda: graphed(lab, style), dev, args.runs)
        report["net_eager_ms"] = _p50(lambda: net(lab, style), dev, args.runs)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
