"""Faces and skulls from the head basis (models/synthetic/basis.py): the skin, eyes, lashes, teeth, brows, beards
and the neck of engine v2, as labelled Gaussians, a batch of heads at a time.

Per batch: identity coefficients from each head's phenotype (gender, age, build, ancestry) plus its own variety,
expression weights from its expression, then the basis's vertices. Gaussians sit at fixed sites on the template's
triangles (models/synthetic/surface.py), so they follow every head's shape; their classes come from the basis.
What the other parts (hair, hats, glasses, clothes) need of the head comes from the mesh too: its scalp as a
radius per direction (the basis's radial anchors), its eyes, mouth, nose and neck (``face_measures``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from models.cameras import canonical_view
from models.synthetic.basis import HeadBasis, load_basis, phenotype_features
from models.synthetic.geometry import GOLDEN_ANGLE, frame_quats, normalize, smoothstep, stratified_uv, tangent_of
from models.synthetic.parts import Part, hairline, light_dirs, shade, shade_strands, strand_colour
from models.synthetic.surface import SurfaceSites, place_sites, surface_sites

# class ids (assets/classes.yaml); checked against the palette in tests
SKIN, NOSE, EYES, BROWS, EARS, MOUTH, UPPER_LIP, LOWER_LIP, HAIR, FACIAL_HAIR, NECK = range(1, 12)
HEAD_CENTRE = (0.0, 0.0, -0.01)  # the radial map's origin (the basis's RADIAL_CENTRE)
FACE_DENSITY = 3.0               # skin sites per area on the face, over the back of the head's
NECK_BOTTOM = -0.23              # the neck below the mesh runs down to here, under the clothes
IRIS_DEG, PUPIL_DEG = 21.0, 7.5  # angular radii on the eyeball (an 11.7 mm iris on a 16.7 mm eyeball)
EYE_CAP_DEG = 58.0               # the part of the eyeball that is ever seen through the lids
CLOSE_DENSITY = 4.0              # skin sites per area around the eyes and lips, over the back of the head's
# Where every head's eyes and mouth go: the mean head's eye centres and lip centroid, then moved by this similarity
# of the canonical image (scale about its centre, shift in units of its side; x right, y down) so that the engine's
# eye and mouth classes centre where they always have (assets/segmap_framing.yaml, the framing normaliser's and
# the photo aligner's reference: a class's centroid is not its eyeball's or lip centroid's projection). Measured
# on 128 training-stream heads: the classes' centroids before, against that file's means.
FRAME_SCALE = 0.9586
FRAME_SHIFT = (0.0007, -0.0041)
CREASE_DARKENING = 30.0         # occlusion per metre of a vertex's depth below its neighbours (0.3 mm: 1 %)
EYE_LID_SHADE = 0.3             # how much darker the top of the eyeball is under the upper lid
BROW_REGION = 0.72               # share of the basis's eyebrow move that makes a triangle part of a brow


@dataclass(frozen=True)
class FaceModel:
    """The basis on one device with what the engine precomputes on its template."""

    basis: HeadBasis
    skin: SurfaceSites            # sites on every triangle but the eyeballs'
    skin_face: Tensor             # [n] the sites' place in face coordinates (template x, y; eyes at y ~ 0.01)
    skin_front: Tensor            # [n] 0 (back) .. 1 (face) on the template
    brows: SurfaceSites           # sites in the eyebrow region (the basis's eyebrow moves)
    brow_weight: Tensor           # [m] how central to the brow each site is (0..1)
    beard: SurfaceSites           # sites on the lower face (beard, moustache, stubble)
    beard_face: Tensor            # [k, 2] their face coordinates
    lash_a: Tensor                # [L] the lid-edge vertex a lash grows from ...
    lash_b: Tensor                # [L] ... towards the next one along the edge
    lash_t: Tensor                # [L] how far between them (0..1)
    lash_side: Tensor             # [L] +1 left eye, -1 right eye
    teeth: Tensor                 # [T] vertex each tooth Gaussian moves with
    teeth_offset: Tensor          # [T, 3] tooth position minus that vertex's, on the template
    teeth_upper: Tensor           # [T] bool
    neighbours: Tensor            # [V, D] vertex neighbours (padded with the vertex itself)
    neighbour_count: Tensor       # [V]
    lip_weight: Tensor            # [V] 0..1: lip colour, softened over one ring at the lip line
    radial_fill: Tensor           # [G] the anchor each radial ray reads (misses read their nearest hit)
    lips: Tensor                  # [V] bool: the lip vertices (the mouth's place for framing)
    frame_points: Tensor          # [3, 3] the mean head's eye centres and mouth: where every head's go


def _adjacency(faces: Tensor, n: int) -> tuple[Tensor, Tensor]:
    edges = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = torch.unique(torch.cat([edges, edges.flip(1)]), dim=0)
    count = torch.bincount(edges[:, 0], minlength=n)
    width = int(count.max())
    order = torch.argsort(edges[:, 0], stable=True)
    edges = edges[order]
    start = torch.cumsum(count, 0) - count
    slot = torch.arange(len(edges)) - start[edges[:, 0]]
    table = torch.arange(n)[:, None].repeat(1, width)
    table[edges[:, 0], slot] = edges[:, 1]
    return table, count


@lru_cache(maxsize=4)
def face_model(device: str, skin: int, brows: int, beard: int, teeth: int, lashes: int) -> FaceModel:
    """The face model on ``device`` with these many skin, brow, beard, tooth and lash sites (built once)."""
    basis = load_basis("cpu")
    t, f = basis.template, basis.faces
    fl = basis.face_labels
    centre = t[f].mean(1)                                                      # [F, 3]
    front = smoothstep(-0.02, 0.05, centre[:, 2])
    face_part = torch.isin(fl, torch.tensor([NOSE, EYES, MOUTH, UPPER_LIP, LOWER_LIP]))
    density = 1.0 + (FACE_DENSITY - 1.0) * torch.maximum(front * (centre[:, 1] > -0.1).float(), face_part.float())
    # lid edges and lips: finer still, so their Gaussians are small enough not to spill over the eyes and mouth
    eyes_t = basis.eye_centres(t[None])[0]
    near_eye = torch.cdist(centre, eyes_t).amin(1) < basis.eye_radius + 0.008
    near_lips = torch.isin(fl, torch.tensor([UPPER_LIP, LOWER_LIP, MOUTH]))
    density = torch.where(near_eye | near_lips, torch.full_like(density, CLOSE_DENSITY), density)
    skin_sites = surface_sites(t, f, skin, mask=fl != EYES, density=density, seed=11)
    site_pos = (t[f[skin_sites.triangles]] * skin_sites.weights[:, :, None]).sum(1)

    brow_w = basis.region_weights[0]                                          # [V]
    brow_face = brow_w[f].mean(1)
    brow_sites = surface_sites(t, f, brows, mask=(brow_face > BROW_REGION) & (fl != EYES), seed=12)
    brow_weight = (brow_w[f[brow_sites.triangles]] * brow_sites.weights).sum(1)

    eyes = basis.eye_centres(t[None])[0]                                      # [2, 3]
    mouth_y = t[basis.vertex_labels == UPPER_LIP, 1].min()
    lower_face = (centre[:, 1] < eyes[:, 1].mean() - 0.035) & (centre[:, 2] > -0.03) & (centre[:, 1] > -0.16)
    lower_face &= ~torch.isin(fl, torch.tensor([EYES, MOUTH, UPPER_LIP, LOWER_LIP, EARS]))
    beard_sites = surface_sites(t, f, beard, mask=lower_face, seed=13)
    beard_pos = (t[f[beard_sites.triangles]] * beard_sites.weights[:, :, None]).sum(1)

    # the upper lids' edges: skin vertices just outside each eyeball, above its centre and in front
    skin_v = torch.zeros(len(t), dtype=torch.bool)
    skin_v[f[fl != EYES].flatten()] = True
    lash_a, lash_b, lash_t, lash_side = [], [], [], []
    per_eye = lashes // 2
    for i, side in ((0, 1.0), (1, -1.0)):
        d = t - eyes[i]
        near = skin_v & (d.norm(dim=1) < basis.eye_radius + 0.0025) & (d[:, 2] > 0.35 * basis.eye_radius)
        near &= d[:, 1] > 0.0
        cand = torch.nonzero(near).flatten()
        # the lid's margin: in each 1 mm strip across the eye, the vertex that hugs the eyeball closest
        strip = ((t[cand, 0] - t[cand, 0].min()) / 0.001).long()
        gap = (d[cand].norm(dim=1) - basis.eye_radius).abs()
        edge = torch.stack([cand[strip == k][gap[strip == k].argmin()] for k in strip.unique()])
        edge = edge[torch.argsort(t[edge, 0])]                                 # along the lid, one corner to the other
        pos = (torch.arange(per_eye) + 0.5) / per_eye * (len(edge) - 1)
        j = pos.floor().long().clamp_max(len(edge) - 2)
        lash_a.append(edge[j])
        lash_b.append(edge[j + 1])
        lash_t.append(pos - j)
        lash_side.append(torch.full((per_eye,), side))

    # teeth: two arcs behind the lips, each tooth Gaussian moving with its nearest lip vertex (so a jawOpen
    # takes the lower row with the jaw)
    lips = (basis.vertex_labels == UPPER_LIP) | (basis.vertex_labels == LOWER_LIP)
    half_w = 0.75 * t[lips, 0].abs().max()
    lip_front = t[lips, 2].max()
    gen = torch.Generator().manual_seed(14)
    u = torch.rand(teeth, generator=gen) * 2 - 1
    h = torch.rand(teeth, generator=gen)
    upper = torch.arange(teeth) % 2 == 0
    tx = u * half_w
    tz = lip_front - 0.012 - 0.45 * tx ** 2 / max(float(half_w), 1e-3)
    ty = torch.where(upper, mouth_y + 0.0005 + 0.008 * h, mouth_y - 0.0015 - 0.007 * h)
    tooth = torch.stack([tx, ty, tz], -1)
    row_src = torch.where(upper[:, None], (basis.vertex_labels == UPPER_LIP)[None], (basis.vertex_labels == LOWER_LIP)[None])
    dist = torch.cdist(tooth, t)
    dist = torch.where(row_src, dist, torch.full_like(dist, 1e3))
    anchor = dist.argmin(1)

    neighbours, count = _adjacency(f, len(t))
    is_lip = lips.float()
    lip_weight = 0.5 * is_lip + 0.5 * is_lip[neighbours].sum(1) / count.clamp_min(1)
    lip_weight = torch.where(lips, lip_weight.clamp_min(0.6), lip_weight * 0.6)

    hit = basis.radial_triangles >= 0
    anchors = basis.radial_triangles.clone()
    rows, cols = basis.radial_grid
    grid = torch.arange(rows * cols)
    hit_idx = grid[hit]
    # a miss (the neck's opening) reads the nearest hit in its column, going up
    fill = torch.where(hit, grid, torch.zeros_like(grid))
    for r in range(rows - 2, -1, -1):
        row = slice(r * cols, (r + 1) * cols)
        up = slice((r + 1) * cols, (r + 2) * cols)
        fill[row] = torch.where(hit[row], fill[row], fill[up])
    del anchors, hit_idx

    def dev(x):  # noqa: ANN001
        return x.to(device)

    def sites_to(s: SurfaceSites) -> SurfaceSites:
        return SurfaceSites(dev(s.triangles), dev(s.weights), dev(s.share))

    frame_points = torch.cat([eyes, t[lips].mean(0, keepdim=True)])          # [3, 3]
    view = canonical_view()
    o = view.orbit
    side = 2 * (o.radius - frame_points[:, 2]) * math.tan(math.radians(o.fov_deg) / 2)  # [3] image side at depth, m
    target_y = o.target[1]
    frame_points = torch.stack([FRAME_SCALE * frame_points[:, 0] + FRAME_SHIFT[0] * side,
                                target_y + FRAME_SCALE * (frame_points[:, 1] - target_y) - FRAME_SHIFT[1] * side,
                                frame_points[:, 2]], -1)
    return FaceModel(
        basis=load_basis(device), skin=sites_to(skin_sites), skin_face=dev(site_pos[:, :2]),
        skin_front=dev(smoothstep(-0.02, 0.05, site_pos[:, 2])), brows=sites_to(brow_sites),
        brow_weight=dev(brow_weight), beard=sites_to(beard_sites), beard_face=dev(beard_pos[:, :2]),
        lash_a=dev(torch.cat(lash_a)), lash_b=dev(torch.cat(lash_b)), lash_t=dev(torch.cat(lash_t)),
        lash_side=dev(torch.cat(lash_side)), teeth=dev(anchor),
        teeth_offset=dev(tooth - t[anchor]), teeth_upper=dev(upper), neighbours=dev(neighbours),
        neighbour_count=dev(count), lip_weight=dev(lip_weight), radial_fill=dev(fill), lips=dev(lips),
        frame_points=dev(frame_points))


# ---------------------------------------------------------------------------------------------
# the mesh of a batch
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaceMesh:
    """B heads' meshes and what the other parts read of them."""

    vertices: Tensor      # [B, V, 3]
    normals: Tensor       # [B, V, 3] area-weighted vertex normals
    cavity: Tensor        # [B, V] how far a vertex sits below its neighbours' mean, along its normal (m)
    eyes: Tensor          # [B, 2, 3] eyeball centres (subject's left, right)
    radial: Tensor        # [B, rows, cols] the scalp's radius from HEAD_CENTRE per direction


