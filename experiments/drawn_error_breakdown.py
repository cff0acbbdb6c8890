"""Measured: per drawn-map kind, each class's share of the front-view error pixels and the largest drawn -> output confusions (too big / too small / other class). Result: docs/quality.md "Silhouette fit: carving and filling" ("What remains after the fit"), "Framing normaliser".

Where drawn maps lose front IoU: per kind, each class's share of the error pixels and the largest
drawn -> output confusions, for the shipped edit model with the framing normaliser and the silhouette
fit as the app runs them; all 40 maps together: wrong pixels where the output is too big
(drawn background), too small (output background) or of another class.

    python experiments/drawn_error_breakdown.py [--checkpoint DIR] [--framing auto|off] [--silhouette fit|outline|off]
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--framing", default="auto", choices=("auto", "off"))
    p.add_argument("--silhouette", default="fit", choices=("fit", "outline", "off"))
    args = p.parse_args(argv)

    from collections import defaultdict

    import numpy as np
    import torch

    from models.cameras import canonical_view
    from models.evaluation.drawn_maps import drawn_maps
    from models.evaluation.text import TextEmbedder
    from models.palette import palette
    from models.pipeline import HeadPipeline
    from models.render import render
    from models.fitting import MapFitter

    pal = palette()
    n = pal.num_classes
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    cam = canonical_view().camera()
    maps = drawn_maps()
    prompts = [m.prompt for m in maps]
    with torch.no_grad():
        fitted = MapFitter(args.framing, args.silhouette).decode(
            net, np.stack([m.labels for m in maps]).astype(np.int64),
            style.encode_prompts(prompts, TextEmbedder([])(prompts)))
    conf: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((n, n)))  # kind -> [drawn, output] pixel counts
    for i, m in enumerate(maps):
        head = fitted[i].settled()
        out = render(head, cam, classes=True).class_map.numpy()
        np.add.at(conf[m.kind], (m.labels.ravel().astype(int), out.ravel()), 1)
    for kind, c in conf.items():
        inter = np.diag(c)[1:]
        union = (c.sum(0) + c.sum(1) - np.diag(c))[1:]
        err = union - inter
        top = np.argsort(-err)[:4]
        print(f"{kind}: error pixels by class: " + ", ".join(
            f"{pal.name_of(int(j) + 1)} {err[j] / err.sum():.0%} (IoU {inter[j] / max(union[j], 1):.2f})" for j in top))
        off = c.copy()
        np.fill_diagonal(off, 0)
        pairs = np.dstack(np.unravel_index(np.argsort(-off.ravel())[:4], off.shape))[0]
        print("   largest confusions (drawn -> output, share of wrong pixels): " + ", ".join(
            f"{pal.name_of(int(a))} -> {pal.name_of(int(b))} {off[a, b] / off.sum():.0%}" for a, b in pairs))
    total = sum(conf.values())
    wrong = total.copy()
    np.fill_diagonal(wrong, 0)
    share = {"too big (drawn background)": wrong[0].sum(), "too small (output background)": wrong[1:, 0].sum(),
             "another class": wrong[1:, 1:].sum()}
    print("all maps, wrong pixels: " + ", ".join(f"{k} {v / wrong.sum():.0%}" for k, v in share.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
