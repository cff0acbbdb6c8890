"""Augmentations of the edit model's input maps, so hand-drawn maps are in distribution.

Artists' maps differ from engine renders in four ways (models/evaluation/drawn_maps.py scores
them; nothing here reads that set or was tuned on it):
- framing: the head a little off-centre, larger or smaller, tilted. Applied in 3D: the head
  moves in front of the canonical camera (shift, scale about the look-at point, roll about
  the optical axis) by moving every camera the opposite way, and the batch is re-rendered,
  so the input map and every target view agree exactly.
- parts left out (no ears, no neck, ...): also in 3D, on the engine's Gaussians before the
  re-render. Separate parts (ears, brows, beard, glasses, clothes, neck) are deleted; parts
  that are regions of the face surface (nose, and the neck painted as skin) are relabelled
  skin, so the surface keeps no hole.
- rough edges: the input map only, warped by a smooth random displacement plus pixel jitter
  (targets stay clean: a wobbly stroke means the clean shape).
- simplified shapes: the input map only; small parts (eyes, brows, nose, lips, ears) become
  the ellipse with the same centre and second moments, one per side.
- outlines the engine never draws (a longer neck, higher shoulders, a fuller hair blob): in 3D,
  a smooth random displacement of the head's Gaussians (a few wide radial bumps, at most
  ``warp_px`` canonical pixels), re-rendered, so the input map and every target view agree and
  the network learns that the painted outline, not its prior, sets the silhouette.
Randomness comes from the task's own generators (seeded by the training seed and rank).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import Camera
from models.errors import PercheadError
from models.fitting.similarity import frame_transform
from models.gaussians import Gaussians
from models.palette import palette
from models.render import render_batch

# How a left-out part leaves the head: "delete" its Gaussians, or relabel them "skin".
DROP_MODES = {"ears": ("delete",), "neck": ("delete", "skin"), "eyebrows": ("delete",), "nose": ("skin",),
              "clothes": ("delete",), "facial_hair": ("delete",), "eyeglasses": ("delete",)}
SIMPLIFY_FILL = {"eyes": "skin", "eyebrows": "skin", "nose": "skin", "upper_lip": "skin", "lower_lip": "skin",
                 "ears": "background"}
TWO_SIDED = {"eyes", "eyebrows", "ears"}  # one ellipse per image half


@dataclass
class AugmentConfig:
    """``data.augment`` of an edit config. Probabilities are per head; 0 turns a kind off."""

    frame_prob: float = 0.0         # heads re-framed (shift / scale / roll), re-rendered
    max_shift_px: float = 12.0      # per axis, in input pixels
    max_scale: float = 0.1          # scale drawn in [1 - max_scale, 1 + max_scale]
    max_roll_deg: float = 5.0
    drop_prob: float = 0.0          # heads with 1-2 parts left out, re-rendered
    drop_parts: list[str] = field(default_factory=lambda: list(DROP_MODES))
    edge_prob: float = 0.0          # input maps with rough edges
    edge_px: float = 3.0            # amplitude of the smooth wobble (input pixels)
    edge_jitter_px: float = 1.0     # amplitude of the per-pixel jitter
    simplify_prob: float = 0.0      # input maps whose small parts become ellipses
    simplify_parts: list[str] = field(default_factory=lambda: list(SIMPLIFY_FILL))
    warp_prob: float = 0.0          # heads bent by a smooth 3D displacement, re-rendered
    warp_px: float = 10.0           # largest displacement, in canonical input pixels
    warp_bumps: int = 6             # radial bumps summed into the displacement field
    warp_radius_px: tuple[float, float] = (30.0, 60.0)  # bump width (Gaussian sigma) range, canonical px
    warp_depth: float = 1.0         # share of the bumps along the canonical view's axis (0: only across it)

    def __post_init__(self) -> None:
        for name in ("frame_prob", "drop_prob", "edge_prob", "simplify_prob", "warp_prob"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise PercheadError(f"data.augment.{name}={p!r} must be a probability in 0..1")
        bad = sorted(set(self.drop_parts) - set(DROP_MODES)) + sorted(set(self.simplify_parts) - set(SIMPLIFY_FILL))
        if bad:
            raise PercheadError(f"data.augment: unknown parts {bad}; drop_parts from {sorted(DROP_MODES)}, "
                                f"simplify_parts from {sorted(SIMPLIFY_FILL)}")
        lo, hi = self.warp_radius_px
        if self.warp_px < 0 or self.warp_bumps < 1 or not 0 < lo <= hi or not 0 <= self.warp_depth <= 1:
            raise PercheadError(f"data.augment: warp_px={self.warp_px!r} must be >= 0, warp_bumps={self.warp_bumps!r} "
                                f">= 1, warp_radius_px={list(self.warp_radius_px)!r} a range 0 < lo <= hi (pixels) and "
                                f"warp_depth={self.warp_depth!r} in 0..1")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "AugmentConfig":
        data = dict(data or {})
        if "warp_radius_px" in data:
            data["warp_radius_px"] = tuple(float(v) for v in data["warp_radius_px"])
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PercheadError(f"unknown data.augment option(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    @property
    def active(self) -> bool:
        return any(getattr(self, n) > 0 for n in ("frame_prob", "drop_prob", "edge_prob", "simplify_prob", "warp_prob"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def moved_camera(w2c: Tensor, transform: Tensor) -> Tensor:
    """The rigid world-to-camera [4, 4] that sees the original head as ``w2c`` sees the moved one.

    w2c @ transform = s [R | t]: dividing the uniform scale out changes no projected pixel."""
    m = w2c.double() @ transform
    s = torch.linalg.det(m[:3, :3]).abs() ** (1 / 3)
    out = m.clone()
    out[:3, :] = m[:3, :] / s
    return out.to(w2c.dtype)


def drop_parts(g: Gaussians, parts: Sequence[str], modes: Sequence[str]) -> Gaussians:
    """Leave parts out of one head: delete their Gaussians or relabel them skin."""
    pal = palette()
    labels = g.labels.clone()
    keep = torch.ones_like(labels, dtype=torch.bool)
    for part, mode in zip(parts, modes):
        hit = g.labels == pal.id_of(part)
        if mode == "delete":
            keep &= ~hit
        else:
            labels[hit] = pal.id_of("skin")
    out = Gaussians(g.means, g.quats, g.log_scales, g.opacity_logits, g.sh, labels)
    return out[keep]


def rough_edges(maps: Tensor, amplitude_px: Tensor, jitter_px: float, gen: torch.Generator) -> Tensor:
    """Wobble class maps [B, H, W] (long): smooth displacement of amplitude [B] px + pixel jitter, nearest."""
    b, h, w = maps.shape
    dev = maps.device
    coarse = torch.randn(b, 2, 10, 10, generator=gen).to(dev) * amplitude_px.to(dev)[:, None, None, None]
    disp = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)  # [B, 2, H, W] px
    disp = disp + (torch.rand(b, 2, h, w, generator=gen).to(dev) - 0.5) * 2 * jitter_px
    ys, xs = torch.meshgrid(torch.arange(h, device=dev, dtype=torch.float32),
                            torch.arange(w, device=dev, dtype=torch.float32), indexing="ij")
    gx = (xs + disp[:, 0] + 0.5) / w * 2 - 1
    gy = (ys + disp[:, 1] + 0.5) / h * 2 - 1
    out = F.grid_sample(maps[:, None].float(), torch.stack([gx, gy], -1), mode="nearest", padding_mode="border",
                        align_corners=False)
    return out[:, 0].round().long()


def simplify_parts(maps: Tensor, parts: Sequence[str], min_pixels: int = 6) -> Tensor:
    """Each listed part of maps [B, H, W] -> the ellipse with its centre and second moments (per
    image half for two-sided parts), painted over the part's fill class or the part itself."""
    pal = palette()
    b, h, w = maps.shape
    out = maps.clone()
    ys, xs = torch.meshgrid(torch.arange(h, device=maps.device, dtype=torch.float32),
                            torch.arange(w, device=maps.device, dtype=torch.float32), indexing="ij")
    halves = {"left": xs < w / 2, "right": xs >= w / 2, "all": torch.ones_like(xs, dtype=torch.bool)}
    for part in parts:
        cid, fill = pal.id_of(part), pal.id_of(SIMPLIFY_FILL[part])
        region = maps == cid  # [B, H, W]
        out[region] = fill
        for side in (("left", "right") if part in TWO_SIDED else ("all",)):
            m = (region & halves[side]).float()
            n = m.sum((1, 2))  # [B]
            ok = n >= min_pixels
            nn_ = n.clamp_min(1)
            mx, my = (m * xs).sum((1, 2)) / nn_, (m * ys).sum((1, 2)) / nn_
            dx, dy = xs - mx[:, None, None], ys - my[:, None, None]
            cxx = (m * dx * dx).sum((1, 2)) / nn_ + 0.25  # + a quarter pixel: a one-pixel-wide part keeps width
            cyy = (m * dy * dy).sum((1, 2)) / nn_ + 0.25
            cxy = (m * dx * dy).sum((1, 2)) / nn_
            det = (cxx * cyy - cxy * cxy).clamp_min(1e-6)
            # a uniform ellipse has covariance (axes / 2)^2: inside when the Mahalanobis radius <= 2
            a, b, c = (t[:, None, None] for t in (cxx, cxy, cyy))
            r2 = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det[:, None, None]  # [B, H, W]
            inside = (r2 <= 4.0) & ok[:, None, None] & ((out == fill) | (out == cid))
            out[inside] = cid
    return out


