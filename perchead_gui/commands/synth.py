"""``perchead synth --seed N -o DIR``: one engine head with its benchmark views and ground truth.

Writes into DIR: ``view_<name>.png`` (RGB) and ``classes_<name>.png`` (palette class map) for
each benchmark view (front, yaw_p45, yaw_m45, yaw_p90, yaw_m90, back), ``contact_sheet.png``
(RGB row over class row), ``caption.txt``, ``attributes.json`` and ``gt.ply`` (3DGS layout plus
labels). Every file is written atomically.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from perchead_gui.commands import wrote


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="write one procedural head: views, class maps, caption, .ply",
                       description="Generate the engine head of a seed and write its benchmark views (RGB and "
                                   "palette class maps), a contact sheet, caption.txt, attributes.json and gt.ply.")
    p.add_argument("--seed", type=int, required=True, metavar="N", help="head seed, 0 to 2147483647")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--size", type=int, default=256, metavar="PX", help="square view size (default 256)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--gaussians", type=int, default=None, metavar="N",
                   help="Gaussian slot budget of the head (default: the engine default, 36000)")
    p.set_defaults(func=run)


def view_name(yaw: float) -> str:
    if yaw == 0:
        return "front"
    if abs(yaw) == 180:
        return "back"
    return f"yaw_{'p' if yaw > 0 else 'm'}{abs(int(yaw))}"


def _png_bytes(rgb) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from models.io.atomic import write_bytes_atomic
    from models.device import resolve_device
    from models.errors import PercheadError
    from models.io.ply import write_ply
    from models.io.segmap import segmap_to_rgb
    from models.synthetic import BENCHMARK_YAWS, EngineConfig, HeadSampler
    from models.synthetic.sampler import MAX_SEED

    t0 = time.perf_counter()
    if not 0 <= args.seed <= MAX_SEED:
        raise PercheadError(f"--seed {args.seed} is out of range; use 0 to {MAX_SEED}")
    if not 8 <= args.size <= 4096:
        raise PercheadError(f"--size {args.size} is out of range; use 8 to 4096 pixels")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise PercheadError(f"cannot write into {out}: it is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PercheadError(f"cannot create the output folder {out}: {e.strerror or e}") from e
    budget = getattr(args, "gaussians", None)
    if budget is not None and not 1000 <= budget <= 2_000_000:
        raise PercheadError(f"--gaussians {budget} is out of range; use 1000 to 2000000")
    device = resolve_device(args.device)

    config = EngineConfig() if budget is None else EngineConfig(gaussians=budget)
    sampler = HeadSampler("bench", device=device, config=config)
    batch = sampler.make_batch([args.seed], size=args.size)
    rgb = (batch.rgb[0].clamp(0, 1) * 255 + 0.5).to("cpu").numpy().astype(np.uint8)  # [V, H, W, 3]
    classes = batch.class_map[0].to("cpu").numpy()
    rows_rgb, rows_cls = [], []
    for v, yaw in enumerate(BENCHMARK_YAWS):
        name = view_name(yaw)
        cls_rgb = segmap_to_rgb(classes[v])
        write_bytes_atomic(out / f"view_{name}.png", _png_bytes(rgb[v]))
        write_bytes_atomic(out / f"classes_{name}.png", _png_bytes(cls_rgb))
        rows_rgb.append(rgb[v])
        rows_cls.append(cls_rgb)
    sheet = np.concatenate([np.concatenate(rows_rgb, 1), np.concatenate(rows_cls, 1)], 0)
    write_bytes_atomic(out / "contact_sheet.png", _png_bytes(sheet))
    write_bytes_atomic(out / "caption.txt", (batch.captions[0] + "\n").encode())
    attrs = batch.attributes[0].to_dict()
    attrs["reference_colors"] = {p: list(batch.attributes[0].color_of(p))
                                 for p in ("hair", "eyebrows", "eyes", "skin", "lips", "clothes")}
    attrs["gaussians"] = len(batch.gaussians[0])
    attrs["views"] = {view_name(y): {"yaw_deg": y, "pitch_deg": 0.0} for y in BENCHMARK_YAWS}
    write_bytes_atomic(out / "attributes.json", (json.dumps(attrs, indent=2) + "\n").encode())
    write_ply(out / "gt.ply", batch.gaussians[0].to("cpu"))
    print(batch.captions[0])
    wrote(out, f"{len(BENCHMARK_YAWS)} views, class maps, contact sheet, caption, attributes, "
               f"gt.ply ({attrs['gaussians']:,} Gaussians)", t0)
    return 0
