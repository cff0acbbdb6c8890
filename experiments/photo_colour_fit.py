"""Issue 25: the photo's colours fitted in the input view (models/fitting/photo_colour.py: fitted_colour, a few
row-sum-preconditioned gradient steps on the Gaussians' colours; the product's step since the nineteenth session)
against the first step (seen_colour: each seen Gaussian takes the colour where its centre projects): `perchead
eval`'s real-photo metrics, and pictures from four sides.

    python experiments/photo_colour_fit.py --checkpoint checkpoints --steps 4 --prior-px 2 --pictures runs/q19/photos_fitv_p2
    python experiments/photo_colour_fit.py --photos DEV_FOLDER --pictures OUT   # choose settings here, not on the held-out photos
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from models.evaluation.photos import eval_photos, evaluate_photos
from models.fitting.photo_colour import FIT_PRIOR_PX, FIT_STEPS
from models.pipeline import HeadPipeline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--steps", type=int, default=FIT_STEPS)
    ap.add_argument("--prior-px", type=float, default=FIT_PRIOR_PX)
    ap.add_argument("--pictures", type=Path, help="a folder for seen/<photo>.jpg and fit/<photo>.jpg")
    ap.add_argument("--photos", type=Path, default=None,
                    help="a folder with photos.yaml, its first line '# source: ...; licence: ...' (default: the held-out "
                         "assets/eval/photos, for reporting only; choose settings on a development folder)")
    args = ap.parse_args()
    report = {}
    with torch.no_grad():
        for name, pipe in (("seen", HeadPipeline(args.checkpoint, device="cpu", colour_fit_steps=0)),
                           ("fit", HeadPipeline(args.checkpoint, device="cpu", colour_fit_steps=args.steps,
                                                colour_fit_prior_px=args.prior_px))):
            pictures = None if args.pictures is None else args.pictures / name
            t0 = time.perf_counter()
            photos = eval_photos() if args.photos is None else eval_photos(args.photos.resolve())
            report[name] = evaluate_photos(pipe, photos, pictures=pictures)
            report[name]["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
