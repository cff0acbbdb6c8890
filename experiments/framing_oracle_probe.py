"""Measured: how much of what moved drawings lose is the framing estimate: decoded as drawn, with the normaliser, and with the true move undone (oracle). Result: docs/quality.md "Framing normaliser" ("Where moved drawings still lost").

How much of what moved drawings lose is the framing estimate: copies of 40 fresh drawn maps (40.., not the
"shifted" kind) moved by a known similarity, decoded (a) as drawn, (b) with the shipped framing normaliser,
(c) with the true move undone instead of the estimate ("oracle"). CPU, same scoring as `perchead eval`.
Since the fifth session's final code (b) and (c) also go through the as-drawn-or-re-framed choice
(models/fitting/candidates.py); the numbers in docs/quality.md were measured before it existed.

    python experiments/framing_oracle_probe.py
"""
from __future__ import annotations

import json
import sys

MOVES = {"down15": ((0.0, 15.0), 1.0, 0.0), "x1.25": ((0.0, 0.0), 1.25, 0.0), "x0.8": ((0.0, 0.0), 0.8, 0.0)}


def main() -> int:
    from dataclasses import replace

    import numpy as np
    import torch

    import models.fitting.framing as framing
    from models.evaluation.benchmark import evaluate_drawn
    from models.evaluation.drawn_maps import drawn_map, similarity
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline(None, "cpu")
    style, embed = pipe.style_model(), TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))
    sources = [m for m in (drawn_map(i, pipe.image_size) for i in range(40, 100)) if m.kind != "shifted"][:40]
    shipped = framing.plan_framing

    def score(maps) -> float:
        per: list[float] = []
        with torch.no_grad():
            evaluate_drawn(pipe.net("edit"), style_of, maps, per_map=per)
        return round(float(np.mean(per)), 4)

    out: dict[str, object] = {"unmoved": score(sources)}
    try:
        for name, (shift, scale, roll) in MOVES.items():
            maps = [replace(m, labels=similarity(m.labels, shift, scale, roll)) for m in sources]
            truth = {m.labels.astype(np.uint8).tobytes(): framing.Framing(shift, scale, roll, "landmarks", pipe.image_size)
                     for m in maps}  # frame_inputs gets copies of the maps: found again by their pixels
            row = {}
            for mode, plan in (("as_drawn", lambda labels, mode="auto": None), ("estimated", shipped),
                               ("oracle", lambda labels, mode="auto", truth=truth: truth.get(
                                   np.asarray(labels).astype(np.uint8).tobytes()))):
                framing.plan_framing = plan
                row[mode] = score(maps)
            out[name] = row
    finally:
        framing.plan_framing = shipped
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
