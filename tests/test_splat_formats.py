"""Compressed head files (models/io/spz.py, models/io/splat.py, models/io/splats.py): round trips within each
format's quantisation, the axis change .spz stores, and every bad file as one PercheadError line.
splat-transform's view of these files: tests/test_ply_third_party.py."""
from __future__ import annotations

import gzip
import math
import struct

import numpy as np
import pytest
import torch

from models.errors import PercheadError
from models.gaussians import SH_C0, Gaussians, eval_sh
from models.io.splat import read_splat, splat_bytes, write_splat
from models.io.splats import read_splats, splat_format, write_splats
from models.io.spz import _FLIP_SH, FRACTIONAL_BITS, read_spz, spz_bytes, write_spz


def known(n: int = 200, degree: int = 0, seed: int = 3) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    u = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    g = Gaussians.from_activated(means=torch.randn(n, 3, generator=gen) * 0.2, quats=torch.randn(n, 4, generator=gen),
                                 scales=10 ** (-3.5 + 2.5 * u(n, 3)), opacities=0.02 + 0.96 * u(n),
                                 rgb=0.05 + 0.9 * u(n, 3), labels=torch.randint(0, 15, (n,), generator=gen))
    rest = 0.3 * (u(n, (degree + 1) ** 2 - 1, 3) - 0.5)
    return Gaussians(g.means, g.quats, g.log_scales, g.opacity_logits, torch.cat([g.sh, rest], 1), g.labels)


