"""One batch of 3D Gaussians, stored raw (as a network or a .ply holds them), activated in one place.

Raw parameters are what optimisers and files see; the renderer, exporter and engine all go
through the ``activated_*`` accessors below so every consumer agrees on one convention:
scale = exp(log_scale), opacity = sigmoid(logit), quaternion (w, x, y, z) normalised,
colour = 0.5 + SH_C0 * f_dc (the 3DGS convention) plus higher SH bands when present.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import torch
from torch import Tensor

from models.errors import PercheadError

PRUNE_OPACITY = 0.005  # Gaussians fainter than this are dropped from decoded heads (invisible)
TRANSPARENT_LOGIT = -30.0  # opacity logit of a Gaussian hidden on the GPU: sigmoid ~ 1e-13, culled by renderers

SH_C0 = 0.28209479177387814  # Y_0^0; colour = 0.5 + SH_C0 * f_dc
_SH_C1 = 0.4886025119029199
_SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
_SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
          -0.4570457994644658, 1.445305721320277, -0.5900435899266435)


def sh_coeffs_for_degree(degree: int) -> int:
    """Number of SH coefficients per colour channel for a degree (0..3)."""
    return (degree + 1) ** 2


def sh_degree_from_coeffs(k: int) -> int:
    for d in range(4):
        if sh_coeffs_for_degree(d) == k:
            return d
    raise ValueError(f"{k} SH coefficients per channel is not a degree 0-3 layout")


def rgb_to_sh_dc(rgb: Tensor) -> Tensor:
    """Inverse of the DC colour convention: rgb [..., 3] in 0..1 -> f_dc [..., 3]."""
    return (rgb - 0.5) / SH_C0


@dataclass
class Gaussians:
    """N Gaussians with raw parameters. Shapes are fixed; all tensors share device and dtype."""

    means: Tensor           # [N, 3] world positions
    quats: Tensor           # [N, 4] rotation (w, x, y, z), not necessarily unit length
    log_scales: Tensor      # [N, 3] log of the per-axis standard deviation
    opacity_logits: Tensor  # [N] logit of opacity
    sh: Tensor              # [N, K, 3] SH coefficients, K = (degree+1)^2; sh[:, 0] is f_dc
    labels: Tensor          # [N] int64 class ids from assets/classes.yaml

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_activated(cls, means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor,
                       rgb: Tensor, labels: Tensor | None = None) -> "Gaussians":
        """Build from human units: scales [N, 3] > 0, opacities [N] in (0, 1), rgb [N, 3] in 0..1."""
        eps = 1e-6
        n = means.shape[0]
        if labels is None:
            labels = torch.zeros(n, dtype=torch.long, device=means.device)
        opac = opacities.clamp(eps, 1 - eps)
        return cls(
            means=means,
            quats=quats,
            log_scales=torch.log(scales.clamp_min(1e-12)),
            opacity_logits=torch.log(opac) - torch.log1p(-opac),
            sh=rgb_to_sh_dc(rgb)[:, None, :],
            labels=labels.long(),
        )

    @classmethod
    def empty(cls, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> "Gaussians":
        z = lambda *s: torch.zeros(*s, device=device, dtype=dtype)  # noqa: E731
        return cls(z(0, 3), z(0, 4), z(0, 3), z(0), z(0, 1, 3), torch.zeros(0, dtype=torch.long, device=device))

    # ---- basic container behaviour ------------------------------------------------------
    def __len__(self) -> int:
        return self.means.shape[0]

    @property
    def sh_degree(self) -> int:
        return sh_degree_from_coeffs(self.sh.shape[1])

    @property
    def device(self) -> torch.device:
        return self.means.device

    def _map(self, fn) -> "Gaussians":
        return Gaussians(**{f.name: fn(f.name, getattr(self, f.name)) for f in fields(self)})

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Gaussians":
        """Move to a device; ``dtype`` applies to the float fields only (labels stay int64)."""
        return self._map(lambda name, t: t.to(device=device) if name == "labels" else t.to(device=device, dtype=dtype))

    def detach(self) -> "Gaussians":
        return self._map(lambda name, t: t.detach())

    def __getitem__(self, index: Tensor | slice | Sequence[int]) -> "Gaussians":
        """Select Gaussians by a boolean mask, index tensor or slice."""
        return self._map(lambda name, t: t[index])

    @staticmethod
    def cat(parts: Sequence["Gaussians"]) -> "Gaussians":
        """Concatenate; SH bands are zero-padded to the highest degree among the parts."""
        if not parts:
            raise ValueError("nothing to concatenate")
        k = max(p.sh.shape[1] for p in parts)
        shs = [torch.nn.functional.pad(p.sh, (0, 0, 0, k - p.sh.shape[1])) for p in parts]
        out = {f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Gaussians) if f.name != "sh"}
        return Gaussians(sh=torch.cat(shs), **out)

    def validate(self, source: str = "gaussians") -> "Gaussians":
        """Refuse wrong shapes and NaN/Inf values, naming how many Gaussians are affected."""
        n = len(self)
        expected = {"means": (n, 3), "quats": (n, 4), "log_scales": (n, 3), "opacity_logits": (n,), "labels": (n,)}
        for name, shape in expected.items():
            if tuple(getattr(self, name).shape) != shape:
                raise PercheadError(f"{source}: {name} has shape {tuple(getattr(self, name).shape)}, expected {shape}")
        if self.sh.ndim != 3 or self.sh.shape[0] != n or self.sh.shape[2] != 3:
            raise PercheadError(f"{source}: colour coefficients have shape {tuple(self.sh.shape)}, expected [N, K, 3]")
        bad = ~torch.isfinite(self.opacity_logits)
        for t in (self.means, self.quats, self.log_scales, self.sh.flatten(1)):
            bad |= ~torch.isfinite(t).all(1)
        count = int(bad.sum())
        if count:
            raise PercheadError(f"{source}: {count} of {n} Gaussians have NaN or infinite values; repair or re-export the file")
        return self

    # ---- activations: the single source of truth ----------------------------------------
    def activated_scales(self) -> Tensor:
        return torch.exp(self.log_scales)  # [N, 3]

    def activated_opacities(self) -> Tensor:
        return torch.sigmoid(self.opacity_logits)  # [N]

    def activated_quats(self) -> Tensor:
        return torch.nn.functional.normalize(self.quats, dim=-1)  # [N, 4] wxyz, unit

    def base_rgb(self) -> Tensor:
        """View-independent colour from the DC band only, clamped at 0 like 3DGS. [N, 3]"""
        return (0.5 + SH_C0 * self.sh[:, 0]).clamp_min(0.0)

    def rgb_for_view(self, camera_position: Tensor) -> Tensor:
        """Colour seen from a camera centre [3], evaluating all SH bands. [N, 3]"""
        if self.sh.shape[1] == 1:
            return self.base_rgb()
        dirs = torch.nn.functional.normalize(self.means - camera_position.to(self.means), dim=-1)  # [N, 3]
        return (eval_sh(self.sh, dirs) + 0.5).clamp_min(0.0)

    def strongest(self, count: int) -> "Gaussians":
        """The ``count`` Gaussians of largest opacity x the product of their two widest axes (what each can cover),
        in their order; all of them where there are no more. A decoded 51,200-point head keeps its look with its
        16,384 strongest (a 512 px render moves by about a quarter of an 8-bit level, RMS; docs/quality.md, nineteenth
        session): the rest lie inside or under the surface."""
        if len(self) <= count:
            return self
        widest = self.activated_scales().sort(-1, descending=True).values[:, :2].prod(-1)
        strength = self.activated_opacities() * widest
        return self[strength.topk(count).indices.sort().values]

    def covariances(self) -> Tensor:
        """World-space covariance R S S^T R^T. [N, 3, 3]"""
        rot = quat_to_rotmat(self.activated_quats())  # [N, 3, 3]
        m = rot * self.activated_scales()[:, None, :]  # R @ diag(s)
        return m @ m.transpose(1, 2)


def quat_multiply(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product a * b of quaternions (w, x, y, z) [..., 4] (broadcast): the rotation b, then a."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz,
                        aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx,
                        aw * bz + ax * by - ay * bx + az * bw], -1)


def quat_to_rotmat(q: Tensor) -> Tensor:
    """Unit quaternions (w, x, y, z) [N, 4] -> rotation matrices [N, 3, 3]."""
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(q.shape[:-1] + (3, 3))


def eval_sh(sh: Tensor, dirs: Tensor) -> Tensor:
    """Evaluate real SH (degree 0..3) in the 3DGS basis: sh [N, K, 3], dirs [N, 3] unit -> [N, 3]."""
    k = sh.shape[1]
    out = SH_C0 * sh[:, 0]
    if k < 4:
        return out
    x, y, z = (dirs[:, i : i + 1] for i in range(3))
    out = out - _SH_C1 * y * sh[:, 1] + _SH_C1 * z * sh[:, 2] - _SH_C1 * x * sh[:, 3]
    if k < 9:
        return out
    xx, yy, zz, xy, yz, xz = x * x, y * y, z * z, x * y, y * z, x * z
    out = (out + _SH_C2[0] * xy * sh[:, 4] + _SH_C2[1] * yz * sh[:, 5]
           + _SH_C2[2] * (2 * zz - xx - yy) * sh[:, 6] + _SH_C2[3] * xz * sh[:, 7]
           + _SH_C2[4] * (xx - yy) * sh[:, 8])
    if k < 16:
        return out
    return (out + _SH_C3[0] * y * (3 * xx - yy) * sh[:, 9] + _SH_C3[1] * xy * z * sh[:, 10]
            + _SH_C3[2] * y * (4 * zz - xx - yy) * sh[:, 11]
            + _SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy) * sh[:, 12]
            + _SH_C3[4] * x * (4 * zz - xx - yy) * sh[:, 13] + _SH_C3[5] * z * (xx - yy) * sh[:, 14]
            + _SH_C3[6] * x * (xx - 3 * yy) * sh[:, 15])