def gaussian_noise(uniform: Tensor) -> Tensor:
    """Standard normals from uniforms [..., 2k] (Box-Muller, pairs) -> [..., 2k]."""
    u1, u2 = uniform[..., 0::2].clamp_min(1e-7), uniform[..., 1::2]
    r = torch.sqrt(-2.0 * torch.log(u1))
    return torch.cat([r * torch.cos(2 * math.pi * u2), r * torch.sin(2 * math.pi * u2)], -1)


def face_mesh(model: FaceModel, P: dict[str, Tensor], identity_noise: Tensor) -> FaceMesh:
    """Meshes of B heads: identity from ``P``'s phenotype numbers plus ``identity_noise`` [B, K] (standard
    normal), expression from ``P["expression"]`` [B, 1, E]."""
    b = model.basis
    feats = phenotype_features(*(P[k][:, 0] for k in ("gender", "age", "muscle", "weight", "proportions",
                                                       "african", "asian")))
    identity = b.identity(feats, identity_noise * P["variety"][:, :1])
    v = frame_like_the_mean(model, b.vertices(identity), b.vertices(identity, P["expression"][:, 0]))
    f = b.faces
    fn = torch.linalg.cross(v[:, f[:, 1]] - v[:, f[:, 0]], v[:, f[:, 2]] - v[:, f[:, 0]], dim=-1)  # [B, F, 3]
    normals = torch.zeros_like(v).index_add_(1, f.flatten(), fn.repeat_interleave(3, 1))
    normals = normalize(normals)
    pad = (model.neighbours.shape[1] - model.neighbour_count)[None, :, None]  # padded slots repeat the vertex
    mean_nb = (v[:, model.neighbours].sum(2) - pad * v) / model.neighbour_count[None, :, None]
    cavity = ((mean_nb - v) * normals).sum(-1)
    # over one ring of neighbours: a crease darkens as a soft band, not as a line along its edge
    cavity = 0.5 * cavity + 0.5 * (cavity[:, model.neighbours].sum(2) - pad[..., 0] * cavity) / model.neighbour_count
    eyes = b.eye_centres(v)
    anchor = b.radial_triangles[model.radial_fill].clamp_min(0)
    bary = b.radial_barycentric[model.radial_fill]
    points = (v[:, f[anchor]] * bary[None, :, :, None]).sum(2)                    # [B, G, 3]
    rows, cols = b.radial_grid
    radial = (points - torch.tensor(HEAD_CENTRE, device=v.device)).norm(dim=-1).view(-1, rows, cols)
    return FaceMesh(v, normals, cavity, eyes, radial)


