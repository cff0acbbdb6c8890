"""``perchead reconstruct IMAGE -o OUT.ply|.spz|.splat [--preview OUT.png] [--no-align] [--no-photo-colour]``: the base
model on one image.

A photograph is first brought into the canonical framing by the photo pipeline (models.photo:
the one face found, aligned by eyes and mouth, background removed); ``--no-align`` skips that
for an image already framed like the canonical view (an engine render, a cut-out made for it).
What the input view sees of the head then takes the image's own colours (models/fitting/photo_colour.py);
``--no-photo-colour`` keeps the base model's colours alone.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from perchead_gui.commands import HEAD_FILES, wrote


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconstruct", help="make a 3D head from a photo (or an image in the canonical framing)",
                       description="Reconstruct a 3D Gaussian head from one photo. The photo's one face is found, "
                                   "aligned to the canonical input view and cut from its background first. With "
                                   "--no-align the image is used as it is: it must be framed like the canonical "
                                   "view; transparent pixels (PNG alpha) are background, and an opaque image is "
                                   "taken to be on a black background.")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("-o", "--output", type=Path, required=True, metavar=HEAD_FILES,
                   help="the head: .ply (with class labels), .spz or .splat (compressed, for web viewers)")
    p.add_argument("--preview", type=Path, default=None, metavar="OUT.png")
    p.add_argument("--no-align", action="store_true",
                   help="skip face alignment and background removal (image already in the canonical framing)")
    p.add_argument("--no-photo-colour", action="store_true",
                   help="keep the base model's colours (default: the skin, hair and clothes the image shows take "
                        "its own colours)")
    p.add_argument("--checkpoint", type=Path, default=None, metavar="DIR")
    p.add_argument("--dino", type=Path, default=None, metavar="DIR",
                   help="local DINOv2 weights folder, for base models trained with the DINOv2 branch")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.io.atomic import check_outputs
    from models.errors import PercheadError
    from models.io.images import load_rgba
    from models.pipeline import HeadPipeline, opaque_foreground
    from models.io.splats import splat_format, write_splats
    from perchead_gui.commands.edit import write_preview

    t0 = time.perf_counter()
    outputs = [args.output] + ([args.preview] if args.preview else [])
    check_outputs([args.image], outputs)
    splat_format(args.output)  # an unknown extension fails before the photo is read
    rgba = load_rgba(args.image, "image")  # [H, W, 4]
    if float(rgba[..., 3].max()) == 0.0:
        raise PercheadError(f"the image {args.image} has no foreground (alpha is 0 everywhere); "
                            "use an image with a visible head")
    if args.no_align:
        rgba = opaque_foreground(rgba)
    else:  # align first, so a bad photo fails before the networks load
        from models.photo import MediaPipeMissing, prepare_photo

        try:
            photo = prepare_photo(rgba, name=str(args.image))
        except MediaPipeMissing as e:
            raise PercheadError(f"{e}; or pass --no-align for an image already in the canonical framing") from e
        rgba = photo.rgba_float()
        for note in photo.notes:
            print(f"note: {note}")
    pipe = HeadPipeline(args.checkpoint, args.device, dino_dir=args.dino, photo_colour=not args.no_photo_colour)
    head = pipe.reconstruct(rgba)
    _, note = write_splats(args.output, head)
    if note:
        print(f"note: {note}")
    if args.preview:
        write_preview(args.preview, head)
    wrote(args.output, f"{len(head):,} Gaussians" + (f", preview {args.preview}" if args.preview else ""), t0)
    return 0
