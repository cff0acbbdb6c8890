"""Probe (not shipped): move the decoded head's regions onto the painted ones by registering its front class
render onto the painted map (demons), on top of the silhouette fit.

    python scripts/region_follow_probe.py --start 40 --count 200          # drawn maps outside the eval set
    python scripts/region_follow_probe.py --engine 16                      # the benchmark's engine heads

Why: on drawn maps the network draws its own face outline, hairline, jaw and neck inside the painted ones
(skin, hair, neck: 60-70 % of the wrong front pixels after the fit). Each call renders the head's front
classes at half resolution, runs ITERS demons iterations (each pixel pushed along the render's class edges
towards the painted classes, the field smoothed by SMOOTH half-res px and capped at MAX_MOVE full-res px),
and moves every Gaussian across the canonical view by minus the field at its projected centre (depth kept,
so the back follows the front). Drawn maps: the fit's score and the score with the regions followed, per
map paired. Engine heads: `evaluate_edit` with and without it (front IoU, mIoU per view). Results of the
sixth session in docs/quality.md ("Following the painted regions").
"""
from __future__ import annotations

import argparse
import json
import sys

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import project_points
from models.gaussians import Gaussians

ITERS = 30
SMOOTH = 4.0
MAX_MOVE = 8.0
_EDGE_SIGMA = 1.0


