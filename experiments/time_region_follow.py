"""Measured: p50 time of the silhouette fit's steps on one decoded head (outline fill, class render, registration, move, region following in all). Result: docs/performance.md "Eighth session (2026-11-27): what its changes cost"; docs/quality.md "Following the painted regions".

Time the silhouette fit's steps on one decoded head (p50 over repeats, device work synchronised).

    python experiments/time_region_follow.py --device cuda --size 512

Why: `perchead bench --silhouette outline` gives the region following's whole cost in the live loop; this
says which of its parts (the class render, the registration, the move) pays it. One JSON object on stdout.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

from models.device import is_accelerator, resolve_device, synchronize
from models.evaluation.drawn_maps import drawn_map
from models.fitting.front_view import canonical_camera, front_class_render
from models.palette import palette
from models.pipeline import HeadPipeline
from models.fitting.regions import (
    DEFAULT_FOLLOW,
    _field,
    _move_across_view,
    class_shares,
    follow_painted_regions,
)
from models.fitting.outline import fill_outline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--size", type=int, default=None, help="seg map size (default: the model's)")
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    device = resolve_device(args.device)
    pipe = HeadPipeline(None, str(device))
    net = pipe.net("edit")
    size = net.cfg.image_size
    m = drawn_map(41, size)
    labels = torch.from_numpy(m.labels.astype(np.int64)).to(device)
    head = net(labels[None], torch.zeros(1, net.cfg.style_dim, device=device)).head(0)
    if args.size and args.size != size:  # the map the app paints at another size: nearest-neighbour resample
        labels = torch.nn.functional.interpolate(labels[None, None].float(), args.size, mode="nearest")[0, 0].long()
    s = DEFAULT_FOLLOW
    res = min(s.resolution, labels.shape[-1])
    classes = palette().num_classes
    cam = canonical_camera(labels.shape[-1], str(device))
    fixed = class_shares(labels, classes, res)
    filled = fill_outline(head, labels)
    _, rendered = front_class_render(filled, min(labels.shape[-1], 2 * res))
    field = _field(class_shares(rendered, classes, res), fixed, s)

    steps = {
        "fill_outline": lambda: fill_outline(head, labels, graphed=is_accelerator(device)),  # as the live editor
        "class_render": lambda: front_class_render(filled, min(labels.shape[-1], 2 * res)),
        "registration": lambda: _field(class_shares(rendered, classes, res), fixed, s),
        "move": lambda: _move_across_view(filled, field, cam, s.back_falloff),
        "follow_total": lambda: follow_painted_regions(filled, labels),
    }
    out: dict = {"device": str(device), "gaussians": len(head), "map_px": int(labels.shape[-1]), "rounds": s.rounds,
                 "iterations": s.iterations}
    for name, fn in steps.items():
        for _ in range(5):
            fn()
        times = []
        for _ in range(args.repeats):
            synchronize(device)
            t0 = time.perf_counter()
            fn()
            synchronize(device)
            times.append((time.perf_counter() - t0) * 1000)
        out[f"{name}_ms_p50"] = round(statistics.median(times), 3)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