def frame_like_the_mean(model: FaceModel, neutral: Tensor, v: Tensor) -> Tensor:
    """``v`` [B, V, 3] moved and scaled (about its own eyes and mouth, depth kept) so that its neutral face's eye
    centres and mouth sit, in least squares across the view, where the mean head's do.

    Why: the canonical view fixes where a face is (the seg maps' and photos' framing: photos are aligned by their
    eyes and mouth the same way, models/photo/), and the framing normaliser (models/fitting/framing.py) reads a
    map framed outside the engine's own spread as moved. Real heads differ in eye spacing and mouth height; framed
    by them, the engine's maps keep that spread as small as it always was, and a head's proportions stay its own.
    The neutral face decides, so an open mouth does not move the head."""
    eyes = model.basis.eye_centres(neutral)                                           # [B, 2, 3]
    src = torch.cat([eyes, neutral[:, model.lips].mean(1, keepdim=True)], 1)[..., :2]   # [B, 3, 2] x, y
    dst = model.frame_points[None, :, :2]
    sc, dc = src.mean(1, keepdim=True), dst.mean(1, keepdim=True)
    scale = ((src - sc) * (dst - dc)).sum((1, 2)) / (src - sc).square().sum((1, 2))    # [B]
    centre = torch.cat([sc, torch.zeros_like(sc[..., :1])], -1)                       # [B, 1, 3] (depth kept)
    target = torch.cat([dc.expand_as(sc), torch.zeros_like(sc[..., :1])], -1)
    return (v - centre) * scale[:, None, None] + target


