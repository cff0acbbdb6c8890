"""Issue 25: how far a photo's own colours, laid onto the reconstructed head where the input view sees it, move
`perchead eval`'s real-photo metrics and the pictures. No training: after the base model decodes the head, each
Gaussian that the input view sees (its camera depth within TOL of the head's own rendered depth at its pixel, inside
the rendered silhouette and the person mask) takes the photo's colour at its projection, weighted by
exp(-(depth behind / TOL)^2); hidden ones keep the decoder's colour. A probe of what a working pixel-aligned part
(net.pixel_aligned, which base run 18 left asleep) would give, not a shipped step.

    python experiments/projective_colour.py --checkpoint checkpoints --tol 0.005 --pictures runs/q18/photos_projected
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.cameras import canonical_view
from models.evaluation.photos import evaluate_photos, eval_photos
from models.gaussians import SH_C0, Gaussians
from models.pipeline import HeadPipeline
from models.render import render_views


def project_colour(head: Gaussians, rgba: np.ndarray, tol: float) -> Gaussians:
    """head seen from the canonical view at the photo's size; rgba [S, S, 4] float 0..1 (the aligned photo)."""
    size = rgba.shape[0]
    cam = canonical_view().camera(size)
    photo = torch.from_numpy(rgba).permute(2, 0, 1)[None].float()              # [1, 4, S, S]
    w2c, K = cam.world_to_cam.float(), cam.K.float()
    local = head.means @ w2c[:3, :3].T + w2c[:3, 3]
    z = local[:, 2].clamp_min(1e-4)
    pix = (local @ K.T)[:, :2] / z[:, None]                                     # [N, 2] px
    grid = (2 * pix / size - 1)[None, :, None, :]

    def sample(img: torch.Tensor) -> torch.Tensor:                              # [1, C, S, S] -> [N, C]
        return F.grid_sample(img, grid, align_corners=False)[0, :, :, 0].T

    own = render_views(head, [cam], classes=False)
    depth, alpha = sample(own.depth[0][None, None])[:, 0], sample(own.alpha[0][None, None])[:, 0]
    colour, mask = sample(photo[:, :3]), sample(photo[:, 3:])[:, 0]
    inside = ((pix >= 0) & (pix < size)).all(-1) & (alpha > 0.5)
    behind = ((z - depth) / tol).clamp(min=0)
    w = (inside.float() * mask * torch.exp(-behind ** 2))[:, None]
    decoded = head.sh[:, 0] * SH_C0 + 0.5
    sh = head.sh.clone()
    sh[:, 0] = ((1 - w) * decoded + w * colour - 0.5) / SH_C0
    return Gaussians(head.means, head.quats, head.log_scales, head.opacity_logits, sh, head.labels)


class ProjectedPipe:
    """HeadPipeline's photo_head with project_colour after it (what evaluate_photos calls)."""

    def __init__(self, pipe: HeadPipeline, tol: float) -> None:
        self.pipe, self.tol = pipe, tol

    def photo_head(self, rgba, size=None, name="the photo"):
        head, prepared = self.pipe.photo_head(rgba, size, name=name)
        return project_colour(head, prepared.rgba_float(), self.tol), prepared


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--tol", type=float, default=0.005, help="m: how far behind the seen surface still counts")
    ap.add_argument("--pictures", type=Path, help="a folder for <photo>.jpg (photo | yaw 0, 90, 180, 270)")
    args = ap.parse_args()
    pipe = HeadPipeline(args.checkpoint, device="cpu")
    with torch.no_grad():
        coverage = {}
    for photo in eval_photos():  # the share of the person mask the head covers in the input view
        from models.io.images import load_rgba
        from models.render import render

        head, prepared = pipe.photo_head(load_rgba(photo.path, "photo"), 512, name=photo.path.name)
        alpha = render(head, canonical_view().camera(512), classes=False).alpha.numpy()
        person = prepared.mask > 0.5
        coverage[photo.name] = round(float((alpha[person] > 0.5).mean()), 3)
    report = {"person_mask_covered": coverage, "plain": evaluate_photos(pipe, eval_photos()),
                  f"projected_tol{args.tol}": evaluate_photos(ProjectedPipe(pipe, args.tol), eval_photos(),
                                                              pictures=args.pictures)}
    print(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
