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
    covered: Tensor    # [F] bool: the triangles the sites were drawn over
    density: Tensor    # [F] relative site density per triangle (1 where uniform)

    def __len__(self) -> int:
        return int(self.triangles.shape[0])


def surface_sites(vertices: Tensor, faces: Tensor, count: int, mask: Tensor | None = None,
                  density: Tensor | None = None, seed: int = 0) -> SurfaceSites:
    """``count`` sites over the triangles of ``vertices`` [V, 3] / ``faces`` [F, 3] where ``mask`` [F] (default
    all), area-weighted times ``density`` [F] (default 1): a triangle gets floor or ceil of its share
    (systematic sampling, so density is even without clumps), spread inside it by a low-discrepancy sequence."""
    v0, v1, v2 = (vertices[faces[:, i]] for i in range(3))
    dens = torch.ones(len(faces), dtype=torch.float64) if density is None else density.double().cpu()
    area = 0.5 * torch.linalg.cross(v1 - v0, v2 - v0, dim=-1).norm(dim=-1).double().cpu() * dens
    if mask is not None:
        area = area * mask.double().cpu()
    gen = torch.Generator().manual_seed(seed)
    cdf = torch.cumsum(area, 0) / area.sum()
    start = torch.rand(1, generator=gen, dtype=torch.float64)
    marks = (torch.arange(count, dtype=torch.float64) + start) / count  # one mark per site, evenly spaced
    tri = torch.searchsorted(cdf.cpu(), marks).clamp_max(len(area) - 1)
    # a site's place in its triangle: the R2 sequence by the site's rank among its triangle's sites
    order = torch.argsort(tri, stable=True)
    first = torch.searchsorted(tri[order], tri[order], right=False)
    rank = torch.empty_like(tri)
    rank[order] = torch.arange(count) - first
    offset = torch.rand(2, generator=gen, dtype=torch.float64)
    u = (offset[0] + 0.7548776662466927 * (rank + 1)) % 1.0
    w = (offset[1] + 0.5698402909980532 * (rank + 1)) % 1.0
    flip = u + w > 1.0  # fold the unit square onto the triangle
    u, w = torch.where(flip, 1 - u, u), torch.where(flip, 1 - w, w)
    weights = torch.stack([1 - u - w, u, w], -1).float()
    covered = torch.ones(len(faces), dtype=torch.bool) if mask is None else mask.cpu().bool()
    return SurfaceSites(tri.to(vertices.device), weights.to(vertices.device), covered.to(vertices.device),
                        dens.float().to(vertices.device))


def place_sites(vertices: Tensor, faces: Tensor, sites: SurfaceSites) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Each head's Gaussians at the sites: (means [B, n, 3], quats [B, n, 4], scales [B, n, 3], normals [B, n, 3])
    for vertices [B, V, 3]. The tangent axes are as wide as the sites' spacing there on that head (the covered,
    density-weighted area over the number of sites, over the site's own density), a little more (``OVERLAP``)."""
    corners = vertices[:, faces[sites.triangles]]                        # [B, n, 3, 3]
    means = (corners * sites.weights[None, :, :, None]).sum(2)
    e1 = corners[:, :, 1] - corners[:, :, 0]
    e2 = corners[:, :, 2] - corners[:, :, 0]
    normal = normalize(torch.linalg.cross(e1, e2, dim=-1))
    covered = faces[sites.covered]
    area = 0.5 * torch.linalg.cross(vertices[:, covered[:, 1]] - vertices[:, covered[:, 0]],
                                    vertices[:, covered[:, 2]] - vertices[:, covered[:, 0]], dim=-1).norm(dim=-1)
    weighted = (area * sites.density[sites.covered]).sum(1)                   # [B]
    s = torch.sqrt(weighted[:, None] / (len(sites) * sites.density[sites.triangles][None])) * OVERLAP  # [B, n]
    quats = frame_quats(e1, torch.linalg.cross(normal, e1, dim=-1))
    scales = torch.stack([s, s, s * FLATNESS], -1)
    return means, quats, scales, normal
