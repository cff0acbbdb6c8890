"""Measured: CPU latency of the style text path for one prompt (backbone, colour features, text head; p50 / p95). Result: docs/style.md, first pass, "Results" ("Speed": p50 29 ms).

CPU latency of the whole style text path for one prompt: backbone + colour features + text head.

    python experiments/text_path_latency.py [--checkpoint checkpoints/style.safetensors] [--prompts 60] [--repeats 2]

One prompt per call, one engine thread and one torch thread (what the app does). Prompts are the
held-out v2 set's (timing only: nothing is scored). Prints p50/p95 in ms for the whole path and
for its parts.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from models.style.checkpoint import load_style_model
from models.style.paraphrases import paraphrase_set
from models.style.text_backbone import TextBackbone


def _pct(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"p50_ms": round(xs[len(xs) // 2], 2), "p95_ms": round(xs[min(len(xs) - 1, int(len(xs) * 0.95))], 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints/style.safetensors")
    ap.add_argument("--prompts", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, _ = load_style_model(args.checkpoint)
    backbone = TextBackbone(num_threads=1)
    prompts = [p.prompt for p in paraphrase_set("v2")[: args.prompts]]
    backbone.embed(prompts[0])
    total, embed, feats, head = [], [], [], []
    with torch.no_grad():
        for _ in range(args.repeats):
            for p in prompts:
                t0 = time.perf_counter()
                text = backbone.fit(p)
                e = backbone.embed(text)
                t1 = time.perf_counter()
                f = model.text_features([text])
                t2 = time.perf_counter()
                model.encode_text_embeddings(e, f)
                t3 = time.perf_counter()
                total.append((t3 - t0) * 1e3)
                embed.append((t1 - t0) * 1e3)
                feats.append((t2 - t1) * 1e3)
                head.append((t3 - t2) * 1e3)
    print(json.dumps({"prompts": len(prompts), "repeats": args.repeats, "whole": _pct(total), "backbone": _pct(embed),
                      "colour_features": _pct(feats), "text_head": _pct(head)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
