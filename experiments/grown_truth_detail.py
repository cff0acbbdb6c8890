"""Issue 24 item 2: how much detail does an engine head keep when its Gaussians are made like the edit model's?

The engine's own Gaussians of a head (training stream 9,100, never the benchmark), scored against themselves at
512 px, yaw 0 / 45 / 90 / 180 (experiments/gaussian_capacity.py: score), after: every Gaussian grown x1.5 / 2 / 3
(the edit model's visible Gaussians are ~1.7x the engine's), every Gaussian made round (a sphere of its largest
axis: no strands), and 9,000 of them kept (the edit model's visible count) grown to cover.

    python experiments/grown_truth_detail.py --heads 0,3
"""
from __future__ import annotations

import argparse
import json
import math

import torch
from gaussian_capacity import score  # experiments/, beside this file

from models.gaussians import Gaussians
from models.synthetic.sampler import HeadSampler

STREAM = 9_100


def variants(t: Gaussians) -> dict[str, Gaussians]:
    out = {f"grown x{g}": Gaussians(t.means, t.quats, t.log_scales + math.log(g), t.opacity_logits, t.sh, t.labels)
           for g in (1.5, 2.0, 3.0)}
    round_scales = t.log_scales.max(-1, keepdim=True).values.expand_as(t.log_scales).contiguous()
    out["round"] = Gaussians(t.means, t.quats, round_scales, t.opacity_logits, t.sh, t.labels)
    sub = t[torch.randperm(len(t), generator=torch.Generator().manual_seed(0))[:9000]]
    grow = math.log(len(t) / 9000) / 2
    out["9,000 kept, grown"] = Gaussians(sub.means, sub.quats, sub.log_scales + grow, sub.opacity_logits, sub.sh,
                                         sub.labels)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heads", default="0,3", help="indices into the stream")
    args = ap.parse_args()
    picks = [int(i) for i in args.heads.split(",")]
    sampler = HeadSampler("train", stream=STREAM)
    seeds = sampler.next_seeds(max(picks) + 1)
    batch = sampler.make_batch([seeds[i] for i in picks], views=1, size=64)
    for i, truth in zip(picks, batch.gaussians):
        for name, g in variants(truth).items():
            print(json.dumps({"head": i, "variant": name, **{k: round(v, 4) for k, v in score(g, truth, 512).items()}}),
                  flush=True)


if __name__ == "__main__":
    main()
