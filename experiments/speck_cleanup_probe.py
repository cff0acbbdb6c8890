"""Measured: whether giving small stray components of an input map the class around them (gated by engine maps) helps drawn maps (it did not: rough 0.7182 -> 0.7184). Result: docs/quality.md "Framing normaliser" ("Specks are not what costs the rough maps").

Probe (not shipped): does removing stray specks from an input map help the edit model?

Anti-aliased brushes and JPEG leave blended colours along class edges that read as a third class
(nearest palette colour): the "rough" drawn maps carry ~200 such one- to few-pixel components
each, engine maps ~10 (splat edges). Cleanup: every connected component (8-connected) of a class
smaller than ``--min-px`` takes the most common class around it. Gate, measured on engine maps
of a training stream (never on the drawn set): a map is cleaned only when it has more small
components than any of those engine maps. Reports ``edit_front_iou_drawn`` per kind with cleanup
off / on (framing normaliser as ``--framing``), and how many benchmark engine maps the gate
touches. Needs scipy (in the development environment, not a dependency of the app).

    python experiments/speck_cleanup_probe.py --engine-maps 96 --min-px 8
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine-maps", type=int, default=96)
    p.add_argument("--min-px", type=int, default=8)
    p.add_argument("--framing", default="auto", choices=("auto", "off"))
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args(argv)

    import numpy as np
    from scipy import ndimage

    from models.evaluation.benchmark import benchmark_batches, evaluate_drawn
    from models.evaluation.drawn_maps import DrawnMap, drawn_maps
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline
    from models.synthetic.sampler import HeadSampler

    eight = np.ones((3, 3), bool)

    def small_components(m: np.ndarray) -> list[np.ndarray]:
        out = []
        for c in np.unique(m):
            lab, n = ndimage.label(m == c, structure=eight)
            if n:
                sizes = np.bincount(lab.ravel())
                out += [lab == i for i in np.nonzero(sizes < args.min_px)[0] if i > 0]
        return out

    def clean(m: np.ndarray) -> np.ndarray:
        out = m.copy()
        for comp in small_components(m):
            ring = ndimage.binary_dilation(comp, structure=eight) & ~comp
            vals = m[ring]
            if vals.size:
                out[comp] = np.bincount(vals).argmax()
        return out

    sampler = HeadSampler("train", stream=556, device="cpu")
    counts = []
    while len(counts) < args.engine_maps:
        for m in sampler.make_batch(16, views=1).class_map[:, 0].numpy().astype(np.uint8):
            counts.append(len(small_components(m)))
    gate = max(counts)
    result: dict[str, float | int] = {"engine_small_components_max": gate,
                                      "engine_small_components_mean": float(np.mean(counts)), "min_px": args.min_px}
    bench = [m for b in benchmark_batches(16, 256, "cpu") for m in b.class_map[:, 0].numpy().astype(np.uint8)]
    result["bench_maps_cleaned"] = sum(len(small_components(m)) > gate for m in bench)

    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    embed = TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps))
    maps = drawn_maps()
    result["drawn_cleaned"] = sum(len(small_components(m.labels)) > gate for m in maps)
    for name, ms in (("raw", maps), ("clean", [m if len(small_components(m.labels)) <= gate else
                                                DrawnMap(m.index, m.kind, clean(m.labels), m.prompt, m.parts)
                                                for m in maps])):
        if name == "clean":
            # scored against the map as drawn (with its specks), as edit_front_iou_drawn is: only the input changes
            raw = {m.index: m.labels for m in maps}
            scores = _scored_against(net, style_of, ms, raw, args.framing)
        else:
            scores = evaluate_drawn(net, style_of, ms, framing=args.framing)
        result.update({f"{k}_{name}": v for k, v in scores.items()})
    print(json.dumps(result, indent=1))
    return 0


def _scored_against(net, style_of, maps, reference, framing):
    """evaluate_drawn's score with decoded inputs ``maps`` and IoU references ``reference`` (index -> map)."""
    from collections import defaultdict

    import numpy as np
    import torch

    from models.cameras import canonical_view
    from models.evaluation.metrics import foreground_weighted_iou
    from models.render import render
    from models.fitting.framing import frame_maps, place_head, plan_framing

    acc = defaultdict(list)
    cam = canonical_view().camera()
    for i in range(0, len(maps), 8):
        part = maps[i:i + 8]
        maps = np.stack([m.labels for m in part])
        plans = [plan_framing(m, framing) for m in maps]  # the framing normaliser before the candidate choice
        framed = frame_maps(maps, plans)
        with torch.no_grad():
            pred = net(torch.from_numpy(framed.astype("int64")), style_of([m.prompt for m in part]))
        for b, m in enumerate(part):
            head = pred.head(b) if plans[b] is None else place_head(pred.head(b), plans[b])
            iou = foreground_weighted_iou(render(head, cam, classes=True).class_map,
                                          torch.from_numpy(reference[m.index].astype("int64")))
            acc["edit_front_iou_drawn"].append(iou)
            acc[f"edit_front_iou_drawn_{m.kind}"].append(iou)
    return {k: sum(v) / len(v) for k, v in sorted(acc.items())}


if __name__ == "__main__":
    sys.exit(main())
