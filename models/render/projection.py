"""EWA projection of 3D Gaussians to screen-space ellipses, following gsplat 1.5.3 ("classic").

Both backends agree on these rules, so they are written once here and mirrored from gsplat's
``projection_ewa_3dgs_fused_fwd_kernel``: camera-space frustum clamp of the Jacobian (1.3 x the
half field of view), a low-pass blur of ``eps2d`` pixels^2 added to the 2D covariance, an
opacity-aware bounding box (at most 3.33 sigma), and culling of Gaussians outside the image.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

ALPHA_THRESHOLD = 1.0 / 255.0  # a Gaussian contributes to a pixel only above this alpha
MAX_ALPHA = 0.999              # alpha clamp, keeps 1 - alpha away from zero
TRANSMITTANCE_STOP = 1e-4      # a pixel stops compositing before T would fall to this
EPS2D = 0.3                    # low-pass dilation of every 2D covariance, pixels^2
MAX_EXTEND = 3.33              # bounding box half-size in standard deviations
NEAR_PLANE = 0.01
FAR_PLANE = 1e10


@dataclass
class Projected:
    """Screen-space Gaussians that survived culling, with ``index`` into the input arrays."""

    index: Tensor    # [M] long, which input Gaussian each row is
    means2d: Tensor  # [M, 2] pixel coordinates (x right, y down)
    conics: Tensor   # [M, 3] inverse 2D covariance (a, b, c) of [[a, b], [b, c]]
    depths: Tensor   # [M] camera-space z
    radii: Tensor    # [M, 2] long, bounding-box half sizes in pixels (x, y)
    opacities: Tensor  # [M]


def project_gaussians(means: Tensor, covs: Tensor, opacities: Tensor, world_to_cam: Tensor, K: Tensor,
                      width: int, height: int) -> Projected:
    """means [N, 3], covs [N, 3, 3], opacities [N], world_to_cam [4, 4], K [3, 3] -> Projected."""
    rot, trans = world_to_cam[:3, :3], world_to_cam[:3, 3]
    mean_c = means @ rot.T + trans  # [N, 3]
    in_depth = (mean_c[:, 2] >= NEAR_PLANE) & (mean_c[:, 2] <= FAR_PLANE) & (opacities >= ALPHA_THRESHOLD)
    idx = torch.nonzero(in_depth, as_tuple=False).squeeze(1)
    mean_c, covs, opac = mean_c.index_select(0, idx), covs.index_select(0, idx), opacities.index_select(0, idx)
    cov_c = rot @ covs @ rot.T  # [M, 3, 3]

    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    x, y, z = mean_c.unbind(-1)
    rz = 1.0 / z
    lim_x_pos = (width - cx) / fx + 0.3 * (0.5 * width / fx)
    lim_x_neg = cx / fx + 0.3 * (0.5 * width / fx)
    lim_y_pos = (height - cy) / fy + 0.3 * (0.5 * height / fy)
    lim_y_neg = cy / fy + 0.3 * (0.5 * height / fy)
    tx = z * torch.minimum(torch.maximum(x * rz, -lim_x_neg), lim_x_pos)
    ty = z * torch.minimum(torch.maximum(y * rz, -lim_y_neg), lim_y_pos)
    zero = torch.zeros_like(z)
    jac = torch.stack([
        torch.stack([fx * rz, zero, -fx * tx * rz * rz], -1),
        torch.stack([zero, fy * rz, -fy * ty * rz * rz], -1),
    ], dim=1)  # [M, 2, 3]
    cov2d = jac @ cov_c @ jac.transpose(1, 2)  # [M, 2, 2]
    a = cov2d[:, 0, 0] + EPS2D
    b = cov2d[:, 0, 1]
    c = cov2d[:, 1, 1] + EPS2D
    det = a * c - b * b
    means2d = torch.stack([fx * x * rz + cx, fy * y * rz + cy], -1)  # [M, 2]

    with torch.no_grad():
        extend = torch.clamp(torch.sqrt(2.0 * torch.log(opac / ALPHA_THRESHOLD)), max=MAX_EXTEND)
        rx = torch.ceil(extend * torch.sqrt(a.clamp_min(0)))
        ry = torch.ceil(extend * torch.sqrt(c.clamp_min(0)))
        mx, my = means2d[:, 0], means2d[:, 1]
        keep = (det > 0) & ((rx > 0) | (ry > 0))
        keep &= (mx + rx > 0) & (mx - rx < width) & (my + ry > 0) & (my - ry < height)
        sel = torch.nonzero(keep, as_tuple=False).squeeze(1)
    # one gather of the survivors' packed values (index_select beats advanced indexing on the CPU)
    packed = torch.stack([a, b, c, det, z, opac, means2d[:, 0], means2d[:, 1]], -1).index_select(0, sel)
    a_s, b_s, c_s, det_s, z_s, opac_s = packed[:, :6].unbind(-1)
    conics = torch.stack([c_s / det_s, -b_s / det_s, a_s / det_s], -1)
    radii = torch.stack([rx, ry], -1).index_select(0, sel).long()
    return Projected(idx.index_select(0, sel), packed[:, 6:], conics, z_s, radii, opac_s)
