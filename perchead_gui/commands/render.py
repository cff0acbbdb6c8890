"""``perchead render IN.ply|.spz|.splat -o OUT.png``: one view of a Gaussian head file."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from perchead_gui.commands import wrote


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render a head file (.ply, .spz, .splat) to a PNG",
                       description="Render a 3DGS head (.ply, .spz or .splat) to a PNG. With no --yaw/--pitch the view is the "
                                   "canonical input camera at the model's input size, so a --classes render "
                                   "lines up pixel for pixel with a seg map drawn in that view.")
    p.add_argument("ply", type=Path, metavar="IN.ply|.spz|.splat")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.png")
    p.add_argument("--yaw", type=float, default=None, metavar="DEG",
                   help="orbit angle about the vertical axis; 90 shows the head's left side (+x)")
    p.add_argument("--pitch", type=float, default=None, metavar="DEG", help="positive looks down from above")
    p.add_argument("--size", type=int, default=None, metavar="PX", help="square image size (default: canonical)")
    p.add_argument("--classes", action="store_true", help="write the class map in palette colours")
    p.add_argument("--background", default="0,0,0", metavar="R,G,B",
                   help="background colour, 0-255 each (default black)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=run)


def parse_rgb(text: str) -> tuple[float, float, float]:
    from models.errors import PercheadError

    parts = text.split(",")
    try:
        values = [float(v) for v in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise PercheadError(f"--background {text!r} is not R,G,B with values 0-255, e.g. 255,255,255")
    return values[0] / 255, values[1] / 255, values[2] / 255


def run(args: argparse.Namespace) -> int:
    from models.io.atomic import check_outputs
    from models.cameras import canonical_view, orbit_camera
    from models.device import resolve_device
    from models.errors import PercheadError
    from models.io.images import save_png
    from models.palette import palette
    from models.io.splats import read_splats
    from models.render import render

    t0 = time.perf_counter()
    check_outputs([args.ply], [args.output])
    if args.size is not None and not 8 <= args.size <= 4096:
        raise PercheadError(f"--size {args.size} is out of range; use 8 to 4096 pixels")
    background = parse_rgb(args.background)
    device = resolve_device(args.device)
    gaussians = read_splats(args.ply).to(device)

    view = canonical_view()
    size = args.size or view.image_size
    if args.yaw is None and args.pitch is None:
        camera = view.camera(size)
    else:
        camera = orbit_camera(view.orbit_at(args.yaw or 0.0, args.pitch or 0.0), size)
    result = render(gaussians, camera, background=background, classes=args.classes)
    image = palette().colorize(result.class_map.cpu().numpy()) if args.classes else result.rgb
    save_png(args.output, image)
    wrote(args.output, f"{size}x{size} {'class map' if args.classes else 'render'} of {len(gaussians):,} Gaussians", t0)
    return 0
