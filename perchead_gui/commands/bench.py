"""``perchead bench [--device D] [--size PX] [--json]``: measured speed of the live loop and the renderer."""
from __future__ import annotations

import argparse
import json

ENGINE_KEYS = ("edit_to_frame_ms_p50", "edit_to_frame_ms_p95", "edit_to_settled_frame_ms_p50",
               "edit_to_settled_frame_ms_p95", "style_change_ms_p50", "style_change_settled_ms_p50", "orbit_frame_ms_p50",
               "orbit_frame_ms_p95", "decode_ms_p50", "render_ms_p50", "first_frame_s", "peak_mem_mb",
               "gpu_peak_mem_mb")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed: edit-to-frame, style change, orbit, first frame (p50/p95)",
                       description="Run the real engine on the shipped checkpoints with a painting workload (brush "
                                   "strokes on a sample map, prompt changes, an orbit path) and report p50/p95 after "
                                   "warm-up, the time from process start to the first frame and peak memory; then "
                                   "the renderer alone on a 32k-Gaussian head-sized scene at 256² and 512².")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--size", type=int, default=None, metavar="PX",
                   help="viewport size (default: the app's, 256 on a CPU, 512 on a GPU)")
    p.add_argument("--samples", type=int, default=60, help="measured samples per live-loop figure (>= 50)")
    p.add_argument("--frames", type=int, default=30, help="measured frames per renderer row (>= 20 recommended)")
    p.add_argument("--checkpoint", default=None, metavar="DIR", help="checkpoint folder (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr (none off a terminal)")
    p.add_argument("--silhouette", default="fit", choices=("fit", "outline", "off"),
                   help="the live loop's silhouette fit (default fit, as the app; outline: without region "
                        "following, to time that step)")
    p.add_argument("--no-engine", action="store_true", help="skip the live-loop figures")
    p.add_argument("--no-first-frame", action="store_true", help="skip the cold-start measurement")
    p.add_argument("--no-render", action="store_true", help="skip the renderer-only rows")
    p.add_argument("--no-decode", action="store_true", help="skip the network-only decode row")
    p.add_argument("--no-reconstruct", action="store_true",
                   help="skip the photo -> head rows (framing + base model: recon; base model alone: recon-net)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from models.device import resolve_device
    from models.errors import PercheadError
    from perchead_gui.bench import (bench_decode, bench_engine, bench_reconstruct, bench_render, first_frame_seconds,
                                    rows_as_dicts)

    if args.frames < 1 or args.samples < 1:
        raise PercheadError("--frames and --samples must be at least 1")
    if args.size is not None and not 16 <= args.size <= 4096:
        raise PercheadError(f"--size must be 16 to 4096 px, got {args.size}")
    device = resolve_device(args.device)
    from perchead_gui.progress import StageBars, show_progress

    bars = StageBars(show_progress(args.quiet))  # a bar per stage on stderr: what, how far, time left
    info: dict = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads()}
    try:
        if not args.no_engine:
            try:
                info.update(bench_engine(device.type, args.size, samples=args.samples, checkpoint_dir=args.checkpoint,
                                         stages=bars.start, silhouette=args.silhouette))
                info["silhouette"] = args.silhouette
            except RuntimeError as e:
                raise PercheadError(f"the live-loop benchmark failed: {e}") from e
        if not args.no_first_frame:
            tick = bars.start("first frame: a fresh process loads the models and decodes once", 1)
            size = args.size or info.get("size") or (512 if device.type != "cpu" else 256)
            try:
                info["first_frame_s"] = first_frame_seconds(device.type, int(size), args.checkpoint)
            except RuntimeError as e:
                raise PercheadError(str(e)) from e
            if tick:
                tick()
        render_rows = [] if args.no_render else bench_render(device, frames=args.frames, stages=bars.start)
        decode_rows = []
        if not args.no_decode:
            tick = bars.start(f"network-only decode: {args.frames} frames", 1)
            decode_rows = bench_decode(device, frames=args.frames, checkpoint_dir=args.checkpoint)
            if tick:
                tick()
        recon_rows = []
        if not args.no_reconstruct:
            count = max(2, min(args.frames, 10))
            tick = bars.start(f"photo -> head (perchead reconstruct): one photo {count} times", 1)
            recon_rows, note = bench_reconstruct(device, frames=count, checkpoint_dir=args.checkpoint)
            if note:
                info["reconstruct_note"] = note
            if tick:
                tick()
    finally:
        bars.close()
    info["render"], info["decode"] = rows_as_dicts(render_rows), rows_as_dicts(decode_rows)
    info["reconstruct"] = rows_as_dicts(recon_rows)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"device {info['device']}  torch {info['torch']}  threads {info['threads']}")
    if "edit_to_frame_ms_p50" in info or "first_frame_s" in info:
        print(f"live loop at {info.get('size', '-')} px, {info.get('gaussians', '-')} Gaussians "
              f"({info.get('samples', '-')} samples; style changes by {info.get('style_change_kind', '-')})")
        for key in ENGINE_KEYS:
            if key in info:
                print(f"  {key:<24}{info[key]:>10.1f}")
    rows = render_rows + decode_rows + recon_rows
    if rows:
        print(f"{'op':<10}{'backend':<10}{'size':>6}{'gaussians':>11}{'frames':>8}{'p50 ms':>9}{'p95 ms':>9}")
        for r in rows:
            print(f"{r.name:<10}{r.backend:<10}{r.size:>6}{r.gaussians:>11}{r.frames:>8}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}")
    return 0