def radius_along(mesh_radial: Tensor, d: Tensor) -> Tensor:
    """The scalp's radius along unit rays d [B, n, 3] from HEAD_CENTRE, from the radial map [B, rows, cols]
    (bilinear in elevation, periodic in azimuth). [B, n]"""
    b, rows, cols = mesh_radial.shape
    el = torch.asin(d[..., 1].clamp(-1, 1))
    az = torch.atan2(d[..., 0], d[..., 2]) % (2 * math.pi)
    y = ((el + math.pi / 2) / math.pi * rows - 0.5).clamp(0, rows - 1)
    x = az / (2 * math.pi) * cols
    y0 = y.floor().long().clamp_max(rows - 2)
    x0 = x.floor().long() % cols
    x1 = (x0 + 1) % cols
    ty, tx = (y - y0).clamp(0, 1), x - x.floor()
    flat = mesh_radial.reshape(b, -1)

    def at(yy: Tensor, xx: Tensor) -> Tensor:
        return torch.gather(flat, 1, yy * cols + xx)

    top = at(y0 + 1, x0) * (1 - tx) + at(y0 + 1, x1) * tx
    bottom = at(y0, x0) * (1 - tx) + at(y0, x1) * tx
    return bottom * (1 - ty) + top * ty


def face_measures(model: FaceModel, mesh: FaceMesh) -> dict[str, Tensor]:
    """What the hair, glasses, hats and clothes read of each head, measured on its mesh ([B, 1] each, metres)."""
    b, v = model.basis, mesh.vertices
    lab = b.vertex_labels
    eyes = mesh.eyes
    upper, lower = v[:, lab == UPPER_LIP], v[:, lab == LOWER_LIP]
    lips = torch.cat([upper, lower], 1)
    nose = v[:, lab == NOSE]
    ring = v[:, b.neck_ring]
    above_ears = v[:, :, 1] > eyes[:, :, 1].mean(1, keepdim=True) + 0.02
    skull = torch.where(above_ears, v[:, :, 0].abs(), torch.zeros_like(v[:, :, 0])).amax(1)
    out = {
        "eye_height": eyes[:, :, 1].mean(1),
        "eye_spacing": (eyes[:, 0, 0] - eyes[:, 1, 0]) / 2,
        "eye_depth": eyes[:, :, 2].mean(1),
        "mouth_y": (upper[:, :, 1].min(1).values + lower[:, :, 1].max(1).values) / 2,
        "mouth_width": lips[:, :, 0].abs().amax(1),
        "upper_lip": upper[:, :, 1].amax(1) - upper[:, :, 1].amin(1),
        "lower_lip": lower[:, :, 1].amax(1) - lower[:, :, 1].amin(1),
        "nose_base": nose[:, :, 1].amin(1),
        "nose_tip_z": nose[:, :, 2].amax(1),
        "skull_width": skull,
        "neck_width": (ring[:, :, 0].amax(1) - ring[:, :, 0].amin(1)) / 2,
        "chin_y": v[:, :, 1].where(v[:, :, 2] > 0.0, torch.ones_like(v[:, :, 1])).amin(1),
    }
    return {k: x[:, None] for k, x in out.items()}


