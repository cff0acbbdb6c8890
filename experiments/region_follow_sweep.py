"""Measured: region-following settings on drawn maps 40.. (front IoU, paired gains) and training-stream engine heads (front IoU, mIoU per view). Result: docs/quality.md "Following the painted regions (shipped in the seventh session)".

Choose the region-following settings (models/fitting/regions.py) on maps outside the benchmark.

    python experiments/region_follow_sweep.py --start 40 --count 40 --engine 16 --grid outline,default,iters=30,smooth=3

Decodes each drawn map (maps ``start``..``start+count-1``; the eval set is 0..39) and each engine head of a
training stream (not the benchmark's heads) once, as the app does (framing choice with the shipped fit), then
applies the outline fill, region following under each setting (or none: 'outline') and carving, and
scores: drawn maps by the front IoU (per map, paired against the first setting), engine heads by front IoU
and class mIoU per view. One JSON line per setting on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace

import torch

from models.evaluation import benchmark as bm
from models.evaluation.drawn_maps import drawn_map
from models.evaluation.metrics import foreground_weighted_iou
from models.evaluation.text import TextEmbedder
from models.fitting import MapFitter, PaintedFit
from models.fitting.regions import DEFAULT_FOLLOW, FollowSettings
from models.networks.inputs import HeadBatch, model_inputs
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.sampler import HeadSampler, benchmark_cameras, training_seed

_KEYS = {"res": "resolution", "render": "render_scale", "rounds": "rounds", "iters": "iterations", "smooth": "smooth_px",
         "move": "max_move_px", "back": "back_falloff"}


def parse_setting(text: str) -> FollowSettings | None:
    """'outline' -> None (the fit without region following); 'default' (the shipped settings) or changes
    to it such as 'iters=20+smooth=3+back=none' -> settings."""
    if text == "outline":
        return None
    s = DEFAULT_FOLLOW
    for part in text.split("+") if text != "default" else ():
        key, value = part.split("=")
        field = _KEYS[key]
        s = replace(s, **{field: None if value == "none" else type(getattr(DEFAULT_FOLLOW, field) or 1.0)(value)})
    return s


def fitted(f: PaintedFit, s: FollowSettings | None):
    """The app's settled head (``PaintedFit.settled``), with the region following's settings ``s`` (None: none).
    (Carving, a third step measured with '+nocarve' settings at commit 'region_follow_sweep: +nocarve', is gone.)"""
    return (f if s is None else f.followed(s)).head


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--start", type=int, default=40)
    p.add_argument("--count", type=int, default=60)
    p.add_argument("--engine", type=int, default=16, help="training-stream heads (stream --stream)")
    p.add_argument("--stream", type=int, default=7)
    p.add_argument("--grid", default="outline,default", help="comma-separated settings (see parse_setting)")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    size = pipe.image_size
    embed = TextEmbedder()
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))

    t0 = time.time()
    maps = [drawn_map(i, size) for i in range(args.start, args.start + args.count)]
    drawn: list[tuple[PaintedFit, torch.Tensor]] = []
    for i in range(0, len(maps), 8):
        part = maps[i:i + 8]
        labels = torch.stack([torch.from_numpy(m.labels.astype("int64")) for m in part])
        heads = MapFitter().decode(net, labels.numpy(), style_of([m.prompt for m in part]))
        drawn += list(zip(heads, labels))
    sampler = HeadSampler("bench", device="cpu")
    seeds = [training_seed(args.stream, i) for i in range(args.engine)]
    engine = []
    for i in range(0, len(seeds), 8):
        batch = sampler.make_batch(seeds[i:i + 8], size=size)
        labels, st = model_inputs(net.cfg, HeadBatch.from_engine(batch, style_of(batch.captions)))
        heads = MapFitter().decode(net, labels.numpy(), st)
        engine += [(heads[b], labels[b], batch, b) for b in range(len(heads))]
    print(f"# decoded {len(drawn)} drawn maps and {len(engine)} engine heads in {time.time() - t0:.0f} s",
          file=sys.stderr)

    front = benchmark_cameras(size)[:1]
    base: list[float] | None = None
    for text in args.grid.split(","):
        s = parse_setting(text)
        t0 = time.time()
        per = []
        for g, labels in drawn:
            out = render_views(fitted(g, s), front, background=torch.zeros(3))
            per.append(foreground_weighted_iou(out.class_map[0], labels))
        kinds: dict[str, list[float]] = {}
        for m, v in zip(maps, per):
            kinds.setdefault(m.kind, []).append(v)
        acc: dict[str, list[float]] = defaultdict(list)
        for g, labels, batch, b in engine:
            out = bm._view_metrics("edit", fitted(g, s), batch, b, acc)
            acc["edit_front_iou"].append(foreground_weighted_iou(out.class_map[0], batch.class_map[b, 0]))
        row = {"setting": text, "drawn": round(sum(per) / len(per), 4),
               **{f"drawn_{k}": round(sum(v) / len(v), 4) for k, v in sorted(kinds.items())},
               **{k: round(sum(v) / len(v), 4) for k, v in sorted(acc.items())
                  if k == "edit_front_iou" or k.startswith(("edit_miou", "edit_detail"))}}
        if base is None:
            base = per
        else:
            d = [a - b for a, b in zip(per, base)]
            row["drawn_gain"] = round(sum(d) / len(d), 4)
            row["better_worse"] = [sum(x > 0.001 for x in d), sum(x < -0.001 for x in d)]
        row["seconds"] = round(time.time() - t0, 1)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
