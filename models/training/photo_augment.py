"""Photo-like inputs for the base model (issue 25 item 2), so a real portrait is in distribution.

A photo reaches the base model through ``prepare_photo``: a camera took it under some light, on some background,
with its optics, sensor and file format, and MediaPipe cut the person out and aligned the face to within a few
pixels. An engine render has none of that. Here view 0 of a training batch (the network's input) is made into
such a photo, in the order a photo is made:

1. framing (3D, the targets follow): the head moved a little in front of the canonical camera, as much as the
   aligner leaves (docs/photo.md "Measured": 1-3 px at 256 on frontal faces), and every view re-rendered, so the
   network learns to follow the image rather than to put the head back where the engine puts it;
2. appearance: a directional light of random direction and colour fixed to the head, over its normals (from each
   view's depth), plus ambient, then white balance, exposure and gamma, applied to EVERY view: a reconstruction is
   scored against the photo as it was taken, so the person's light and colour are what the network must return;
3. background: a procedural scene (smooth gradient, soft blobs, texture, a few hard-edged shapes) behind the head;
4. optics and sensor (the input only): lens blur, sensor noise, then JPEG (Pillow's encoder);
5. cut-out: the head's alpha with a person-mask's error (a slightly grown or shrunk, softened edge), and the
   photo multiplied by it, as ``prepare_photo`` gives it. Background colour bleeds in where the mask is too wide.

The targets get the framing and the appearance, not the capture (background, blur, noise, JPEG, cut-out). Ranges are set from how photos vary and from the
aligner's measured error, not from the evaluation photos (assets/eval/photos is for reporting only).
"""
from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from models.errors import PercheadError
from models.fitting.similarity import frame_transform, move_gaussians
from models.networks.inputs import premultiplied
from models.training.augment import rerender


NORMAL_SMOOTH = 5.0  # px at 256: depth blur before normals (the head's shape, not its splats, takes the light)


@dataclass
class PhotoAugmentConfig:
    """``data.photo`` of a base config. Probabilities are per head; ``prob`` 0 turns it all off."""

    prob: float = 0.0                # heads whose input is made photo-like
    frame_prob: float = 0.5          # ... of those, moved a little (re-rendered)
    max_shift_px: float = 3.0        # per axis, at the input size
    max_scale: float = 0.03
    max_roll_deg: float = 2.0
    light_prob: float = 0.8
    light_strength: float = 0.7      # directional share of the light, at most (the rest ambient)
    light_tint: float = 0.06         # per-channel spread of the light's colour
    background_prob: float = 0.8
    blur_prob: float = 0.3
    max_blur_px: float = 1.2         # Gaussian sigma
    white_balance: float = 0.06      # per-channel gain in [1 - wb, 1 + wb] (most portraits are balanced)
    exposure_stops: float = 0.5      # gain in [2^-e, 2^e]
    gamma: float = 0.15              # exponent in [1 - g, 1 + g]
    noise_prob: float = 0.5
    max_noise: float = 0.03          # sensor noise sigma (0..1 units)
    jpeg_prob: float = 0.5
    jpeg_quality: tuple[int, int] = (35, 95)
    mask_edge_px: float = 1.5        # the cut-out's edge error: grown or shrunk up to this, softened as much

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "PhotoAugmentConfig":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PercheadError(f"unknown data.photo options {sorted(unknown)}; known: {sorted(known)}")
        if "jpeg_quality" in data:
            data["jpeg_quality"] = tuple(int(q) for q in data["jpeg_quality"])
        cfg = cls(**data)
        probs = ("prob", "frame_prob", "light_prob", "background_prob", "blur_prob", "noise_prob", "jpeg_prob")
        for name in probs:
            if not 0.0 <= getattr(cfg, name) <= 1.0:
                raise PercheadError(f"data.photo.{name} must be between 0 and 1")
        lo, hi = cfg.jpeg_quality
        if not 1 <= lo <= hi <= 100:
            raise PercheadError("data.photo.jpeg_quality must be [low, high] within 1..100")
        return cfg

    @property
    def active(self) -> bool:
        return self.prob > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def depth_normals(depth: Tensor, K: Tensor, smooth_px: float = 0.0) -> Tensor:
    """Camera-space unit normals [B, H, W, 3] (facing the camera: z < 0) from depth maps [B, H, W] and
    intrinsics [B, 3, 3]; 0 where there is no depth. ``smooth_px``: the depth first blurred this much (within the
    head: a splat render's depth is bumpy at the scale of its Gaussians, which would light up as a rough skin)."""
    b, h, w = depth.shape
    if smooth_px > 0:
        inside = (depth > 0).to(depth.dtype)
        sigma = torch.full((b,), float(smooth_px))
        blurred = gaussian_blur(torch.stack([depth * inside, inside], -1), sigma)
        depth = torch.where(inside > 0, blurred[..., 0] / blurred[..., 1].clamp_min(1e-6), depth)
    ys, xs = torch.meshgrid(torch.arange(h, device=depth.device, dtype=depth.dtype) + 0.5,
                            torch.arange(w, device=depth.device, dtype=depth.dtype) + 0.5, indexing="ij")
    fx, fy = K[:, 0, 0, None, None], K[:, 1, 1, None, None]
    cx, cy = K[:, 0, 2, None, None], K[:, 1, 2, None, None]
    pts = torch.stack([(xs - cx) / fx * depth, (ys - cy) / fy * depth, depth], -1)  # [B, H, W, 3]
    dx = F.pad(pts[:, :, 2:] - pts[:, :, :-2], (0, 0, 1, 1))
    dy = F.pad(pts[:, 2:] - pts[:, :-2], (0, 0, 0, 0, 1, 1))
    n = F.normalize(torch.cross(dx, dy, dim=-1), dim=-1)
    n = torch.where(n[..., 2:3] > 0, -n, n)  # towards the camera
    valid = (depth > 0)[..., None]
    return torch.where(valid, n, torch.zeros_like(n))