def _blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of x [1, C, H, W], edges replicated."""
    r = max(1, int(3 * sigma))
    k = torch.exp(-(torch.arange(-r, r + 1, device=x.device, dtype=x.dtype) ** 2) / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _central_gradients(x: Tensor) -> tuple[Tensor, Tensor]:
    """d/dx and d/dy of x [1, C, H, W] (central differences, one-sided at the border)."""
    gx = (F.pad(x, (0, 1, 0, 0), mode="replicate")[..., 1:] - F.pad(x, (1, 0, 0, 0), mode="replicate")[..., :-1]) / 2
    gy = (F.pad(x, (0, 0, 0, 1), mode="replicate")[..., 1:, :] - F.pad(x, (0, 0, 1, 0), mode="replicate")[..., :-1, :]) / 2
    return gx, gy


def demons_field(rendered: Tensor, painted: Tensor, num_classes: int, iterations: int = ITERS,
                 smooth_px: float = SMOOTH, max_move_px: float = MAX_MOVE / 2) -> Tensor:
    """Backward displacement [2, H, W] (pixels, x then y) such that ``rendered`` sampled at p + field(p) looks
    like ``painted`` at p. rendered: [H, W] class ids; painted: [1, C, H, W] class shares (soft is fine)."""
    h, w = rendered.shape
    dev = painted.device
    moving = _blur(F.one_hot(rendered.long(), num_classes).permute(2, 0, 1)[None].float(), _EDGE_SIGMA)  # [1, C, H, W]
    fixed = _blur(painted.float(), _EDGE_SIGMA)
    ys, xs = torch.meshgrid(torch.arange(h, device=dev, dtype=torch.float32),
                            torch.arange(w, device=dev, dtype=torch.float32), indexing="ij")
    field = torch.zeros(1, 2, h, w, device=dev)
    for _ in range(iterations):
        gx = (xs + field[0, 0] + 0.5) / w * 2 - 1
        gy = (ys + field[0, 1] + 0.5) / h * 2 - 1
        warped = F.grid_sample(moving, torch.stack([gx, gy], -1)[None], align_corners=False, padding_mode="border")
        dx, dy = _central_gradients(warped)
        diff = fixed - warped                                                   # [1, C, H, W]
        denom = (dx * dx + dy * dy).sum(1) + (diff * diff).sum(1) + 1e-6        # [1, H, W]
        step = torch.stack([(diff * dx).sum(1) / denom, (diff * dy).sum(1) / denom], 1)  # [1, 2, H, W]
        field = _blur(field + step, smooth_px)
        norm = field.norm(dim=1, keepdim=True)
        field = field * (max_move_px / norm.clamp_min(max_move_px))             # cap the move
    return field[0]


def follow_painted_regions(g: Gaussians, rendered: Tensor, labels: Tensor, camera, num_classes: int) -> Gaussians:
    """``g`` with every Gaussian moved across the canonical view so that its front class render ``rendered``
    [S/2, S/2] (half resolution) lands on the painted ``labels`` [S, S]; ``camera``: the canonical camera at
    S px. No host sync."""
    size = labels.shape[-1]
    half = rendered.shape[-1]
    painted = F.one_hot(labels.long().to(rendered.device), num_classes).permute(2, 0, 1)[None].float()
    painted = F.adaptive_avg_pool2d(painted, half)                              # [1, C, S/2, S/2] class shares
    field = demons_field(rendered, painted, num_classes, ITERS, SMOOTH, MAX_MOVE / 2)                      # [2, S/2, S/2]
    means = g.means.float()
    uv = project_points(means, camera)                                          # [N, 2] px at S
    grid = (uv / size * 2 - 1)[None, None]                                      # [1, 1, N, 2]
    back = F.grid_sample(field[None], grid, align_corners=False, padding_mode="border")[0, :, 0].T  # [N, 2] at S/2
    du, dv = -back[:, 0] * (size / half), -back[:, 1] * (size / half)           # forward move ~ minus backward
    w2c = camera.world_to_cam
    depth = (means @ w2c[:3, :3].T + w2c[:3, 3])[:, 2]                           # [N]
    move_cam = torch.stack([du * depth / camera.K[0, 0], dv * depth / camera.K[1, 1], torch.zeros_like(depth)], -1)
    moved = means + move_cam @ w2c[:3, :3]                                      # back to world
    return Gaussians(moved.to(g.means.dtype), g.quats, g.log_scales, g.opacity_logits, g.sh, g.labels)


def main(argv: list[str] | None = None) -> int:
    global ITERS, SMOOTH, MAX_MOVE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--start", type=int, default=40, help="first drawn map (the eval set is 0..39)")
    p.add_argument("--count", type=int, default=0, help="drawn maps to score (0: none)")
    p.add_argument("--engine", type=int, default=0, help="benchmark engine heads to score (0: none)")
    p.add_argument("--iters", type=int, default=ITERS)
    p.add_argument("--smooth", type=float, default=SMOOTH)
    p.add_argument("--max-move", type=float, default=MAX_MOVE)
    args = p.parse_args(argv)
    ITERS, SMOOTH, MAX_MOVE = args.iters, args.smooth, args.max_move

    import models.evaluation.benchmark as bm
    import models.silhouette as sil
    from models.evaluation.drawn_maps import drawn_map
    from models.evaluation.text import TextEmbedder
    from models.palette import palette
    from models.pipeline import HeadPipeline

    fit = bm.fit_silhouette
    classes = palette().num_classes

    def fit_and_follow(g: Gaussians, labels: Tensor, mode: str = "fit") -> Gaussians:
        if mode != "fit":
            return fit(g, labels, mode)
        g = sil.fill_outline(g, labels)
        size = labels.shape[-1]
        _, rendered = sil.front_class_render(g, size)
        g = follow_painted_regions(g, rendered, labels, sil._canonical_camera(size, str(g.means.device)), classes)
        return g[sil.inside_silhouette(g.means, labels)]

    pipe = HeadPipeline(args.checkpoint, "cpu")
    style = pipe.style_model()
    report: dict = {"iters": ITERS, "smooth": SMOOTH, "max_move": MAX_MOVE}
    if args.count:
        maps = [drawn_map(i, pipe.image_size) for i in range(args.start, args.start + args.count)]
        embed = TextEmbedder([])
        style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))
        per: dict[str, list[float]] = {}
        for name, fn in (("fit", fit), ("fit+follow", fit_and_follow)):
            bm.fit_silhouette = fn
            per[name] = []
            with torch.no_grad():
                res = bm.evaluate_drawn(pipe.net("edit"), style_of, maps, silhouette="fit", per_map=per[name])
            report[f"drawn_{name}"] = {k.removeprefix("edit_front_iou_drawn").lstrip("_") or "all": round(v, 4)
                                       for k, v in res.items()}
        d = [a - b for a, b in zip(per["fit+follow"], per["fit"])]
        report["drawn_maps"] = f"{args.start}..{args.start + args.count - 1}"
        report["drawn_gain"] = round(sum(d) / len(d), 4)
        report["drawn_better_worse"] = [sum(x > 0 for x in d), sum(x < 0 for x in d)]
    if args.engine:
        embed = TextEmbedder()
        style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))
        batches = bm.benchmark_batches(args.engine, 256, torch.device("cpu"))
        for name, fn in (("fit", fit), ("fit+follow", fit_and_follow)):
            bm.fit_silhouette = fn
            res = bm.evaluate_edit(pipe.net("edit"), style_of, batches)
            report[f"engine_{name}"] = {k: round(v, 4) for k, v in res.items()
                                        if k == "edit_front_iou" or k.startswith("edit_miou")}
    bm.fit_silhouette = fit
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