def angle_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rotation angle between unit quaternions [N, 4] (q and -q the same rotation)."""
    return torch.rad2deg(2 * torch.acos((a * b).sum(1).abs().clamp(max=1.0)))


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_spz_round_trip_within_its_quantisation(degree: int) -> None:
    g = known(degree=degree)
    h = read_spz(spz_bytes(g))
    assert len(h) == len(g) and h.sh.shape == g.sh.shape
    assert float((h.means - g.means).abs().max()) <= 0.5 / (1 << FRACTIONAL_BITS) + 1e-7
    assert float(angle_deg(h.activated_quats(), g.activated_quats()).max()) < 0.5  # 9 bits a component
    assert float((h.log_scales - g.log_scales).abs().max()) <= 1 / 32 + 1e-6
    assert float((h.activated_opacities() - g.activated_opacities()).abs().max()) <= 0.5 / 255 + 1e-6
    assert float((h.sh[:, 0] - g.sh[:, 0]).abs().max()) <= 0.5 / (255 * 0.15) + 1e-6
    if degree:  # degree-1 bands in 32 levels, higher ones in 16
        err = (h.sh[:, 1:] - g.sh[:, 1:]).abs()
        # rounded to 1/128, then to the bucket: half a bucket and half a step at most
        assert float(err[:, :3].max()) <= 4.5 / 128 + 1e-6
        assert degree == 1 or float(err[:, 3:].max()) <= 8.5 / 128 + 1e-6
    assert bool((h.labels == 0).all())  # the format has no labels


def test_spz_of_a_head_is_a_seventh_of_its_ply_and_deterministic() -> None:
    from models.assets import ASSETS_DIR
    from models.io.ply import ply_bytes, read_ply

    g = read_ply(ASSETS_DIR / "sample_head.ply")  # measured: .ply 1,921,036 bytes, .spz 276,245, .splat 853,600
    assert len(spz_bytes(g)) < 0.16 * len(ply_bytes(g)) and len(splat_bytes(g)) < 0.45 * len(ply_bytes(g))
    assert spz_bytes(g) == spz_bytes(g)  # no timestamp in the gzip header


def test_spz_sh_sign_table_is_the_half_turn_about_x() -> None:
    """.spz stores right-up-back axes; turning a .ply's right-down-front axes there is (x, y, z) -> (x, -y, -z), under
    which each SH band keeps or flips its sign: the table must say which, for every band of degrees 1-3."""
    gen = torch.Generator().manual_seed(0)
    dirs = torch.nn.functional.normalize(torch.randn(64, 3, generator=gen), dim=1)
    turned = dirs * torch.tensor([1.0, -1.0, -1.0])
    for k in range(1, 16):
        sh = torch.zeros(64, 16, 3)
        sh[:, k] = 1.0
        assert torch.allclose(eval_sh(sh, turned), float(_FLIP_SH[k - 1]) * eval_sh(sh, dirs), atol=1e-5), k


def test_spz_header_says_version_3_count_and_degree() -> None:
    raw = gzip.decompress(spz_bytes(known(n=7, degree=2)))
    assert struct.unpack_from("<IIIBBBB", raw, 0) == (0x5053474E, 3, 7, 2, 12, 0, 0)


def test_splat_round_trip_within_its_quantisation() -> None:
    g = known(degree=2)
    h = read_splat(splat_bytes(g))
    assert len(splat_bytes(g)) == 32 * len(g)
    assert torch.equal(h.means, g.means)
    torch.testing.assert_close(h.log_scales, g.log_scales, rtol=0, atol=1e-5)
    assert float(angle_deg(h.activated_quats(), g.activated_quats()).max()) < 3.0  # 8 bits a component
    assert float((h.activated_opacities() - g.activated_opacities()).abs().max()) <= 0.5 / 255 + 1e-6
    assert float((h.base_rgb() - g.base_rgb()).abs().max()) <= 0.5 / 255 + 1e-6
    assert h.sh.shape[1] == 1  # DC colour only


def test_saturated_alphas_read_as_opacity_one_and_zero() -> None:
    g = known(n=4)
    g.opacity_logits[:] = torch.tensor([30.0, -30.0, 0.0, 30.0])
    for h in (read_spz(spz_bytes(g)), read_splat(splat_bytes(g))):
        op = h.activated_opacities()
        assert op[0] == 1.0 and op[1] < 1e-8 and abs(float(op[2]) - 0.5) < 0.01
        assert bool(torch.isfinite(h.opacity_logits).all())


def test_formats_by_extension_and_what_each_drops(tmp_path) -> None:
    g = known(degree=1)
    assert [splat_format(p) for p in ("a.ply", "b.SPZ", "c.splat")] == [".ply", ".spz", ".splat"]
    with pytest.raises(PercheadError, match=r"unknown splat file type '\.png'; use \.ply, \.spz or \.splat"):
        splat_format("head.png")
    _, note = write_splats(tmp_path / "h.ply", g)
    assert note is None and torch.equal(read_splats(tmp_path / "h.ply").labels, g.labels)
    _, note = write_splats(tmp_path / "h.spz", g)
    assert note == ".spz holds no class labels: dropped (write a .ply to keep them)"
    _, note = write_splats(tmp_path / "h.splat", g)
    assert "class labels or view-dependent colour" in note
    unlabelled = Gaussians(g.means, g.quats, g.log_scales, g.opacity_logits, g.sh[:, :1], torch.zeros_like(g.labels))
    assert write_splats(tmp_path / "u.spz", unlabelled)[1] is None
    assert len(read_splats(tmp_path / "h.spz")) == len(read_splats(tmp_path / "h.splat")) == len(g)


def test_a_failed_export_writes_nothing(tmp_path) -> None:
    g = known(n=3)
    g.means[0, 0] = 5000.0  # beyond 24-bit fixed point at 12 fractional bits (+-2048)
    with pytest.raises(PercheadError, match="write a .ply instead"):
        write_spz(tmp_path / "far.spz", g)
    (tmp_path / "keep.spz").write_bytes(b"old")
    with pytest.raises(PercheadError):
        write_spz(tmp_path / "keep.spz", g)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.spz"] and (tmp_path / "keep.spz").read_bytes() == b"old"
    with pytest.raises(PercheadError, match="0 Gaussians"):
        write_splat(tmp_path / "empty.splat", Gaussians.empty())


def _v4(n: int = 5, degree: int = 0, version: int = 4, streams: int | None = None, cut: int = 0) -> bytes:
    """A version-4 .spz (zstd streams) made here, as Niantic's library lays it out."""
    import zstandard

    sizes = [9 * n, n, 3 * n, 3 * n, 4 * n] + ([3 * n * ((degree + 1) ** 2 - 1)] if degree else [])
    rng = np.random.default_rng(0)
    blobs = [zstandard.ZstdCompressor().compress(rng.integers(0, 256, s, dtype=np.uint8).tobytes()) for s in sizes]
    streams = len(sizes) if streams is None else streams
    head = struct.pack("<IIIBBBBI12x", 0x5053474E, version, n, degree, 12, 0, streams, 32)
    toc = b"".join(struct.pack("<QQ", len(b), s) for b, s in zip(blobs, sizes))
    data = head + toc + b"".join(blobs)
    return data[:len(data) - cut]


