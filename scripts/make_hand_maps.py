"""Nine seg maps drawn "by hand" (PIL ellipses, rectangles, a chord and a triangle in palette colours), by
another recipe than the drawn-map generator: one face with its own proportions, that face without ears /
neck / nose / brows / clothes, with long hair, saved through JPEG, drawn at 1024 px, and moved (x0.6, x1.25,
35 px left, 25 px down). docs/quality.md "Framing normaliser" scores them:

    python scripts/make_hand_maps.py OUT_DIR && perchead eval --device cpu --heads 0 --drawn 0 --maps OUT_DIR
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

FULL = ("neck", "clothes", "ears", "brows", "nose")


def _colour(name: str) -> tuple[int, int, int]:
    from models.palette import palette

    pal = palette()
    return tuple(int(v) for v in pal.colorize(np.array([[pal.id_of(name)]], dtype=np.uint8))[0, 0])


def draw_head(scale: float = 1.0, dx: float = 0.0, dy: float = 0.0, parts: tuple[str, ...] = FULL,
              size: int = 512, long_hair: bool = False) -> Image.Image:
    """The face, laid out on a 256-unit grid about the centre, scaled by ``scale`` and moved by (dx, dy) units."""
    im = Image.new("RGB", (size, size), _colour("background"))
    d = ImageDraw.Draw(im)
    u = size / 256 * scale
    cx, cy = size / 2 + dx * size / 256, size / 2 + dy * size / 256

    def pt(x: float, y: float) -> tuple[float, float]:
        return cx + x * u, cy + y * u

    def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [pt(x0, y0), pt(x1, y1)]

    if "clothes" in parts:
        d.rectangle(box(-110, 95, 110, 200), fill=_colour("clothes"))
        d.ellipse(box(-110, 70, 110, 150), fill=_colour("clothes"))
    if "neck" in parts:
        d.rectangle(box(-28, 40, 28, 110), fill=_colour("neck"))
    if long_hair:
        d.rectangle(box(-70, -60, 70, 90), fill=_colour("hair"))
    if "ears" in parts:
        d.ellipse(box(-68, -15, -52, 20), fill=_colour("ears"))
        d.ellipse(box(52, -15, 68, 20), fill=_colour("ears"))
    d.ellipse(box(-56, -75, 56, 70), fill=_colour("skin"))
    d.chord(box(-60, -85, 60, 15), 180, 360, fill=_colour("hair"))
    if "brows" in parts:
        d.rectangle(box(-38, -22, -12, -17), fill=_colour("eyebrows"))
        d.rectangle(box(12, -22, 38, -17), fill=_colour("eyebrows"))
    d.ellipse(box(-34, -12, -16, -4), fill=_colour("eyes"))
    d.ellipse(box(16, -12, 34, -4), fill=_colour("eyes"))
    if "nose" in parts:
        d.polygon([pt(0, -5), pt(-8, 18), pt(8, 18)], fill=_colour("nose"))
    d.ellipse(box(-18, 30, 18, 36), fill=_colour("upper_lip"))
    d.ellipse(box(-18, 35, 18, 42), fill=_colour("lower_lip"))
    return im


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    draw_head().save(out / "a_plain.png")
    draw_head(parts=()).save(out / "b_minimal.png")
    draw_head(scale=0.6).save(out / "c_small.png")
    draw_head(scale=1.25).save(out / "d_big.png")
    draw_head(dx=-35).save(out / "e_left.png")
    draw_head(dy=25).save(out / "f_low.png")
    buf = io.BytesIO()
    draw_head().save(buf, "JPEG", quality=70)
    Image.open(buf).save(out / "g_jpeg.png")
    draw_head(long_hair=True).save(out / "h_long.png")
    draw_head(size=1024).save(out / "i_1024.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