# ---------------------------------------------------------------------------------------------
# parts: [B, n] slots each
# ---------------------------------------------------------------------------------------------
def skin_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """The skin (and lips, inside of the mouth, ears, neck, nose) at the skin sites, with its albedo: the tone,
    mottling, warmth at the cheeks, nose and ears, darker creases, lips, freckles and moles, a beard's shadow."""
    s, b = model.skin, model.basis
    means, quats, scales, _ = place_sites(mesh.vertices, b.faces, s)
    tri = b.faces[s.triangles]                                                 # [n, 3]
    w = s.weights[None, :, :, None]
    normal = normalize((mesh.normals[:, tri] * w).sum(2))
    cavity = (mesh.cavity[:, tri] * s.weights[None]).sum(2)                     # [B, n]
    labels = b.face_labels[s.triangles][None].expand(means.shape[0], -1).clone()
    fx, fy = model.skin_face[:, 0], model.skin_face[:, 1]
    front = model.skin_front
    dev = means.device
    eye_y = P["eye_height"]

    # the scalp under the hair is hair in the class maps (as in v1), where the hairline says
    d = normalize(means - torch.tensor(HEAD_CENTRE, device=dev))
    az = torch.atan2(d[..., 0], d[..., 2])
    el = torch.asin(d[..., 1].clamp(-1, 1))
    line = hairline(az, P) + 0.035 * (noise[..., 2] - 0.5)
    scalp = (el > line) & (P["has_hair"] > 0) & (labels != EARS)
    labels = torch.where(scalp, torch.full_like(labels, HAIR), labels)

    tone = P["skin_rgb"]
    var = P["skin_variation"][..., None]
    mott = (torch.sin(means[..., 0:1] * 230 + 1.3) * torch.sin(means[..., 1:2] * 190 + 0.4)
            + 0.5 * torch.sin(means[..., 2:3] * 350 + means[..., 0:1] * 110))
    albedo = tone * (1 + 0.03 * var * mott + 0.04 * (noise[..., 3:4] - 0.5))
    # warmth: cheeks, nose, ears (less green and blue: redder)
    cheek = torch.exp(-(((fx.abs() - 0.042) / 0.022) ** 2 + ((fy - eye_y + 0.032) / 0.02) ** 2)) * front
    warm = (0.8 * cheek + 0.7 * (labels == NOSE).float() + 0.6 * (labels == EARS).float())[..., None]
    albedo = albedo * (1 - 0.1 * (0.4 + var) * warm * torch.tensor([0.0, 1.0, 0.85], device=dev))
    # a shaven man's beard shadow (less red, a little blue-grey)
    jaw = smoothstep(eye_y - 0.05, eye_y - 0.075, fy) * smoothstep(0.07, 0.05, fx.abs())
    lip_top = smoothstep(P["mouth_y"] + 0.018, P["mouth_y"] + 0.006, fy) * (fx.abs() < 0.025).float()
    shadow = (P["beard_shadow"] * torch.maximum(jaw, lip_top) * front * (labels == SKIN).float())[..., None]
    albedo = albedo * (1 - 0.1 * shadow * torch.tensor([1.0, 0.9, 0.75], device=dev))
    # freckles (many small spots over the nose and cheeks) and a few moles anywhere on the face
    spot = noise[..., 4]
    freckle_area = torch.exp(-((fx / 0.055) ** 2 + ((fy - eye_y + 0.03) / 0.028) ** 2)) * front
    freckle = (spot > 1 - 0.18 * P["freckles"] * freckle_area).float() * P["freckles"]
    mole = (spot < 0.0004 * front).float() * (labels == SKIN).float()
    albedo = albedo * (1 - (0.28 * freckle + 0.55 * mole)[..., None] * torch.tensor([0.55, 0.8, 0.9], device=dev))
    # lips, the inside of the mouth, the tongue
    lip_w = (model.lip_weight[tri] * s.weights).sum(-1)[None, :, None]
    albedo = albedo * (1 - lip_w) + P["lip_rgb"] * (1 + 0.05 * (noise[..., 5:6] - 0.5)) * lip_w
    inner = torch.tensor([0.36, 0.12, 0.12], device=dev)
    albedo = torch.where((labels == MOUTH)[..., None], inner.expand_as(albedo), albedo)
    # creases and hollows darker (under the nose, the lid folds, the lip line, the ear's bowl)
    ao = (1 - CREASE_DARKENING * cavity.clamp(0.0, 0.006)) * (1 - 0.45 * (labels == MOUTH).float())
    under_hair = smoothstep(0.16, 0.0, line - el) * (el < line).float() * P["has_hair"] * (1 - P["is_buzz"])
    ao = (ao * (1 - 0.22 * under_hair)).clamp(0.3, 1.0)
    scalp_rgb = 0.55 * P["hair_rgb"] + 0.45 * tone * 0.6
    albedo = torch.where(scalp[..., None], scalp_rgb.expand_as(albedo), albedo)
    rgb = shade(albedo, normal, P, ao)
    return Part(means, quats, scales, torch.full(labels.shape, 0.98, device=dev), rgb, labels)


