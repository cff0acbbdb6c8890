"""Measure the shaded reference colours (models/evaluation/references.py) from engine renders.

    python scripts/measure_shaded_references.py --per-value 16 -o assets/shaded_reference_colors.yaml

Picks training-stream heads (stream REFERENCE_STREAM, never benchmark seeds) until every hair
colour, skin tone and eye colour has ``--per-value`` heads, renders each at the canonical view
(256 px, black background, default engine density: the benchmark's conditions), and writes the
mean Lab of each region per attribute value, with the heads' own mean Delta E to it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time

import torch
import yaml

from models.io.atomic import check_output_path, write_bytes_atomic
from models.device import resolve_device
from models.evaluation.references import REFERENCE_STREAM, measure, missing_values, pick_seeds
from models.synthetic.head import EngineConfig
from models.synthetic.sampler import HeadSampler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-value", type=int, default=16, help="heads at least per attribute value")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--gaussians", type=int, default=EngineConfig().gaussians, help="engine density (tests: fewer)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    out = check_output_path(args.output)
    device = resolve_device(args.device)
    seeds = pick_seeds(args.per_value)
    sampler = HeadSampler("train", stream=REFERENCE_STREAM, device=device, config=EngineConfig(gaussians=args.gaussians))
    t0 = time.time()

    def batches():
        for i in range(0, len(seeds), args.batch):
            yield sampler.make_batch(seeds[i:i + args.batch], views=1, size=args.size)
            print(f"rendered {min(i + args.batch, len(seeds))} / {len(seeds)} heads", file=sys.stderr, flush=True)

    table = measure(batches())
    command = "python scripts/measure_shaded_references.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"# Shaded reference colours (CIE Lab, D65) per attribute value: the mean colour of the region in\n"
              f"# engine renders at the canonical view. See models/evaluation/references.py.\n"
              f"# Made by: {command}\n"
              f"# {dt.date.today().isoformat()}, {len(seeds)} heads, device {device} ({platform.processor() or platform.machine()}),"
              f" torch {torch.__version__}, {time.time() - t0:.0f} s\n")
    body = {"size": args.size, "engine_gaussians": args.gaussians, "stream": REFERENCE_STREAM,
            "seeds": len(seeds), "references": table}
    write_bytes_atomic(out, (header + yaml.safe_dump(body, sort_keys=False)).encode())
    print(json.dumps({"output": str(out), "heads": len(seeds), "missing": missing_values(table)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
