"""One ``render(gaussians, camera)`` entry with two interchangeable backends.

``cpu``: our vectorised torch rasteriser (any device, differentiable). ``gsplat``: CUDA kernels.
``auto`` picks gsplat when the Gaussians are on a GPU and gsplat imports, else the torch path.
Both blend the same per-Gaussian features: colour, camera depth and one-hot class, so the
class map (per pixel, the label with the largest accumulated weight; background wins where the
remaining transmittance is larger) is computed identically.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, Sequence

import torch
from torch import Tensor

from models.cameras import Camera
from models.device import is_accelerator
from models.errors import PercheadError
from models.gaussians import Gaussians
from models.render.cpu_rasterizer import rasterize
from models.render.gsplat_backend import gsplat_import_error, rasterize_gsplat
from models.render.projection import project_gaussians

Backend = Literal["auto", "cpu", "gsplat"]
NUM_CLASSES = 15  # ids 0..14 of assets/classes.yaml; 0 is background


@dataclass
class RenderOutput:
    """One rendered view."""

    rgb: Tensor            # [H, W, 3], background composited
    alpha: Tensor          # [H, W] accumulated opacity
    depth: Tensor          # [H, W] expected camera depth where alpha > 0, else 0
    class_weights: Tensor | None  # [H, W, C] accumulated blend weight per class (C = 15)
    backend: str

    @property
    def class_map(self) -> Tensor:
        """Per-pixel class id: the largest of the class weights and the background's 1 - alpha. [H, W]"""
        if self.class_weights is None:
            raise ValueError("rendered with classes=False")
        w = self.class_weights.clone()
        w[..., 0] = w[..., 0] + (1.0 - self.alpha)
        return w.argmax(-1)


def choose_backend(backend: Backend, device: torch.device) -> str:
    """Resolve ``auto`` once per call site: gsplat only on a GPU where it imports."""
    if backend == "cpu":
        return "cpu"
    if backend == "gsplat":
        if not is_accelerator(device):
            raise PercheadError("the gsplat backend needs the Gaussians on a CUDA GPU; use backend 'cpu'")
        err = gsplat_import_error()
        if err:
            raise PercheadError(f"gsplat could not be loaded ({err}); install gsplat==1.5.3 or use backend 'cpu'")
        return "gsplat"
    if is_accelerator(device):
        err = gsplat_import_error()
        if err is None:
            return "gsplat"
        warnings.warn(f"gsplat unavailable, rendering with the torch rasteriser: {err}", stacklevel=2)
    return "cpu"


def render(gaussians: Gaussians, camera: Camera, *, backend: Backend = "auto",
           background: Sequence[float] | Tensor = (0.0, 0.0, 0.0), classes: bool = True) -> RenderOutput:
    """Render Gaussians from ``camera``; the camera is moved to the Gaussians' device."""
    dev = gaussians.device
    cam = camera.to(dev)
    name = choose_backend(backend, dev)
    h, w = cam.height, cam.width
    dtype = gaussians.means.dtype

    rgb = gaussians.rgb_for_view(cam.position)  # [N, 3]
    means, opac = gaussians.means, gaussians.activated_opacities()
    cam_z = means @ cam.world_to_cam[2, :3] + cam.world_to_cam[2, 3]  # [N]
    feats = [rgb, cam_z[:, None]]
    labels = gaussians.labels.clamp(0, NUM_CLASSES - 1)

    if name == "gsplat":
        if classes:
            feats.append(torch.nn.functional.one_hot(labels, NUM_CLASSES).to(dtype))
        acc, alpha = rasterize_gsplat(means, gaussians.activated_quats(), gaussians.activated_scales(), opac,
                                      torch.cat(feats, 1), cam.world_to_cam, cam.K, w, h)
        cls = acc[:, 4:] if classes else None
    else:
        proj = project_gaussians(means, gaussians.covariances(), opac, cam.world_to_cam, cam.K, w, h)
        feat = torch.cat(feats, 1)[proj.index]
        acc, alpha, cls = rasterize(proj, feat, labels[proj.index] if classes else None, NUM_CLASSES, w, h)

    bg = torch.as_tensor(background, dtype=dtype, device=dev).reshape(1, 3)
    color = acc[:, :3] + (1.0 - alpha)[:, None] * bg
    depth = torch.where(alpha > 1e-6, acc[:, 3] / alpha.clamp_min(1e-10), torch.zeros_like(alpha))
    return RenderOutput(
        rgb=color.reshape(h, w, 3),
        alpha=alpha.reshape(h, w),
        depth=depth.reshape(h, w),
        class_weights=cls.reshape(h, w, NUM_CLASSES) if cls is not None else None,
        backend=name,
    )