def smooth_warp(g: Gaussians, centre_frac: Tensor, bumps_px: Tensor, radius_px: float, max_px: float,
                px_to_world: float, view_axis: Tensor | None = None, depth: float = 1.0) -> Gaussians:
    """Move one head's Gaussians by a smooth displacement field: radial Gaussian bumps centred on
    Gaussians of the head (``centre_frac`` [K] in 0..1 picks them), each with a displacement
    ``bumps_px`` [K, 3] in canonical pixels; the sum is capped at ``max_px`` per Gaussian. Bumps
    tens of pixels wide bend outlines without folding the surface; shapes and colours stay.
    ``view_axis`` [3] (the canonical camera's optical axis, world) with ``depth`` < 1 scales the
    part of each bump along it: a move the front map cannot show is one the network can only guess."""
    n = g.means.shape[0]
    if n == 0:
        return g
    dev, dt = g.means.device, g.means.dtype
    idx = (centre_frac.to(dev) * n).long().clamp_(0, n - 1)
    centres = g.means[idx]  # [K, 3]
    sigma = radius_px * px_to_world
    d2 = torch.cdist(g.means, centres).square()  # [N, K]
    weights = torch.exp(-d2 / (2 * sigma * sigma))
    bumps = bumps_px.to(device=dev, dtype=dt) * px_to_world  # [K, 3] world units
    if view_axis is not None and depth != 1.0:
        a = view_axis.to(device=dev, dtype=dt) / view_axis.norm()
        bumps = bumps - (1.0 - depth) * (bumps @ a)[:, None] * a
    disp = weights @ bumps  # [N, 3]
    cap = max_px * px_to_world
    norm = disp.norm(dim=-1, keepdim=True)
    disp = disp * (cap / norm.clamp_min(1e-12)).clamp(max=1.0)
    return Gaussians(g.means + disp, g.quats, g.log_scales, g.opacity_logits, g.sh, g.labels)


