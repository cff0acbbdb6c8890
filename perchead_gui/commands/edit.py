"""``perchead edit SEG.png (--prompt TEXT | --style-image IMG) -o OUT.ply|.spz|.splat [--preview OUT.png]``."""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from perchead_gui.commands import HEAD_FILES, wrote

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="make a 3D head from a seg map and a text prompt or style image",
                       description="Decode a 3D Gaussian head from a segmentation map (drawn in the canonical "
                                   "view) and a style: a text prompt or a reference image.")
    p.add_argument("segmap", type=Path, metavar="SEG.png")
    style = p.add_mutually_exclusive_group(required=True)
    style.add_argument("--prompt", help="style words, e.g. 'long wavy red hair, green eyes, beard'")
    style.add_argument("--style-image", type=Path, metavar="IMG", help="a reference image for the style")
    p.add_argument("-o", "--output", type=Path, required=True, metavar=HEAD_FILES,
                   help="the head: .ply (with class labels), .spz or .splat (compressed, for web viewers)")
    p.add_argument("--preview", type=Path, default=None, metavar="OUT.png", help="also write a front-view render")
    p.add_argument("--labels", default="auto", choices=("auto", "palette", "index", "celebamask"),
                   help="how to read the seg map (default: detect palette colours or label indices)")
    p.add_argument("--silhouette", default="fit", choices=("fit", "outline", "off"),
                   help="fit the head to the painted map (default fit: fill the painted hair / hat outline, move the "
                        "head's regions onto the painted ones; outline: no region following; off: as decoded)")
    p.add_argument("--checkpoint", type=Path, default=None, metavar="DIR", help="folder with the model files")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.io.atomic import check_outputs
    from models.io.segmap import load_segmap
    from models.io.splats import splat_format, write_splats
    from models.pipeline import CHECKPOINT_DIR, CheckpointSet, HeadPipeline, visible
    from models.style.image_input import read_style_image

    t0 = time.perf_counter()
    models = CheckpointSet(args.checkpoint or CHECKPOINT_DIR)
    inputs = [args.segmap] + ([args.style_image] if args.style_image else []) + [models.edit, models.style]
    outputs = [args.output] + ([args.preview] if args.preview else [])
    check_outputs(inputs, outputs)  # never overwrite a map, a style image or a model file
    splat_format(args.output)  # an unknown extension fails before the networks load
    pipe = HeadPipeline(args.checkpoint, args.device, silhouette=args.silhouette)
    seg = load_segmap(args.segmap, labels=args.labels, size=pipe.image_size)
    for w in seg.warnings:
        log.warning("%s: %s", args.segmap, w)
    if args.prompt is not None:
        style = pipe.style_from_text(args.prompt)
    else:
        style = pipe.style_from_image(read_style_image(args.style_image))
    log.info("style %s", pipe.describe_style(style))  # the colours the style model read, e.g. to check a rare word
    if args.prompt is not None and (unread := pipe.unread_words(args.prompt)):
        log.warning("the style model does not know %s; the head may not show %s (try a common colour or style "
                    "word)", ", ".join(f"'{w}'" for w in unread), "it" if len(unread) == 1 else "them")
    head = visible(pipe.edit(seg.labels, style))  # a GPU decode hides faint Gaussians; the file leaves them out
    _, note = write_splats(args.output, head)
    if note:
        print(f"note: {note}")
    if args.preview:
        write_preview(args.preview, head)
    wrote(args.output, f"{len(head):,} Gaussians" + (f", preview {args.preview}" if args.preview else ""), t0)
    return 0


def write_preview(path: Path, head) -> None:
    from models.cameras import canonical_view
    from models.io.images import save_png
    from models.render import render

    save_png(path, render(head, canonical_view().camera(512), classes=False).rgb)
