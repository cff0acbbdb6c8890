"""Does the edit model read skin tone from the class map's shapes instead of from the prompt?

The engine leans a head's face shape on its skin tone (``ANCESTRY_LEAN`` in models/synthetic/attributes.py: the
head basis's ancestry mix is drawn from a Dirichlet that depends on the tone), so a class map's nose and lips say
something about the skin. Here the first ``--heads`` heads of a training stream no run trains on (9,100; never the
benchmark; drawn as ``sample_attributes`` draws them, without a recipe's ``own_shapes``) are each decoded with one fixed prompt per row (its own caption is not used), as the app decodes it, and the skin's mean
front colour at 256 px is compared with the head's own tone: if the prompt ruled, the skin would be the same on every
map; if the map rules, it follows the head's tone whatever the prompt says.

With ``--image-styles N`` it also takes the first N light-toned heads (very light, light) and styles each by its
own canonical render (the app's reference-image path) and by its own caption, decoded on its own map and on the
dark-toned heads' maps: whether the style space can carry light skin past the map at all, and whether the text path
or the decoder loses it.

    python experiments/skin_from_map.py --heads 48 --checkpoint checkpoints --image-styles 4 --out runs/skin.json
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from models.cameras import canonical_view
from models.evaluation.metrics import LUMA
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.attributes import SKIN_TONES, sample_attributes
from models.synthetic.sampler import HeadSampler

STREAM = 9_100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--heads", type=int, default=48)
    ap.add_argument("--prompt", action="append", default=None, help="fixed prompts (repeatable)")
    ap.add_argument("--image-styles", type=int, default=0, help="light-toned heads styled by their own render")
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

    def skin_luma(b: int, style: torch.Tensor) -> float:
        """Head b's map decoded with ``style`` as the app decodes it: the skin's mean front luma (0-255)."""
        labels = batch.class_map[b, 0].numpy()
        pipe.fit.forget_framing()
        out = render_views(pipe.edit(labels, style), cam, background=torch.zeros(3))
        m = torch.as_tensor(labels) == skin
        return float((out.rgb[0][m] * torch.tensor(LUMA)).sum(-1).mean() * 255) if m.any() else float("nan")

    report = {"checkpoint": args.checkpoint, "heads": args.heads, "prompts": {}, "image_styles": []}
    for prompt in prompts:
        style = pipe.style_from_text(prompt)
        lum = np.array([skin_luma(b, style) for b in range(args.heads)])
        ok = ~np.isnan(lum)
        by_tone = {SKIN_TONES[t]: round(float(lum[ok & (tones == t)].mean()), 1) for t in range(len(SKIN_TONES))
                   if (ok & (tones == t)).any()}
        row = {"luma_mean": round(float(lum[ok].mean()), 1), "luma_sd": round(float(lum[ok].std()), 1),
               "corr_with_tone": round(float(np.corrcoef(lum[ok], tones[ok])[0, 1]), 3),
               "corr_with_african_share": round(float(np.corrcoef(lum[ok], african[ok])[0, 1]), 3),
               "luma_by_true_tone": by_tone}
        report["prompts"][prompt] = row
        print(json.dumps({"prompt": prompt, **row}), flush=True)
    dark_maps = [b for b in range(args.heads) if SKIN_TONES[tones[b]] in ("dark", "very_dark")][:6]
    light = [b for b in range(args.heads) if SKIN_TONES[tones[b]] in ("very_light", "light")][:args.image_styles]
    for b in light:
        m = batch.class_map[b, 0] == skin
        truth = float((batch.rgb[b, 0][m] * torch.tensor(LUMA)).sum(-1).mean() * 255)
        rgba = torch.cat([batch.rgb[b, 0], batch.alpha[b, 0, ..., None]], -1).numpy()
        row = {"head": b, "tone": SKIN_TONES[tones[b]], "truth_luma": round(truth, 1)}
        for name, style in (("image", pipe.style_from_image(rgba)), ("caption", pipe.style_from_text(batch.captions[b]))):
            row[name] = {"own_map": round(skin_luma(b, style), 1),
                         "dark_maps": round(float(np.mean([skin_luma(d, style) for d in dark_maps])), 1)}
        report["image_styles"].append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
