"""Probe (not shipped): does a majority filter on the painted map, before decoding, help drawn maps?

The map the decoder gets is filtered (k x k window, each pixel takes its window's most common class, ties keep
its own); the score is still against the map as painted, as in `perchead eval`. ``--protect-small`` leaves the
small parts (nose, eyes, brows, ears, mouth, lips, glasses) untouched and lets no pixel become one, so only
the large regions' edges are smoothed. Scored on fresh drawn maps (the dev range of
scripts/drawn_fresh_check.py) and on engine maps of seeds outside the benchmark block.

    python scripts/drawn_input_filter_probe.py [--sizes 0,3,5,7] [--protect-small] [--start 40 --count 200]
        [--engine-heads 48]
"""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

_SMALL_PARTS = ("nose", "eyes", "eyebrows", "ears", "mouth", "upper_lip", "lower_lip", "eyeglasses")


def majority_filter(labels: np.ndarray, k: int, protect_small: bool) -> np.ndarray:
    """labels [B, S, S] class ids -> the same shape, each pixel its k x k window's most common class."""
    import torch
    import torch.nn.functional as F

    from models.palette import palette

    pal = palette()
    t = torch.from_numpy(labels.astype(np.int64))
    onehot = F.one_hot(t, pal.num_classes).permute(0, 3, 1, 2).float()                       # [B, C, S, S]
    votes = F.avg_pool2d(onehot, k, stride=1, padding=k // 2, count_include_pad=False) + 1e-3 * onehot
    out = votes.argmax(1).numpy().astype(labels.dtype)
    if protect_small:
        small = np.zeros(pal.num_classes, dtype=bool)
        small[[pal.id_of(n) for n in _SMALL_PARTS]] = True
        out = np.where(small[labels] | small[out], labels, out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="0,3,5,7", help="window sizes; 0 = no filter (the baseline)")
    p.add_argument("--protect-small", action="store_true")
    p.add_argument("--start", type=int, default=40)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--engine-heads", type=int, default=48)
    args = p.parse_args(argv)

    import torch

    import models.evaluation.benchmark as bench
    from models.evaluation.drawn_maps import drawn_map
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline
    from models.synthetic.sampler import HeadSampler, is_benchmark_seed

    pipe = HeadPipeline(None, "cpu")
    maps = [drawn_map(i, pipe.image_size) for i in range(args.start, args.start + args.count)]
    sampler = HeadSampler("bench", device=pipe.device)
    seeds = [s for s in range(5_000_000, 5_000_000 + 4 * args.engine_heads) if not is_benchmark_seed(s)]
    seeds = seeds[:args.engine_heads]
    batches = [sampler.make_batch(seeds[i:i + 8], size=pipe.image_size) for i in range(0, len(seeds), 8)]
    style, embed = pipe.style_model(), TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))
    unfiltered = bench.frame_inputs
    base: list[float] = []
    for k in (int(s) for s in args.sizes.split(",")):
        bench.frame_inputs = unfiltered if k == 0 else (
            lambda m, mode, k=k: unfiltered(majority_filter(m, k, args.protect_small), mode))
        per: list[float] = []
        with torch.no_grad():
            drawn = bench.evaluate_drawn(pipe.net("edit"), style_of, maps, per_map=per)
            engine = bench.evaluate_edit(pipe.net("edit"), style_of, batches) if batches else {}
        row = {"size": k, "protect_small": args.protect_small, "drawn": round(drawn["edit_front_iou_drawn"], 4)}
        if k == 0:
            base = per
        elif base:
            d = [a - b for a, b in zip(per, base)]
            mean = sum(d) / len(d)
            row["drawn_gain"] = round(mean, 4)
            row["drawn_gain_se"] = round(math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1) / len(d)), 4)
        row.update({key: round(v, 4) for key, v in engine.items()
                    if key in ("edit_front_iou", "edit_miou_yaw0", "edit_miou_yaw90", "edit_psnr_yaw0")})
        print(json.dumps(row), flush=True)
    bench.frame_inputs = unfiltered
    return 0


if __name__ == "__main__":
    sys.exit(main())
