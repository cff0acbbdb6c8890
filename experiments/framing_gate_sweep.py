"""Measured: the framing gate's per-parameter margins: drawn maps as drawn and copies moved by known similarities, score and maps re-framed per gate. Result: docs/quality.md "Framing normaliser" ("The gate per parameter (fifth session)").

Framing gate per component: which drawn maps are re-framing candidates, and what that does to their score.

Scores the generator's drawn maps START.. (as drawn), and copies of the first 40 that are not of the "shifted"
kind moved by one known similarity each (x0.8, x1.25, 15 px down / up, 10 px right, 8 degrees), under each gate
given as JSON margins (times the engine's spread, landmark cue; models/fitting/framing.DRAWN_MARGINS). The first
gate is the baseline of the paired gains on the maps as drawn. Same scoring as `perchead eval`.

    python experiments/framing_gate_sweep.py --start 40 --count 200 \
        '{"shift_x": 4, "shift_y": 4, "log_scale": 4, "roll_deg": 4}' '{"shift_x": 4, "shift_y": 2, "log_scale": 1.5, "roll_deg": 4}'
"""
from __future__ import annotations

import argparse
import json
import math
import sys

MOVES = {"x0.8": ((0.0, 0.0), 0.8, 0.0), "x1.25": ((0.0, 0.0), 1.25, 0.0), "down15": ((0.0, 15.0), 1.0, 0.0),
         "up15": ((0.0, -15.0), 1.0, 0.0), "right10": ((10.0, 0.0), 1.0, 0.0), "roll8": ((0.0, 0.0), 1.0, 8.0)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("gates", nargs="+", help="JSON margins, e.g. '{\"shift_x\": 4, \"shift_y\": 2, ...}'")
    p.add_argument("--start", type=int, default=40)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args(argv)

    from dataclasses import replace

    import numpy as np
    import torch

    import models.fitting.framing as framing
    from models.evaluation.benchmark import evaluate_drawn
    from models.evaluation.drawn_maps import drawn_map, similarity
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline(args.checkpoint, "cpu")
    style, embed = pipe.style_model(), TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))  # noqa: E731
    as_drawn = [drawn_map(i, pipe.image_size) for i in range(args.start, args.start + args.count)]
    sources = [m for m in as_drawn if m.kind != "shifted"][:40]
    sets = {"as_drawn": as_drawn, **{name: [replace(m, labels=similarity(m.labels, shift, scale, roll)) for m in sources]
                                     for name, (shift, scale, roll) in MOVES.items()}}
    shipped = dict(framing.DRAWN_MARGINS)
    baseline: list[float] | None = None
    try:
        for gate in args.gates:
            framing.DRAWN_MARGINS = {**shipped, **{k: float(v) for k, v in json.loads(gate).items()}}
            row: dict[str, object] = {"gate": framing.DRAWN_MARGINS}
            for name, maps in sets.items():
                per: list[float] = []
                with torch.no_grad():
                    evaluate_drawn(pipe.net("edit"), style_of, maps, per_map=per)
                row[name] = round(float(np.mean(per)), 4)
                # candidates: since the fifth session a candidate is decoded both ways and kept only if it follows
                # the painting better (models/fitting/candidates.py); before it, every candidate was re-framed
                row[f"{name}_candidates"] = sum(framing.plan_framing(m.labels) is not None for m in maps)
                if name == "as_drawn":
                    if baseline is None:
                        baseline = per
                    else:
                        d = np.array(per) - np.array(baseline)
                        row["as_drawn_gain"] = round(float(d.mean()), 4)
                        row["as_drawn_gain_se"] = round(float(d.std(ddof=1) / math.sqrt(len(d))), 4)
                        row["as_drawn_changed"] = int((np.abs(d) > 1e-6).sum())
            row["moved_mean"] = round(float(np.mean([row[k] for k in MOVES])), 4)
            print(json.dumps(row), flush=True)
    finally:
        framing.DRAWN_MARGINS = shipped
    return 0


if __name__ == "__main__":
    sys.exit(main())
