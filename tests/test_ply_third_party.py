"""Our .ply files as a third-party tool sees them: PlayCanvas' splat-transform (the library
behind SuperSplat's import and export) reads our writer's output and decodes it itself.

The tool is found at $PERCHEAD_SPLAT_TRANSFORM, .cache/npm/node_modules/.bin, or on PATH;
where node and npm exist but the tool does not, it is installed into .cache/npm (git-ignored).
Skipped only where node/npm are absent.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from models.gaussians import SH_C0, Gaussians, eval_sh, quat_to_rotmat
from models.io.ply import read_ply, write_ply

REPO = Path(__file__).resolve().parents[1]
NPM_PREFIX = REPO / ".cache" / "npm"
PACKAGE = "@playcanvas/splat-transform@2"  # major pinned: the CLI and GLB layout below are 2.x
INSTALL_TIMEOUT_S = 180
RUN_TIMEOUT_S = 120
# PlayCanvas' engine space is PLY space turned 180 degrees about z: (x, y, z) -> (-x, -y, z).
PLY_TO_ENGINE = torch.diag(torch.tensor([-1.0, -1.0, 1.0]))


def _local_tool() -> Path | None:
    for name in ("splat-transform", "splat-transform.cmd"):
        p = NPM_PREFIX / "node_modules" / ".bin" / name
        if p.exists():
            return p
    return None


@pytest.fixture(scope="session")
def splat_transform() -> str:
    env = os.environ.get("PERCHEAD_SPLAT_TRANSFORM")
    if env:
        if not Path(env).is_file():
            pytest.fail(f"PERCHEAD_SPLAT_TRANSFORM={env} is not a file; point it at the splat-transform executable")
        return env
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        pytest.skip("node/npm not installed, so PlayCanvas splat-transform cannot run")
    found = _local_tool() or shutil.which("splat-transform")
    if found:
        return str(found)
    try:
        done = subprocess.run([npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", PACKAGE],
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"npm install {PACKAGE} took over {INSTALL_TIMEOUT_S} s; install it into {NPM_PREFIX} by hand")
    tool = _local_tool()
    if done.returncode != 0 or tool is None:
        pytest.fail(f"npm install {PACKAGE} failed: {done.stderr.strip()[-500:]}")
    return str(tool)


def _run(tool: str, *args: str | Path) -> None:
    cmd = [tool, "-q", "-w", *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"


def _known_gaussians(n: int = 300, degree: int = 3) -> Gaussians:
    """Seeded Gaussians spanning the useful ranges: opacities 0.02-0.98, scales 1e-3-0.3, colours
    partly outside 0..1 (so clamping is exercised), all SH bands, labels 0-14."""
    gen = torch.Generator().manual_seed(1234)
    u = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    opac = 0.02 + 0.96 * u(n)
    g = Gaussians.from_activated(means=torch.randn(n, 3, generator=gen) * 0.2, quats=torch.randn(n, 4, generator=gen),
                                 scales=10 ** (-3 + 2.5 * u(n, 3)), opacities=opac, rgb=-0.1 + 1.2 * u(n, 3),
                                 labels=torch.randint(0, 15, (n,), generator=gen))
    rest = 0.2 * torch.randn(n, (degree + 1) ** 2 - 1, 3, generator=gen)
    return Gaussians(g.means, g.quats, g.log_scales, g.opacity_logits, torch.cat([g.sh, rest], 1), g.labels)


def _read_glb(path: Path) -> dict[str, np.ndarray]:
    """Attributes of the one primitive of a binary glTF, by name -> [count, components]."""
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_len, json_type = struct.unpack_from("<II", data, 12)
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert (json_type, bin_type) == (0x4E4F534A, 0x004E4942)  # "JSON", "BIN\0"
    gltf, blob = json.loads(data[20:20 + json_len]), data[28 + json_len:28 + json_len + bin_len]
    out = {}
    for name, index in gltf["meshes"][0]["primitives"][0]["attributes"].items():
        acc = gltf["accessors"][index]
        view = gltf["bufferViews"][acc["bufferView"]]
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
        dtype = {5126: "<f4", 5121: "u1"}[acc["componentType"]]
        out[name] = np.frombuffer(blob, dtype, acc["count"] * width,
                                  view["byteOffset"] + acc.get("byteOffset", 0)).reshape(acc["count"], width)
    return out


def test_csv_export_sees_our_count_columns_values_and_activations(tmp_path, splat_transform):
    """splat-transform -q -w in.ply out.csv: it parses our header and body; every value,
    including the extra label, comes back bit-exact, and the 3DGS activations of its values
    give our opacities, scales and colours."""
    g = _known_gaussians()
    _run(splat_transform, write_ply(tmp_path / "in.ply", g), tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.reader(f))
    names, values = rows[0], np.array(rows[1:], dtype=np.float64).astype(np.float32)  # JS prints float32 exactly
    assert values.shape == (len(g), 62 + 1)
    col = {n: torch.from_numpy(values[:, i].copy()) for i, n in enumerate(names)}
    assert torch.equal(col["label"].long(), g.labels)
    assert torch.equal(torch.stack([col["rot_0"], col["rot_1"], col["rot_2"], col["rot_3"]], 1), g.quats)
    rest = torch.stack([col[f"f_rest_{i}"] for i in range(45)], 1).reshape(-1, 3, 15).transpose(1, 2)
    assert torch.equal(rest, g.sh[:, 1:])
    opacity = torch.sigmoid(col["opacity"])
    scales = torch.exp(torch.stack([col[f"scale_{i}"] for i in range(3)], 1))
    rgb = 0.5 + SH_C0 * torch.stack([col[f"f_dc_{i}"] for i in range(3)], 1)
    torch.testing.assert_close(opacity, g.activated_opacities(), rtol=0, atol=1e-6)
    torch.testing.assert_close(scales, g.activated_scales(), rtol=1e-6, atol=0)
    torch.testing.assert_close(rgb.clamp_min(0), g.base_rgb(), rtol=0, atol=1e-6)
    for ours, theirs in [(g.activated_opacities(), opacity), (g.base_rgb(), rgb.clamp_min(0))]:
        assert abs(float(ours.mean() - theirs.mean())) < 1e-6 and abs(float(ours.std() - theirs.std())) < 1e-6


def test_glb_export_decodes_activations_like_we_do(tmp_path, splat_transform):
    """splat-transform -q -w in.ply out.glb: the tool itself applies sigmoid, exp and the DC
    colour rule (KHR_gaussian_splatting attributes), reorders wxyz -> xyzw and regroups our
    channel-major f_rest into per-coefficient RGB; all must agree with our accessors."""
    g = _known_gaussians()
    _run(splat_transform, write_ply(tmp_path / "in.ply", g), tmp_path / "out.glb")
    a = {name.removeprefix("KHR_gaussian_splatting:"): torch.from_numpy(v.astype(np.float32))
         for name, v in _read_glb(tmp_path / "out.glb").items()}
    assert a["POSITION"].shape == (len(g), 3)
    torch.testing.assert_close(a["POSITION"], g.means @ PLY_TO_ENGINE, rtol=0, atol=1e-6)
    torch.testing.assert_close(a["OPACITY"][:, 0], g.activated_opacities(), rtol=0, atol=1e-6)
    torch.testing.assert_close(a["SCALE"], g.activated_scales(), rtol=1e-5, atol=0)
    rot = quat_to_rotmat(torch.nn.functional.normalize(a["ROTATION"][:, [3, 0, 1, 2]], dim=-1))  # xyzw -> wxyz
    torch.testing.assert_close(rot, PLY_TO_ENGINE @ quat_to_rotmat(g.activated_quats()), rtol=0, atol=1e-5)
    # COLOR_0: 8-bit rgb = clamp(0.5 + SH_C0 f_dc) and alpha = sigmoid(opacity), rounded: 1 LSB.
    ours8 = torch.cat([g.base_rgb().clamp_max(1.0), g.activated_opacities()[:, None]], 1) * 255
    assert float((a["COLOR_0"] - ours8).abs().max()) <= 0.5 + 1e-3
    assert float((a["COLOR_0"].mean(0) - ours8.mean(0)).abs().max()) < 0.5
    # SH: the colour seen along a direction must not change when the whole splat is turned.
    sh = torch.stack([a["SH_DEGREE_0_COEF_0"]] + [a[f"SH_DEGREE_{d}_COEF_{c}"] for d in (1, 2, 3)
                                                    for c in range(2 * d + 1)], 1)  # [N, 16, 3]
    dirs = torch.nn.functional.normalize(torch.randn(len(g), 3, generator=torch.Generator().manual_seed(0)), dim=-1)
    torch.testing.assert_close(eval_sh(sh, dirs @ PLY_TO_ENGINE), eval_sh(g.sh, dirs), rtol=0, atol=1e-5)


def test_we_read_splat_transform_ply_output(tmp_path, splat_transform):
    """splat-transform -q -w in.ply -H 1 out.ply: its own writer, with SH cut to degree 1, gives
    back our Gaussians with bands 0-1 (so both tools agree on the channel-major f_rest order)."""
    g = _known_gaussians(degree=3)
    _run(splat_transform, write_ply(tmp_path / "in.ply", g), "-H", "1", tmp_path / "out.ply")
    h = read_ply(tmp_path / "out.ply")
    assert len(h) == len(g) and h.sh.shape[1] == 4
    for name in ("means", "quats", "log_scales", "opacity_logits", "labels"):
        assert torch.equal(getattr(h, name), getattr(g, name)), name
    assert torch.equal(h.sh, g.sh[:, :4])


def test_a_ply_that_went_through_spz_and_back_is_read(tmp_path, splat_transform, caplog):
    """Our .ply -> splat-transform .spz -> splat-transform .ply: .spz stores opacity in 8 bits, so nearly opaque
    and nearly clear splats come back as +-inf logits. We read the file with one warning giving that count, those
    splats at opacity 1 and 0, and positions within .spz's quantisation (12-bit fixed point here: < 1 mm)."""
    import logging

    g = _known_gaussians(degree=0)
    logits = g.opacity_logits.clone()
    logits[:40], logits[40:60] = 12.0, -12.0  # sigmoid: 1 - 6e-6 and 6e-6, which 8 bits round to 255 and 0
    g = Gaussians(g.means, g.quats, g.log_scales, logits, g.sh, g.labels)
    _run(splat_transform, write_ply(tmp_path / "in.ply", g), tmp_path / "mid.spz")
    _run(splat_transform, tmp_path / "mid.spz", tmp_path / "back.ply")
    with caplog.at_level(logging.WARNING, logger="models.io.ply"):
        h = read_ply(tmp_path / "back.ply")
    saturated = [r.getMessage() for r in caplog.records if "saturated" in r.getMessage()]
    assert len(saturated) == 1 and "60 of 300 opacities are saturated" in saturated[0], saturated
    assert len(h) == len(g)
    opacity = h.activated_opacities()
    assert bool((opacity[:40] == 1.0).all()) and float(opacity[40:60].max()) < 1e-8
    assert float((h.means - g.means).abs().max()) < 1e-3
    torch.testing.assert_close(opacity[60:], g.activated_opacities()[60:], rtol=0, atol=1 / 255)


