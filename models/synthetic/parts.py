"""What every part of an engine head is made of: a ``Part`` of labelled Gaussian slots, and the baked lighting.

Shading is baked into each Gaussian's colour: key light (direction per head) + fill + ambient, with occlusion,
diffuse for surfaces and Kajiya-Kay for strands, so a render reads as a lit head from any view.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from models.synthetic.geometry import dir_from_angles, frame_quats, interp, normalize


@dataclass
class Part:
    """One part of B heads: [B, n] slots (opacity 0 marks an unused slot)."""

    means: Tensor    # [B, n, 3]
    quats: Tensor    # [B, n, 4]
    scales: Tensor   # [B, n, 3]
    opacity: Tensor  # [B, n]
    rgb: Tensor      # [B, n, 3] shaded colour 0..1
    labels: Tensor   # [B, n] long


def part(means, e1, e2, scales, opacity, rgb, label) -> Part:
    return Part(means, frame_quats(e1, e2), scales, opacity, rgb,
                torch.full(opacity.shape, label, dtype=torch.long, device=means.device) if isinstance(label, int)
                else label)


def light_dirs(P: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """Key and fill light directions (towards the light), [B, 1, 3]."""
    key = dir_from_angles(P["light_yaw"], P["light_pitch"])
    fill = dir_from_angles(-P["light_yaw"] * 0.7 + math.pi * 0.0, P["light_pitch"] * 0.2)
    return key, fill


def shade(albedo: Tensor, normal: Tensor, P: dict[str, Tensor], ao: Tensor | float = 1.0,
          ambient: float = 0.36, wrap: float = 0.15) -> Tensor:
    """Baked diffuse lighting: ambient + wrapped key + fill, times occlusion. [B, n, 3]"""
    key, fill = light_dirs(P)
    k = (((normal * key).sum(-1) + wrap) / (1 + wrap)).clamp_min(0.0)
    f = (normal * fill).sum(-1).clamp_min(0.0)
    sky = 0.5 + 0.5 * normal[..., 1]  # a little more light from above
    light = 0.9 * (ambient * (0.75 + 0.35 * sky) + P["light_strength"] * k + 0.16 * f)
    return (albedo * (light * ao)[..., None]).clamp(0.0, 1.0)


def shade_strands(albedo: Tensor, tangent: Tensor, normal: Tensor, P: dict[str, Tensor], ao: Tensor) -> Tensor:
    """Kajiya-Kay style diffuse for strands plus a soft baked sheen. [B, n, 3]"""
    key, _ = light_dirs(P)
    tl = (tangent * key).sum(-1)
    kk = torch.sqrt((1 - tl * tl).clamp_min(0.0))
    nl = ((normal * key).sum(-1) * 0.5 + 0.5).clamp(0, 1)
    view = torch.tensor([0.0, 0.1, 1.0], device=albedo.device)
    half = normalize(key + view)
    th = (tangent * half).sum(-1)
    spec = torch.sqrt((1 - th * th).clamp_min(0.0)) ** 40 * nl
    light = 0.3 + 0.85 * P["light_strength"] * kk * nl + 0.15 * (0.5 + 0.5 * normal[..., 1])
    rgb = albedo * (light * ao)[..., None] + (0.18 * spec * ao)[..., None] * (0.35 + 0.65 * albedo)
    return rgb.clamp(0.0, 1.0)


def strand_colour(base: Tensor, key: Tensor, noise: Tensor, P: dict[str, Tensor], dyed_spread: float = 0.18) -> Tensor:
    """Per-strand colour streaks: a function of a strand coordinate ``key`` plus per-Gaussian jitter."""
    streak = (torch.sin(key * 97.0 + 2.1) * 0.5 + torch.sin(key * 41.0 + 0.7) * 0.35 + torch.sin(key * 233.0) * 0.3)
    f = 1 + dyed_spread * streak[..., None] + 0.06 * (noise - 0.5)
    lum = base.mean(-1, keepdim=True)
    # light hair varies in hue towards gold/ash; dark hair in brightness only
    tint = torch.stack([1 + 0.04 * streak, 1 + 0.0 * streak, 1 - 0.05 * streak], -1)
    return (base * f * torch.where(lum > 0.45, tint, torch.ones_like(tint))).clamp(0, 1)


def hairline(az: Tensor, P: dict[str, Tensor]) -> Tensor:
    """Elevation (radians, from HEAD_CENTRE) above which the scalp carries hair, per azimuth. [B, n]"""
    knots = torch.tensor([0.0, 0.55, 1.05, 1.3, 1.75, 2.3, math.pi], device=az.device)
    front = 0.66 + 0.06 * P["hairline"] + 0.08 * P["is_man"] * P["is_older"]
    temple = front + 0.05 + 0.08 * P["is_man"]
    vals = torch.cat([front, temple, front * 0 - 0.06, front * 0 - 0.02, front * 0 + 0.26, front * 0 - 0.3,
                      front * 0 - 0.55], 1)
    return interp(az.abs(), knots, vals)
