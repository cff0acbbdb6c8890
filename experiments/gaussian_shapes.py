"""Issue 24: the shapes of the visible Gaussians per class, engine against edit models. A streak (largest axis over
the middle one > 3) on skin draws a line where the engine's skin is round discs; run 17c's held axes left
strand-shaped template points streaky on skin (docs/quality.md, sixteenth session).

Benchmark heads (their own class map and caption in, no fitting), visible = opacity > 0.05; per class: Gaussians a
head, median axes (mm, sorted), share of streaks.

    python experiments/gaussian_shapes.py --edit checkpoints/edit.safetensors --edit runs/q17/ck17c/edit.safetensors
"""
from __future__ import annotations

import argparse
import json

import torch

from models.evaluation.benchmark import benchmark_batches
from models.evaluation.text import TextEmbedder
from models.networks.checkpoint import load_checkpoint
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.pipeline import HeadPipeline

STREAK = 3.0  # largest axis over the middle one


def shapes(heads, classes: list[str]) -> dict[str, dict[str, float]]:
    pal, out = palette(), {}
    for name in classes:
        axes = []
        for g in heads:
            shown = (g.activated_opacities() > 0.05) & (g.labels == pal.id_of(name))
            axes.append(g.activated_scales()[shown].sort(-1, descending=True).values * 1000)
        a = torch.cat(axes)
        if not len(a):
            continue
        out[name] = {"per_head": len(a) / len(heads), "axes_mm_p50": [round(v, 2) for v in a.median(0).values.tolist()],
                     "streak_share": float((a[:, 0] / a[:, 1].clamp_min(1e-9) > STREAK).float().mean())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edit", action="append", default=[], help="an edit checkpoint (repeatable)")
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--classes", default="skin,hair,eyes,upper_lip,clothes")
    args = ap.parse_args()
    classes = args.classes.split(",")
    style = HeadPipeline("checkpoints", "cpu").style_model()
    batches = benchmark_batches(args.heads, 256, torch.device("cpu"))
    report = {"engine": shapes([g for b in batches for g in b.gaussians], classes)}
    for path in args.edit:
        net, _ = load_checkpoint(path)
        heads = []
        for b in batches:
            st = style.encode_prompts(list(b.captions), TextEmbedder([])(b.captions))
            with torch.no_grad():
                pred = net.eval()(*model_inputs(net.cfg, HeadBatch.from_engine(b, st)))
            heads += [pred.head(i) for i in range(len(pred))]
        report[path] = shapes(heads, classes)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
