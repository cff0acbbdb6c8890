"""Parametric heads built directly as labelled Gaussians, a whole batch at a time.

The pipeline per part is: parameters (per head, from ``HeadAttributes``) -> sample points on a
parametric surface or volume (fixed slot count per part, uniforms from the shared noise bank)
-> position, orientation frame, scales -> albedo -> baked shading -> Gaussians. Every step is
a tensor op over ``[B, n]`` slots, so B heads cost the same number of kernel launches as one.
A part a head does not have (a beard, glasses) keeps its slots at zero opacity; they are
dropped when the batch is split into per-head ``Gaussians``.

Geometry, world units ~metres, head centre near the origin, +y up, face along +z:
- skin: a star-shaped radial surface around ``HEAD_CENTRE``: the smooth union of a cranium and
  a lower-face ellipsoid plus compact bumps in face coordinates (nose, brow ridge, cheekbones,
  chin, lips, eye sockets, eye openings, an open mouth). Points come from a Fibonacci lattice
  warped towards the face so the face gets ~3x the density of the back of the head; each
  Gaussian's two tangent axes come from finite differences of the surface map, so steep parts
  (the sides of the nose) get stretched splats instead of holes.
- eyes: spheres with sclera / iris / pupil / catchlight, visible through almond openings.
- hair: shell (over the scalp, thickness per style), curtain (falling sheets for bobs and long
  hair, with waves), fringe, and tail (ponytail tube or bun); strand-like anisotropic Gaussians
  aligned with a per-style flow field, per-strand colour streaks, darker deep inside.
- eyebrows, facial hair: short strands on the skin inside per-style masks.
- ears, neck (flaring into the chest under the clothes), clothes (shoulders, neckline,
  collar or turtleneck), glasses (rims, bridge, temples, lenses) and hats (beanie, cap).
Shading is baked: key light (direction per head) + fill + ambient, with darkening in creases,
inside hair volumes and under the hairline, so a render reads as a lit head.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from models.gaussians import Gaussians
from models.synthetic.attributes import (REFERENCE_COLORS, HeadAttributes, natural_lip_color)
from models.synthetic.geometry import (GOLDEN_ANGLE, bump, dir_from_angles, frame_quats, head_noise, interp,
                                       normalize, smooth_max, smoothstep, sphere_dirs, stratified_uv, tangent_of)

# class ids (assets/classes.yaml); checked against the palette in tests
SKIN, NOSE, EYES, BROWS, EARS, MOUTH, UPPER_LIP, LOWER_LIP, HAIR, FACIAL_HAIR, NECK, CLOTHES, GLASSES, HAT = range(1, 15)

HEAD_CENTRE = (0.0, 0.0, -0.01)  # origin of the radial skin surface (inside every skin ellipsoid)
FACE_ZOOM = 1.7                  # stereographic zoom of the skin lattice towards the face
FACE_POLE = (0.0, -0.2, 1.0)     # direction the zoom concentrates on (mid-face)
EYE_RADIUS = 0.0125


@dataclass(frozen=True)
class EngineConfig:
    """How many Gaussian slots each part gets. ``gaussians`` scales all parts together.

    Default 36k slots: a head with every part present lands near 36k Gaussians, a typical one
    ~30k after absent parts are dropped. That is the density where the skin lattice spacing is
    ~1.5 mm on the face (under a pixel at 256 px, about a pixel at 512 px) and hair reads as
    strands, while the CPU rasteriser still renders a 256 px view in ~100 ms.
    """

    gaussians: int = 36_000
    # relative shares of the slot budget (normalised in ``part_counts``)
    skin: float = 12.0
    eyes: float = 0.9        # both eyes
    eyebrows: float = 0.8
    ears: float = 1.2
    neck: float = 1.6
    hair: float = 12.0
    facial_hair: float = 1.6
    clothes: float = 4.2
    glasses: float = 0.8
    hat: float = 1.5

    def part_counts(self) -> dict[str, int]:
        names = ("skin", "eyes", "eyebrows", "ears", "neck", "hair", "facial_hair", "clothes", "glasses", "hat")
        total = sum(getattr(self, n) for n in names)
        counts = {n: max(16, int(round(self.gaussians * getattr(self, n) / total))) for n in names}
        for n in ("eyes", "eyebrows", "ears"):  # two of each: even counts
            counts[n] += counts[n] % 2
        return counts


@dataclass
class Part:
    """One part of B heads: [B, n] slots (opacity 0 marks an unused slot)."""

    means: Tensor    # [B, n, 3]
    quats: Tensor    # [B, n, 4]
    scales: Tensor   # [B, n, 3]
    opacity: Tensor  # [B, n]
    rgb: Tensor      # [B, n, 3] shaded colour 0..1
    labels: Tensor   # [B, n] long


# ---------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------
_STYLE_FLAGS = ("bald", "buzz", "short", "side_part", "bob", "long_straight", "long_wavy", "ponytail", "bun", "afro")


def _rgb(c: Sequence[int]) -> list[float]:
    return [v / 255.0 for v in c]


def head_params(attrs: Sequence[HeadAttributes], device: torch.device) -> dict[str, Tensor]:
    """Per-head numbers as [B, 1] tensors (colours [B, 1, 3]) on ``device``."""
    rows: dict[str, list] = {}

    def put(name: str, value) -> None:
        rows.setdefault(name, []).append(value)

    for a in attrs:
        for k, v in a.shape.items():
            put(k, float(v))
        for s in _STYLE_FLAGS:
            put("is_" + s, float(a.hair_style == s))
        put("has_hair", float(a.hair_style != "bald"))
        put("hair_rgb", _rgb(REFERENCE_COLORS["hair"][a.hair_color]))
        put("brow_rgb", _rgb(REFERENCE_COLORS["hair"][a.eyebrow_color]))
        put("beard_rgb", _rgb(REFERENCE_COLORS["hair"][a.facial_hair_color]))
        put("eye_rgb", _rgb(REFERENCE_COLORS["eyes"][a.eye_color]))
        put("skin_rgb", _rgb(REFERENCE_COLORS["skin"][a.skin_tone]))
        put("lip_rgb", _rgb(natural_lip_color(a.skin_tone) if a.lip_color == "natural"
                            else REFERENCE_COLORS["lips"][a.lip_color]))
        put("cloth_rgb", _rgb(REFERENCE_COLORS["garment"][a.clothes_color]))
        put("hat_rgb", _rgb(REFERENCE_COLORS["garment"][a.hat_color]))
        put("frame_rgb", _rgb(REFERENCE_COLORS["frame"][a.frame_color]))
        put("is_man", float(a.presentation == "man"))
        put("is_older", float(a.age == "older"))
        put("mouth_is_open", float(a.mouth_open))
        for f in ("stubble", "moustache", "goatee", "full_beard"):
            put("fh_" + f, float(a.facial_hair == f))
        for gl in ("round", "rectangular", "sunglasses"):
            put("gl_" + gl, float(a.glasses == gl))
        put("has_glasses", float(a.glasses != "none"))
        for h in ("beanie", "cap"):
            put("hat_" + h, float(a.hat == h))
        put("has_hat", float(a.hat != "none"))
        for nl in ("crew", "v_neck", "collar", "turtleneck"):
            put("nl_" + nl, float(a.neckline == nl))
        put("fringe", float(a.hair_style == "side_part" or (a.hair_style in ("bob", "long_straight", "long_wavy")
                                                            and (a.seed % 3 == 0))))
        put("curtain", float(a.hair_style in ("bob", "long_straight", "long_wavy")))
        put("tail", float(a.hair_style in ("ponytail", "bun")))
    out = {}
    for k, v in rows.items():
        t = torch.tensor(v, dtype=torch.float32, device=device)
        out[k] = t[:, None, :] if t.ndim == 2 else t[:, None]
    return out


# ---------------------------------------------------------------------------------------------
# the skin surface
# ---------------------------------------------------------------------------------------------
def _ellipsoid_far(d: Tensor, centre: Tensor, axes: Tensor) -> Tensor:
    """Distance along unit rays d [B, n, 3] from HEAD_CENTRE to the far side of an ellipsoid. [B, n]"""
    dd = d / axes
    m = centre / axes
    a = (dd * dd).sum(-1)
    b = (dd * m).sum(-1)
    c = (m * m).sum(-1) - 1.0
    return (b + torch.sqrt((b * b - a * c).clamp_min(0.0))) / a


def _base_radius(d: Tensor, P: dict[str, Tensor]) -> Tensor:
    """Smooth union of cranium and lower face, as a radius from HEAD_CENTRE. [B, n]"""
    c0 = torch.tensor(HEAD_CENTRE, device=d.device)
    z = torch.zeros_like(P["skull_width"])
    cran_c = torch.stack([z, z + 0.028, z - 0.012], -1) - c0
    cran_a = torch.stack([P["skull_width"], P["skull_height"], P["skull_depth"]], -1)
    face_c = torch.stack([z, z - 0.035, z + 0.014], -1) - c0
    face_a = torch.stack([P["jaw_width"], P["face_length"], z + 0.076], -1)
    jaw_c = torch.stack([z, z - 0.062, z - 0.012], -1) - c0
    jaw_a = torch.stack([P["jaw_width"] * 0.98, z + 0.034, z + 0.058], -1)
    r = smooth_max(_ellipsoid_far(d, cran_c, cran_a), _ellipsoid_far(d, face_c, face_a), 0.014)
    return smooth_max(r, _ellipsoid_far(d, jaw_c, jaw_a), 0.012)


def _face_layout(P: dict[str, Tensor]) -> dict[str, Tensor]:
    """Key heights of the face, [B, 1] each."""
    eh = P["eye_height"]
    nose_top = eh - 0.002
    nose_base = nose_top - P["nose_length"]
    mouth_y = nose_base - 0.019
    return {"eye_y": eh, "nose_top": nose_top, "nose_base": nose_base, "nose_tip": nose_base + 0.22 * P["nose_length"],
            "mouth_y": mouth_y, "open": P["mouth_open"] * P["mouth_is_open"]}


def _almond(ex: Tensor, ey: Tensor, P: dict[str, Tensor], side: float) -> tuple[Tensor, Tensor, Tensor]:
    """Eye-opening coordinates: (signed distance inside the almond, m; upper edge distance; tilted y)."""
    aw = 0.0138 * P["eye_size"]
    ah = 0.0062 * P["eye_size"]
    eyt = ey - 0.09 * side * ex  # outer corner a little higher
    span = (1.0 - (ex / aw) ** 2).clamp_min(0.0) ** 0.9
    up = ah * span + 0.0004 * (1 - span)
    lo = 0.8 * ah * span
    inside = torch.minimum(up - eyt, eyt + lo)  # > 0 inside
    inside = torch.where(ex.abs() < aw, inside, -(ex.abs() - aw) - (eyt.abs()))
    return inside, up - eyt, eyt


def skin_radius(d: Tensor, P: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """Radius of the skin along unit rays d [B, n, 3] from HEAD_CENTRE, and face-region info. [B, n]"""
    rb = _base_radius(d, P)
    c0 = torch.tensor(HEAD_CENTRE, device=d.device)
    pb = c0 + rb[..., None] * d
    fx, fy = pb[..., 0], pb[..., 1]
    front = smoothstep(0.25, 0.6, d[..., 2])
    L = _face_layout(P)

    # nose: a ridge rising from the bridge to a rounded tip, then a steep underside; alae beside it
    nl = P["nose_length"]
    s_up = ((L["nose_top"] - fy) / (L["nose_top"] - L["nose_tip"])).clamp(0, 1)
    s_dn = ((L["nose_tip"] - fy) / (L["nose_tip"] - L["nose_base"])).clamp(0, 1)
    above = fy >= L["nose_tip"]
    prof = torch.where(above, P["nose_bridge"] + (P["nose_tip"] - P["nose_bridge"]) * s_up ** 1.6,
                       P["nose_tip"] * torch.sqrt((1 - s_dn ** 2).clamp_min(0)))
    prof = torch.where(fy > L["nose_top"], P["nose_bridge"] * smoothstep(0.012, 0.0, fy - L["nose_top"]), prof)
    s_all = ((L["nose_top"] - fy) / nl).clamp(0, 1)
    half_w = 0.0085 + (P["nose_width"] * 0.62 - 0.0085) * s_all ** 1.5
    nose = prof * (1 - (fx / half_w) ** 2).clamp_min(0) ** 1.3
    alae = (bump(fx, fy, P["nose_width"] * 0.72, L["nose_base"] + 0.0065, 0.0085, 0.0075)
            + bump(fx, fy, -P["nose_width"] * 0.72, L["nose_base"] + 0.0065, 0.0085, 0.0075))
    alae_h = (0.0065 + 0.3 * (P["nose_width"] - 0.013)) * alae
    nose_total = torch.maximum(nose, alae_h)

    # lips and mouth
    mw, my, op = P["mouth_width"], L["mouth_y"], L["open"]
    ox = (fx / mw).clamp(-1, 1)
    inside_x = (fx.abs() < mw).float()
    span = (1 - ox ** 2).clamp_min(0)
    bow = 1 - 0.3 * torch.exp(-(fx / 0.0035) ** 2)
    up_top = my + op / 2 + P["upper_lip"] * span ** 0.35 * bow
    up_bot = my + op / 2 * span ** 0.5
    lo_top = my - op / 2 * span ** 0.5
    lo_bot = my - op / 2 - P["lower_lip"] * span ** 0.5
    in_upper = (fy < up_top) & (fy >= up_bot) & (inside_x > 0)
    in_lower = (fy <= lo_top) & (fy > lo_bot) & (inside_x > 0)
    in_open = (fy < up_bot) & (fy > lo_top) & (inside_x > 0) & (op > 0.0005)
    vu = ((fy - up_bot) / (up_top - up_bot).clamp_min(1e-4)).clamp(0, 1)
    vl = ((lo_top - fy) / (lo_top - lo_bot).clamp_min(1e-4)).clamp(0, 1)
    lip_h = (0.0032 * torch.sin(math.pi * (0.25 + 0.75 * vu)) * span ** 0.4 * in_upper.float()
             + 0.0042 * torch.sin(math.pi * (0.15 + 0.85 * vl)) * span ** 0.4 * in_lower.float())
    muzzle = 0.006 * bump(fx, fy, 0.0, my - 0.002, 0.036, 0.03)
    seam = -0.0018 * torch.exp(-((fy - my) / 0.0009) ** 2) * inside_x
    mouth_pit = -0.014 * smoothstep(0.0, 0.002, torch.minimum(up_bot - fy, fy - lo_top)) * in_open.float()
    corners = -0.0015 * (bump(fx, fy, mw, my, 0.004, 0.004) + bump(fx, fy, -mw, my, 0.004, 0.004))

    # eye sockets and openings
    socket = torch.zeros_like(fx)
    pit = torch.zeros_like(fx)
    crease = torch.zeros_like(fx)
    in_eye = torch.zeros_like(fx, dtype=torch.bool)
    lash = torch.zeros_like(fx)
    for side in (1.0, -1.0):
        ex, ey = fx - side * P["eye_spacing"], fy - L["eye_y"]
        socket = socket - 0.0045 * bump(ex, ey, 0.0, 0.003, 0.022, 0.018)
        inside, up_d, _ = _almond(ex, ey, P, side)
        pit = pit - 0.016 * smoothstep(0.0, 0.0016, inside)
        in_eye |= inside > 0
        crease = crease - 0.0009 * torch.exp(-((up_d + 0.0045) / 0.0012) ** 2) * (ex.abs() < 0.012).float()
        lash = torch.maximum(lash, torch.exp(-((up_d + 0.0005) / 0.0008) ** 2) * (ex.abs() < 0.013 * P["eye_size"]).float())

    brow = 0.0035 * (1 + 0.5 * P["is_man"]) * bump(fx, fy, 0.0, L["eye_y"] + 0.021, 0.058, 0.014)
    cheeks = (0.003 + 0.004 * P["cheeks"]) * (bump(fx, fy, 0.043, L["eye_y"] - 0.03, 0.026, 0.02)
                                              + bump(fx, fy, -0.043, L["eye_y"] - 0.03, 0.026, 0.02))
    chin = (0.003 + 0.005 * P["chin"]) * bump(fx, fy, 0.0, -0.098, 0.018 + 0.006 * P["chin"], 0.016)
    relief = nose_total + lip_h + muzzle + seam + corners + socket + brow + cheeks + chin + crease
    r = rb + front * (relief + pit + mouth_pit)
    info = {"fx": fx, "fy": fy, "front": front, "nose": nose_total * front, "in_upper": in_upper & (front > 0.5),
            "in_lower": in_lower & (front > 0.5), "in_open": in_open & (front > 0.5), "in_eye": in_eye & (front > 0.5),
            "pit": -pit * front, "lash": lash * front, "crease": -(crease + seam + corners + socket) * front,
            "vu": vu}
    return r, info


def _skin_point(x: Tensor, y: Tensor, P: dict[str, Tensor], z_hint: float = 0.09) -> tuple[Tensor, Tensor]:
    """The skin point on the ray from HEAD_CENTRE through (x, y, z_hint), and that ray. [B, n, 3] each."""
    c0 = torch.tensor(HEAD_CENTRE, device=x.device)
    d = normalize(torch.stack([x, y, torch.full_like(x, z_hint)], -1) - c0)
    r, _ = skin_radius(d, P)
    return c0 + r[..., None] * d, d


def _skin_normal(d: Tensor, P: dict[str, Tensor], r: Tensor, h: float = 2e-3) -> Tensor:
    """Outward normal of the radial skin surface at rays d [B, n, 3] (finite differences)."""
    ref = torch.where(d[..., 1:2].abs() < 0.9, torch.tensor([0.0, 1.0, 0.0], device=d.device),
                      torch.tensor([1.0, 0.0, 0.0], device=d.device))
    t1 = normalize(torch.linalg.cross(d, ref, dim=-1))
    t2 = torch.linalg.cross(d, t1, dim=-1)
    d1, d2 = normalize(d + h * t1), normalize(d + h * t2)
    r1, _ = skin_radius(d1, P)
    r2, _ = skin_radius(d2, P)
    p0 = r[..., None] * d
    n = torch.linalg.cross(r1[..., None] * d1 - p0, r2[..., None] * d2 - p0, dim=-1)
    n = normalize(n)
    return torch.where((n * d).sum(-1, keepdim=True) < 0, -n, n)


def inside_head(p: Tensor, P: dict[str, Tensor], margin: float = 0.0) -> Tensor:
    """True where world points p [B, n, 3] lie inside the skin surface (by ``margin``). [B, n]"""
    c0 = torch.tensor(HEAD_CENTRE, device=p.device)
    v = p - c0
    dist = v.norm(dim=-1)
    r, _ = skin_radius(normalize(v), P)
    return dist < r - margin


# ---------------------------------------------------------------------------------------------
# lighting
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# parts
# ---------------------------------------------------------------------------------------------
def _part(means, e1, e2, scales, opacity, rgb, label) -> Part:
    return Part(means, frame_quats(e1, e2), scales, opacity, rgb,
                torch.full(opacity.shape, label, dtype=torch.long, device=means.device) if isinstance(label, int)
                else label)


def _hairline(az: Tensor, P: dict[str, Tensor]) -> Tensor:
    """Elevation (radians, from HEAD_CENTRE) above which the scalp carries hair, per azimuth. [B, n]"""
    knots = torch.tensor([0.0, 0.55, 1.05, 1.3, 1.75, 2.3, math.pi], device=az.device)
    front = 0.66 + 0.06 * P["hairline"] + 0.08 * P["is_man"] * P["is_older"]
    temple = front + 0.05 + 0.08 * P["is_man"]
    vals = torch.cat([front, temple, front * 0 - 0.06, front * 0 - 0.02, front * 0 + 0.26, front * 0 - 0.3,
                      front * 0 - 0.55], 1)
    return interp(az.abs(), knots, vals)


def _hair_thickness(P: dict[str, Tensor]) -> Tensor:
    """Shell thickness per style, [B, 1] metres."""
    t = (0.0018 * P["is_buzz"] + 0.011 * P["is_short"] + 0.015 * P["is_side_part"] + 0.014 * P["is_bob"]
         + 0.011 * P["is_long_straight"] + 0.017 * P["is_long_wavy"] + 0.005 * P["is_ponytail"]
         + 0.005 * P["is_bun"] + 0.05 * P["is_afro"])
    return t * P["hair_volume"]


def _hat_edge(az: Tensor, P: dict[str, Tensor]) -> Tensor:
    """Elevation of a hat's lower edge per azimuth (beanie lower than cap). [B, n]"""
    knots = torch.tensor([0.0, 1.2, 1.7, math.pi], device=az.device)
    b = P["hat_beanie"]
    vals = torch.cat([0.52 + 0.06 * (1 - b), 0.3 + 0.05 * (1 - b), 0.25 + 0.02 * (1 - b), -0.2 + 0.2 * (1 - b)], 1)
    return interp(az.abs(), knots, vals)


