"""Issue 25: the edit path's fit to the painted map (models/fitting/painted.py: outline fill, region following)
applied to a reconstructed photo head, against the photo's parsed map (models/photo/parse.py), before the colour
fit. Why: the base model gives a short-haired man shoulder-length hair and draws its own face outline; the parsed
map says where hair, face and clothes are in the photo's view. `perchead eval`'s photo metrics per mode (off,
outline, fit), the time, and pictures from four sides.

    python experiments/photo_silhouette_fit.py --photos DEV_FOLDER --pictures OUT   # choose here, report on held-out
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from models.evaluation.photos import eval_photos, evaluate_photos
from models.pipeline import HeadPipeline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--photos", type=Path, required=True, help="a folder with photos.yaml (development photos)")
    ap.add_argument("--pictures", type=Path, default=None)
    ap.add_argument("--modes", default="off,outline,fit")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    photos = eval_photos(args.photos.resolve())
    out = {}
    for mode in args.modes.split(","):
        pipe = HeadPipeline(args.checkpoint, "cpu")
        pipe.photo_fit = mode
        t0 = time.perf_counter()
        res = evaluate_photos(pipe, photos, pictures=args.pictures / mode if args.pictures else None)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        out[mode] = res
        print(mode, {k: v for k, v in res.items() if k != "photo_rows"}, flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
