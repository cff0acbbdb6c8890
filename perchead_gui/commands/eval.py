"""``perchead eval [--json]``: the shipped models on the engine's fixed held-out benchmark."""
from __future__ import annotations

import argparse
import json
import math


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the shipped models on the fixed held-out benchmark",
                       description="Evaluate base and edit models on benchmark heads (seeds training never "
                                   "sees) at yaw 0, +-45, +-90, 180, plus prompt understanding on the held-out "
                                   "paraphrase set.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--heads", type=int, default=16, help="benchmark heads to use (default 16)")
    p.add_argument("--checkpoint", default=None, metavar="DIR")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.errors import PercheadError
    from models.evaluation.suite import run_benchmark

    if not 1 <= args.heads <= 1000:
        raise PercheadError("--heads must be between 1 and 1000")
    result = run_benchmark(args.checkpoint, args.device, args.heads)
    if args.json:
        print(json.dumps(result, indent=2, default=float))
        return 0
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else str(value)
        print(f"{key:<32}{shown}")
    return 0
