"""Hand-drawn maps (inputs the engine never made) decoded by several edit models, from four sides at 512 px.

Each ``--case FILE:PROMPT`` is a map of ``--maps`` (``scripts/make_hand_maps.py`` draws nine) with the prompt to
decode it with, as the app decodes it; rows are the cases, each model in turn, columns yaw 0 / 45 / 90 / 180.

    python scripts/make_hand_maps.py /tmp/hand
    python experiments/hand_map_views.py --maps /tmp/hand --checkpoint A --checkpoint B -o OUT.jpg \
        --case "a_plain.png:short black hair, fair skin, green eyes, red shirt"
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from models.cameras import canonical_view, orbit_camera
from models.io.segmap import load_segmap
from models.pipeline import HeadPipeline
from models.render import render_views

YAWS = (0.0, 45.0, 90.0, 180.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maps", required=True, help="folder of palette-coloured maps")
    ap.add_argument("--checkpoint", action="append", required=True, help="a checkpoint folder (repeatable)")
    ap.add_argument("--case", action="append", required=True, help="FILE:PROMPT (repeatable)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--shown", type=int, default=256, help="tile size in the saved picture")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    cases = [c.split(":", 1) for c in args.case]
    view = canonical_view()
    rows: dict[tuple[int, int], torch.Tensor] = {}
    for m, ck in enumerate(args.checkpoint):
        pipe = HeadPipeline(ck, device="cpu")
        for c, (name, prompt) in enumerate(cases):
            labels = load_segmap((Path(args.maps) / name).read_bytes(), labels="palette", size=pipe.image_size).labels
            pipe.fit.forget_framing()  # each map is its own document
            head = pipe.edit(labels, pipe.style_from_text(prompt))
            tiles = [render_views(head, [orbit_camera(view.orbit_at(y, 0.0), args.size)],
                                  background=torch.zeros(3)).rgb[0] for y in YAWS]
            rows[(c, m)] = torch.cat(tiles, 1)
    img = torch.cat([rows[(c, m)] for c in range(len(cases)) for m in range(len(args.checkpoint))], 0)
    pic = Image.fromarray((img.clamp(0, 1) * 255).byte().numpy())
    scale = args.shown / args.size
    pic.resize((round(pic.width * scale), round(pic.height * scale)), Image.LANCZOS).save(args.out, quality=85)


if __name__ == "__main__":
    main()