def test_version_4_streams_are_read() -> None:
    for degree in (0, 2):
        g = read_spz(_v4(n=6, degree=degree))
        assert len(g) == 6 and g.sh.shape[1] == (degree + 1) ** 2


def _legacy(n: int, claimed: int | None = None, version: int = 3, magic: int = 0x5053474E) -> bytes:
    body = spz_bytes(known(n=n))
    raw = bytearray(gzip.decompress(body))
    struct.pack_into("<III", raw, 0, magic, version, n if claimed is None else claimed)
    return gzip.compress(bytes(raw), mtime=0)


BAD = {
    "empty": (b"", "too short"),
    "not_spz": (b"PK\x03\x04" + bytes(40), "not a .spz file"),
    "gzip_not_spz": (gzip.compress(b"hello world, this is not a splat file"), "no NGSP header"),
    "truncated_gzip": (spz_bytes(known(n=50))[:60], "truncated"),
    "unknown_version": (_legacy(5, version=9), "version 9"),
    "claims_more": (_legacy(5, claimed=500), "promises 500 Gaussians"),
    "zero_points": (_legacy(5, claimed=0), "0 Gaussians"),
    "v4_cut": (_v4(cut=7), "truncated"),
    "v4_unknown_version": (_v4(version=5), "version 5"),
    "v4_wrong_streams": (_v4(streams=4), "4 data streams"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spz_is_one_clear_line(case: str, tmp_path) -> None:
    data, message = BAD[case]
    path = tmp_path / "bad.spz"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(PercheadError, match=message) as info:
            read_spz(source)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (bytes(33), "not a whole number of 32-byte"),
    (np.zeros(2, [("p", "<f4", 3), ("s", "<f4", 3), ("c", "u1", 8)]).tobytes(), "scale that is not positive"),
])
def test_bad_splat_is_one_clear_line(data: bytes, message: str) -> None:
    with pytest.raises(PercheadError, match=message) as info:
        read_splat(data)
    assert "\n" not in str(info.value)


def test_render_reads_compressed_files_and_says_what_it_wrote(tmp_path, capsys) -> None:
    from perchead_gui.cli import main

    g = known(n=500)
    write_splats(tmp_path / "h.spz", g)
    write_splats(tmp_path / "h.splat", g)
    for name in ("h.spz", "h.splat"):
        assert main(["render", str(tmp_path / name), "-o", str(tmp_path / f"{name}.png"), "--size", "64"]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert out[-1].startswith(f"wrote {tmp_path / f'{name}.png'}: 64x64 render of 500 Gaussians in ")
        assert out[-1].endswith(" s")
    (tmp_path / "bad.spz").write_bytes(b"garbage" * 10)
    assert main(["render", str(tmp_path / "bad.spz"), "-o", str(tmp_path / "bad.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a .spz file" in err and "\n" not in err and not (tmp_path / "bad.png").exists()
    assert math.isclose(SH_C0, 0.28209479177387814)