def procedural_background(n: int, size: int, gen: torch.Generator) -> Tensor:
    """``n`` scenes [n, size, size, 3] in 0..1: a two-colour gradient, soft blobs, fine texture and a few
    hard-edged rectangles (a door, a flag, a shelf)."""
    base = torch.rand(n, 2, 3, generator=gen) ** 1.5
    t = torch.linspace(0, 1, size)
    angle = torch.rand(n, generator=gen) * 2 * math.pi
    ys, xs = torch.meshgrid(t, t, indexing="ij")
    ramp = (xs[None] * torch.cos(angle)[:, None, None] + ys[None] * torch.sin(angle)[:, None, None])
    ramp = (ramp - ramp.amin((1, 2), keepdim=True)) / (ramp.amax((1, 2), keepdim=True) - ramp.amin((1, 2), keepdim=True))
    img = base[:, 0, None, None] * (1 - ramp[..., None]) + base[:, 1, None, None] * ramp[..., None]
    blobs = F.interpolate(torch.rand(n, 3, 4, 4, generator=gen), size=(size, size), mode="bicubic",
                          align_corners=False).permute(0, 2, 3, 1)
    texture = F.interpolate(torch.rand(n, 1, size // 4, size // 4, generator=gen), size=(size, size),
                            mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    img = img + 0.35 * (blobs - 0.5) + 0.08 * (texture - 0.5) * torch.rand(n, 1, 1, 1, generator=gen)
    for i in range(n):
        for _ in range(int(torch.randint(0, 4, (1,), generator=gen))):
            x0, y0 = (torch.rand(2, generator=gen) * size).long().tolist()
            w, h = (torch.rand(2, generator=gen) * size * 0.6 + 4).long().tolist()
            img[i, y0:y0 + h, x0:x0 + w] = torch.rand(3, generator=gen) ** 1.5
    return img.clamp(0, 1)


def gaussian_blur(img: Tensor, sigma: Tensor) -> Tensor:
    """Blur [B, H, W, C] by a per-image sigma [B] px (separable, radius 3 sigma; sigma 0 leaves it)."""
    out = img.clone()
    for i, s in enumerate(sigma.tolist()):
        if s <= 0.05:
            continue
        r = max(1, math.ceil(3 * s))
        x = torch.arange(-r, r + 1, device=img.device, dtype=img.dtype)
        k = torch.exp(-0.5 * (x / s) ** 2)
        k = k / k.sum()
        c = img.shape[-1]
        x_img = img[i].permute(2, 0, 1)[:, None]  # [C, 1, H, W]
        x_img = F.conv2d(F.pad(x_img, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
        x_img = F.conv2d(F.pad(x_img, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
        out[i] = x_img[:, 0].permute(1, 2, 0)[..., :c]
    return out


def jpeg(img: Tensor, quality: int) -> Tensor:
    """One image [H, W, 3] in 0..1 through Pillow's JPEG encoder at ``quality`` and back."""
    arr = (img.clamp(0, 1).detach().cpu().numpy() * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
    back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(back).to(img.device, img.dtype)


def cut_out(alpha: Tensor, edge_px: Tensor) -> Tensor:
    """A person mask's version of the alpha [B, H, W]: grown (edge > 0) or shrunk (< 0) by |edge| px and softened
    as much. Grown by blurring the alpha and lowering the level that counts as inside, shrunk by raising it.
    ``edge_px`` [B] is read on the host (a device tensor would be copied back)."""
    edge_px = edge_px.cpu()
    soft = gaussian_blur(alpha[..., None], edge_px.abs())[..., 0]
    level = (0.5 - 0.35 * torch.tanh(edge_px)).view(-1, 1, 1).to(alpha.device)  # growing: a lower level, more blur
    mask = ((soft - level) / 0.3 + 0.5).clamp(0, 1)
    exact = (edge_px.abs() <= 0.05).view(-1, 1, 1).to(alpha.device)
    return torch.where(exact, alpha, mask)


class PhotoAugment:
    """Applies PhotoAugmentConfig to engine batches: returns the (re-rendered) batch and the input image
    [B, 3, H, W] (premultiplied by its alpha, as prepare_photo gives) and alpha [B, H, W]."""

    def __init__(self, cfg: PhotoAugmentConfig, seed: int) -> None:
        self.cfg = cfg
        self.gen = torch.Generator().manual_seed(seed)  # CPU: decisions, no device sync

    def _u(self, n: int, lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.gen)

    def _chance(self, n: int, p: float) -> Tensor:
        return torch.rand(n, generator=self.gen) < p

    def __call__(self, batch) -> tuple[Any, Tensor, Tensor]:
        cfg = self.cfg
        n, size = len(batch.seeds), batch.rgb.shape[-2]
        photo = self._chance(n, cfg.prob)
        frame = photo & self._chance(n, cfg.frame_prob)
        if frame.any():
            batch = self._reframe(batch, frame.nonzero().squeeze(1).tolist())
        alpha = batch.alpha[:, 0].clone()                                       # [B, H, W]
        rgb_in = premultiplied(batch.rgb[:, 0], alpha, batch.background[:, 0].to(alpha.device))  # [B, H, W, 3]
        if not photo.any():
            return batch, rgb_in.permute(0, 3, 1, 2).contiguous(), alpha
        rows = photo.nonzero().squeeze(1)
        dev = alpha.device
        r = rows.to(dev)
        m = len(rows)
        # 2. the person's appearance (light, white balance, exposure, gamma): every view, the targets too, since a
        #    reconstruction is scored against the photo as it was taken
        a = batch.alpha[r]                                                     # [M, V, H, W]
        background = batch.background[rows.to(batch.background.device)].to(dev)  # [M, V, 3]
        fg = premultiplied(batch.rgb[r], a, background)                         # the head alone
        fg, colour = self._appearance(fg, a, batch.depth[rows.to(batch.depth.device)].to(dev).float(),
                                      batch.K[rows.to(batch.K.device)].to(dev).float(),
                                      batch.world_to_cam[rows.to(batch.world_to_cam.device)].to(dev).float(), size)
        batch.rgb[r] = (fg + (1 - a[..., None]) * background[:, :, None, None]).to(batch.rgb.dtype)
        # 3. background, in the same light and colour
        bg = torch.zeros_like(fg[:, 0])
        scenes = self._chance(m, cfg.background_prob)
        if scenes.any():
            bg[scenes.to(dev)] = procedural_background(int(scenes.sum()), size, self.gen).to(dev, fg.dtype)
        img = fg[:, 0] + (1 - a[:, 0, ..., None]) * colour(bg)
        # 4. optics and sensor
        blur = torch.where(self._chance(m, cfg.blur_prob), self._u(m, 0.3, cfg.max_blur_px), torch.zeros(m))
        img = gaussian_blur(img, blur)
        noisy = self._chance(m, cfg.noise_prob)
        sigma = torch.where(noisy, self._u(m, 0.0, cfg.max_noise), torch.zeros(m)).to(dev)
        noise = torch.randn(img.shape, generator=self.gen).to(dev, img.dtype)
        img = (img + sigma[:, None, None, None] * noise).clamp(0, 1)
        quality = torch.randint(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1, (m,), generator=self.gen)
        for j in self._chance(m, cfg.jpeg_prob).nonzero().squeeze(1).tolist():
            img[j] = jpeg(img[j], int(quality[j]))
        # 5. cut-out
        mask = cut_out(a[:, 0], self._u(m, -cfg.mask_edge_px, cfg.mask_edge_px))  # edges stay on the host
        rgb_in[r] = img * mask[..., None]
        alpha[r] = mask
        return batch, rgb_in.permute(0, 3, 1, 2).contiguous(), alpha

    def _appearance(self, fg: Tensor, a: Tensor, depth: Tensor, K: Tensor, w2c: Tensor, size: int):
        """Light and colour for M heads of V views: fg [M, V, H, W, 3] premultiplied, a / depth [M, V, H, W],
        K [M, V, 3, 3], w2c [M, V, 4, 4]. The light is fixed to the head (world space), so every view shows the
        same lit head: a surface point's shade is (1 - s) + s * max(0, n.l) / max(n.f, 0.3), f the canonical
        camera's direction (the engine's colours are lit from the front, roughly). Returns the new fg and the colour
        transform (white balance, exposure, gamma) for other pixels of the same photo."""
        cfg, dev = self.cfg, fg.device
        m, v, h, w = a.shape
        lit = self._chance(m, cfg.light_prob).to(dev)
        theta = self._u(m, 0, 2 * math.pi)
        tilt = self._u(m, 0.2, 1.2)  # radians off the canonical camera's axis
        toward_light = torch.stack([torch.sin(tilt) * torch.cos(theta), torch.sin(tilt) * torch.sin(theta),
                                    -torch.cos(tilt)], -1).to(dev)              # canonical camera space
        rot = w2c[..., :3, :3]                                                   # [M, V, 3, 3] world -> camera
        light_w = (rot[:, 0].transpose(1, 2) @ toward_light[..., None])[..., 0]  # [M, 3] world
        front_w = -rot[:, 0, 2]                                                  # towards the canonical camera
        light_v = (rot @ light_w[:, None, :, None])[..., 0]                      # [M, V, 3]
        front_v = (rot @ front_w[:, None, :, None])[..., 0]
        normals = depth_normals(depth.reshape(m * v, h, w), K.reshape(m * v, 3, 3), NORMAL_SMOOTH * size / 256)
        normals = normals.view(m, v, h, w, 3)
        diffuse = (normals * light_v[:, :, None, None]).sum(-1).clamp_min(0)
        frontal = (normals * front_v[:, :, None, None]).sum(-1).clamp_min(0.3)
        strength = self._u(m, 0.2, cfg.light_strength).to(dev)[:, None, None, None]
        tint = (1 + cfg.light_tint * (2 * torch.rand(m, 3, generator=self.gen) - 1)).to(dev)[:, None, None, None]
        shade = ((1 - strength) + strength * diffuse / frontal)[..., None] * tint
        fg = torch.where(lit[:, None, None, None, None], fg * shade, fg)
        wb = self._u(3 * m, 1 - cfg.white_balance, 1 + cfg.white_balance).view(m, 3).to(dev)
        gain = (2.0 ** self._u(m, -cfg.exposure_stops, cfg.exposure_stops)).to(dev)
        gamma = self._u(m, 1 - cfg.gamma, 1 + cfg.gamma).to(dev)

        def colour(x: Tensor) -> Tensor:  # [M, ..., 3] straight colour
            shape = (m,) + (1,) * (x.dim() - 2)
            return (x * (wb * gain[:, None]).view(*shape, 3)).clamp(0, 1) ** gamma.view(*shape, 1)

        inside = a[..., None] > 1e-3
        straight = torch.where(inside, fg / a[..., None].clamp_min(1e-3), torch.zeros_like(fg))
        return torch.where(inside, colour(straight) * a[..., None], fg), colour

    def _reframe(self, batch, rows: list[int]):
        """Move heads ``rows`` a little in front of the fixed cameras and re-render all their views."""
        cfg = self.cfg
        heads = []
        for i in rows:
            w2c = batch.world_to_cam[i, 0].detach().cpu().double()
            shift = tuple(self._u(2, -cfg.max_shift_px, cfg.max_shift_px).tolist())
            scale = float(self._u(1, 1 - cfg.max_scale, 1 + cfg.max_scale))
            roll = float(self._u(1, -cfg.max_roll_deg, cfg.max_roll_deg))
            t = frame_transform(w2c, float(batch.K[i, 0, 0, 0]), shift, scale, roll)
            heads.append(move_gaussians(batch.gaussians[i], t.to(dtype=torch.float64)))
        return rerender(batch, rows, heads)
