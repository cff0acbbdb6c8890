"""Issue 25: what a photo's own colours on the reconstructed head are worth (models/fitting/photo_colour.py, on in
HeadPipeline.reconstruct since the seventeenth session): `perchead eval`'s real-photo metrics with the step off and
on, and the share of each photo's person mask the head covers in the input view.

    python experiments/projective_colour.py --checkpoint checkpoints --pictures runs/q18/photos_projected
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from models.cameras import canonical_view
from models.evaluation.photos import PHOTO_SIZE, eval_photos, evaluate_photos
from models.io.images import load_rgba
from models.pipeline import HeadPipeline
from models.render import render


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--pictures", type=Path, help="a folder for <photo>.jpg with the step on (photo | yaw 0 ... 270)")
    args = ap.parse_args()
    off = HeadPipeline(args.checkpoint, device="cpu", photo_colour=False)
    on = HeadPipeline(args.checkpoint, device="cpu", photo_colour=True)
    coverage = {}
    with torch.no_grad():
        for photo in eval_photos():
            head, prepared = off.photo_head(load_rgba(photo.path, "photo"), PHOTO_SIZE, name=photo.path.name)
            alpha = render(head, canonical_view().camera(PHOTO_SIZE), classes=False).alpha.numpy()
            coverage[photo.name] = round(float((alpha[prepared.mask > 0.5] > 0.5).mean()), 3)
        report = {"person_mask_covered": coverage, "off": evaluate_photos(off, eval_photos()),
                  "on": evaluate_photos(on, eval_photos(), pictures=args.pictures)}
    print(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
