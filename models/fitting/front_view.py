"""The head as the artist's map sees it: the canonical camera and a class render from it.

Shared by the silhouette fit (models/fitting/outline.py) and region following (models/fitting/regions.py),
which both compare the decoded head's front view with the painted map.
"""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor

from models.cameras import Camera, canonical_view
from models.device import is_accelerator
from models.gaussians import PRUNE_OPACITY, TRANSPARENT_LOGIT, Gaussians


@cache
def canonical_camera(size: int, device: str) -> Camera:
    """The seg map's camera at ``size`` px on ``device`` (cached: one per stroke would copy it each time).
    Never evicted: CUDA graphs (models/fitting/graphs.py) read these tensors' memory; a few sizes are ever asked."""
    return canonical_view().camera(size).to(device)


def shift_across_view(means: Tensor, du: Tensor, dv: Tensor, camera: Camera) -> Tensor:
    """World points ``means`` [N, 3] moved by (``du``, ``dv``) [N] pixels across ``camera``'s image, each at its
    own depth (so it projects (du, dv) px further and keeps its distance from the image plane)."""
    w2c = camera.world_to_cam
    depth = (means @ w2c[:3, :3].T + w2c[:3, 3])[:, 2]                            # [N]
    move_cam = torch.stack([du * depth / camera.K[0, 0], dv * depth / camera.K[1, 1], torch.zeros_like(depth)], -1)
    return means + move_cam @ w2c[:3, :3]                                        # back to world (R^T on rows)


def front_class_render(g: Gaussians, render_size: int) -> tuple[Gaussians, Tensor]:
    """(``g`` in float32 with its faint Gaussians fully transparent, its canonical-view class render
    [render_size, render_size] on g's device). Faint ones are hidden first (renderers cull them): they change
    no class pixel and would double the CPU raster time (a mask would wait for a GPU)."""
    from models.render import render

    faint = torch.sigmoid(g.opacity_logits.float()) < PRUNE_OPACITY
    g32 = Gaussians(g.means.float(), g.quats.float(), g.log_scales.float(),
                    torch.where(faint, torch.full_like(g.opacity_logits.float(), TRANSPARENT_LOGIT), g.opacity_logits.float()),
                    g.sh.float(), g.labels)
    # on a CPU the faint ones are also left out of the render itself (a free host check; ~25 % of its time)
    shown = g32 if is_accelerator(g.means.device) else g32[~faint]
    rendered = render(shown, canonical_camera(render_size, str(g.means.device)), classes=True).class_map
    return g32, rendered.to(g.means.device)