def _spz_tolerances(h: Gaussians, g: Gaussians) -> None:
    """h (through .spz) against g: positions to 12 fractional bits, rotations to 9 bits a component, opacity and
    DC colour to 8 bits, log scales to 1/16, SH bands to their buckets (8 and 16 of 256)."""
    assert len(h) == len(g) and h.sh.shape == g.sh.shape
    assert float((h.means - g.means).abs().max()) <= 0.5 / 4096 + 1e-6
    assert float((h.activated_quats() * g.activated_quats()).sum(1).abs().min()) > 0.99998
    assert float((h.activated_opacities() - g.activated_opacities()).abs().max()) <= 0.5 / 255 + 1e-6
    assert float((h.sh[:, 0] - g.sh[:, 0]).abs().max()) <= 0.5 / (255 * 0.15) + 1e-5
    inside = (g.log_scales > -10) & (g.log_scales < 5.9)
    assert float((h.log_scales - g.log_scales).abs()[inside].max()) <= 1 / 32 + 1e-6
    err = (h.sh[:, 1:] - g.sh[:, 1:]).abs()
    assert float(err[:, :3].max()) <= 4.5 / 128 + 1e-6 and float(err[:, 3:].max()) <= 8.5 / 128 + 1e-6


@pytest.mark.parametrize("version", ["4", "3"])
def test_we_read_splat_transform_spz(tmp_path, splat_transform, version):
    """splat-transform in.ply [--spz-version 3] out.spz (its default is version 4, zstd streams): we read the
    same Gaussians back within .spz's quantisation, SH bands and axes included."""
    from models.io.spz import read_spz

    g = _known_gaussians(degree=3)
    _run(splat_transform, write_ply(tmp_path / "in.ply", g), "--spz-version", version, tmp_path / "out.spz")
    _spz_tolerances(read_spz(tmp_path / "out.spz"), g)


