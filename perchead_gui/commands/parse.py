"""``perchead parse PHOTO -o SEG.png [--aligned OUT.png]``: a first seg map from a photograph.

The photo is aligned to the canonical input view (models.photo) and parsed from face landmarks,
the person mask and colours. The map is a start for painting, not ground truth, and the command
says so every time.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from perchead_gui.commands import wrote


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="make a seg map (a start for painting) from a photo",
                       description="Find the one face in a photo, align it to the canonical input view, remove the "
                                   "background and write a first segmentation map in the palette colours, ready "
                                   "for `perchead edit` or painting in the app. It is a start for painting, not "
                                   "ground truth.")
    p.add_argument("photo", type=Path, metavar="PHOTO")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="SEG.png")
    p.add_argument("--aligned", type=Path, default=None, metavar="OUT.png",
                   help="also write the aligned photo (RGBA, background transparent), as `perchead reconstruct "
                        "--no-align` reads it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.io.atomic import check_outputs, write_bytes_atomic
    from models.io.images import load_rgba, save_png
    from models.io.segmap import segmap_png_bytes
    from models.photo import SEGMAP_NOTE, prepare_photo

    t0 = time.perf_counter()
    outputs = [args.output] + ([args.aligned] if args.aligned else [])
    check_outputs([args.photo], outputs)
    photo = prepare_photo(load_rgba(args.photo, "photo"), name=str(args.photo))
    write_bytes_atomic(args.output, segmap_png_bytes(photo.labels))
    if args.aligned:
        save_png(args.aligned, photo.aligned_rgba)
    for note in photo.notes:
        print(f"note: {note}")
    print(f"note: {SEGMAP_NOTE}")
    wrote(args.output, f"{photo.size}x{photo.size} seg map in the canonical view"
          + (f", and the aligned photo {args.aligned}" if args.aligned else ""), t0)
    return 0
