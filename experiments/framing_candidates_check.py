"""Measured: front IoU of drawn maps 40-79 and the second drawer's hand maps through HeadPipeline.edit with 3, 4 or 5 framing candidates. Result: docs/quality.md "Two more framing candidates (eighth session)".

Front IoU of drawn maps through the app's edit path with fewer or all framing candidates (models/fitting/candidates.py).

Development block of the drawn-map generator (maps ``--start``.. ``--start + --count - 1``; the eval's are 0..39)
and, with ``--hand DIR``, every PNG in DIR (e.g. ``python scripts/make_hand_maps.py DIR``: the second drawer's).
``--candidates 3``: as drawn / estimate / half (the seventh session's); ``4``: + the sideways part; ``5``: + the
outline's framing (shipped). One JSON line per map, then the means.

    python experiments/framing_candidates_check.py --start 40 --count 40 --hand /tmp/hand --candidates 5
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start", type=int, default=40)
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--hand", type=Path, default=None, help="also every PNG in this folder (default style prompt)")
    p.add_argument("--candidates", type=int, choices=(3, 4, 5), default=5)
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from models.fitting import candidates as framing_choice
    from models.cameras import canonical_view
    from models.evaluation.drawn_maps import drawn_map
    from models.evaluation.metrics import foreground_weighted_iou
    from models.evaluation.text import TextEmbedder
    from models.pipeline import DEFAULT_STYLE_PROMPT, HeadPipeline
    from models.render import render
    from models.io.segmap import load_segmap
    from models.fitting.framing import Framing

    full = framing_choice.candidates
    if args.candidates < 5:  # the ablation: this process only
        k = args.candidates
        framing_choice.candidates = lambda plan, outline=None: full(plan, None)[:k]
    pipe = HeadPipeline(device="cpu")
    style_model, embed = pipe.style_model(), TextEmbedder([])

    def score(labels: np.ndarray, prompt: str) -> tuple[float, Framing | None]:
        pipe.fit.forget_framing()  # each map is a new document
        head = pipe.edit(labels, style_model.encode_prompts([prompt], embed([prompt])))
        cls = render(head, canonical_view().camera(), classes=True).class_map
        return float(foreground_weighted_iou(cls, torch.from_numpy(labels.astype(np.int64)))), pipe.fit.last_framing

    maps = [(str(i), m.kind, m.labels, m.prompt) for i in range(args.start, args.start + args.count)
            for m in [drawn_map(i)]]
    if args.hand is not None:
        maps += [(f.name, "hand", load_segmap(f, size=pipe.image_size).labels, DEFAULT_STYLE_PROMPT)
                 for f in sorted(args.hand.glob("*.png"))]
    t0, means = time.time(), {}
    for name, kind, labels, prompt in maps:
        iou, f = score(labels, prompt)
        framing = None if f is None else [round(f.shift_px[0], 1), round(f.shift_px[1], 1), round(f.scale, 3),
                                          round(f.roll_deg, 1)]
        print(json.dumps({"map": name, "kind": kind, "iou": round(iou, 4), "framing": framing}), flush=True)
        means.setdefault("hand" if kind == "hand" else "drawn", []).append(iou)
    print(json.dumps({"candidates": args.candidates, **{k: round(sum(v) / len(v), 4) for k, v in means.items()},
                      "seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