def eye_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """Two eyeballs at the basis's eye centres: sclera, iris with a limbal ring and streaks, pupil, a catchlight.
    The lids of the mesh hide what a real lid hides."""
    B, n, dev = noise.shape[0], noise.shape[1], noise.device
    half = n // 2
    side = torch.cat([torch.zeros(half, device=dev, dtype=torch.long), torch.ones(n - half, device=dev,
                                                                                  dtype=torch.long)])
    centre = mesh.eyes[:, side]                                               # [B, n, 3]
    sgn = (1 - 2 * side.float())[None].expand(B, n)                           # +1 left, -1 right
    gaze = normalize(torch.stack([-0.06 * sgn, torch.full_like(sgn, -0.04), torch.ones_like(sgn)], -1))
    i = torch.arange(n, device=dev, dtype=torch.float32)[None].expand(B, n) % half
    cap = 1 - math.cos(math.radians(EYE_CAP_DEG))
    cos_t = 1 - cap * (i + noise[..., 0] * 0.8 + 0.1) / half
    phi = i * GOLDEN_ANGLE + 0.2 * noise[..., 1]
    sin_t = torch.sqrt((1 - cos_t ** 2).clamp_min(0))
    ref = torch.tensor([0.0, 1.0, 0.0], device=dev).expand_as(gaze)
    bx = normalize(torch.linalg.cross(ref, gaze, dim=-1))
    by = torch.linalg.cross(gaze, bx, dim=-1)
    dirs = cos_t[..., None] * gaze + sin_t[..., None] * (torch.cos(phi)[..., None] * bx + torch.sin(phi)[..., None] * by)
    r = model.basis.eye_radius
    theta = torch.acos(cos_t.clamp(-1, 1))
    iris_t, pupil_t = math.radians(IRIS_DEG), math.radians(PUPIL_DEG)
    # the cornea bulges over the iris
    bulge = 0.0009 * smoothstep(iris_t * 1.1, 0.0, theta)
    means = centre + (r + bulge)[..., None] * dirs
    sclera = torch.tensor([0.92, 0.89, 0.86], device=dev) * (1 - 0.12 * smoothstep(0.7, 1.2, theta)[..., None]
                                                             * torch.tensor([0.0, 0.5, 0.5], device=dev))
    streak = 0.8 + 0.4 * (0.5 + 0.5 * torch.sin(phi * 31 + 3 * noise[..., 2]))[..., None]
    rel = (theta / iris_t)[..., None]
    iris = P["eye_rgb"] * streak * (1.2 - 0.4 * rel) * (1 - 0.6 * smoothstep(0.82, 1.0, rel))
    albedo = torch.where((theta < iris_t)[..., None], iris, sclera.expand_as(iris))
    albedo = torch.where((theta < pupil_t)[..., None], torch.full_like(albedo, 0.025), albedo)
    key, _ = light_dirs(P)
    glint = smoothstep(0.9982, 0.9996, (dirs * normalize(key + gaze)).sum(-1))
    # the upper lid and lashes shade the top of the eyeball, and the corners sit in the lids' shadow
    up = (dirs * by).sum(-1)
    lid = 1 - EYE_LID_SHADE * smoothstep(-0.1, 0.6, up) - 0.5 * EYE_LID_SHADE * smoothstep(0.6, 1.1, theta)
    rgb = (albedo * (0.68 + 0.3 * P["light_strength"][..., None]) * lid[..., None] + 0.9 * glint[..., None]).clamp(0, 1)
    spacing = r * math.sqrt(2 * math.pi * cap / half)
    scales = torch.stack([torch.full_like(sgn, spacing * 0.8)] * 2 + [torch.full_like(sgn, 2e-4)], -1)
    e1 = normalize(torch.linalg.cross(dirs, ref, dim=-1))
    e2 = torch.linalg.cross(dirs, e1, dim=-1)
    return Part(means, frame_quats(e1, e2), scales, torch.full_like(sgn, 0.99), rgb,
                torch.full((B, n), EYES, device=dev, dtype=torch.long))


def lash_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """Upper lashes: short dark strands along the upper lids' edges, curving out and up."""
    B, n, dev = noise.shape[0], noise.shape[1], noise.device
    t = model.lash_t[None, :, None]
    v = mesh.vertices[:, model.lash_a] * (1 - t) + mesh.vertices[:, model.lash_b] * t       # [B, n, 3]
    nrm = normalize(mesh.normals[:, model.lash_a] * (1 - t) + mesh.normals[:, model.lash_b] * t)
    side = model.lash_side
    up = torch.tensor([0.0, 1.0, 0.0], device=dev)
    out = normalize(nrm + 0.8 * up)
    length = 0.0018 + 0.0012 * noise[..., 0]
    means = v + out * (0.35 * length)[..., None] + nrm * 0.0003
    tangent = normalize(out + 0.2 * torch.stack([side.expand(B, n), torch.zeros(B, n, device=dev),
                                                 torch.zeros(B, n, device=dev)], -1) * (noise[..., 1:2] - 0.5))
    scales = torch.stack([length * 0.5, torch.full_like(length, 2.2e-4), torch.full_like(length, 2.2e-4)], -1)
    dark = torch.tensor([0.06, 0.045, 0.04], device=dev)  # lashes stay dark under light brows
    rgb = (torch.minimum(P["brow_rgb"] * 0.45, dark * 2.5) + 0.01).expand(B, n, 3) * (0.8 + 0.4 * noise[..., 2:3])
    return Part(means, frame_quats(tangent, nrm), scales, torch.full((B, n), 0.92, device=dev), rgb.clamp(0, 1),
                torch.full((B, n), EYES, device=dev, dtype=torch.long))


