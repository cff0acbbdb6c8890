"""Does a base model call one part another on engine heads? (Issue 25: base run 18b labels the astronaut photo's
bouffant hair as a hat.) On the first N benchmark heads, the input view rendered with each decoded head's classes:
the share of the true ``--truth`` pixels labelled ``--as``, and the heads with no ``--as`` in their truth that show
more than 100 pixels of it.

    python experiments/base_class_confusion.py --base checkpoints/base.safetensors \
        --base runs/q19/ck18b/base.safetensors --truth hair --as hat
"""
from __future__ import annotations

import argparse
import json

import torch

from models.evaluation.benchmark import benchmark_batches
from models.networks.checkpoint import load_checkpoint
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.render import render_views


def confusion(net, batch, truth: int, called: int) -> dict[str, object]:
    with torch.no_grad():
        pred = net(*model_inputs(net.cfg, HeadBatch.from_engine(batch, None)))
    shown = labelled = 0
    invented = []
    for i, seed in enumerate(batch.seeds):
        view = render_views(pred.head(i), batch.cameras(i)[:1], classes=True).class_map[0]
        gt = batch.class_map[i, 0]
        shown += int((gt == truth).sum())
        labelled += int((view[gt == truth] == called).sum())
        extra = int((view == called).sum())
        if not (gt == called).any() and extra > 100:
            invented.append({"seed": int(seed), "pixels": extra})
    return {"share_labelled": round(labelled / max(shown, 1), 4), "true_pixels": shown, "invented_in": invented}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", action="append", default=[], help="a base checkpoint (repeatable)")
    ap.add_argument("--truth", default="hair", help="the true class")
    ap.add_argument("--as", dest="called", default="hat", help="the class it may be called")
    ap.add_argument("--heads", type=int, default=16)
    args = ap.parse_args()
    pal = palette()
    batch = benchmark_batches(args.heads, 256, torch.device("cpu"), chunk=args.heads)[0]
    report = {path: confusion(load_checkpoint(path)[0].eval(), batch, pal.id_of(args.truth), pal.id_of(args.called))
              for path in args.base}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