@dataclass
class Draws:
    """The per-head random choices of one batch (drawn first, so a seed replays them)."""

    frame: Tensor          # [B] bool: re-framed
    shifts: Tensor         # [B, 2] px (x right, y down)
    scales: Tensor         # [B]
    rolls: Tensor          # [B] degrees
    drops: list[list[tuple[str, str]]]  # per head: (part, mode) pairs left out
    simplify: Tensor       # [B] bool
    edge: Tensor           # [B] bool
    edge_px: Tensor        # [B] wobble amplitude
    warp: Tensor           # [B] bool: bent by a smooth 3D displacement
    warp_centres: Tensor   # [B, K] which Gaussians the bumps sit on (fraction of the head's list)
    warp_bumps: Tensor     # [B, K, 3] bump displacements, canonical px
    warp_radius: Tensor    # [B] bump width, canonical px


class EditAugment:
    """Applies AugmentConfig to engine batches: returns the (re-rendered) batch and the input maps."""

    def __init__(self, cfg: AugmentConfig, seed: int, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        self.gen = torch.Generator().manual_seed(seed)  # CPU: decisions and small noise, no device sync

    def _uniform(self, n: int, lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.gen)

    def draw(self, n: int) -> Draws:
        cfg = self.cfg
        frame = torch.rand(n, generator=self.gen) < cfg.frame_prob
        shifts = self._uniform(2 * n, -cfg.max_shift_px, cfg.max_shift_px).view(n, 2)
        scales = self._uniform(n, 1 - cfg.max_scale, 1 + cfg.max_scale)
        rolls = self._uniform(n, -cfg.max_roll_deg, cfg.max_roll_deg)
        drop = torch.rand(n, generator=self.gen) < cfg.drop_prob
        drops: list[list[tuple[str, str]]] = []
        for i in range(n):
            chosen: list[tuple[str, str]] = []
            if drop[i] and cfg.drop_parts:
                k = 1 + int(torch.randint(0, 2, (1,), generator=self.gen))
                for j in torch.randperm(len(cfg.drop_parts), generator=self.gen)[:k].tolist():
                    part = cfg.drop_parts[j]
                    modes = DROP_MODES[part]
                    chosen.append((part, modes[int(torch.randint(0, len(modes), (1,), generator=self.gen))]))
            drops.append(chosen)
        simplify = (torch.rand(n, generator=self.gen) < cfg.simplify_prob) & bool(cfg.simplify_parts)
        edge = torch.rand(n, generator=self.gen) < cfg.edge_prob
        edge_px = self._uniform(n, 0.3 * cfg.edge_px, cfg.edge_px)
        warp = torch.rand(n, generator=self.gen) < cfg.warp_prob
        k = cfg.warp_bumps
        warp_centres = torch.rand(n, k, generator=self.gen)
        warp_bumps = torch.randn(n, k, 3, generator=self.gen) * (cfg.warp_px / math.sqrt(3))
        warp_radius = self._uniform(n, *cfg.warp_radius_px)
        return Draws(frame, shifts, scales, rolls, drops, simplify, edge, edge_px, warp, warp_centres, warp_bumps,
                     warp_radius)

    def __call__(self, batch) -> tuple[Any, Tensor]:
        """batch: a models.synthetic Batch (view 0 canonical). Returns (batch, input maps [B, H, W])."""
        d = self.draw(len(batch.seeds))
        changed = [i for i in range(len(batch.seeds)) if d.frame[i] or d.drops[i] or d.warp[i]]
        if changed:
            batch = self._rerender(batch, changed, d)
        maps = batch.class_map[:, 0].clone()  # [B, H, W]; view 0's target stays clean
        if d.simplify.any():
            idx = d.simplify.nonzero().squeeze(1).to(maps.device)
            maps[idx] = simplify_parts(maps[idx], self.cfg.simplify_parts)
        if d.edge.any():
            idx = d.edge.nonzero().squeeze(1)
            dev_idx = idx.to(maps.device)
            maps[dev_idx] = rough_edges(maps[dev_idx], d.edge_px[idx], self.cfg.edge_jitter_px, self.gen)
        return batch, maps

    def _rerender(self, batch, rows: list[int], d: Draws):
        dev = batch.world_to_cam.device
        w2c = batch.world_to_cam[rows].detach().cpu().double()  # [R, V, 4, 4]: camera maths on the host, one copy
        fx = batch.K[rows, 0, 0, 0].detach().cpu()  # [R]
        heads: list[Gaussians] = []
        for j, i in enumerate(rows):
            g = batch.gaussians[i]
            if d.drops[i]:
                g = drop_parts(g, [p for p, _ in d.drops[i]], [m for _, m in d.drops[i]])
            if d.warp[i]:  # in the engine's own framing, before any re-framing moves the cameras
                px_to_world = float(w2c[j, 0, 2, 3]) / float(fx[j])  # look-at depth / focal length
                axis = w2c[j, 0, 2, :3].float()  # the canonical camera's optical axis in world coordinates
                g = smooth_warp(g, d.warp_centres[i], d.warp_bumps[i], float(d.warp_radius[i]), self.cfg.warp_px,
                                px_to_world, axis, self.cfg.warp_depth)
            if d.frame[i]:
                t = frame_transform(w2c[j, 0], float(fx[j]), tuple(d.shifts[i].tolist()), float(d.scales[i]),
                                    float(d.rolls[i]))
                w2c[j] = torch.stack([moved_camera(w, t) for w in w2c[j]])
            heads.append(g)
        return rerender(batch, rows, heads, w2c.to(device=dev, dtype=batch.world_to_cam.dtype))


def rerender(batch, rows: list[int], heads: list[Gaussians], w2c: Tensor | None = None):
    """Batch rows ``rows`` rendered again from ``heads`` (one per row), every view, through the batch's own cameras or
    ``w2c`` [R, V, 4, 4]: images, alpha, class maps, depth, cameras and Gaussians replaced in place."""
    dev, size = batch.world_to_cam.device, batch.rgb.shape[-2]
    idx = torch.tensor(rows, device=dev)
    w2c = batch.world_to_cam[idx] if w2c is None else w2c
    cams = [[Camera(w2c[j, v], batch.K[i, v], size, size) for v in range(w2c.shape[1])] for j, i in enumerate(rows)]
    out = render_batch(heads, cams, backgrounds=batch.background[rows])
    for name, value in (("rgb", out.rgb), ("alpha", out.alpha), ("class_map", out.class_map), ("depth", out.depth)):
        getattr(batch, name)[idx] = value.to(getattr(batch, name).dtype)
    batch.world_to_cam[idx] = w2c
    for j, i in enumerate(rows):
        batch.gaussians[i] = heads[j]
    return batch