def teeth_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """Upper and lower teeth behind the lips (seen when the mouth opens), ivory with darker gaps."""
    B, dev = noise.shape[0], noise.device
    means = mesh.vertices[:, model.teeth] + model.teeth_offset
    n = len(model.teeth)
    x = model.teeth_offset[:, 0] + mesh.vertices[0, model.teeth, 0]
    gap = 0.5 + 0.5 * torch.cos(x * 2 * math.pi / 0.0085)
    col = torch.tensor([0.86, 0.82, 0.72], device=dev) * (0.75 + 0.25 * gap[..., None])
    col = col * (0.92 + 0.08 * noise[..., 0:1])
    normal = torch.tensor([0.0, 0.0, 1.0], device=dev).expand(B, n, 3)
    rgb = shade(col.expand(B, n, 3), normal, P, torch.full((B, n), 0.8, device=dev))
    s = torch.full((B, n), 0.0016, device=dev)
    scales = torch.stack([s, s, s * 0.3], -1)
    e1 = torch.tensor([1.0, 0.0, 0.0], device=dev).expand(B, n, 3)
    e2 = torch.tensor([0.0, 1.0, 0.0], device=dev).expand(B, n, 3)
    # teeth show only where the jaw opens; closed lips are thin enough in places for them to peek through
    jaw = P["expression"][:, 0, model.basis.expression_index("jawOpen")][:, None]      # [B, 1]
    opacity = torch.where(jaw > 0.05, torch.full((B, n), 0.97, device=dev), torch.zeros(B, n, device=dev))
    return Part(means, frame_quats(e1, e2), scales, opacity, rgb, torch.full((B, n), MOUTH, device=dev,
                                                                               dtype=torch.long))


def brow_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """Eyebrows: short strands in the brow region, thicker in its middle, lying outwards along the brow."""
    s, b = model.brows, model.basis
    means, _, _, _ = place_sites(mesh.vertices, b.faces, s)
    B, n, dev = means.shape[0], means.shape[1], means.device
    tri = b.faces[s.triangles]
    normal = normalize((mesh.normals[:, tri] * s.weights[None, :, :, None]).sum(2))
    x = means[..., 0]
    outward = torch.stack([torch.sign(x), 0.25 - 1.2 * smoothstep(0.012, 0.05, x.abs()) * 0.4,
                           torch.zeros_like(x)], -1)
    tangent = tangent_of(outward, normal, torch.tensor([1.0, 0.0, 0.0], device=dev).expand_as(normal))
    # thicker brows keep more of the region, from its middle out (brow_thickness 3.5-7.5 mm)
    keep = model.brow_weight[None] > 1.0 - (1.0 - BROW_REGION) * (0.45 + 0.55 * P["brow_thickness"] / 0.0075) \
        - 0.06 * noise[..., 0]
    means = means + normal * (0.0005 + 0.0007 * noise[..., 1:2])
    scales = torch.stack([torch.full((B, n), 0.0024, device=dev), torch.full((B, n), 0.00045, device=dev),
                          torch.full((B, n), 0.0003, device=dev)], -1)
    col = P["brow_rgb"] * (0.75 + 0.5 * noise[..., 2:3])
    rgb = shade_strands(col, tangent, normal, P, torch.full((B, n), 0.9, device=dev))
    opacity = torch.where(keep, torch.full((B, n), 0.8, device=dev), torch.zeros(B, n, device=dev))
    return Part(means, frame_quats(tangent, normal), scales, opacity, rgb,
                torch.full((B, n), BROWS, device=dev, dtype=torch.long))


