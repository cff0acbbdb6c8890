"""Gaussians over a triangle mesh: fixed sample sites on the template, placed on each head's own vertices.

The sites (triangle, barycentric weights) are drawn once on the template, area-weighted and stratified, so a
batch of heads shares them and each Gaussian follows its head's shape. Each Gaussian lies flat in its triangle's
plane (two tangent axes as wide as the sites' spacing, a thin normal axis), so a head reads as a closed surface
from any side at 512 px.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from models.synthetic.geometry import frame_quats, normalize

FLATNESS = 0.12  # normal axis / tangent axes: a skin Gaussian is a disc, not a ball
OVERLAP = 0.75   # tangent axes (standard deviations) in units of the site spacing: neighbours overlap, no hole


@dataclass(frozen=True)
class SurfaceSites:
    """``count`` sample sites on a mesh: triangle [n] and barycentric weights [n, 3] (on one device)."""

    triangles: Tensor  # [n] long
    weights: Tensor    # [n, 3]
    share: Tensor      # [n] the part of its triangle's area a site's Gaussian covers: 1 / (sites on the triangle)
    #                    where every triangle has a site; more where sites are sparser than triangles (a low
    #                    Gaussian budget), so the surface stays closed

    def __len__(self) -> int:
        return int(self.triangles.shape[0])


def surface_sites(vertices: Tensor, faces: Tensor, count: int, mask: Tensor | None = None,
                  density: Tensor | None = None, seed: int = 0) -> SurfaceSites:
    """``count`` sites over the triangles of ``vertices`` [V, 3] / ``faces`` [F, 3] where ``mask`` [F] (default
    all): one on every such triangle (so no run of small triangles is left bare, which would show what lies behind
    the surface), the rest area-weighted times ``density`` [F] (default 1; systematic sampling, so density is even
    without clumps); inside a triangle, spread by a low-discrepancy sequence."""
    v0, v1, v2 = (vertices[faces[:, i]] for i in range(3))
    dens = torch.ones(len(faces), dtype=torch.float64) if density is None else density.double().cpu()
    raw = 0.5 * torch.linalg.cross(v1 - v0, v2 - v0, dim=-1).norm(dim=-1).double().cpu()
    keep = torch.ones(len(faces), dtype=torch.bool) if mask is None else mask.cpu().bool()
    area = raw * dens * keep.double()
    gen = torch.Generator().manual_seed(seed)
    base = torch.nonzero(keep).flatten() if int(keep.sum()) <= count else torch.zeros(0, dtype=torch.long)
    extra = count - len(base)
    cdf = torch.cumsum(area, 0) / area.sum()
    start = torch.rand(1, generator=gen, dtype=torch.float64)
    marks = (torch.arange(extra, dtype=torch.float64) + start) / max(extra, 1)  # one mark per site, evenly spaced
    tri = torch.cat([base, torch.searchsorted(cdf, marks).clamp_max(len(area) - 1)])
    # a site's place in its triangle: the R2 sequence by the site's rank among its triangle's sites
    order = torch.argsort(tri, stable=True)
    first = torch.searchsorted(tri[order], tri[order], right=False)
    rank = torch.empty_like(tri)
    rank[order] = torch.arange(count) - first
    shared = torch.bincount(tri, minlength=len(faces))[tri]
    share = 1.0 / shared.double()
    if len(base) == 0:  # fewer sites than triangles: a site stands for its mark's area, spread beyond its triangle
        stands_for = area.sum() / max(count, 1) / dens[tri]
        share = torch.maximum(share, stands_for / raw[tri].clamp_min(1e-12))
    offset = torch.rand(2, generator=gen, dtype=torch.float64)
    u = (offset[0] + 0.7548776662466927 * (rank + 1)) % 1.0
    w = (offset[1] + 0.5698402909980532 * (rank + 1)) % 1.0
    flip = u + w > 1.0  # fold the unit square onto the triangle
    u, w = torch.where(flip, 1 - u, u), torch.where(flip, 1 - w, w)
    lone = shared == 1  # a triangle's only site sits at its centre
    u, w = torch.where(lone, torch.full_like(u, 1 / 3), u), torch.where(lone, torch.full_like(w, 1 / 3), w)
    weights = torch.stack([1 - u - w, u, w], -1).float()
    return SurfaceSites(tri.to(vertices.device), weights.to(vertices.device), share.float().to(vertices.device))


def place_sites(vertices: Tensor, faces: Tensor, sites: SurfaceSites) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Each head's Gaussians at the sites: (means [B, n, 3], quats [B, n, 4], scales [B, n, 3], normals [B, n, 3])
    for vertices [B, V, 3]. Each lies in its triangle's plane and covers its share of the triangle on that head:
    tangent axes of the square root of that share's area, or half the triangle's longest edge times the share (a
    sliver), a little more (``OVERLAP``), and a thin normal axis."""
    corners = vertices[:, faces[sites.triangles]]                        # [B, n, 3, 3]
    means = (corners * sites.weights[None, :, :, None]).sum(2)
    e1 = corners[:, :, 1] - corners[:, :, 0]
    e2 = corners[:, :, 2] - corners[:, :, 0]
    cross = torch.linalg.cross(e1, e2, dim=-1)
    normal = normalize(cross)
    area = 0.5 * cross.norm(dim=-1)                                       # [B, n]
    longest = torch.stack([e1.norm(dim=-1), e2.norm(dim=-1), (e2 - e1).norm(dim=-1)], -1).amax(-1)
    s = torch.maximum(torch.sqrt(area * sites.share), 0.5 * longest * sites.share.clamp_max(1.0)) * OVERLAP
    quats = frame_quats(e1, torch.linalg.cross(normal, e1, dim=-1))
    scales = torch.stack([s, s, s * FLATNESS], -1)
    return means, quats, scales, normal
