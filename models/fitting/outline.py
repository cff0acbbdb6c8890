"""The painted silhouette: stretch a decoded head to the painted outline.

The seg map is the head seen by the canonical camera, so nothing of the head can lie outside the
painted foreground when seen from there, and the painted hair / hat outline is where the head should
end. The edit network's shape prior disagrees in both directions (a fuller hair blob than painted, the
engine's shoulders where a drawing has a narrow ellipse; a bob or an afro painted wider than it makes
them). The fit's first step lives here (models/fitting/painted.py runs it, then region following,
models/fitting/regions.py), on the device (no host sync of its own; the render, like every frame's, may wait
inside the rasteriser): ``fill_outline``: where the painted hair / hat (or shirt line) lies further out
(higher) than the rendered head's, the hair / hat (clothes) Gaussians are stretched across the view to reach it
(at most x1.5); where the render overshoots the paint, pulled back (at least x0.6).
"""
from __future__ import annotations

import math
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import project_points
from models.fitting.front_view import canonical_camera, front_class_render, shift_across_view
from models.fitting.graphs import graphed_call
from models.gaussians import Gaussians

_OUTER_CLASSES = ("hair", "hat")  # what may be stretched to the painted outline
_BODY_CLASSES = ("neck", "clothes")  # neither face nor outline
_ANGLE_BINS = 72
_MAX_STRETCH = 1.5
_MIN_STRETCH = 0.6  # chosen on the generator's maps 40-239 from 0.8 / 0.6 / 0.5 / 0.4, checked on 240-439 (docs/quality.md)


def _binned_max(values: Tensor, bins: Tensor, mask: Tensor) -> Tensor:
    """[_ANGLE_BINS]: the largest of ``values`` [M] over ``mask`` [M] per angle bin (0 where none)."""
    out = torch.zeros(_ANGLE_BINS, device=values.device, dtype=values.dtype)
    return out.scatter_reduce(0, bins, torch.where(mask, values, torch.zeros_like(values)), reduce="amax")


def _own_capped_smooth(stretch: Tensor, kernel: Tensor, circular: bool) -> Tensor:
    """Smooth per-direction (or per-column) stretches [K] over neighbours, but never past what each
    one asked for itself: smoothing only rounds the steps between neighbours, it does not spread a
    stretch into a direction where the render already reaches the paint (a V-neck, a parting)."""
    pad = kernel.numel() // 2
    if circular:
        padded = torch.cat([stretch[-pad:], stretch, stretch[:pad]])[None, None]
    else:
        padded = F.pad(stretch[None, None], (pad, pad), mode="replicate")
    smooth = F.conv1d(padded, kernel[None, None])[0, 0]
    return torch.where(stretch > 0, torch.minimum(smooth, stretch),
                       torch.where(stretch < 0, torch.maximum(smooth, stretch), torch.zeros_like(stretch)))


def _near_min(top: Tensor) -> Tensor:
    """[S]: the smallest of ``top`` [S] over each column and its two neighbours (edge columns: two)."""
    return -F.max_pool1d(-top[None, None], 3, 1, 1)[0, 0]


@cache
def _fill_constants(device: str) -> tuple[Tensor, Tensor, Tensor]:
    """(outer class ids, body class ids, the per-direction smoothing kernel [5]) on ``device``, made once: a
    copy from ordinary host memory on every stroke would make the host wait for the GPU's queued work. Never
    evicted: the fill's CUDA graph reads them."""
    from models.palette import palette  # noqa: PLC0415

    pal = palette()
    return (torch.tensor([pal.id_of(n) for n in _OUTER_CLASSES], device=device),
            torch.tensor([pal.id_of(n) for n in _BODY_CLASSES], device=device),
            torch.tensor([1.0, 2.0, 3.0, 2.0, 1.0], device=device) / 9.0)


