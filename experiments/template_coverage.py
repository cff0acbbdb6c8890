"""Issue 24 item 2: how many of the template's points can serve each part of a head?

The edit model decodes every head from one template (assets/template.safetensors: 512 patches x 48 points, each
point's Gaussian an offset from it). For engine heads of a stream no template or run was built from, each template
point is given the class of the nearest visible engine Gaussian if one lies within ``--radius`` mm (else it serves
nothing on that head). Reported per template: points per class per head (mean), the share serving nothing, and for
comparison the engine's own visible Gaussians per class. Candidate templates are built on the fly with
models/networks/template.build_template from engine v2 heads (``--build N:SHARE``: N heads, coverage share).

    python experiments/template_coverage.py --heads 8 --build 96:0.3 --build 96:0.1
"""
from __future__ import annotations

import argparse
import json

import torch

from models.networks.template import build_template, engine_pool, load_template
from models.palette import palette
from models.synthetic.sampler import HeadSampler

SCORE_STREAM = 9_200


def coverage(points: torch.Tensor, heads, radius_m: float) -> dict[str, float]:
    names = palette().names
    counts = torch.zeros(len(names) + 1)
    for g in heads:
        keep = g.activated_opacities() > 0.2
        means, labels = g.means[keep], g.labels[keep]
        best_d = torch.full((points.shape[0],), float("inf"))
        best_c = torch.zeros(points.shape[0], dtype=torch.long)
        for i in range(0, points.shape[0], 4096):
            d = torch.cdist(points[i:i + 4096], means)
            v, j = d.min(1)
            best_d[i:i + 4096], best_c[i:i + 4096] = v, labels[j]
        cls = torch.where(best_d <= radius_m, best_c, torch.full_like(best_c, len(names)))
        counts += torch.bincount(cls, minlength=len(names) + 1).float()
    counts /= len(heads)
    out = {names[c]: round(counts[c].item(), 1) for c in range(1, len(names))}
    out["none"] = round(counts[-1].item(), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--radius", type=float, default=4.0, help="mm")
    ap.add_argument("--build", action="append", default=[], help="HEADS:COVERAGE_SHARE[:POINTS_PER_TOKEN]")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    heads = HeadSampler("train", stream=SCORE_STREAM).make_batch(args.heads, views=1, size=32).gaussians
    names = palette().names
    engine = torch.zeros(len(names))
    for g in heads:
        engine += torch.bincount(g.labels[g.activated_opacities() > 0.2], minlength=len(names)).float()
    report = {"engine_visible_gaussians": {names[c]: round(engine[c].item() / len(heads), 1) for c in range(1, len(names))}}
    shipped = load_template("assets/template.safetensors")
    report["shipped (v1 heads, 96:0.3)"] = coverage(shipped.points, heads, args.radius / 1000)
    print(json.dumps(report, indent=1), flush=True)
    cache: dict[int, torch.Tensor] = {}
    for spec in args.build:
        n, share, *k = spec.split(":")
        k = int(k[0]) if k else 48
        cloud = cache.setdefault(int(n), engine_pool(int(n))[0])
        t = build_template(cloud, 512, k, coverage_share=float(share))
        report[f"v2 heads {spec}"] = coverage(t.points, heads, args.radius / 1000)
        print(json.dumps({spec: report[f"v2 heads {spec}"]}), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
