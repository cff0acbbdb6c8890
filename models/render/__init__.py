"""One ``render(gaussians, camera)`` entry with two interchangeable backends.

``torch``: our vectorised torch rasteriser (any device, differentiable; the reference).
``native``: the same rules as a C tile loop (``native.py``; CPU, no gradients, several times
faster because a pixel stops at its first opaque Gaussian). ``cpu``: native when it is built and
nothing needs gradients, else torch. ``gsplat``: CUDA kernels. ``auto`` picks gsplat when the
Gaussians are on a GPU and gsplat imports, else ``cpu``.
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
from models.render import native
from models.render.gsplat_backend import gsplat_import_error, rasterize_gsplat
from models.render.projection import project_gaussians

Backend = Literal["auto", "cpu", "torch", "native", "gsplat"]
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
    """Resolve ``auto`` once per call site: gsplat only on a GPU where it imports; else "cpu",
    "torch" or "native" (the last two only when asked for by name)."""
    if backend in ("cpu", "torch"):
        return backend
    if backend == "native":
        if device.type != "cpu" or not native.available():
            raise PercheadError("the native backend needs CPU tensors and a C compiler (gcc); use backend 'cpu'")
        return "native"
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
           background: Sequence[float] | Tensor = (0.0, 0.0, 0.0), classes: bool = True,
           class_probs: Tensor | None = None) -> RenderOutput:
    """Render Gaussians from one camera (moved to the Gaussians' device)."""
    out = render_views(gaussians, [camera], backend=backend, background=background, classes=classes,
                       class_probs=class_probs)
    return RenderOutput(out.rgb[0], out.alpha[0], out.depth[0],
                        None if out.class_weights is None else out.class_weights[0], out.backend)


def render_views(gaussians: Gaussians, cameras: Sequence[Camera], *, backend: Backend = "auto",
                 background: Sequence[float] | Tensor = (0.0, 0.0, 0.0), classes: bool = True,
                 class_probs: Tensor | None = None) -> RenderOutput:
    """Render V views of one set of Gaussians; outputs gain a leading view axis ([V, H, W, ...]).

    All cameras must share one image size. On gsplat the views go through one kernel launch.
    ``class_probs`` [N, C] blends soft class memberships (differentiable, for training) instead
    of the one-hot ``labels``.
    """
    if not cameras:
        raise ValueError("no cameras to render")
    dev, dtype = gaussians.device, gaussians.means.dtype
    cams = [c.to(dev) for c in cameras]
    h, w = cams[0].height, cams[0].width
    if any((c.height, c.width) != (h, w) for c in cams):
        raise ValueError("render_views needs cameras of one image size")
    name = choose_backend(backend, dev)
    labels = gaussians.labels.clamp(0, NUM_CLASSES - 1)
    opac = gaussians.activated_opacities()
    soft = class_probs is not None and classes
    if soft:
        one_hot = class_probs.to(dtype)  # [N, C]
    else:
        one_hot = torch.nn.functional.one_hot(labels, NUM_CLASSES).to(dtype) if classes else None
    feats = [_view_features(gaussians, c) for c in cams]  # each [N, 4]: rgb, camera depth

    if name == "gsplat":
        per_view = torch.stack([torch.cat([f, one_hot], 1) if classes else f for f in feats])  # [V, N, D]
        acc, alpha = rasterize_gsplat(gaussians.means, gaussians.activated_quats(), gaussians.activated_scales(),
                                      opac, per_view, torch.stack([c.world_to_cam for c in cams]),
                                      torch.stack([c.K for c in cams]), w, h)
        cls = acc[..., 4:] if classes else None
        acc = acc[..., :4]
    else:
        grads = torch.is_grad_enabled() and any(t.requires_grad for t in (
            gaussians.means, gaussians.log_scales, gaussians.quats, gaussians.opacity_logits, gaussians.sh,
            *(() if class_probs is None else (class_probs,))))
        use_native = name == "native" or (name == "cpu" and dev.type == "cpu" and not grads and native.available())
        raster = native.rasterize_native if use_native else rasterize
        name = "native" if use_native else ("torch" if name == "torch" else "cpu")
        covs = gaussians.covariances()
        accs, alphas, clss = [], [], []
        for cam, f in zip(cams, feats):
            proj = project_gaussians(gaussians.means, covs, opac, cam.world_to_cam, cam.K, w, h)
            if soft:  # soft memberships ride along as blended features
                a, al, _ = raster(proj, torch.cat([f, one_hot], 1)[proj.index], None, NUM_CLASSES, w, h)
                a, c = a[:, :4], a[:, 4:]
            else:
                a, al, c = raster(proj, f[proj.index], labels[proj.index] if classes else None,
                                  NUM_CLASSES, w, h)
            accs.append(a), alphas.append(al), clss.append(c)
        acc, alpha = torch.stack(accs), torch.stack(alphas)
        cls = torch.stack(clss) if classes else None

    v = len(cams)
    bg = torch.as_tensor(background, dtype=dtype, device=dev).reshape(1, 1, 3)
    color = acc[..., :3] + (1.0 - alpha)[..., None] * bg
    depth = torch.where(alpha > 1e-6, acc[..., 3] / alpha.clamp_min(1e-10), torch.zeros_like(alpha))
    return RenderOutput(
        rgb=color.reshape(v, h, w, 3),
        alpha=alpha.reshape(v, h, w),
        depth=depth.reshape(v, h, w),
        class_weights=cls.reshape(v, h, w, NUM_CLASSES) if cls is not None else None,
        backend=name,
    )


def render_batch(heads: Sequence[Gaussians], cameras: Sequence[Sequence[Camera]], *,
                 backend: Backend = "auto", backgrounds: Tensor | None = None) -> RenderOutput:
    """Render V views of each of B heads; outputs gain leading [B, V] axes ([B, V, H, W, ...]).

    On gsplat all B x V images go through ONE kernel launch: heads are padded to the longest
    with zero-opacity Gaussians, which gsplat culls (below the 1/255 alpha threshold), so a
    padded head renders exactly like the head alone. Elsewhere it loops ``render_views``.
    backgrounds: [B, V, 3] per view (default black).
    """
    if not heads or len(heads) != len(cameras):
        raise ValueError("render_batch needs one camera list per head")
    views = len(cameras[0])
    if any(len(c) != views for c in cameras):
        raise ValueError("render_batch needs the same number of views for every head")
    dev, dtype = heads[0].device, heads[0].means.dtype
    bgs = torch.zeros(len(heads), views, 3) if backgrounds is None else backgrounds
    bgs = bgs.to(device=dev, dtype=dtype)
    if choose_backend(backend, dev) != "gsplat":
        outs = [render_views(g, cams, backend="cpu") for g, cams in zip(heads, cameras)]
        rgb = torch.stack([o.rgb for o in outs])  # [B, V, H, W, 3] on black
        alpha = torch.stack([o.alpha for o in outs])
        rgb = rgb + (1.0 - alpha)[..., None] * bgs[:, :, None, None, :]
        return RenderOutput(rgb, alpha, torch.stack([o.depth for o in outs]),
                            torch.stack([o.class_weights for o in outs]), "cpu")
    cams = [[c.to(dev) for c in row] for row in cameras]
    h, w = cams[0][0].height, cams[0][0].width
    n_max = max(len(g) for g in heads)

    def padded(x: Tensor, fill: float = 0.0) -> Tensor:  # [N, ...] -> [n_max, ...]
        pad = x.new_full((n_max - x.shape[0], *x.shape[1:]), fill)
        return torch.cat([x, pad], 0)

    means = torch.stack([padded(g.means) for g in heads])  # [B, N, 3]
    quats = torch.stack([padded(g.activated_quats(), 0.5) for g in heads])  # [B, N, 4] (any unit-ish quat)
    scales = torch.stack([padded(g.activated_scales(), 1e-4) for g in heads])  # [B, N, 3]
    opac = torch.stack([padded(g.activated_opacities()) for g in heads])  # [B, N], padding 0 -> culled
    feats = torch.stack([torch.stack([padded(torch.cat([
        _view_features(g, c),
        torch.nn.functional.one_hot(g.labels.clamp(0, NUM_CLASSES - 1), NUM_CLASSES).to(dtype)], 1))
        for c in row]) for g, row in zip(heads, cams)])  # [B, V, N, 4 + C]
    w2c = torch.stack([torch.stack([c.world_to_cam for c in row]) for row in cams])  # [B, V, 4, 4]
    ks = torch.stack([torch.stack([c.K for c in row]) for row in cams])  # [B, V, 3, 3]
    acc, alpha = rasterize_gsplat(means, quats, scales, opac, feats, w2c, ks, w, h)  # [B*V, H*W, D]
    b, v = len(heads), views
    acc, alpha = acc.reshape(b, v, h, w, -1), alpha.reshape(b, v, h, w)
    rgb = acc[..., :3] + (1.0 - alpha)[..., None] * bgs[:, :, None, None, :]
    depth = torch.where(alpha > 1e-6, acc[..., 3] / alpha.clamp_min(1e-10), torch.zeros_like(alpha))
    return RenderOutput(rgb, alpha, depth, acc[..., 4:], "gsplat")


def _view_features(gaussians: Gaussians, camera: Camera) -> Tensor:
    """Per-Gaussian values blended for one view: colour (SH evaluated) and camera depth. [N, 4]"""
    rgb = gaussians.rgb_for_view(camera.position)
    cam_z = gaussians.means @ camera.world_to_cam[2, :3] + camera.world_to_cam[2, 3]
    return torch.cat([rgb, cam_z[:, None]], 1)
