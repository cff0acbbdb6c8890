"""Contact sheets of engine heads for docs/engine.md: RGB at several yaws, and class maps.

    python scripts/engine_contact_sheet.py --seeds 100-115 --yaws 0,45,90,180 --size 128 \
        -o docs/img/engine_contact_sheet.jpg --classes docs/img/engine_classes.png
    python scripts/engine_contact_sheet.py --seeds 100-107 --yaws 0,30 --size 512 --close-up -o faces.png
"""
from __future__ import annotations

import argparse
import io
import sys

CLOSE_UP_FOV_DEG = 8.5
CLOSE_UP_TARGET = (0.0, -0.01, 0.03)


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="100-115")
    p.add_argument("--yaws", default="0,45,90,180")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--per-row", type=int, default=2, help="heads per sheet row")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--classes", default=None, help="also write the class maps of the same views here")
    p.add_argument("--close-up", action="store_true", help="the face only (a narrow field of view on the face)")
    args = p.parse_args(argv)

    import numpy as np
    import torch
    from PIL import Image

    from models.io.atomic import write_bytes_atomic
    from models.cameras import OrbitParams, canonical_view, orbit_camera
    from models.device import resolve_device
    from models.render import render_views
    from models.io.segmap import segmap_to_rgb
    from models.synthetic import build_heads, caption, sample_attributes

    device = resolve_device(args.device)
    seeds = parse_seeds(args.seeds)
    yaws = [float(y) for y in args.yaws.split(",")]
    cv = canonical_view()
    orbits = [cv.orbit_at(y) for y in yaws]
    if args.close_up:  # the same camera distance, a field of view that frames the face from brow to chin
        orbits = [OrbitParams(o.yaw_deg, o.pitch_deg, o.radius, CLOSE_UP_FOV_DEG, CLOSE_UP_TARGET) for o in orbits]
    cams = [orbit_camera(o, args.size) for o in orbits]
    attrs = [sample_attributes(s) for s in seeds]
    heads = build_heads(attrs, device)
    strips, cls_strips = [], []
    for a, g in zip(attrs, heads):
        out = render_views(g, cams)
        strips.append(np.concatenate(list((out.rgb.clamp(0, 1) * 255 + 0.5).byte().cpu().numpy()), 1))
        cls_strips.append(np.concatenate([segmap_to_rgb(c) for c in out.class_map.cpu().numpy()], 1))
        print(f"{a.seed}: {caption(a)}")

    def sheet(items: list, path: str) -> bytes:
        while len(items) % args.per_row:
            items.append(np.zeros_like(items[0]))
        rows = [np.concatenate(items[i:i + args.per_row], 1) for i in range(0, len(items), args.per_row)]
        buf = io.BytesIO()
        if path.lower().endswith((".jpg", ".jpeg")):  # large close-up sheets: a fifth of the PNG's size
            Image.fromarray(np.concatenate(rows, 0)).save(buf, format="JPEG", quality=90)
        else:
            Image.fromarray(np.concatenate(rows, 0)).save(buf, format="PNG", optimize=True)
        return buf.getvalue()

    write_bytes_atomic(args.output, sheet(strips, args.output))
    if args.classes:
        write_bytes_atomic(args.classes, sheet(cls_strips, args.classes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