def skin_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """The skin surface: Fibonacci lattice warped to the face, radial surface, labelled by region."""
    B, dev = noise.shape[0], noise.device
    i = torch.arange(n, device=dev, dtype=torch.float32)[None].expand(B, n)
    u = (i + 0.25 + 0.5 * noise[..., 0]) / n
    v = (i * GOLDEN_ANGLE / (2 * math.pi) + 0.3 * (noise[..., 1] - 0.5) / math.sqrt(n)) % 1.0
    d0 = sphere_dirs(u, v)
    # stereographic zoom towards the face pole: conformal, so the local spacing scales by lam
    pole = normalize(torch.tensor(FACE_POLE, device=dev))
    cos_psi = (d0 * pole).sum(-1).clamp(-1 + 1e-6, 1 - 1e-6)
    psi = torch.acos(cos_psi)
    rho = torch.tan(psi / 2)
    psi2 = 2 * torch.atan(rho / FACE_ZOOM)
    lam = (1 + rho ** 2) / (FACE_ZOOM * (1 + (rho / FACE_ZOOM) ** 2))
    axis = normalize(d0 - cos_psi[..., None] * pole)
    d = normalize(torch.cos(psi2)[..., None] * pole + torch.sin(psi2)[..., None] * axis)
    spacing = math.sqrt(4 * math.pi / n) * lam  # angular spacing on the unit sphere

    r, info = skin_radius(d, P)
    c0 = torch.tensor(HEAD_CENTRE, device=dev)
    means = c0 + r[..., None] * d
    # tangent axes from finite differences of the surface map along two sphere tangents
    ref = torch.where(d[..., 1:2].abs() < 0.95, torch.tensor([0.0, 1.0, 0.0], device=dev),
                      torch.tensor([1.0, 0.0, 0.0], device=dev))
    t1 = normalize(torch.linalg.cross(ref, d, dim=-1))  # horizontal-ish
    t2 = torch.linalg.cross(d, t1, dim=-1)
    h = 1e-3
    d1, d2 = normalize(d + h * t1), normalize(d + h * t2)
    r1, _ = skin_radius(d1, P)
    r2, _ = skin_radius(d2, P)
    a1 = (c0 + r1[..., None] * d1 - means) / h * spacing[..., None]
    a2 = (c0 + r2[..., None] * d2 - means) / h * spacing[..., None]
    normal = normalize(torch.linalg.cross(a1, a2, dim=-1))
    normal = torch.where((normal * d).sum(-1, keepdim=True) < 0, -normal, normal)
    e1 = normalize(a1)
    e2 = torch.linalg.cross(normal, e1, dim=-1)
    s1 = a1.norm(dim=-1)
    s2 = (a2 * e2).sum(-1).abs()
    # steep walls (eye openings, an open mouth) get stretched splats, bounded so they never spike out
    nominal = (spacing * r).clamp_min(1e-4)
    s1 = torch.minimum(s1, 3.0 * nominal)
    s2 = torch.minimum(s2, 3.0 * nominal)
    scales = torch.stack([s1 * 0.6, s2 * 0.6, torch.full_like(s1, 4e-4)], -1).clamp_min(3e-4)

    # labels
    az = torch.atan2(d[..., 0], d[..., 2])
    el = torch.asin(d[..., 1].clamp(-1, 1))
    L = _face_layout(P)
    labels = torch.full((B, n), SKIN, dtype=torch.long, device=dev)
    is_nose = (info["nose"] > 0.0016) & (info["fy"] > L["nose_base"] - 0.002) & (info["fy"] < L["nose_top"] - 0.008)
    labels = torch.where(is_nose, torch.full_like(labels, NOSE), labels)
    labels = torch.where(info["in_upper"], torch.full_like(labels, UPPER_LIP), labels)
    labels = torch.where(info["in_lower"], torch.full_like(labels, LOWER_LIP), labels)
    labels = torch.where(info["in_open"], torch.full_like(labels, MOUTH), labels)
    labels = torch.where(info["in_eye"], torch.full_like(labels, EYES), labels)
    hairline = _hairline(az, P)
    jag = 0.035 * (noise[..., 2] - 0.5)
    scalp = (el > hairline + jag) & (P["has_hair"] > 0)
    labels = torch.where(scalp, torch.full_like(labels, HAIR), labels)

    # albedo: tone, mottling, warm cheeks/nose/ears, lips, scalp tinted by the hair
    tone = P["skin_rgb"]
    var = P["skin_variation"][..., None]
    mott = (torch.sin(means[..., 0:1] * 210 + 1.3) * torch.sin(means[..., 1:2] * 170 + 0.4)
            + 0.5 * torch.sin(means[..., 2:3] * 330 + means[..., 0:1] * 90))
    albedo = tone * (1 + 0.035 * var * mott + 0.03 * (noise[..., 3:4] - 0.5))
    warm = (bump(info["fx"], info["fy"], 0.045, L["eye_y"] - 0.035, 0.03, 0.025)
            + bump(info["fx"], info["fy"], -0.045, L["eye_y"] - 0.035, 0.03, 0.025)
            + 0.8 * (labels == NOSE).float())[..., None] * info["front"][..., None]
    albedo = albedo * (1 - 0.08 * warm * var * torch.tensor([0.0, 1.0, 0.9], device=dev))
    lip = P["lip_rgb"] * (1 + 0.05 * (noise[..., 4:5] - 0.5))
    is_lip = ((labels == UPPER_LIP) | (labels == LOWER_LIP))[..., None]
    lip_edge = smoothstep(0.0, 0.0007, torch.minimum(info["fy"] - L["mouth_y"] + 0.02, torch.ones_like(r)))
    albedo = torch.where(is_lip, lip * lip_edge[..., None] + albedo * (1 - lip_edge[..., None]), albedo)
    mouth_in = torch.tensor([0.33, 0.1, 0.1], device=dev)
    teeth = torch.tensor([0.86, 0.83, 0.76], device=dev)
    my = L["mouth_y"]
    is_teeth = (info["fy"] > my) & (info["fx"].abs() < P["mouth_width"] * 0.75)
    albedo = torch.where((labels == MOUTH)[..., None], torch.where(is_teeth[..., None], teeth, mouth_in), albedo)
    # lash line and the eye-opening walls
    lash = info["lash"][..., None] * (~info["in_eye"])[..., None].float()
    albedo = albedo * (1 - 0.85 * lash)
    eye_wall = torch.tensor([0.62, 0.4, 0.38], device=dev) * (0.3 + 0.5 * tone.mean(-1, keepdim=True))
    albedo = torch.where(info["in_eye"][..., None], eye_wall.expand_as(albedo), albedo)
    scalp_rgb = 0.55 * P["hair_rgb"] + 0.45 * tone * 0.6
    albedo = torch.where(scalp[..., None], scalp_rgb.expand_as(albedo), albedo)

    # occlusion: creases, pits, under the hairline, under the chin
    below_hair = smoothstep(0.16, 0.0, hairline - el) * (el < hairline).float() * P["has_hair"] * (1 - P["is_buzz"])
    ao = (1 - 9.0 * info["crease"].clamp(0, 0.02)) * (1 - 0.25 * below_hair)
    ao = ao * (1 - 0.3 * smoothstep(0.0, 0.01, info["pit"]))
    ao = ao.clamp(0.35, 1.0)
    rgb = shade(albedo, normal, P, ao)
    opacity = torch.full((B, n), 0.98, device=dev)
    # under the jaw inside the neck: hidden, dropped
    neck_in = _inside_neck(means, P, 0.002) & (means[..., 1] < -0.05)
    opacity = torch.where(neck_in, torch.zeros_like(opacity), opacity)
    return _part(means, e1, e2, scales, opacity, rgb, labels)