def test_splat_transform_reads_our_spz(tmp_path, splat_transform):
    """Our .spz (version 3) through splat-transform to .ply and .csv: the right count, and values and statistics
    within the format's quantisation."""
    from models.io.spz import write_spz

    g = _known_gaussians(degree=3)
    write_spz(tmp_path / "ours.spz", g)
    _run(splat_transform, tmp_path / "ours.spz", tmp_path / "back.ply")
    h = read_ply(tmp_path / "back.ply")
    _spz_tolerances(h, Gaussians(g.means, g.quats, g.log_scales, g.opacity_logits, g.sh, torch.zeros_like(g.labels)))
    _run(splat_transform, tmp_path / "ours.spz", tmp_path / "back.csv")
    with open(tmp_path / "back.csv", newline="") as f:
        rows = list(csv.reader(f))
    col = dict(zip(rows[0], np.array(rows[1:], dtype=np.float64).T))
    assert len(rows) - 1 == len(g)
    for name, ours in (("x", g.means[:, 0]), ("y", g.means[:, 1]), ("z", g.means[:, 2]),
                       ("opacity", torch.sigmoid(g.opacity_logits))):
        theirs = torch.sigmoid(torch.from_numpy(col[name])) if name == "opacity" else torch.from_numpy(col[name])
        assert abs(float(theirs.mean() - ours.double().mean())) < 2e-3, name
        assert abs(float(theirs.std() - ours.double().std())) < 2e-3, name


def test_splat_transform_reads_our_splat(tmp_path, splat_transform):
    """Our .splat through splat-transform to .ply: positions and scales exact, colour, opacity and rotation to 8 bits."""
    from models.io.splat import write_splat

    g = _known_gaussians(degree=0)
    write_splat(tmp_path / "ours.splat", g)
    _run(splat_transform, tmp_path / "ours.splat", tmp_path / "back.ply")
    h = read_ply(tmp_path / "back.ply")
    assert len(h) == len(g)
    assert torch.equal(h.means, g.means)
    torch.testing.assert_close(h.log_scales, g.log_scales, rtol=0, atol=1e-5)
    assert float((h.activated_opacities() - g.activated_opacities()).abs().max()) <= 0.5 / 255 + 2e-6
    assert float((h.base_rgb() - g.base_rgb().clamp(0, 1)).abs().max()) <= 0.5 / 255 + 1e-6
    assert float((h.activated_quats() * g.activated_quats()).sum(1).abs().min()) > 0.999
