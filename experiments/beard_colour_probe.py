"""Issue 24 item 3: does the style space carry a beard's colour apart from the hair's? Prompts "a man with <A> hair
and a <B> beard" for every pair of the engine's natural hair colours (its own first words); a least-squares linear
probe on the style vectors predicts the hair colour and, separately, the beard colour, scored by leave-one-out
accuracy over the prompts (chance 1/9). The style model has an attribute head for the hair's colour and none for
the beard's (models/style/encoders.py: ATTRIBUTES); "a man with a white beard" reads as blonde hair and comes out
with a dark beard (docs/quality.md, twentieth session). Also what the edit model does with it: the beard's mean
front colour on development drawn map 44 per beard colour, hair fixed to black.

    python experiments/beard_colour_probe.py --checkpoint checkpoints
"""
from __future__ import annotations

import argparse
import json

import torch

from models.cameras import canonical_view
from models.evaluation.drawn_maps import drawn_map
from models.pipeline import HeadPipeline
from models.render import render
from models.synthetic.attributes import DYED_HAIR_COLORS, HAIR_COLOR_WORDS, HAIR_COLORS
from models.synthetic.captions import article
from models.palette import palette


def loo_accuracy(x: torch.Tensor, y: torch.Tensor, classes: int, ridge: float = 1e-2) -> float:
    """Leave-one-out accuracy of a ridge least-squares probe x [N, D] -> one-hot y [N] (in closed form per fold)."""
    x = torch.cat([x, torch.ones(len(x), 1)], 1).double()
    t = torch.nn.functional.one_hot(y, classes).double()
    hits = 0
    for i in range(len(x)):
        keep = torch.arange(len(x)) != i
        a = x[keep]
        w = torch.linalg.solve(a.T @ a + ridge * torch.eye(a.shape[1], dtype=a.dtype), a.T @ t[keep])
        hits += int((x[i] @ w).argmax() == y[i])
    return hits / len(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    pipe = HeadPipeline(args.checkpoint, "cpu")
    colours = [c for c in HAIR_COLORS if c not in DYED_HAIR_COLORS]
    word = {c: HAIR_COLOR_WORDS[c][0] for c in colours}
    pairs = [(h, b) for h in colours for b in colours]
    prompt = lambda h, b: f"a man with {word[h]} hair and {article(word[b])} {word[b]} beard"
    styles = torch.cat([pipe.style_from_text(prompt(h, b)).float().cpu() for h, b in pairs])
    hair = torch.tensor([colours.index(h) for h, _ in pairs])
    beard = torch.tensor([colours.index(b) for _, b in pairs])
    out = {"prompts": len(pairs), "hair_colour_loo": loo_accuracy(styles, hair, len(colours)),
           "beard_colour_loo": loo_accuracy(styles, beard, len(colours))}
    fh = palette().id_of("facial_hair")
    labels = drawn_map(44, pipe.image_size).labels
    camera = canonical_view().camera(512)
    beards = {}
    for b in colours:
        view = render(pipe.edit(labels, pipe.style_from_text(prompt("black", b))), camera, classes=True)
        m = view.class_map == fh
        beards[b] = [round(float(v) * 255) for v in view.rgb.clamp(0, 1)[m].mean(0)] if m.any() else None
    out["beard_rgb_black_hair"] = beards
    print(json.dumps(out))


if __name__ == "__main__":
    main()