def _neck_axis(y: Tensor, P: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """Neck centre z and half-widths (x, z) at height y. [B, n] each."""
    cz = -0.03 + 0.12 * (-0.06 - y).clamp_min(0) * 0.9
    flare = (-0.16 - y).clamp_min(0)  # the chest widens under the clothes
    rx = P["neck_width"] + flare * 0.9
    rz = P["neck_width"] * 0.92 + flare * 0.35
    return cz, rx, rz


def _inside_neck(p: Tensor, P: dict[str, Tensor], margin: float) -> Tensor:
    cz, rx, rz = _neck_axis(p[..., 1], P)
    q = (p[..., 0] / (rx - margin)) ** 2 + ((p[..., 2] - cz) / (rz - margin)) ** 2
    return (q < 1) & (p[..., 1] < -0.03)


def neck_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Neck tube from under the skull into the chest (flaring; the clothes cover most of it)."""
    B, dev = noise.shape[0], noise.device
    span = 0.145 + 0.075 * P["nl_v_neck"]  # only a v-neck shows the chest
    su, sv = stratified_uv(noise)
    y = -0.035 - span * su
    ang = 2 * math.pi * sv

    def surf(y: Tensor, ang: Tensor) -> Tensor:
        cz, rx, rz = _neck_axis(y, P)
        apple = 0.006 * P["is_man"] * torch.exp(-((ang) / 0.35) ** 2 - ((y + 0.115) / 0.012) ** 2)
        return torch.stack([(rx + apple) * torch.sin(ang), y, cz + (rz + apple) * torch.cos(ang)], -1)

    means = surf(y, ang)
    a1 = (surf(y, ang + 1e-3) - means) / 1e-3
    a2 = (surf(y - 1e-3, ang) - means) / 1e-3
    normal = normalize(torch.linalg.cross(a2, a1, dim=-1))
    normal = torch.where((normal * (means - torch.stack([torch.zeros_like(y), y, means[..., 2] * 0], -1))).sum(-1, keepdim=True) < 0,
                         -normal, normal)
    spacing = torch.sqrt(2 * math.pi * P["neck_width"] * span / n).expand(B, n)
    scales = torch.stack([spacing * 0.65, spacing * 0.65,
                          torch.full_like(y, 4e-4)], -1)
    tone = P["skin_rgb"] * (1 + 0.03 * (noise[..., 2:3] - 0.5))
    jaw_shadow = smoothstep(-0.12, -0.06, y) * smoothstep(-0.3, 0.5, torch.cos(ang))
    ao = 1 - 0.4 * jaw_shadow
    rgb = shade(tone, normal, P, ao)
    hidden = inside_head(means, P, margin=0.001)
    # below the neckline the clothes cover the chest, except inside a v-neck's cut
    in_v = (P["nl_v_neck"] > 0) & (torch.cos(ang) > 0.2) & (means[..., 0].abs() < 0.05)
    hidden |= (y < -0.172) & ~in_v
    opacity = torch.where(hidden, torch.zeros_like(y), torch.full_like(y, 0.98))
    return _part(means, a1, a2, scales, opacity, rgb, NECK)


def eye_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Two eyeballs behind the almond openings: sclera, iris with a limbal ring, pupil, catchlight."""
    B, dev = noise.shape[0], noise.device
    half = n // 2
    side = torch.cat([torch.ones(half, device=dev), -torch.ones(n - half, device=dev)])[None].expand(B, n)
    L = _face_layout(P)
    ex = side * P["eye_spacing"]
    ey = L["eye_y"].expand(B, n)
    # the lid surface at the eye centre (socket included, opening excluded) sets the eyeball depth
    lid, ray = _lid_point(ex, ey, P)
    centre = lid - ray * (EYE_RADIUS + 0.0005)
    gaze = normalize(torch.stack([-0.08 * side, torch.full_like(side, -0.05), torch.ones_like(side)], -1))
    # cap of the sphere around the gaze: uniform in solid angle up to 62 degrees
    i = torch.arange(n, device=dev, dtype=torch.float32)[None].expand(B, n) % half
    cap = 1 - math.cos(math.radians(62))
    cos_t = 1 - cap * (i + noise[..., 0] * 0.8 + 0.1) / half
    phi = i * GOLDEN_ANGLE + 0.2 * noise[..., 1]
    sin_t = torch.sqrt((1 - cos_t ** 2).clamp_min(0))
    ref = torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(gaze)
    bx = normalize(torch.linalg.cross(ref, gaze, dim=-1))
    by = torch.linalg.cross(gaze, bx, dim=-1)
    dirs = cos_t[..., None] * gaze + sin_t[..., None] * (torch.cos(phi)[..., None] * bx + torch.sin(phi)[..., None] * by)
    means = centre + EYE_RADIUS * dirs
    theta = torch.acos(cos_t.clamp(-1, 1))
    iris_t, pupil_t = math.radians(29) * P["eye_size"] ** 0.3, math.radians(11)
    sclera = torch.tensor([0.93, 0.9, 0.87], device=dev) * (1 - 0.1 * smoothstep(0.6, 1.0, theta)[..., None]
                                                           * torch.tensor([0.0, 0.5, 0.5], device=dev))
    streak = 0.85 + 0.3 * (0.5 + 0.5 * torch.sin(phi * 23 + 3 * noise[..., 2]))[..., None]
    rel = (theta / iris_t)[..., None]
    iris = P["eye_rgb"] * streak * (1.15 - 0.35 * rel) * (1 - 0.55 * smoothstep(0.8, 1.0, rel))
    albedo = torch.where((theta < iris_t)[..., None], iris, sclera.expand_as(iris))
    albedo = torch.where((theta < pupil_t)[..., None], torch.full_like(albedo, 0.03), albedo)
    key, _ = light_dirs(P)
    glint_dir = normalize(key + gaze)
    glint = smoothstep(0.9985, 0.9997, (dirs * glint_dir).sum(-1))
    rgb = albedo * (0.7 + 0.3 * P["light_strength"][..., None]) + 0.9 * glint[..., None]
    # keep only what the almond shows (a little margin under the lids)
    fx, fy = means[..., 0] - ex, means[..., 1] - ey
    inside, _, _ = _almond(fx, fy, P, 1.0)
    inside_l, _, _ = _almond(fx, fy, P, -1.0)
    inside = torch.where(side > 0, inside, inside_l)
    opacity = torch.where(inside > -0.0015, torch.full_like(side, 0.99), torch.zeros_like(side))
    spacing = EYE_RADIUS * math.sqrt(2 * math.pi * cap / half)
    scales = torch.stack([torch.full_like(side, spacing * 0.75)] * 2 + [torch.full_like(side, 2e-4)], -1)
    e1 = normalize(torch.linalg.cross(dirs, ref, dim=-1))
    e2 = torch.linalg.cross(dirs, e1, dim=-1)
    return _part(means, e1, e2, scales, opacity, rgb.clamp(0, 1), EYES)


def _lid_point(x: Tensor, y: Tensor, P: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """Skin point at face (x, y) ignoring the eye opening (the socket-level lid surface)."""
    c0 = torch.tensor(HEAD_CENTRE, device=x.device)
    d = normalize(torch.stack([x, y, torch.full_like(x, 0.09)], -1) - c0)
    rb = _base_radius(d, P)
    pb = c0 + rb[..., None] * d
    fx, fy = pb[..., 0], pb[..., 1]
    L = _face_layout(P)
    socket = torch.zeros_like(fx)
    for side in (1.0, -1.0):
        socket = socket - 0.0045 * bump(fx - side * P["eye_spacing"], fy - L["eye_y"], 0.0, 0.003, 0.022, 0.018)
    return c0 + (rb + socket)[..., None] * d, d


def eyebrow_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Eyebrows: short strands on the brow ridge, tapering outwards, with an arch."""
    B, dev = noise.shape[0], noise.device
    half = n // 2
    side = torch.cat([torch.ones(half, device=dev), -torch.ones(n - half, device=dev)])[None].expand(B, n)
    s = noise[..., 0] ** 0.85
    L = _face_layout(P)
    th = P["brow_thickness"] * (1 - 0.55 * s)
    inner = P["eye_spacing"] - 0.017
    x = side * (inner + 0.04 * s)
    yc = L["eye_y"] + 0.0155 + P["brow_arch"] * torch.sin(math.pi * s ** 0.8) - 0.004 * s ** 2 + 0.001 * (1 - s)
    y = yc + (noise[..., 1] - 0.5) * th
    skin, ray = _skin_point(x, y, P)
    normal = _skin_normal(ray, P, (skin - torch.tensor(HEAD_CENTRE, device=dev)).norm(dim=-1))
    means = skin + normal * (0.0006 + 0.0008 * noise[..., 2:3])
    along = torch.stack([side, 0.25 - 0.6 * s + 1.4 * (1 - s) ** 3, torch.zeros_like(s)], -1)
    tangent = tangent_of(along, normal, torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(normal))
    scales = torch.stack([torch.full_like(s, 0.0024), torch.full_like(s, 0.0004), torch.full_like(s, 0.0003)], -1)
    col = P["brow_rgb"] * (0.75 + 0.5 * noise[..., 3:4])
    rgb = shade_strands(col, tangent, normal, P, torch.full_like(s, 0.9))
    opacity = 0.75 * (0.6 + 0.4 * smoothstep(0.0, 0.15, s)) * torch.ones_like(s)
    return _part(means, tangent, normal, scales, opacity, rgb, BROWS)


def ear_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Ears: a curved two-sided shell with a rim and a hollow, protruding backwards."""
    B, dev = noise.shape[0], noise.device
    half = n // 2
    side = torch.cat([torch.ones(half, device=dev), -torch.ones(n - half, device=dev)])[None].expand(B, n)
    L = _face_layout(P)
    size = P["ear_size"]
    h, w = 0.06 * size, 0.034 * size
    # attachment on the head side at ear height
    yc = L["eye_y"] - 0.018
    side_dir = normalize(torch.stack([side, torch.zeros_like(side) + 0.0, torch.full_like(side, -0.12)], -1))
    c0 = torch.tensor(HEAD_CENTRE, device=dev)
    r_side, _ = skin_radius(side_dir, P)
    attach = c0 + (r_side - 0.004)[..., None] * side_dir
    attach = torch.stack([attach[..., 0], yc.expand(B, n), attach[..., 2] + 0.012], -1)
    prot = P["ear_protrusion"]
    out_n = torch.stack([side * torch.cos(prot), torch.zeros_like(side), torch.sin(prot).expand(B, n)], -1)
    back = torch.stack([side * torch.sin(prot), torch.zeros_like(side), -torch.cos(prot).expand(B, n)], -1)
    up = torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(back)
    # disc coordinates: a (back, 0..1 from the attachment), b (up, -1..1); outline wider on top
    a = noise[..., 0]
    b = noise[..., 1] * 2 - 1
    outline = torch.sqrt((1 - b ** 2).clamp_min(0)) * (0.75 + 0.25 * (b > 0).float() + 0.2 * b.clamp_min(0))
    keep = a < outline
    a = a * 1.0
    front_face = noise[..., 2] < 0.7
    r = torch.sqrt(((a - 0.45) / 0.55) ** 2 + b ** 2)  # 0 in the hollow, ~1 at the rim
    hollow = -0.006 * (1 - r.clamp(0, 1) ** 2) + 0.0025 * torch.exp(-((a / outline.clamp_min(0.05) - 0.9) / 0.12) ** 2)
    lobe = (b < -0.55).float()
    depth = torch.where(front_face, hollow * (1 - 0.6 * lobe), -0.003 - 0.003 * (1 - a))
    means = attach + back * (a * w)[..., None] + up * (b * h / 2 - 0.08 * a * h)[..., None] + out_n * (depth + 0.004 * a)[..., None]
    normal = torch.where(front_face[..., None], out_n, -out_n)
    normal = normalize(normal + 0.6 * back * (a - 0.5)[..., None] + 0.5 * up * b[..., None])
    spacing = math.sqrt(math.pi * 0.06 * 0.034 / 2 / (half * 0.7)) * size.expand(B, n)
    scales = torch.stack([spacing * 0.85, spacing * 0.85, torch.full_like(a, 5e-4)], -1)
    tone = P["skin_rgb"] * (1 - 0.06 * torch.tensor([0.0, 1.0, 0.9], device=dev) * (0.5 + lobe[..., None]))
    ao = torch.where(front_face, 1 - 0.45 * (1 - r.clamp(0, 1)) ** 1.5, torch.full_like(a, 0.8))
    rgb = shade(tone, normal, P, ao)
    hidden = inside_head(means, P, margin=0.0015)
    hidden |= P["curtain"] > 0  # bobs and long hair cover the ears completely
    opacity = torch.where(keep & ~hidden, torch.full_like(a, 0.98), torch.zeros_like(a))
    return _part(means, back, up, scales, opacity, rgb, EARS)


def _strand_colour(base: Tensor, key: Tensor, noise: Tensor, P: dict[str, Tensor], dyed_spread: float = 0.18) -> Tensor:
    """Per-strand colour streaks: a function of a strand coordinate ``key`` plus per-Gaussian jitter."""
    streak = (torch.sin(key * 97.0 + 2.1) * 0.5 + torch.sin(key * 41.0 + 0.7) * 0.35 + torch.sin(key * 233.0) * 0.3)
    f = 1 + dyed_spread * streak[..., None] + 0.06 * (noise - 0.5)
    lum = base.mean(-1, keepdim=True)
    # light hair varies in hue towards gold/ash; dark hair in brightness only
    tint = torch.stack([1 + 0.04 * streak, 1 + 0.0 * streak, 1 - 0.05 * streak], -1)
    return (base * f * torch.where(lum > 0.45, tint, torch.ones_like(tint))).clamp(0, 1)


def hair_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Hair volume: shell + curtain + fringe + tail, slots shared per style, strand-aligned splats."""
    B, dev = noise.shape[0], noise.device
    c0 = torch.tensor(HEAD_CENTRE, device=dev)
    down = torch.tensor([0.0, -1.0, 0.0], device=dev)
    # slot shares per style (shell, curtain, fringe, tail)
    f_curt = P["curtain"] * (0.62 - 0.1 * P["is_bob"])
    f_fr = P["fringe"] * (0.26 - 0.1 * P["curtain"])
    f_tail = P["tail"] * (0.38 - 0.08 * P["is_bun"])
    f_shell = 1 - f_curt - f_fr - f_tail
    t = (torch.arange(n, device=dev, dtype=torch.float32)[None] + 0.5) / n  # [1, n]
    is_shell = t < f_shell
    is_curt = (t >= f_shell) & (t < f_shell + f_curt)
    is_fr = (t >= f_shell + f_curt) & (t < f_shell + f_curt + f_fr)
    is_tail = t >= f_shell + f_curt + f_fr
    thick = _hair_thickness(P)
    u0, u1, u2, u3, u4 = (noise[..., k] for k in range(5))

    # --- shell over the scalp
    el_min = -0.62
    sy = math.sin(el_min) + (1 - math.sin(el_min)) * u0
    az = math.pi * (2 * u1 - 1)
    el = torch.asin(sy.clamp(-1, 1))
    hl = _hairline(az, P) + 0.035 * (u2 - 0.5)
    covered = el > hl
    d = dir_from_angles(az, el)
    rs, _ = skin_radius(d, P)
    edge = smoothstep(0.0, 0.22, el - hl)
    top = smoothstep(0.2, 1.4, el)
    lump = 1 + 0.25 * torch.sin(az * 3 + P["hair_part"] * 2) * torch.sin(el * 4) * (P["is_afro"] + 0.3)
    th_here = thick * (0.35 + 0.65 * edge) * (1 + 0.3 * top * (1 - P["is_buzz"])) * lump
    depth_w = u3 ** 0.6  # more Gaussians near the outer surface
    shell_p = c0 + (rs + 0.0008 + th_here * depth_w)[..., None] * d
    part_x = 0.03 * P["hair_part"] * P["is_side_part"] + 0.012 * P["hair_part"] * (P["is_bob"] + P["is_long_straight"] + P["is_long_wavy"])
    src = normalize(torch.stack([part_x / 0.1 + 0 * az, torch.full_like(az, 0.85), d[..., 2] * 0.5], -1))
    crown = normalize(torch.tensor([0.0, 0.8, -0.6], device=dev)).expand_as(d)
    tail_dir = normalize(torch.tensor([0.0, 0.15, -1.0], device=dev)).expand_as(d)
    radial = P["is_short"] + P["is_buzz"] + P["is_afro"]
    pulled = P["is_ponytail"] + P["is_bun"]
    flow = ((d - crown)[..., :] * radial[..., None] + (d - src) * (1 - radial - pulled)[..., None]
            + (tail_dir - d) * pulled[..., None])
    flow = flow + down * 0.4 * smoothstep(0.3, -0.3, el)[..., None]
    # short hair at the front sweeps up and back from the hairline
    shell_t = tangent_of(flow, d, down.expand_as(d))
    # --- curtain (falling sheet)
    gap = 0.95 - 0.1 * P["is_bob"]
    caz = gap + (2 * math.pi - 2 * gap) * u1
    caz = torch.where(caz > math.pi, caz - 2 * math.pi, caz)
    length = (P["is_bob"] * (0.085 + 0.02 * P["hair_length"])
              + (P["is_long_straight"] + P["is_long_wavy"]) * (0.2 + 0.16 * P["hair_length"]))
    side_w = smoothstep(2.3, 1.6, caz.abs())  # 1 at the sides, 0 at the back
    y_end = -length + 0.03 * (torch.sin(caz * 23) * 0.5 + torch.sin(caz * 57) * 0.5) * 0.4
    y_end = torch.where(side_w > 0.5, torch.maximum(y_end, torch.full_like(y_end, -0.2)), y_end)
    y0 = torch.full_like(caz, 0.045)
    cy = y0 + (y_end - y0) * u0
    ring_dir = dir_from_angles(caz, torch.full_like(caz, 0.12))
    r_ring, _ = skin_radius(ring_dir, P)
    wave_amp = P["is_long_wavy"] * 0.008 * P["hair_volume"]
    wave = wave_amp * torch.sin((y0 - cy) * 110 + caz * 3 + 5 * P["hair_part"])
    ear_clear = 0.02 * side_w * torch.exp(-((cy - P["eye_height"] + 0.018) / 0.035) ** 2)
    flare = 0.1 * (-0.05 - cy).clamp_min(0) * (1 + 0.6 * P["is_long_wavy"])
    shoulder = 0.06 * smoothstep(-0.14, -0.2, cy) * side_w  # rest on the shoulders
    cth = 0.012 * P["hair_volume"] * (1 + P["is_long_wavy"])
    rad = r_ring * torch.cos(torch.tensor(0.12, device=dev)) + 0.004 + ear_clear + flare + shoulder + wave + cth * u3 ** 0.6
    # the top of the curtain hugs the skull: blend into the scalp radius near y0
    bob_curl = P["is_bob"] * 0.015 * smoothstep(0.6, 1.0, u0)
    rad = rad - bob_curl
    curt_p = torch.stack([rad * torch.sin(caz), cy, c0[2] + rad * torch.cos(caz)], -1)
    curt_t = normalize(torch.stack([wave_amp * 110 * torch.cos((y0 - cy) * 110) * torch.sin(caz) * 0.5,
                                    -torch.ones_like(cy), 0.1 * torch.cos(caz) * (cy < -0.05).float()], -1))
    curt_n = normalize(curt_p - torch.stack([torch.zeros_like(cy), cy, torch.full_like(cy, c0[2])], -1))
    # --- fringe over the forehead
    fw = 0.75 - 0.15 * P["is_side_part"]
    faz = fw * (2 * u1 - 1)
    sweep = torch.sign(P["hair_part"] + 1e-3) * P["is_side_part"]
    f_el_bot = 0.42 + 0.35 * (faz / fw) * sweep + 0.12 * sweep.abs() + 0.02 * torch.sin(faz * 40) * 0.5
    f_el = f_el_bot + (0.95 - f_el_bot) * u0
    fd = dir_from_angles(faz, f_el)
    fr_r, _ = skin_radius(fd, P)
    fringe_p = c0 + (fr_r + 0.003 + 0.008 * P["hair_volume"] * u3)[..., None] * fd
    fringe_t = tangent_of(down + torch.stack([sweep * 0.8 * torch.ones_like(faz), 0 * faz, 0 * faz], -1)
                          + torch.tensor([0.0, 0.0, 0.3], device=dev), fd, down.expand_as(fd))
    # --- tail: ponytail tube or bun
    s = u0
    base = torch.tensor([0.0, 0.035, -0.118], device=dev)
    plen = 0.12 + 0.12 * P["hair_length"]
    pc = base + torch.stack([0 * s, -plen * s ** 1.25, -0.035 * torch.sqrt(s) + 0.012 * s], -1)
    pt = normalize(torch.stack([0 * s, -1.25 * plen * s.clamp_min(0.02) ** 0.25, -0.0175 / torch.sqrt(s.clamp_min(0.02)) + 0.012], -1))
    pr = (0.028 * (1 - 0.55 * s) + 0.012 * torch.exp(-s / 0.1)) * P["hair_volume"] ** 0.5 * torch.sqrt(u3.clamp_min(0.05))
    ang = 2 * math.pi * u2
    ref = torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(pt)
    q1 = normalize(torch.linalg.cross(pt, ref, dim=-1))
    q2 = torch.linalg.cross(pt, q1, dim=-1)
    radial_v = torch.cos(ang)[..., None] * ref + torch.sin(ang)[..., None] * q1
    tail_p = pc + pr[..., None] * radial_v
    bun_c = torch.tensor([0.0, 0.09, -0.085], device=dev)
    bd = normalize(torch.stack([2 * u1 - 1, 2 * u2 - 1, 2 * u0 - 1], -1))
    bun_r = 0.032 * P["hair_volume"] * (0.75 + 0.25 * u3 ** 0.5)
    bun_p = bun_c + bun_r[..., None] * bd * torch.tensor([1.0, 0.85, 0.9], device=dev)
    bun_t = normalize(torch.linalg.cross(torch.tensor([0.3, 1.0, 0.0], device=dev).expand_as(bd), bd, dim=-1))
    tail_p = torch.where(P["is_bun"][..., None] > 0, bun_p, tail_p)
    tail_t = torch.where(P["is_bun"][..., None] > 0, bun_t, pt.expand_as(bun_t))
    tail_n = torch.where(P["is_bun"][..., None] > 0, bd, radial_v)

    m = lambda mask: mask[..., None]  # noqa: E731
    means = torch.where(m(is_shell), shell_p, torch.where(m(is_curt), curt_p, torch.where(m(is_fr), fringe_p, tail_p)))
    tangent = torch.where(m(is_shell), shell_t, torch.where(m(is_curt), curt_t, torch.where(m(is_fr), fringe_t, tail_t)))
    normal = torch.where(m(is_shell), d, torch.where(m(is_curt), curt_n, torch.where(m(is_fr), fd, tail_n)))
    depth = torch.where(is_shell, depth_w, torch.where(is_tail & (P["is_bun"] < 1), torch.sqrt(u3), u3 ** 0.6))
    # curls: rotate the strand tangent around the normal, more for afro and waves
    curl = P["is_afro"] * 1.0 + P["is_long_wavy"] * 0.1 + 0.08
    twist = (u4 - 0.5) * 2 * math.pi * curl
    bin_ = torch.linalg.cross(normal, tangent, dim=-1)
    tangent = normalize(tangent * torch.cos(twist)[..., None] + bin_ * torch.sin(twist)[..., None])
    # strand coordinate for colour streaks: position across the flow
    key = torch.where(is_shell, torch.atan2(shell_t[..., 0], shell_t[..., 2]) * 0.6 + az * 0.4 + el * 0.3,
                      torch.where(is_curt, caz, torch.where(is_fr, faz, ang * 0.3 + s)))
    col = _strand_colour(P["hair_rgb"], key, noise[..., 5:6], P)
    col = col * (1 + 0.25 * P["is_older"][..., None] * (noise[..., 6:7] > 0.7).float())  # salt grey strands
    ao = 0.62 + 0.38 * depth
    # buzz cuts are hair over visible scalp: a blend, lighter occlusion
    col = torch.where(P["is_buzz"][..., None] > 0, col * 0.7 + P["skin_rgb"] * 0.3 * 0.6, col)
    rgb = shade_strands(col, tangent, normal, P, ao)
    long_s = (0.0028 + 0.001 * (P["curtain"] + P["tail"]) * (1 - is_shell.float())) * (1 - 0.55 * P["is_afro"]) * (1 - 0.55 * P["is_buzz"])
    thin = 0.00055 + 0.0006 * P["is_afro"]
    scales = torch.stack([long_s.expand(B, n), thin.expand(B, n), (thin * 0.8).expand(B, n)], -1)
    opacity = torch.full((B, n), 0.85, device=dev) * P["has_hair"]
    opacity = torch.where(is_shell & ~covered, torch.zeros_like(opacity), opacity)
    opacity = torch.where(is_shell & (el < hl + 0.08), opacity * (0.55 + 0.45 * edge), opacity)
    # hats hide the shell above their lower edge
    under_hat = (P["has_hat"] > 0) & (el > _hat_edge(az, P) + 0.04)
    opacity = torch.where(is_shell & under_hat, torch.zeros_like(opacity), opacity)
    opacity = torch.where(P["is_buzz"] > 0, opacity * 0.8, opacity)
    return _part(means, tangent, normal, scales, opacity, rgb, HAIR)


def facial_hair_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Stubble, moustache, goatee or full beard: strands on the lower face inside a per-style mask."""
    B, dev = noise.shape[0], noise.device
    c0 = torch.tensor(HEAD_CENTRE, device=dev)
    az = 1.75 * (2 * noise[..., 0] - 1)
    el = -1.25 + 1.25 * noise[..., 1] ** 0.8
    d = dir_from_angles(az, el)
    r, info = skin_radius(d, P)
    fx, fy = info["fx"], info["fy"]
    L = _face_layout(P)
    my, mw = L["mouth_y"], P["mouth_width"]
    lips = ((fx.abs() < mw + 0.002) & (fy < my + P["upper_lip"] + 0.0015) & (fy > my - P["lower_lip"] - 0.002))
    moustache = ((fx.abs() < mw + 0.006 - 0.15 * (fy - my).clamp_min(0)) & (fy > my + P["upper_lip"] * 0.6)
                 & (fy < L["nose_base"] - 0.002) & (d[..., 2] > 0.5))
    goatee = (fx.abs() < mw * 0.95) & (fy < my - P["lower_lip"] - 0.001) & (d[..., 2] > 0.3)
    cheek_line = L["eye_y"] - 0.045 - 0.25 * fx.abs()
    beard = (fy < cheek_line) & (az.abs() < 1.55) & ~lips & (fy > -0.2)
    beard = beard & ~((fx.abs() < 0.016) & (fy > my + 0.004))  # keep the philtrum sides natural
    full = P["fh_full_beard"] > 0
    mask = ((P["fh_stubble"] > 0) & beard) | ((P["fh_moustache"] > 0) & moustache) | \
           ((P["fh_goatee"] > 0) & (goatee | moustache)) | (full & (beard | moustache))
    normal = _skin_normal(d, P, r)
    length = P["beard_length"] * (P["fh_full_beard"] + 0.6 * P["fh_goatee"] + 0.3 * P["fh_moustache"]) + 0.0006 * P["fh_stubble"]
    under_chin = smoothstep(-0.06, -0.11, fy)
    means = c0 + r[..., None] * d + normal * (0.0004 + length * (0.5 + 0.5 * under_chin) * noise[..., 2] ** 0.7)[..., None]
    above_mouth = (fy > my).float() * (P["fh_moustache"] + P["fh_goatee"] + P["fh_full_beard"])
    flow = torch.tensor([0.0, -1.0, 0.25], device=dev).expand_as(d) + torch.stack([torch.sign(fx) * 1.2 * above_mouth, 0.5 * above_mouth, 0 * fx], -1)
    tangent = tangent_of(flow, normal, torch.tensor([0.0, -1.0, 0.0], device=dev).expand_as(d))
    twist = (noise[..., 3] - 0.5) * 1.2
    bin_ = torch.linalg.cross(normal, tangent, dim=-1)
    tangent = normalize(tangent * torch.cos(twist)[..., None] + bin_ * torch.sin(twist)[..., None])
    stub = P["fh_stubble"]
    long_s = 0.0007 * stub + (1 - stub) * (0.0022 + 0.25 * P["beard_length"] * (1 - 0.6 * P["fh_moustache"]))
    scales = torch.stack([long_s.expand(B, n), (0.00035 + 0.0002 * (1 - stub)).expand(B, n),
                          torch.full((B, n), 0.0003, device=dev)], -1)
    col = _strand_colour(P["beard_rgb"], az * 3 + el, noise[..., 4:5], P, 0.12)
    ao = 0.55 + 0.45 * noise[..., 2] ** 0.5
    rgb = shade_strands(col, tangent, normal, P, ao)
    opac = (0.28 * stub + 0.8 * (1 - stub)) * mask.float()
    labels = torch.full((B, n), FACIAL_HAIR, dtype=torch.long, device=dev)
    return _part(means, tangent, normal, scales, opac, rgb, labels)


def clothes_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Shoulders and chest: a sloped top around the neck, side walls, plus a collar or turtleneck."""
    B, dev = noise.shape[0], noise.device
    u0, u1 = stratified_uv(noise)
    u2 = noise[..., 2]
    t = (torch.arange(n, device=dev, dtype=torch.float32)[None] + 0.5) / n
    f_ring = 0.22 * (P["nl_collar"] + P["nl_turtleneck"])
    f_top = (1 - f_ring) * 0.6
    is_top = t < f_top
    is_wall = (t >= f_top) & (t < 1 - f_ring)
    y_nb = -0.158
    sw = P["shoulder_width"]
    depth = 0.105
    ang = 2 * math.pi * u1
    sa, ca = torch.sin(ang), torch.cos(ang)
    # superellipse outline of the torso
    pexp = 3.0
    out_r = 1 / ((sa.abs() / sw) ** pexp + (ca.abs() / depth) ** pexp) ** (1 / pexp)
    neck_rx = P["neck_width"] + 0.01 + 0.006 * P["nl_turtleneck"]
    neck_rz = P["neck_width"] * 0.92 + 0.01
    in_r = 1 / torch.sqrt((sa / neck_rx) ** 2 + (ca / neck_rz) ** 2)
    rr = torch.sqrt(u0)
    rad = in_r + (out_r - in_r) * rr
    drop = 0.05 * rr ** 1.6 + 0.015 * (ca > 0).float() * (1 - rr)  # shoulders slope down; front neckline lower
    top_y = y_nb - drop - 0.008 * torch.sin(4 * ang) * rr
    cz = -0.01
    top_p = torch.stack([rad * sa, top_y, cz + rad * ca], -1)
    # walls: round the shoulder edge into the sides
    wy = y_nb - 0.045 - 0.17 * u0
    edge = smoothstep(-0.26, -0.225, wy)
    wr = out_r * (1 - 0.08 * edge) + 0.004 * torch.sin(ang * 9 + u0 * 20) * (1 - edge)
    wall_p = torch.stack([wr * sa, wy + 0.012 * edge, cz + wr * ca], -1)
    # collar / turtleneck ring
    ry = y_nb + 0.005 + (0.024 + 0.051 * P["nl_turtleneck"]) * u0
    ring_r = 1.0 + 0.15 * P["nl_collar"] * u0
    ring_scale = torch.stack([(P["neck_width"] + 0.008) * ring_r * sa, ry, -0.03 + (P["neck_width"] * 0.92 + 0.008) * ring_r * ca + 0.02 * (y_nb - ry) * (1 - P["nl_turtleneck"])], -1)
    rib = 0.0015 * torch.sin(ry * 700) * P["nl_turtleneck"]
    ring_p = ring_scale + torch.stack([sa, 0 * sa, ca], -1) * rib[..., None]
    ring_p = torch.where((P["nl_turtleneck"] > 0)[..., None], torch.stack([
        (_neck_axis(ry, P)[1] + 0.007 + rib) * sa, ry.expand_as(sa), _neck_axis(ry, P)[0] + (_neck_axis(ry, P)[2] + 0.007 + rib) * ca], -1), ring_p)
    m = lambda mask: mask[..., None]  # noqa: E731
    means = torch.where(m(is_top), top_p, torch.where(m(is_wall), wall_p, ring_p))
    radial = normalize(torch.stack([sa, torch.zeros_like(sa), ca], -1))
    up = torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(radial)
    top_n = normalize(up + radial * (0.6 * rr ** 1.2)[..., None])
    wall_n = normalize(radial + up * (0.8 * edge)[..., None])
    normal = torch.where(m(is_top), top_n, torch.where(m(is_wall), wall_n, radial))
    tang = normalize(torch.linalg.cross(up, normal, dim=-1) + 1e-4)
    area_top = 0.5 * math.pi * 0.2 * 0.1
    area_wall = 2.2 * 0.6 * 0.17
    spacing = torch.where(is_top, math.sqrt(area_top / max(1, n * 0.45)), math.sqrt(area_wall / max(1, n * 0.45)))
    ring_sp = math.sqrt(2 * math.pi * 0.068 * 0.075 / max(1.0, 0.22 * n))
    ring_sp = ring_sp * torch.sqrt((0.024 + 0.051 * P["nl_turtleneck"]) / 0.075)
    spacing = torch.where(~is_top & ~is_wall, ring_sp, spacing).expand(B, n)
    scales = torch.stack([spacing * 0.72, spacing * 0.72, torch.full_like(spacing, 6e-4)], -1)
    col = P["cloth_rgb"] * (1 + 0.06 * (u2[..., None] - 0.5))
    folds = 1 - 0.12 * (0.5 + 0.5 * torch.sin(ang * 7 + means[..., 1] * 40))[..., None] * (~is_top)[..., None].float()
    collar_col = torch.where((P["nl_collar"] > 0)[..., None], torch.clamp(P["cloth_rgb"] * 1.25 + 0.08, 0, 1), P["cloth_rgb"] * 0.92)
    col = torch.where(m(~is_top & ~is_wall), collar_col.expand_as(col), col * folds)
    neck_band = smoothstep(0.012, 0.0, rad - in_r) * is_top.float() * P["nl_crew"]
    col = col * (1 - 0.15 * neck_band[..., None])
    ao = 1 - 0.3 * smoothstep(0.02, 0.0, rad - in_r) * is_top.float()
    rgb = shade(col, normal, P, ao)
    opacity = torch.full((B, n), 0.99, device=dev)
    # v-neck cut in the front of the top and upper wall
    vdepth = 0.07
    vcut = (P["nl_v_neck"] > 0) & (ca > 0) & (means[..., 1] > y_nb - vdepth + vdepth * (means[..., 0].abs() / 0.05).clamp(0, 1) + 0.0) \
        & (means[..., 0].abs() < 0.05) & (is_top | is_wall)
    opacity = torch.where(vcut, torch.zeros_like(opacity), opacity)
    collar_gap = (P["nl_collar"] > 0) & ~is_top & ~is_wall & (ang.cos() > 0.94)
    opacity = torch.where(collar_gap, torch.zeros_like(opacity), opacity)
    return _part(means, tang, torch.linalg.cross(normal, tang, dim=-1), scales, opacity, rgb, CLOTHES)


def glasses_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Rims, bridge, temples and lenses (dark for sunglasses, a faint sheen otherwise)."""
    B, dev = noise.shape[0], noise.device
    t = (torch.arange(n, device=dev, dtype=torch.float32)[None] + 0.5) / n
    u0, u1 = noise[..., 0], noise[..., 1]
    side = torch.where(u1 < 0.5, torch.ones_like(u1), -torch.ones_like(u1))
    L = _face_layout(P)
    lid, ray = _lid_point(P["eye_spacing"] + 0 * u0, L["eye_y"] + 0 * u0, P)
    zl = lid[..., 2] + 0.014
    cx = side * (P["eye_spacing"] + 0.002)
    cy = L["eye_y"] - 0.002 + 0 * u0
    rnd = P["gl_round"]
    hw = 0.021 * rnd + 0.026 * (1 - rnd)
    hh = 0.019 * rnd + 0.017 * (1 - rnd) + 0.003 * P["gl_sunglasses"]
    pw = 2.0 * rnd + 5.0 * (1 - rnd)
    ang = 2 * math.pi * u0
    ca, sa = torch.cos(ang), torch.sin(ang)
    sup = 1 / ((ca.abs() ** pw + sa.abs() ** pw) ** (1 / pw))
    is_rim = t < 0.42
    is_bridge = (t >= 0.42) & (t < 0.47)
    is_temple = (t >= 0.47) & (t < 0.65)
    is_lens = t >= 0.65
    rim_p = torch.stack([cx + hw * sup * ca, cy + hh * sup * sa, zl - 0.004 * (sup * ca * side).clamp_min(0)], -1)
    rim_t = normalize(torch.stack([-hw * sa, hh * ca, torch.zeros_like(sa)], -1))
    bx = (2 * u0 - 1) * (P["eye_spacing"] + 0.002 - hw * 0.95)
    bridge_p = torch.stack([bx, cy + hh * 0.45 + 0.004 * (1 - (bx / 0.012) ** 2).clamp_min(0), zl + 0.001], -1)
    bridge_t = torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(bridge_p)
    tx0 = side * (P["eye_spacing"] + 0.002 + hw)
    ear_x = side * (P["skull_width"] + 0.006)
    temple_p = torch.stack([tx0 + (ear_x - tx0) * u0 ** 0.7, cy + 0.006 - 0.004 * u0, zl - 0.004 - (zl + 0.025) * u0], -1)
    temple_t = normalize(temple_p - torch.stack([tx0, cy + 0.006, zl - 0.004], -1) + 1e-6)
    rr = torch.sqrt(noise[..., 2])
    lens_p = torch.stack([cx + hw * sup * ca * rr, cy + hh * sup * sa * rr, zl - 0.001 - 0.003 * rr ** 2], -1)
    z3 = torch.tensor([0.0, 0.0, 1.0], device=dev).expand_as(lens_p)
    m = lambda mask: mask[..., None]  # noqa: E731
    means = torch.where(m(is_rim), rim_p, torch.where(m(is_bridge), bridge_p, torch.where(m(is_temple), temple_p, lens_p)))
    tang = torch.where(m(is_rim), rim_t, torch.where(m(is_bridge), bridge_t, torch.where(m(is_temple), temple_t, torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(z3))))
    frame_th = 0.0009 + 0.0006 * (1 - rnd) + 0.0004 * P["gl_sunglasses"]
    rim_len = 2 * math.pi * 0.022 * 2 / (0.42 * n)
    lens_sp = math.sqrt(math.pi * 0.022 * 0.018 * 2 / (0.35 * n))
    along = torch.where(is_lens, torch.full_like(t, lens_sp), torch.full_like(t, max(rim_len, 0.0008) * 1.2)).expand(B, n)
    across = torch.where(is_lens, torch.full_like(t, lens_sp).expand(B, n), frame_th.expand(B, n))
    scales = torch.stack([along, across, torch.where(is_lens, torch.full_like(t, 2e-4), torch.full_like(t, 8e-4)).expand(B, n)], -1)
    e2 = torch.where(m(is_lens), torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(z3), z3)
    frame_col = P["frame_rgb"] * (1 + 0.25 * (noise[..., 3:4] - 0.5) * (P["frame_rgb"].mean(-1, keepdim=True) < 0.45).float())
    normal = torch.where(m(is_lens), z3, normalize(torch.linalg.cross(tang, z3, dim=-1) + z3 * 0.5))
    frame_rgb = shade(frame_col.expand(B, n, 3), normal, P, 1.0, ambient=0.55)
    lens_rgb = torch.where(P["gl_sunglasses"][..., None] > 0, torch.tensor([0.06, 0.065, 0.08], device=dev) + 0.1 * smoothstep(0.6, 1.0, noise[..., 2:3]) * (ca[..., None] > 0.3).float(),
                           torch.tensor([0.85, 0.9, 0.95], device=dev).expand(B, n, 3))
    rgb = torch.where(m(is_lens), lens_rgb, frame_rgb)
    lens_op = 0.93 * P["gl_sunglasses"] + 0.05 * (1 - P["gl_sunglasses"])
    opacity = torch.where(is_lens, lens_op.expand(B, n), torch.full((B, n), 0.97, device=dev)) * P["has_glasses"]
    # the temples vanish into the hair and skin at the sides
    hidden = inside_head(means, P, margin=0.0)
    opacity = torch.where(hidden, torch.zeros_like(opacity), opacity)
    return _part(means, tang, e2, scales, opacity, rgb, GLASSES)


def hat_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Beanie (knit shell with a folded cuff) or cap (panelled crown and a curved brim)."""
    B, dev = noise.shape[0], noise.device
    c0 = torch.tensor(HEAD_CENTRE, device=dev)
    u0, u1 = stratified_uv(noise)
    u2 = noise[..., 2]
    t = (torch.arange(n, device=dev, dtype=torch.float32)[None] + 0.5) / n
    is_brim = (t > 0.8) & (P["hat_cap"] > 0)
    az = math.pi * (2 * u1 - 1)
    edge = _hat_edge(az, P)
    sy = torch.sin(edge) + (1 - torch.sin(edge)) * u0
    el = torch.asin(sy.clamp(-1, 1))
    d = dir_from_angles(az, el)
    rs, _ = skin_radius(d, P)
    hair_under = torch.minimum(_hair_thickness(P), torch.full_like(P["hair_volume"], 0.016)) * P["has_hair"]
    above = el - edge
    cuff = P["hat_beanie"] * 0.004 * smoothstep(0.2, 0.14, above)
    slouch = P["hat_beanie"] * 0.012 * smoothstep(0.9, 1.5, el) * (1 - 0.5 * torch.cos(az))
    crown_r = rs + hair_under + 0.005 + cuff + slouch
    crown_p = c0 + crown_r[..., None] * d
    # cap brim: a half-disc leaving the front edge, curving down
    ba = 1.1 * (2 * u1 - 1)
    bb = u0
    ed = dir_from_angles(ba, _hat_edge(ba, P) + 0.02)
    er, _ = skin_radius(ed, P)
    start = c0 + (er + hair_under + 0.005)[..., None] * ed
    reach = 0.075 * torch.sqrt((1 - (ba / 1.1) ** 2).clamp_min(0))
    fwd = normalize(torch.stack([0.2 * torch.sin(ba), torch.full_like(ba, -0.22), torch.ones_like(ba)], -1))
    brim_p = start + fwd * (reach * bb)[..., None] + torch.tensor([0.0, -1.0, 0.0], device=dev) * (0.01 * (ba / 1.1) ** 2 * bb)[..., None]
    m = lambda mask: mask[..., None]  # noqa: E731
    means = torch.where(m(is_brim), brim_p, crown_p)
    up = torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(d)
    normal = torch.where(m(is_brim), normalize(up + 0.2 * fwd), d)
    tang = tangent_of(up, normal, torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(d))
    area = 2 * math.pi * 0.11 ** 2 * 0.8
    sp = math.sqrt(area / n)
    scales = torch.stack([torch.full((B, n), sp * 0.75, device=dev), torch.full((B, n), sp * 0.75, device=dev),
                          torch.full((B, n), 9e-4, device=dev)], -1)
    col = P["hat_rgb"] * (1 + 0.05 * (u2[..., None] - 0.5))
    ribs = 1 - 0.16 * P["hat_beanie"][..., None] * (0.5 + 0.5 * torch.sin(az * 56))[..., None]
    seams = 1 - 0.25 * P["hat_cap"][..., None] * torch.exp(-((torch.remainder(az + math.pi / 6, math.pi / 3) - math.pi / 6) / 0.02) ** 2)[..., None] * (el > edge + 0.1)[..., None].float()
    col = col * ribs * seams
    brim_under = (is_brim & (noise[..., 3] < 0.5))
    normal = torch.where(m(brim_under), -normal, normal)
    means = torch.where(m(brim_under), means - 0.002 * up, means)
    rgb = shade(col, normal, P, torch.where(brim_under, torch.full_like(u0, 0.7), torch.ones_like(u0)))
    opacity = torch.full((B, n), 0.99, device=dev) * P["has_hat"]
    return _part(means, tang, torch.linalg.cross(normal, tang, dim=-1), scales, opacity, rgb, HAT)


# ---------------------------------------------------------------------------------------------
# assembling heads
# ---------------------------------------------------------------------------------------------
_PARTS = (("skin", skin_part, 1), ("eyes", eye_part, 2), ("eyebrows", eyebrow_part, 3), ("ears", ear_part, 4),
          ("neck", neck_part, 5), ("hair", hair_part, 6), ("facial_hair", facial_hair_part, 7),
          ("clothes", clothes_part, 8), ("glasses", glasses_part, 9), ("hat", hat_part, 10))


def noise_offsets(seeds: Sequence[int], device: torch.device) -> Tensor:
    """Where each head reads the noise bank: a fixed hash of its seed. [B] long"""
    vals = [(int(s) * 0x9E3779B1 + 0x632BE5AB) % (1 << 30) for s in seeds]
    return torch.tensor(vals, dtype=torch.long, device=device)


def build_parts(attrs: Sequence[HeadAttributes], device: torch.device,
                config: EngineConfig = EngineConfig()) -> Part:
    """All parts of B heads concatenated along the slot axis ([B, N_slots, ...])."""
    P = head_params(attrs, device)
    offsets = noise_offsets([a.seed for a in attrs], device)
    counts = config.part_counts()
    parts = [fn(P, counts[name], head_noise(offsets, counts[name], salt)) for name, fn, salt in _PARTS]
    return Part(*(torch.cat([getattr(p, f) for p in parts], 1)
                  for f in ("means", "quats", "scales", "opacity", "rgb", "labels")))


def build_heads(attrs: Sequence[HeadAttributes], device: torch.device | str = "cpu",
                config: EngineConfig = EngineConfig()) -> list[Gaussians]:
    """One ``Gaussians`` per head (unused slots dropped), built in one batched pass."""
    device = torch.device(device)
    part = build_parts(attrs, device, config)
    keep = part.opacity > 1.0 / 255.0  # [B, N]
    heads = []
    for b in range(len(attrs)):
        k = keep[b]
        heads.append(Gaussians.from_activated(part.means[b][k], part.quats[b][k], part.scales[b][k],
                                              part.opacity[b][k], part.rgb[b][k], part.labels[b][k]))
    return heads
