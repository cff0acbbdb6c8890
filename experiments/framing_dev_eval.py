"""Measured: the framing normaliser off vs auto on engine maps moved by known similarities (the development set), on benchmark engine maps and optionally on drawn maps. Result: docs/quality.md "Framing normaliser" (row "engine maps moved in 3D").

Framing normaliser on and off, on engine maps moved by known similarities (the development set:
never the drawn maps), on the benchmark's engine maps, and optionally on the drawn set.

Moved engine maps: heads of a training stream of their own, moved in 3D in front of the canonical
camera by the training augmentation's similarity (models.fitting.similarity.frame_transform: shift 5-12 px per
axis with a random sign, scale x0.90-0.96 or x1.04-1.10, roll up to 5 degrees) and re-rendered, so
the moved map is exact. Score: front-view foreground-weighted class IoU against the map, as
``edit_front_iou``. Prints one JSON object.

    python experiments/framing_dev_eval.py --moved 24 --bench 16 [--drawn 40] [--checkpoint DIR]
"""
from __future__ import annotations

import argparse
import json
import random
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moved", type=int, default=24, help="moved engine maps")
    p.add_argument("--bench", type=int, default=16, help="benchmark engine maps (unmoved)")
    p.add_argument("--drawn", type=int, default=0, help="drawn maps (report only; never tune on them)")
    p.add_argument("--stream", type=int, default=4242)
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args(argv)

    import torch

    from models.cameras import Camera, canonical_view
    from models.evaluation.benchmark import (
        benchmark_batches,
        evaluate_drawn,
        evaluate_edit,
    )
    from models.evaluation.drawn_maps import drawn_maps
    from models.evaluation.metrics import foreground_weighted_iou
    from models.evaluation.text import TextEmbedder
    from models.fitting.similarity import frame_transform
    from models.pipeline import HeadPipeline
    from models.render import render
    from models.fitting.framing import frame_maps, place_head, plan_framing
    from models.synthetic.sampler import HeadSampler
    from models.training.augment import moved_camera

    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    embed = TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps))
    cam = canonical_view().camera()
    fx = float(cam.K[0, 0])
    rng = random.Random(args.stream)
    out: dict[str, float | int] = {}

    if args.moved:
        sampler = HeadSampler("train", stream=args.stream, device="cpu")
        maps, caps = [], []
        while len(maps) < args.moved:
            batch = sampler.make_batch(8, views=1)
            for g, cap in zip(batch.gaussians, batch.captions):
                shift = tuple(rng.choice((-1, 1)) * rng.uniform(5, 12) for _ in range(2))
                scale = rng.choice((rng.uniform(0.90, 0.96), rng.uniform(1.04, 1.10)))
                t = frame_transform(cam.world_to_cam, fx, shift, scale, rng.uniform(-5, 5))
                moved = Camera(moved_camera(cam.world_to_cam, t), cam.K, cam.width, cam.height)
                maps.append(render(g, moved, classes=True).class_map.numpy().astype("uint8"))
                caps.append(cap)
        maps, caps = maps[:args.moved], caps[:args.moved]
        import numpy as np

        stack = np.stack(maps)
        for mode in ("off", "auto"):
            ious, moved_count = [], 0
            for i in range(0, len(stack), 8):
                plans = [plan_framing(m, mode) for m in stack[i:i + 8]]  # before the candidate choice
                framed = frame_maps(stack[i:i + 8], plans)
                moved_count += sum(f is not None for f in plans)
                with torch.no_grad():
                    pred = net(torch.from_numpy(framed.astype("int64")), style_of(caps[i:i + 8]))
                for b, f in enumerate(plans):
                    head = pred.head(b) if f is None else place_head(pred.head(b), f)
                    cls = render(head, cam, classes=True).class_map
                    ious.append(foreground_weighted_iou(cls, torch.from_numpy(stack[i + b].astype("int64"))))
            out[f"moved_front_iou_{mode}"] = sum(ious) / len(ious)
            out[f"moved_reframed_{mode}"] = moved_count
        out["moved_maps"] = len(stack)
        print(json.dumps(out), file=sys.stderr)

    if args.bench:
        batches = benchmark_batches(args.bench, pipe.image_size, pipe.device)
        for mode in ("off", "auto"):
            out[f"edit_front_iou_{mode}"] = evaluate_edit(net, style_of, batches, framing=mode)["edit_front_iou"]
        print(json.dumps(out), file=sys.stderr)

    if args.drawn:
        maps = drawn_maps(args.drawn, pipe.image_size)
        for mode in ("off", "auto"):
            for k, v in evaluate_drawn(net, style_of, maps, framing=mode).items():
                out[f"{k}_{mode}"] = v
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
