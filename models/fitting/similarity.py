"""Framing of the canonical image as 3D similarities of the head.

A 2D similarity of the canonical image (roll about the optical axis and scale about the image
centre, then a shift in pixels) is, up to perspective, a 3D similarity of the head in front of
the canonical camera. Training uses it to re-frame engine heads (models/training/augment.py);
inference uses it to put a decoded head where the user's map has it (models/fitting/framing.py).
One definition for both, so a head moved here lands where the augmentation would have put it.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from models.gaussians import Gaussians, quat_multiply


def frame_transform(canonical_w2c: Tensor, fx: float, shift_px: tuple[float, float], scale: float,
                    roll_deg: float) -> Tensor:
    """World-space similarity [4, 4] that moves a head in front of the canonical camera as a 2D
    similarity of its canonical image: roll about the optical axis and scale about the look-at
    point (the image centre), then shift by ``shift_px`` (x right, y down) at the look-at depth."""
    dev = canonical_w2c.device
    w2c = canonical_w2c.double()
    depth = float(w2c[2, 3])  # the look-at point sits on the optical axis at this depth
    p = torch.tensor([0.0, 0.0, depth], dtype=torch.float64, device=dev)
    a = math.radians(roll_deg)
    rot = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]],
                       dtype=torch.float64, device=dev)
    shift = torch.tensor([shift_px[0] * depth / fx, shift_px[1] * depth / fx, 0.0], dtype=torch.float64, device=dev)
    t_cam = torch.eye(4, dtype=torch.float64, device=dev)
    t_cam[:3, :3] = scale * rot
    t_cam[:3, 3] = p + shift - scale * rot @ p
    return torch.linalg.inv(w2c) @ t_cam @ w2c


def rotmat_to_quat(r: Tensor) -> Tensor:
    """One rotation matrix [3, 3] -> unit quaternion (w, x, y, z) [4] (Shepperd: the largest
    of w, x, y, z is taken first, so no branch divides by a small number)."""
    m = r.double()
    tr = float(m.trace())
    diag = [float(m[0, 0]), float(m[1, 1]), float(m[2, 2])]
    if tr >= max(diag):
        w = math.sqrt(1.0 + tr) / 2
        q = [w, (m[2, 1] - m[1, 2]) / (4 * w), (m[0, 2] - m[2, 0]) / (4 * w), (m[1, 0] - m[0, 1]) / (4 * w)]
    else:
        i = diag.index(max(diag))
        j, k = (i + 1) % 3, (i + 2) % 3
        v = math.sqrt(1.0 + 2 * diag[i] - tr) / 2
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = float((m[k, j] - m[j, k]) / (4 * v))
        q[1 + i] = v
        q[1 + j] = float((m[j, i] + m[i, j]) / (4 * v))
        q[1 + k] = float((m[k, i] + m[i, k]) / (4 * v))
    out = torch.tensor([float(x) for x in q], dtype=torch.float64)
    return out / out.norm()


def move_gaussians(g: Gaussians, transform: Tensor) -> Gaussians:
    """Apply a world similarity [4, 4] (s * rotation | t) to Gaussians: centres move, each
    Gaussian turns with the rotation and grows by s, so the splats are the moved head's splats.

    Colours stay as they are: the decoded heads carry the view-independent band only (a
    higher SH band would have to turn with the head, which this does not do)."""
    if g.sh.shape[1] > 1:
        raise ValueError("move_gaussians keeps colours fixed, so it takes degree-0 (view-independent) Gaussians only")
    lin = transform[:3, :3].double()
    s = float(torch.linalg.det(lin)) ** (1 / 3)
    q = rotmat_to_quat(lin / s).to(g.quats)  # [4]
    means = g.means.double() @ lin.T.to(g.means.device) + transform[:3, 3].double().to(g.means.device)  # [N, 3]
    return Gaussians(means.to(g.means.dtype), quat_multiply(q.to(g.quats.device), g.quats),
                     g.log_scales + math.log(s), g.opacity_logits, g.sh, g.labels)
