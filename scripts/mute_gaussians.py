"""Switch off template Gaussians a training run turned into artefacts (a streak every head shows in one place).

    python scripts/mute_gaussians.py checkpoints/edit.safetensors --index 19706 --note "run 13: forehead streak"

Each Gaussian a network predicts sits at a template point and scale (the buffers head.points and
head.base_log_scale) plus what the network adds, and the network's output layer is shared by every token, so one
Gaussian cannot be switched off through the weights. This moves its template point to the centre of the template
points within 12 cm of it (inside the head, behind the opaque surface from every side) and shrinks its template
scale to 1e-13 of a metre (below any pixel even at the network's largest scale change), then writes the file
again (fp16, atomically) with the change recorded in its metadata ("muted"). Find the index with a probe of the
decoded heads (docs/quality.md names the one for run 13); a retrain replaces the file and the mute with it.
"""
from __future__ import annotations

import argparse
import json
import sys

MUTED_LOG_SCALE = -30.0  # exp(-30 - 3) m: nothing at any resolution
NEIGHBOURS_M = 0.12


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--index", type=int, action="append", required=True, help="Gaussian index (repeatable)")
    p.add_argument("--note", default="", help="why, for the file's metadata")
    args = p.parse_args(argv)

    import torch

    from models.networks.checkpoint import load_checkpoint, save_checkpoint

    model, extra = load_checkpoint(args.checkpoint)
    points, base = model.head.points, model.head.base_log_scale  # [N, 3], [N]
    with torch.no_grad():
        for i in args.index:
            if not 0 <= i < len(points):
                print(f"index {i} is outside 0..{len(points) - 1}", file=sys.stderr)
                return 2
            near = (points - points[i]).norm(dim=-1) < NEIGHBOURS_M
            centre = points[near].mean(0)
            print(f"Gaussian {i}: template point {points[i].tolist()} -> {centre.tolist()}, "
                  f"log scale {float(base[i]):.2f} -> {MUTED_LOG_SCALE}", file=sys.stderr)
            points[i] = centre
            base[i] = MUTED_LOG_SCALE
    muted = list(extra.get("muted", [])) + [{"index": i, "note": args.note} for i in args.index]
    save_checkpoint(args.checkpoint, model, extra={**extra, "muted": muted})
    print(f"wrote {args.checkpoint}: muted {json.dumps(muted)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