def fill_outline(g: Gaussians, labels: Tensor, graphed: bool = False) -> Gaussians:
    """Stretch hair / hat Gaussians outwards and clothes Gaussians upwards where the painted outline
    reaches further than the head's own front render shows it, and back where the render overshoots it
    (one class render at the canonical view, half resolution).

    Hair / hat, per direction around the painted face's centre (72 bins): radius r beyond the face's
    edge R_face maps to R_face + (r - R_face) * s, s = (painted - R_face) / (rendered - R_face). Clothes,
    per image column: height above the image's bottom edge h maps to h * s, s = painted clothes top /
    rendered clothes top (a higher collar or shoulder line than the network drew). s is kept in
    0.6..1.5 (below 1 where the render overshoots the paint: splats spilling past it), and is 1 where the render is within 1 px of the paint, so a head that matches its
    map (every engine map) is left as it is. Moves are across the view (no depth), so the stretched
    parts keep their depth and read the same from behind. ``graphed``: on a GPU, compute the moves from a
    CUDA graph (the live editor, whose heads always have the network's Gaussian count)."""
    if len(g) == 0:
        return g
    lab = labels.to(g.means.device)
    g32, rendered = front_class_render(g, lab.shape[-1] // 2)  # the head as rendered, [S/2, S/2]: half the raster time
    if graphed:
        moved = graphed_call("outline_moves", _outline_moves, g32.means, g.labels, lab, rendered)
    else:
        moved = _outline_moves(g32.means, g.labels, lab, rendered)
    return Gaussians(moved.to(g.means.dtype), g.quats, g.log_scales, g.opacity_logits, g.sh, g.labels)


def _outline_moves(means: Tensor, gauss_labels: Tensor, lab: Tensor, rendered: Tensor) -> Tensor:
    """fill_outline's moves: Gaussian centres ``means`` [N, 3] (float32) of classes ``gauss_labels`` [N] moved
    so that the head, whose class render at half size is ``rendered`` [S/2, S/2], fills the painted ``lab``
    [S, S]. Fixed shapes and no host sync, so it can be replayed from a CUDA graph."""
    from models.palette import palette

    dev = means.device
    pal = palette()
    size = lab.shape[-1]
    cam = canonical_camera(size, str(dev))
    outer_ids, body_ids, angle_kernel = _fill_constants(str(dev))
    clothes = pal.id_of("clothes")
    painted_outer = torch.isin(lab, outer_ids).flatten()  # [S*S]
    face = ((lab > 0) & ~torch.isin(lab, outer_ids) & ~torch.isin(lab, body_ids)).flatten()
    coords = torch.arange(size, device=dev, dtype=torch.float32) + 0.5  # pixel centres
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    xs, ys = xs.flatten(), ys.flatten()  # [S*S]
    n_face = face.sum()
    cx = (xs * face).sum() / n_face.clamp_min(1)
    cy = (ys * face).sum() / n_face.clamp_min(1)

    def polar(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        dx, dy = x - cx, y - cy
        b = ((torch.atan2(dy, dx) + math.pi) / (2 * math.pi) * _ANGLE_BINS).long().clamp(0, _ANGLE_BINS - 1)
        return torch.sqrt(dx * dx + dy * dy), b

    rendered = rendered.repeat_interleave(2, 0).repeat_interleave(2, 1)  # [S, S]; 1 px of error

    # hair / hat: per direction around the face
    r_px, b_px = polar(xs, ys)
    r_paint = _binned_max(r_px, b_px, painted_outer)  # [72]
    r_face = _binned_max(r_px, b_px, face)
    r_rend = _binned_max(r_px, b_px, torch.isin(rendered.flatten(), outer_ids))
    band = r_rend - r_face
    valid = (r_paint > 0) & (band > 3.0) & (n_face >= 20)
    grow = valid & (r_paint - 1.0 > r_rend)
    shrink = valid & (r_paint + 1.0 < r_rend)
    stretch = torch.where(grow, ((r_paint - 1.0 - r_face) / band.clamp_min(1e-3)).clamp(1.0, _MAX_STRETCH),
                          torch.ones_like(band))
    stretch = torch.where(shrink, ((r_paint + 1.0 - r_face) / band.clamp_min(1e-3)).clamp(_MIN_STRETCH, 1.0),
                          stretch) - 1.0  # [72]
    stretch = _own_capped_smooth(stretch, angle_kernel, circular=True)

    # clothes: per column, heights above the bottom edge
    floor = torch.full((size, size), float(size), device=dev)
    rows = ys.view(size, size)
    paint_top = torch.where(lab == clothes, rows, floor).amin(0)  # [S] per column (S: none)
    rend_top = torch.where(rendered == clothes, rows, floor).amin(0)
    both = (paint_top < size) & (rend_top < size)
    # 1 px of tolerance across as well as up: at a steep shoulder a 1 px sideways offset of the edge is many
    # pixels of height, and a head whose edge lies within 1 px of the paint must not be lifted or sunk
    rise = both & (paint_top + 1.0 < _near_min(rend_top))
    sink = both & (_near_min(paint_top) - 1.0 > rend_top)
    lift = torch.where(rise, ((size - paint_top + 1.0) / (size - rend_top).clamp_min(1e-3)).clamp(1.0, _MAX_STRETCH),
                       torch.ones_like(paint_top))
    lift = torch.where(sink, ((size - paint_top - 1.0) / (size - rend_top).clamp_min(1e-3)).clamp(_MIN_STRETCH, 1.0),
                       lift) - 1.0  # [S]
    lift = _own_capped_smooth(lift, torch.ones(9, device=dev) / 9.0, circular=False)

    uv = project_points(means, cam)  # [N, 2]
    r_g, b_g = polar(uv[:, 0], uv[:, 1])
    r_edge = r_face[b_g]
    is_outer = torch.isin(gauss_labels, outer_ids) & (r_g > r_edge)
    step = torch.where(is_outer, (r_edge + (r_g - r_edge) * (1.0 + stretch[b_g]) - r_g) / r_g.clamp_min(1e-3),
                       torch.zeros_like(r_g))  # [N] fraction of the offset from the face centre
    du, dv = step * (uv[:, 0] - cx), step * (uv[:, 1] - cy)  # [N] px
    column = uv[:, 0].floor().long().clamp(0, size - 1)
    dv = torch.where(gauss_labels == clothes, -(size - uv[:, 1]) * lift[column], dv)  # up: towards smaller v
    return shift_across_view(means, du, dv, cam)
