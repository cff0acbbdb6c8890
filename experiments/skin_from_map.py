"""Does the edit model read skin tone from the class map's shapes instead of from the prompt?

The engine leans a head's face shape on its skin tone (``ANCESTRY_LEAN`` in models/synthetic/attributes.py: the
head basis's ancestry mix is drawn from a Dirichlet that depends on the tone), so a class map's nose and lips say
something about the skin. Here the first ``--heads`` heads of a training stream no run trains on (9,100; never the
benchmark; drawn as ``sample_attributes`` draws them, without a recipe's ``own_shapes``) are each decoded with one fixed prompt per row (its own caption is not used), as the app decodes it, and the skin's mean
front colour at 256 px is compared with the head's own tone: if the prompt ruled, the skin would be the same on every
map; if the map rules, it follows the head's tone whatever the prompt says.

    python experiments/skin_from_map.py --heads 48 --checkpoint checkpoints --out runs/skin.json
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from models.cameras import canonical_view
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.attributes import SKIN_TONES, sample_attributes
from models.synthetic.sampler import HeadSampler

STREAM = 9_100
LUMA = (0.2126, 0.7152, 0.0722)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--heads", type=int, default=48)
    ap.add_argument("--prompt", action="append", default=None, help="fixed prompts (repeatable)")
    ap.add_argument("--out", default=None, help="write the report here (JSON)")
    args = ap.parse_args()
    prompts = args.prompt or ["fair skin", "medium skin", "dark skin"]
    torch.set_grad_enabled(False)
    pipe = HeadPipeline(args.checkpoint, "cpu")
    skin = palette().id_of("skin")
    size = pipe.image_size
    batch = HeadSampler("train", stream=STREAM).make_batch(args.heads, views=1, size=size)
    tones = np.array([SKIN_TONES.index(sample_attributes(int(s)).skin_tone) for s in batch.seeds])
    african = np.array([sample_attributes(int(s)).phenotype["african"] for s in batch.seeds])
    cam = [canonical_view().camera(size)]
    report = {"checkpoint": args.checkpoint, "heads": args.heads, "prompts": {}}
    for prompt in prompts:
        style = pipe.style_from_text(prompt)
        lum = []
        for b in range(args.heads):
            labels = batch.class_map[b, 0].numpy()
            pipe.fit.forget_framing()
            out = render_views(pipe.edit(labels, style), cam, background=torch.zeros(3))
            m = torch.as_tensor(labels) == skin
            lum.append(float((out.rgb[0][m] * torch.tensor(LUMA)).sum(-1).mean() * 255) if m.any() else float("nan"))
        lum = np.array(lum)
        ok = ~np.isnan(lum)
        by_tone = {SKIN_TONES[t]: round(float(lum[ok & (tones == t)].mean()), 1) for t in range(len(SKIN_TONES))
                   if (ok & (tones == t)).any()}
        row = {"luma_mean": round(float(lum[ok].mean()), 1), "luma_sd": round(float(lum[ok].std()), 1),
               "corr_with_tone": round(float(np.corrcoef(lum[ok], tones[ok])[0, 1]), 3),
               "corr_with_african_share": round(float(np.corrcoef(lum[ok], african[ok])[0, 1]), 3),
               "luma_by_true_tone": by_tone}
        report["prompts"][prompt] = row
        print(json.dumps({"prompt": prompt, **row}), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
