"""Measured: drawn-map front IoU per silhouette mode (off / outline / fit, paired gain over off; "carve" until carving went in the fourteenth session) on generator maps outside the eval set. Result: docs/quality.md "Silhouette fit: carving and filling" ("Checked on maps nobody had looked at"), "Framing normaliser".

Drawn-map scores on maps the eval set does not hold: the same generator (models/evaluation/drawn_maps.py)
from map index START on, so what was designed while looking at the first 40 (the framing normaliser's
thresholds, the silhouette fit's rules) can be checked on maps nobody has looked at.

    python experiments/drawn_fresh_check.py --checkpoint checkpoints [--start 40 --count 200] [--modes off,outline,fit]
        [--framing auto|off]

Prints JSON: per silhouette mode, the mean front IoU over the maps and per kind, plus each mode's gain over
"off" with its paired standard error. Same scoring as `perchead eval` (`evaluate_drawn`).
"""
from __future__ import annotations

import argparse
import json
import math
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--start", type=int, default=40, help="first map index (the eval set is 0..39)")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--modes", default="off,outline,fit")
    p.add_argument("--device", default="cpu")
    p.add_argument("--framing", default="auto", choices=("auto", "off"))
    args = p.parse_args(argv)

    import torch

    from models.evaluation.benchmark import evaluate_drawn
    from models.evaluation.drawn_maps import DRAWN_COUNT, drawn_map
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline

    if args.start < DRAWN_COUNT:
        print(f"note: maps {args.start}..{DRAWN_COUNT - 1} belong to the eval set", file=sys.stderr)
    pipe = HeadPipeline(args.checkpoint, args.device)
    maps = [drawn_map(i, pipe.image_size) for i in range(args.start, args.start + args.count)]
    style = pipe.style_model()
    embed = TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))  # noqa: E731
    per_map: dict[str, list[float]] = {}
    out: dict[str, dict[str, float]] = {}
    for mode in args.modes.split(","):
        per_map[mode] = []
        with torch.no_grad():
            res = evaluate_drawn(pipe.net("edit"), style_of, maps, framing=args.framing, silhouette=mode,
                                 per_map=per_map[mode])
        out[mode] = {k.removeprefix("edit_front_iou_drawn").lstrip("_") or "all": round(v, 4) for k, v in res.items()}
    if "off" in per_map:
        for mode, vals in per_map.items():
            if mode == "off":
                continue
            d = [a - b for a, b in zip(vals, per_map["off"])]
            mean = sum(d) / len(d)
            sd = math.sqrt(sum((x - mean) ** 2 for x in d) / max(1, len(d) - 1))
            out[mode]["gain_over_off"] = round(mean, 4)
            out[mode]["gain_se"] = round(sd / math.sqrt(len(d)), 4)
    print(json.dumps({"maps": f"{args.start}..{args.start + args.count - 1}", **out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
