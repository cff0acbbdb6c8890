"""Move a decoded head's regions onto the regions the artist painted.

The edit network draws its own face outline, hairline, jaw and neck inside the painted ones (on drawn
maps skin, hair and neck hold 60-70 % of the wrong front pixels after the silhouette fit; docs/quality.md,
failure case 6). The head's canonical-view class render is registered onto the painted map by a smooth
displacement field (demons: each pixel pushed along the render's class edges towards the painted classes,
the field smoothed and capped each iteration) and every Gaussian is moved across the canonical view by the
field at its projected centre, its depth kept; three rounds, each from where the one before left the head.
Gaussians behind the head's middle move less, down to not at all at the back, so the back of the head, which
the front map does not show, keeps the network's shape. Runs after the outline fill (models/fitting/outline.py),
on the device. Engine maps, which the head already follows, move little and gain too (front IoU +0.015 on
16 training-stream heads); docs/quality.md has the numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import Camera, project_points
from models.device import is_accelerator
from models.fitting.front_view import canonical_camera, front_class_render, shift_across_view
from models.fitting.graphs import graphed_call
from models.gaussians import Gaussians


@dataclass(frozen=True)
class FollowSettings:
    """How hard the head follows the paint. Chosen on drawn maps 40-79 and 16 training-stream engine heads
    (experiments/region_follow_sweep.py; docs/quality.md, "Following the painted regions"); pixel sizes are at the
    registration grid's resolution."""

    resolution: int = 128         # registration grid, px
    render_scale: int = 2         # the class render is this many times the grid (at most the map's size)
    rounds: int = 3               # render, register, move; again from where the last round left the head
    iterations: int = 15          # demons iterations per round
    smooth_px: float = 2.0        # Gaussian smoothing of the field per iteration, px at ``resolution``
    max_move_px: float = 4.0      # cap on one round's move, px at ``resolution``
    back_falloff: float | None = 0.5  # moves fade from the head's mean depth to mean + this x the depth spread;
    #                                   None: the whole column moves

    def __post_init__(self) -> None:
        if (min(self.resolution - 8, self.rounds, self.iterations) < 0 or min(self.smooth_px, self.max_move_px) <= 0
                or self.render_scale < 1):
            raise ValueError(f"region following settings out of range: {self}")
        if self.back_falloff is not None and self.back_falloff <= 0:
            raise ValueError("back_falloff is a positive share of the depth spread, or None")


DEFAULT_FOLLOW = FollowSettings()
_EDGE_SIGMA = 1.0  # the class one-hots are blurred by this much so that their edges have a gradient


def _blur_matrix(sigma: float, n: int, device: torch.device) -> Tensor:
    """[n, n] Gaussian blur along one axis as a matrix (taps out to 3 sigma, edges replicated): ``B @ x @ B.T``
    blurs x [..., n, n]. Two matmuls cost less than a separable conv on the CPU (~0.15 vs ~0.8 ms at 128²)
    and are two kernels on a GPU."""
    r = max(1, int(3 * sigma))
    offsets = torch.arange(-r, r + 1, device=device)
    taps = torch.exp(-(offsets.float() ** 2) / (2 * sigma * sigma))
    taps = taps / taps.sum()                                                     # [2r+1]
    cols = (torch.arange(n, device=device)[:, None] + offsets[None]).clamp(0, n - 1)  # [n, 2r+1]: replicate
    return torch.zeros(n, n, device=device).scatter_add_(1, cols, taps.expand(n, -1).contiguous())


