"""``perchead reconstruct IMAGE -o OUT.ply [--preview OUT.png]``: the base model on one image."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconstruct", help="make a 3D head from one image in the canonical framing",
                       description="Reconstruct a 3D Gaussian head from one image framed like the canonical input "
                                   "view. Transparent pixels (PNG alpha) are background; an opaque image is taken "
                                   "to be on a black background.")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.ply")
    p.add_argument("--preview", type=Path, default=None, metavar="OUT.png")
    p.add_argument("--checkpoint", type=Path, default=None, metavar="DIR")
    p.add_argument("--dino", type=Path, default=None, metavar="DIR",
                   help="local DINOv2 weights folder, for base models trained with the DINOv2 branch")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.atomic_io import check_outputs
    from models.image_input import load_rgba
    from models.pipeline import HeadPipeline, opaque_foreground
    from models.ply import write_ply
    from perchead_gui.commands.edit import write_preview

    outputs = [args.output] + ([args.preview] if args.preview else [])
    check_outputs([args.image], outputs)
    pipe = HeadPipeline(args.checkpoint, args.device, dino_dir=args.dino)
    head = pipe.reconstruct(opaque_foreground(load_rgba(args.image, "image")))
    write_ply(args.output, head)
    if args.preview:
        write_preview(args.preview, head)
    return 0
