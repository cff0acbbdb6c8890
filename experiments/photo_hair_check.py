"""Measured: hair IoU of base checkpoints' reconstruction of a real photo (scikit-image's astronaut) against its parsed map. Result: checkpoints/base.md "Evaluation" (run 4 0.484 vs shipped 0.573: not shipped); docs/quality.md "Where the shipped models stand".

How well a base checkpoint reconstructs a real photo's hair: scikit-image's astronaut through
`perchead parse` and `perchead reconstruct`, hair IoU of the head's canonical class render against
the parsed map (the check tests/test_photo_cli.py makes, for several checkpoint folders at once).

    python experiments/photo_hair_check.py CHECKPOINT_DIR [CHECKPOINT_DIR ...]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import skimage.data
from PIL import Image

from models.cameras import canonical_view
from models.palette import palette
from models.io.ply import read_ply
from models.render import render
from models.io.segmap import load_segmap
from perchead_gui.cli import main as perchead


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    photo = work / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(photo, quality=95)
    if perchead(["parse", str(photo), "-o", str(work / "seg.png")]) != 0:
        raise SystemExit("perchead parse failed (see its message above)")
    labels = load_segmap(work / "seg.png", labels="palette").labels  # [256, 256]
    hair = palette().id_of("hair")
    for ck in args.checkpoints:
        if perchead(["reconstruct", str(photo), "-o", str(work / "head.ply"), "--checkpoint", str(ck)]) != 0:
            print(f"{ck}: perchead reconstruct failed (see its message above)")
            continue
        classes = render(read_ply(work / "head.ply"), canonical_view().camera(), classes=True).class_map.numpy()
        both, either = ((classes == hair) & (labels == hair)).sum(), ((classes == hair) | (labels == hair)).sum()
        print(f"{ck}: hair IoU {both / either:.3f}" if either else f"{ck}: no hair in the map or the head")


if __name__ == "__main__":
    main()
