"""Measured: hair IoU of base checkpoints' reconstruction of a real photo (scikit-image's astronaut) against its parsed map. Result: checkpoints/base.md "Evaluation" (run 4 0.484 vs shipped 0.573: not shipped); docs/quality.md "Where the shipped models stand".

How well a base checkpoint reconstructs a real photo's hair: scikit-image's astronaut through
`perchead parse` and `perchead reconstruct`, hair IoU of the head's canonical class render against
the parsed map (the check tests/test_photo_cli.py makes, for several checkpoint folders at once).

    python experiments/photo_hair_check.py CHECKPOINT_DIR [CHECKPOINT_DIR ...] [--photos P.png ...]

--photos: other portraits (a development set, say: never the held-out ones in assets/eval/photos/); besides the
hair IoU it prints the share of the parsed hair that the head labels hat (the eighteenth session's base run 18b
read a bouffant as a hat).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
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
    ap.add_argument("--photos", nargs="+", type=Path, default=None, help="portraits (default: the astronaut)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    photos = args.photos
    if photos is None:
        photos = [work / "astronaut.jpg"]
        Image.fromarray(skimage.data.astronaut()).save(photos[0], quality=95)
    hair, hat = palette().id_of("hair"), palette().id_of("hat")
    totals = {ck: [] for ck in args.checkpoints}
    for photo in photos:
        if perchead(["parse", str(photo), "-o", str(work / "seg.png")]) != 0:
            print(f"{photo.name}: perchead parse failed (see its message above)")
            continue
        labels = load_segmap(work / "seg.png", labels="palette").labels  # [256, 256]
        for ck in args.checkpoints:
            if perchead(["reconstruct", str(photo), "-o", str(work / "head.ply"), "--checkpoint", str(ck)]) != 0:
                print(f"{photo.name} {ck}: perchead reconstruct failed (see its message above)")
                continue
            classes = render(read_ply(work / "head.ply"), canonical_view().camera(), classes=True).class_map.numpy()
            true_hair = labels == hair
            both, either = (classes[true_hair] == hair).sum(), ((classes == hair) | true_hair).sum()
            iou = both / either if either else float("nan")
            as_hat = (classes[true_hair] == hat).mean() if true_hair.any() else float("nan")
            totals[ck].append((iou, as_hat))
            print(f"{photo.name} {ck}: hair IoU {iou:.3f}, parsed hair labelled hat {as_hat:.3f}")
    for ck, rows in totals.items():
        if rows:
            ious, hats = np.array(rows).T
            print(f"{ck}: mean hair IoU {np.nanmean(ious):.3f}, hair as hat {np.nanmean(hats):.3f} "
                  f"({len(rows)} photos; a photo without parsed hair counts in neither)")


if __name__ == "__main__":
    main()
