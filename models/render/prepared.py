"""A head made ready once for many views: the orbiting viewport's fast path on a GPU.

Why: while the artist orbits, the same Gaussians are drawn from a new camera every frame. The
general ``render`` re-activates scales, rotations and opacities, evaluates colours, blends depth
and class features and composites the background per call; at 512² on an H100/H200 those
launches, not the rasteriser, dominated a frame (issue 9: orbit_frame <= 2 ms). Here the
per-head work happens once (``prepare_head``), and a frame is one gsplat call that blends only
colour with the background composited in the kernel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from models.cameras import Camera
from models.gaussians import Gaussians
from models.render.gsplat_backend import rasterize_rgb_gsplat


@dataclass(frozen=True)
class PreparedHead:
    """Activated, float32, contiguous parameters of one head on its device."""

    gaussians: Gaussians      # the source (kept for view-dependent colour)
    means: Tensor             # [N, 3]
    quats: Tensor             # [N, 4] unit, wxyz
    scales: Tensor            # [N, 3]
    opacities: Tensor         # [N]
    rgb: Tensor | None        # [N, 3] colour when it does not depend on the view (SH degree 0), else None

    def __len__(self) -> int:
        return self.means.shape[0]


@torch.no_grad()
def prepare_head(gaussians: Gaussians) -> PreparedHead:
    """Activate once what every view of ``gaussians`` shares."""
    f32 = lambda t: t.detach().float().contiguous()  # noqa: E731
    g = gaussians
    rgb = f32(g.base_rgb()) if g.sh.shape[1] == 1 else None
    return PreparedHead(g, f32(g.means), f32(g.activated_quats()), f32(g.activated_scales()),
                        f32(g.activated_opacities()), rgb)


@torch.no_grad()
def render_prepared_rgb(head: PreparedHead, camera: Camera, background: Sequence[float] = (0.0, 0.0, 0.0)) -> Tensor:
    """Colour of ``head`` seen from ``camera`` over ``background``, clamped to 0..1. [H, W, 3]

    The same image as ``render(...).rgb.clamp(0, 1)`` with the gsplat backend (a GPU test checks it).
    """
    dev = head.means.device
    cam = camera.to(dev)
    rgb = head.rgb if head.rgb is not None else head.gaussians.rgb_for_view(cam.position).float()
    bg = torch.tensor([list(background)], dtype=torch.float32).to(dev, non_blocking=True)  # [1, 3]
    image = rasterize_rgb_gsplat(head.means, head.quats, head.scales, head.opacities, rgb,
                                 cam.world_to_cam.float()[None], cam.K.float()[None], camera.width, camera.height, bg)
    return image[0].clamp_(0.0, 1.0)  # [H, W, 3]