def _central_gradients(x: Tensor, out: Tensor) -> Tensor:
    """d/dx and d/dy of x [1, C, H, W] by central differences into ``out`` [1, C, 2, H, W] (one-sided at the
    border, both halved: the image is padded by replicating its edge). Four kernels, no new tensor."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")                                 # [1, C, H+2, W+2]
    torch.sub(p[..., 1:-1, 2:], p[..., 1:-1, :-2], out=out[:, :, 0])
    torch.sub(p[..., 2:, 1:-1], p[..., :-2, 1:-1], out=out[:, :, 1])
    return out.mul_(0.5)


def demons_field(moving: Tensor, fixed: Tensor, settings: FollowSettings = DEFAULT_FOLLOW) -> Tensor:
    """Backward displacement [2, H, W] (px; x then y) such that ``moving`` sampled at p + field(p) looks like
    ``fixed`` at p. moving, fixed: [1, C, H, W] class shares (one-hot or area-averaged). Written for few
    kernels per iteration (~30): on a GPU their launches, not their work, are the cost."""
    _, _, h, w = moving.shape
    dev = moving.device
    edge_y, edge_x = _blur_matrix(_EDGE_SIGMA, h, dev), _blur_matrix(_EDGE_SIGMA, w, dev).T
    smooth_y, smooth_x = _blur_matrix(settings.smooth_px, h, dev), _blur_matrix(settings.smooth_px, w, dev).T
    moving = edge_y @ moving.float() @ edge_x                                    # [1, C, H, W]
    fixed = edge_y @ fixed.float() @ edge_x
    ys, xs = torch.meshgrid(torch.arange(h, device=dev, dtype=torch.float32),
                            torch.arange(w, device=dev, dtype=torch.float32), indexing="ij")  # [H, W]
    base = torch.stack([(xs + 0.5) / w * 2 - 1, (ys + 0.5) / h * 2 - 1], -1)[None]  # [1, H, W, 2] pixel centres
    # filled on the device: a host tensor (or an item assignment) would be a copy, which a CUDA graph refuses
    px_to_grid = torch.cat([torch.full((1,), 2.0 / w, device=dev), torch.full((1,), 2.0 / h, device=dev)])
    cap = settings.max_move_px
    field = torch.zeros(1, 2, h, w, device=dev)
    grads = torch.empty(1, moving.shape[1], 2, h, w, device=dev)
    for _ in range(settings.iterations):
        grid = torch.addcmul(base, field.permute(0, 2, 3, 1), px_to_grid)       # [1, H, W, 2]
        warped = F.grid_sample(moving, grid, align_corners=False, padding_mode="border")  # [1, C, H, W]
        grads = _central_gradients(warped, grads)                                # [1, C, 2, H, W]
        diff = (fixed - warped)[:, :, None]                                      # [1, C, 1, H, W]
        denom = grads.square().sum((1, 2)) + diff.square().sum((1, 2)) + 1e-6    # [1, H, W]
        step = (diff * grads).sum(1) / denom[:, None]                           # [1, 2, H, W]
        field = smooth_y @ (field + step) @ smooth_x
        norm = field.square().sum(1, keepdim=True).sqrt()  # not Tensor.norm(dim=1): 30x slower on CPU
        field = field * (cap / norm.clamp_min(cap))                             # cap the move
    return field[0]


def _field(moving: Tensor, fixed: Tensor, settings: FollowSettings) -> Tensor:
    """demons_field: on a CPU over the classes present; on a GPU over all of them, replayed from a CUDA graph
    (models/fitting/graphs.py: an iteration is ~30 kernels on a 128² grid, cheaper to run than to launch)."""
    if not is_accelerator(moving.device):
        # only the classes present in either map: a class absent from both adds nothing to any sum of the
        # registration, so the field is the same, for ~20 % less work (the host check is free on a CPU)
        present = ((moving > 0) | (fixed > 0)).flatten(2).any(-1)[0]             # [C]
        return demons_field(moving[:, present], fixed[:, present], settings)
    return graphed_call(f"demons_field {settings}", partial(demons_field, settings=settings), moving, fixed)


def class_shares(ids: Tensor, num_classes: int, size: int) -> Tensor:
    """[1, C, size, size] share of each class per cell of a class-id map ``ids`` [S, S]. Where S is a multiple
    of size, counted by one scatter-add (4x cheaper than pooling a one-hot map on a CPU, no host sync)."""
    s = ids.shape[-1]
    ids = ids.long().clamp(0, num_classes - 1)
    if s % size:
        one_hot = F.one_hot(ids, num_classes).permute(2, 0, 1)[None].float()  # [1, C, S, S]
        return F.adaptive_avg_pool2d(one_hot, size)
    k = s // size
    cell = torch.arange(s, device=ids.device) // k                              # [S] grid row / column of a pixel
    index = ((cell[:, None] * size + cell[None, :]) * num_classes + ids).flatten()  # [S*S]
    counts = torch.zeros(size * size * num_classes, device=ids.device).index_add_(
        0, index, torch.full((s * s,), 1.0 / (k * k), device=ids.device))
    return counts.view(size, size, num_classes).permute(2, 0, 1)[None]         # [1, C, R, R]


def _move_across_view(g: Gaussians, field: Tensor, camera: Camera, back_falloff: float | None) -> Gaussians:
    """``g`` with each Gaussian moved across the canonical view by minus the backward ``field`` [2, R, R] (px at
    R) at its projected centre, depth kept; behind the head's middle the move fades out (``back_falloff``)."""
    size = camera.width
    res = field.shape[-1]
    means = g.means.float()
    uv = project_points(means, camera)                                          # [N, 2] px at S
    grid = (uv / size * 2 - 1)[None, None]                                      # [1, 1, N, 2]
    back = F.grid_sample(field[None], grid, align_corners=False, padding_mode="border")[0, :, 0].T  # [N, 2] px at R
    w2c = camera.world_to_cam
    depth = (means @ w2c[:3, :3].T + w2c[:3, 3])[:, 2]                           # [N]
    weight = torch.ones_like(depth)
    if back_falloff is not None:
        mid, spread = depth.mean(), depth.std().clamp_min(1e-6)
        weight = ((mid + back_falloff * spread - depth) / (back_falloff * spread)).clamp(0, 1)
    scale = -(size / res) * weight                                              # forward move ~ minus backward
    moved = shift_across_view(means, back[:, 0] * scale, back[:, 1] * scale, camera)  # (du, dv) px at S
    return Gaussians(moved.to(g.means.dtype), g.quats, g.log_scales, g.opacity_logits, g.sh, g.labels)


def follow_painted_regions(g: Gaussians, labels: Tensor, settings: FollowSettings = DEFAULT_FOLLOW) -> Gaussians:
    """``g`` with its Gaussians moved across the canonical view so that its front class render lands on the
    painted ``labels`` [S, S] (class ids). Each round renders the head's classes at ``render_scale`` times the
    grid's resolution (at most S), averages them and the paint to class shares on the grid, registers one onto the
    other and moves the Gaussians. No host sync of its own (the render, like every frame's, may wait)."""
    from models.palette import palette

    if len(g) < 2:
        return g
    size = labels.shape[-1]
    res = min(settings.resolution, size)
    classes = palette().num_classes
    device = g.means.device
    camera = canonical_camera(size, str(device))
    fixed = class_shares(labels.to(device), classes, res)                       # [1, C, R, R]
    for _ in range(settings.rounds):
        _, rendered = front_class_render(g, min(size, settings.render_scale * res))  # [kR, kR] class ids
        field = _field(class_shares(rendered, classes, res), fixed, settings)  # [2, R, R]
        g = _move_across_view(g, field, camera, settings.back_falloff)
    return g