def beard_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """Stubble, moustache, goatee or full beard: strands at the lower-face sites inside each style's region
    (regions in template face coordinates, so they sit on every face alike)."""
    s, b = model.beard, model.basis
    base, _, _, _ = place_sites(mesh.vertices, b.faces, s)
    B, n, dev = base.shape[0], base.shape[1], base.device
    tri = b.faces[s.triangles]
    normal = normalize((mesh.normals[:, tri] * s.weights[None, :, :, None]).sum(2))
    fx, fy = model.beard_face[:, 0], model.beard_face[:, 1]
    t = b.template
    mouth_y = float(t[b.vertex_labels == UPPER_LIP, 1].min())
    mouth_w = float(t[(b.vertex_labels == UPPER_LIP) | (b.vertex_labels == LOWER_LIP), 0].abs().max())
    nose_base = float(t[b.vertex_labels == NOSE, 1].min())
    eye_y = float(b.eye_centres(t[None])[0, :, 1].mean())
    moustache = (fx.abs() < mouth_w + 0.006 - 0.2 * (fy - mouth_y).clamp_min(0)) & (fy > mouth_y) & (fy < nose_base)
    goatee = (fx.abs() < mouth_w * 0.95) & (fy < mouth_y - 0.006)
    cheek_line = eye_y - 0.045 - 0.25 * fx.abs()
    full = fy < cheek_line
    mask = ((P["fh_stubble"] > 0) & full) | ((P["fh_moustache"] > 0) & moustache) | \
        ((P["fh_goatee"] > 0) & (goatee | moustache)) | ((P["fh_full_beard"] > 0) & (full | moustache))
    length = (P["beard_length"] * (P["fh_full_beard"] + 0.6 * P["fh_goatee"] + 0.3 * P["fh_moustache"])
              + 0.0006 * P["fh_stubble"])
    under_chin = smoothstep(-0.06, -0.11, fy)
    means = base + normal * (0.0004 + length * (0.5 + 0.5 * under_chin) * noise[..., 0] ** 0.7)[..., None]
    above = (fy > mouth_y).float() * (P["fh_moustache"] + P["fh_goatee"] + P["fh_full_beard"])
    flow = torch.tensor([0.0, -1.0, 0.25], device=dev).expand(B, n, 3) + torch.stack(
        [torch.sign(fx).expand(B, n) * 1.2 * above, 0.5 * above, torch.zeros(B, n, device=dev)], -1)
    tangent = tangent_of(flow, normal, torch.tensor([0.0, -1.0, 0.0], device=dev).expand_as(normal))
    twist = (noise[..., 1] - 0.5) * 1.2
    bin_ = torch.linalg.cross(normal, tangent, dim=-1)
    tangent = normalize(tangent * torch.cos(twist)[..., None] + bin_ * torch.sin(twist)[..., None])
    stub = P["fh_stubble"]
    long_s = 0.0007 * stub + (1 - stub) * (0.0022 + 0.25 * P["beard_length"] * (1 - 0.6 * P["fh_moustache"]))
    scales = torch.stack([long_s.expand(B, n), (0.00035 + 0.0002 * (1 - stub)).expand(B, n),
                          torch.full((B, n), 0.0003, device=dev)], -1)
    col = strand_colour(P["beard_rgb"], fx * 60 + fy * 20, noise[..., 2:3], P, 0.12)
    ao = 0.55 + 0.45 * noise[..., 0] ** 0.5
    rgb = shade_strands(col, tangent, normal, P, ao)
    opac = (0.28 * stub + 0.8 * (1 - stub)) * mask.float()
    return Part(means, frame_quats(tangent, normal), scales, opac, rgb,
                torch.full((B, n), FACIAL_HAIR, device=dev, dtype=torch.long))


def neck_part(model: FaceModel, mesh: FaceMesh, P: dict[str, Tensor], noise: Tensor) -> Part:
    """The neck below the mesh: its opening's ring carried down into the chest, widening, under the clothes."""
    B, n, dev = noise.shape[0], noise.shape[1], noise.device
    ring = mesh.vertices[:, model.basis.neck_ring]                            # [B, r, 3]
    r = ring.shape[1]
    u, v = stratified_uv(noise)
    pos = u * r
    i0 = pos.floor().long() % r
    i1 = (i0 + 1) % r
    t = (pos - pos.floor())[..., None]
    top = torch.gather(ring, 1, i0[..., None].expand(B, n, 3)) * (1 - t) + torch.gather(
        ring, 1, i1[..., None].expand(B, n, 3)) * t                          # [B, n, 3] on the ring
    centre = ring.mean(1, keepdim=True)
    y_top = top[..., 1]
    y = y_top + (NECK_BOTTOM - y_top) * v
    drop = (y_top - y)
    flare = 0.9 * (-0.16 - y).clamp_min(0) + 0.12 * drop  # a neck widens a little down to the collarbones
    out = normalize((top - centre) * torch.tensor([1.0, 0.0, 1.0], device=dev))
    means = torch.stack([top[..., 0], y, top[..., 2] + 0.12 * drop.clamp_max(0.06) * 0.5], -1) + out * flare[..., None]
    spacing = torch.sqrt(2 * math.pi * P["neck_width"] * (y_top - NECK_BOTTOM).mean(1, keepdim=True) / n)
    scales = torch.stack([spacing.expand(B, n) * 0.75, spacing.expand(B, n) * 0.75, torch.full((B, n), 4e-4,
                                                                                                device=dev)], -1)
    up = torch.tensor([0.0, 1.0, 0.0], device=dev).expand(B, n, 3)
    # the face's average warmth (skin_part warms cheeks, nose and ears), so the neck is the same skin
    tone = P["skin_rgb"] * (1 + 0.03 * (noise[..., 2:3] - 0.5)) * (1 - 0.04 * torch.tensor([0.0, 1.0, 0.85],
                                                                                           device=dev))
    jaw_shadow = smoothstep(0.05, 0.0, drop) * (out[..., 2] > 0).float()
    rgb = shade(tone, out, P, 1 - 0.35 * jaw_shadow)
    in_v = (P["nl_v_neck"] > 0) & (out[..., 2] > 0.2) & (means[..., 0].abs() < 0.05)
    hidden = (y < -0.172) & ~in_v
    opacity = torch.where(hidden, torch.zeros(B, n, device=dev), torch.full((B, n), 0.98, device=dev))
    return Part(means, frame_quats(up, torch.linalg.cross(out, up, dim=-1)), scales, opacity, rgb,
                torch.full((B, n), NECK, device=dev, dtype=torch.long))
