"""Issue 24 item 3: does the colour a prompt names for a part reach the head? For each engine colour of the part
(clothes: the garment colours; facial hair: the natural hair colours), one prompt naming it in the engine's own
caption words, on development drawn maps (40.., outside the evaluation's 0..39) that show the part; the part's mean
front colour at 512 px against the shaded reference of that colour (assets/shaded_reference_colors_512.yaml), CIE
ΔE2000 per colour and edit model. Why: edit runs 17h and 17i turned a "white shirt" mauve while the held-out prompt
colours improved on average, and facial hair stays over the issue's ΔE 10 (docs/quality.md, twentieth session).

    python experiments/part_colour_follow.py --checkpoint checkpoints --checkpoint runs/q21/ck17i
    python experiments/part_colour_follow.py --part facial_hair --checkpoint checkpoints
"""
from __future__ import annotations

import argparse
import json

import torch

from models.cameras import canonical_view
from models.evaluation.drawn_maps import drawn_map
from models.evaluation.metrics import delta_e2000
from models.evaluation.prompt_colours import REFERENCES_512
from models.evaluation.references import region_mean_lab, shaded_reference_lab
from models.pipeline import HeadPipeline
from models.render import render
from models.synthetic.attributes import DYED_HAIR_COLORS, GARMENT_COLORS, HAIR_COLORS
from models.synthetic.captions import article

SIZE = 512
# part -> (its colours, the prompt's frame, development drawn maps that show the part)
PARTS = {
    "clothes": (GARMENT_COLORS, "a person wearing {} shirt", "40,41,42,43"),
    "facial_hair": (tuple(c for c in HAIR_COLORS if c not in DYED_HAIR_COLORS), "a man with {} beard", "44,55,60,67"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append", required=True, help="a checkpoint folder (repeatable)")
    ap.add_argument("--part", choices=sorted(PARTS), default="clothes")
    ap.add_argument("--maps", default=None, help="drawn map indices (development: 40 and on; default: the part's)")
    args = ap.parse_args()
    colours, frame, default_maps = PARTS[args.part]
    torch.set_grad_enabled(False)
    out = {}
    for folder in args.checkpoint:
        pipe = HeadPipeline(folder, "cpu")
        maps = [drawn_map(int(i), pipe.image_size).labels for i in (args.maps or default_maps).split(",")]
        camera = canonical_view().camera(SIZE)
        rows = {}
        for colour in colours:
            style = pipe.style_from_text(frame.format(f"{article(colour)} {colour.replace('_', ' ')}"))
            ref = shaded_reference_lab(args.part, colour, REFERENCES_512)
            scores = []
            for labels in maps:
                view = render(pipe.edit(labels, style), camera, classes=True)
                lab = region_mean_lab(view.rgb.clamp(0, 1), view.class_map, args.part)
                if lab is not None and ref is not None:
                    scores.append(float(delta_e2000(lab[None], ref[None])[0]))
            rows[colour] = round(sum(scores) / len(scores), 2) if scores else None
        found = [v for v in rows.values() if v is not None]
        out[folder] = {"mean": round(sum(found) / len(found), 2) if found else None, **rows}
        print(folder, json.dumps(out[folder]), flush=True)


if __name__ == "__main__":
    main()
