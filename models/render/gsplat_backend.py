"""Thin adapter over gsplat 1.5.3's ``rasterization`` (CUDA only, imported lazily)."""
from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

from models.render.projection import EPS2D, NEAR_PLANE, FAR_PLANE


@lru_cache(maxsize=1)
def gsplat_import_error() -> str | None:
    """None when gsplat imports, else why not (the first call may JIT-compile its kernels)."""
    try:
        import gsplat  # noqa: F401
    except Exception as e:  # ImportError, or a build failure inside gsplat
        return f"{type(e).__name__}: {e}"
    return None


def rasterize_gsplat(means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor, features: Tensor,
                     world_to_cams: Tensor, Ks: Tensor, width: int, height: int) -> tuple[Tensor, Tensor]:
    """Blend per-view features [..., V, N, D] for V cameras ([..., V, 4, 4], [..., V, 3, 3]) in one launch.

    means [..., N, 3], quats [..., N, 4] wxyz, scales [..., N, 3] (activated), opacities [..., N]
    (activated); leading batch axes (e.g. heads) are gsplat's batch dims.
    Returns (accumulated [prod(..., V), H*W, D], alpha [prod(..., V), H*W]).
    """
    from gsplat import rasterization

    out, alpha, _ = rasterization(
        means, quats, scales, opacities, features,
        world_to_cams, Ks, width, height,
        near_plane=NEAR_PLANE, far_plane=FAR_PLANE, eps2d=EPS2D,
        sh_degree=None, packed=False, rasterize_mode="classic",
    )
    v = math.prod(world_to_cams.shape[:-2])
    return out.reshape(v, height * width, -1), alpha.reshape(v, height * width)


def rasterize_rgb_gsplat(means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor, rgb: Tensor,
                         world_to_cams: Tensor, Ks: Tensor, width: int, height: int,
                         backgrounds: Tensor) -> Tensor:
    """Colour only, background composited inside the kernel: the viewport's per-frame call.

    means [N, 3], quats [N, 4] wxyz unit, scales [N, 3], opacities [N], rgb [N, 3] (shared by the
    views), world_to_cams [V, 4, 4], Ks [V, 3, 3], backgrounds [V, 3]. Returns [V, H, W, 3].
    """
    from gsplat import rasterization

    out, _, _ = rasterization(
        means, quats, scales, opacities, rgb,
        world_to_cams, Ks, width, height,
        near_plane=NEAR_PLANE, far_plane=FAR_PLANE, eps2d=EPS2D,
        sh_degree=None, packed=False, rasterize_mode="classic", backgrounds=backgrounds,
    )
    return out
