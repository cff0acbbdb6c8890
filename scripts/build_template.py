"""Build assets/template.safetensors from a pool of engine heads (see models/networks/template.py).

Usage: python scripts/build_template.py [--heads 96] [--tokens 512] [--points 48] [--coverage 0.3]

assets/template.safetensors (512 x 48, coverage 0.3) was built from engine v1 heads (2026-11-25); on engine v2 heads
fewer than a third of its points lie within 4 mm of a head's visible surface and ~30 serve the lips
(experiments/template_coverage.py). assets/template_v2.safetensors: engine v2 heads, `--points 100 --coverage 0.1
--shaped -o assets/template_v2.safetensors` (51,200 points, issue 24's "at least 50k on the GPU"; shaped: each point
the turn and stretch of its engine Gaussian; a recipe's `round_template: true` uses the points alone).
"""
from __future__ import annotations

import argparse
import time

from models.networks.template import build_template, engine_pool, save_template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--heads", type=int, default=96)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--points", type=int, default=48)
    ap.add_argument("--coverage", type=float, default=0.3,
                    help="share of points spread evenly over the pooled volume (the rest keep the pool's density)")
    ap.add_argument("--shaped", action="store_true",
                    help="each point keeps its engine Gaussian's turn and stretch (hair points start as strands)")
    ap.add_argument("-o", "--output", default="assets/template.safetensors")
    args = ap.parse_args()
    t0 = time.time()
    cloud, shapes = engine_pool(args.heads)
    template = build_template(cloud, args.tokens, args.points, coverage_share=args.coverage,
                              shapes=shapes if args.shaped else None)
    save_template(args.output, template)
    print(f"{args.output}: {template.points.shape[0]} points in {template.num_tokens} patches of "
          f"{args.points} from {cloud.shape[0]} pooled points of {args.heads} heads "
          f"(median spacing {2 * template.base_log_scale.exp().median().item() * 1000:.1f} mm) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
