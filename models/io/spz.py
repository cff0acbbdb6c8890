"""Niantic's ``.spz`` (Splat Zip): the compressed splat format web viewers (SuperSplat, Spark) prefer, about a
tenth of a ``.ply``.

Written as version 3, the version every SPZ reader reads: a gzip stream of a 16-byte header (magic "NGSP",
version, count, SH degree, fractional bits, flags, reserved) and the attributes as separate arrays: positions as
24-bit fixed point (12 fractional bits: 0.24 mm), opacity as 8 bits of sigmoid, the DC colour as 8 bits (x 0.15
around 0.5), log scales as 8 bits (x 16, offset 10), rotations as the smallest three quaternion components (9 bits
and a sign each, 2 bits naming the largest), higher SH bands as 8 bits (degree 1 in 32 levels, 2-3 in 16).
Read: versions 2 and 3 (gzip) and 4 (a 32-byte header, a table of zstd-compressed streams; splat-transform's
default). SPZ stores right-up-back axes, a .ply right-down-front: positions, rotations and SH bands turn by half a
turn about x on the way in and out, as Niantic's library does, so a file means the same head in every viewer.
Class labels have no place in the format: written files drop them (callers say so), read files have none.

Bad input (not SPZ, a version this does not read, truncated, a count the data cannot hold) is one
``PercheadError`` line; nothing is decompressed beyond what the header's count needs.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from models.errors import PercheadError
from models.gaussians import Gaussians, sh_degree_from_coeffs
from models.io.atomic import check_output_path, write_bytes_atomic
from models.io.paths import read_bytes_of

SpzSource = str | os.PathLike | bytes | bytearray | memoryview

MAGIC = 0x5053474E                  # "NGSP" little-endian
WRITE_VERSION = 3
FRACTIONAL_BITS = 12
COLOUR_SCALE = 0.15                 # DC coefficient -> byte: c * 0.15 * 255 + 127.5
SH_BUCKETS = (8, 16)                # degree-1 bands in 5 bits, degrees 2-3 in 4 bits (Niantic's defaults)
SATURATED_LOGIT = 20.0              # alpha bytes 0 and 255 read as this logit (sigmoid: 0 and 1 in float32)
_LEGACY_HEADER = struct.Struct("<IIIBBBB")
_V4_HEADER = struct.Struct("<IIIBBBBI12x")
_FLIP_AXES = np.array([1.0, -1.0, -1.0], np.float32)   # .ply right-down-front <-> .spz right-up-back
# sign of each SH band (3DGS order, degrees 1-3) under that half turn: odd in y + z flips
_FLIP_SH = np.array([-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1], np.float32)
_SQRT1_2 = math.sqrt(0.5)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


# ---- writing --------------------------------------------------------------------------------
def spz_bytes(g: Gaussians) -> bytes:
    """A version-3 .spz of ``g`` (labels are not stored)."""
    n = len(g)
    if n == 0:
        raise PercheadError("nothing to write: there are 0 Gaussians; check the model output or edit")
    g = g.to("cpu").validate("the head to write")
    degree = sh_degree_from_coeffs(g.sh.shape[1])
    means = g.means.double().numpy() * _FLIP_AXES
    fixed = np.round(means * (1 << FRACTIONAL_BITS)).astype(np.int64)
    limit = 1 << 23
    if (np.abs(fixed) >= limit).any():
        raise PercheadError(f"a position lies beyond +-{limit / (1 << FRACTIONAL_BITS):.0f} units, which .spz's "
                            "24-bit positions cannot hold; write a .ply instead")
    positions = (fixed[..., None] >> np.array([0, 8, 16])) & 0xFF                     # [N, 3, 3]
    alphas = _u8(g.activated_opacities().double().numpy() * 255)
    colours = _u8(g.sh[:, 0].double().numpy() * (COLOUR_SCALE * 255) + 127.5)
    scales = _u8((g.log_scales.double().numpy() + 10) * 16)
    rotations = _pack_rotations(g.activated_quats().double().numpy())
    parts = [_LEGACY_HEADER.pack(MAGIC, WRITE_VERSION, n, degree, FRACTIONAL_BITS, 0, 0),
             positions.astype(np.uint8).tobytes(), alphas.tobytes(), colours.tobytes(), scales.tobytes(),
             rotations.tobytes()]
    if degree:
        rest = g.sh[:, 1:].double().numpy() * _FLIP_SH[:g.sh.shape[1] - 1, None]      # [N, K-1, 3]
        bucket = np.where(np.arange(rest.shape[1]) < 3, *SH_BUCKETS)[None, :, None]
        q = np.round(rest * 128) + 128
        q = (q + bucket // 2) // bucket * bucket
        parts.append(np.clip(q, 0, 255).astype(np.uint8).tobytes())
    return gzip.compress(b"".join(parts), compresslevel=9, mtime=0)


def write_spz(path: str | os.PathLike, g: Gaussians) -> Path:
    """Write a .spz atomically: an existing file is replaced whole or left untouched."""
    check_output_path(path)
    return write_bytes_atomic(path, spz_bytes(g))


def _pack_rotations(wxyz: np.ndarray) -> np.ndarray:
    """Unit quaternions [N, 4] (w, x, y, z, .ply axes) -> [N, 4] bytes: .spz's smallest three (x, y, z, w order)."""
    q = np.concatenate([wxyz[:, 1:] * _FLIP_AXES, wxyz[:, :1]], 1)                    # [N, 4] x y z w
    largest = np.abs(q).argmax(1)
    q = q * np.where(q[np.arange(len(q)), largest] < 0, -1.0, 1.0)[:, None]          # the largest positive
    comp = largest.astype(np.uint32)
    for i in range(4):
        keep = largest != i
        neg = (q[:, i] < 0).astype(np.uint32)
        mag = np.floor(511 * np.abs(q[:, i]) / _SQRT1_2 + 0.5).astype(np.uint32).clip(0, 511)
        comp = np.where(keep, (comp << 10) | (neg << 9) | mag, comp)
    return comp.astype("<u4").view(np.uint8).reshape(-1, 4)


# ---- reading --------------------------------------------------------------------------------
def read_spz(source: SpzSource) -> Gaussians:
    """Decode a .spz (version 2, 3 or 4) from a path or bytes into float32 CPU Gaussians (labels 0)."""
    data, name = read_bytes_of(source, ".spz")
    if len(data) < 16:
        raise PercheadError(f"{name} is too short ({len(data)} bytes) to be a .spz file; re-export it")
    if bytes(data[:2]) == b"\x1f\x8b":
        arrays, n, degree, bits, version = _read_gzip(data, name)
    elif struct.unpack_from("<I", data, 0)[0] == MAGIC:
        arrays, n, degree, bits, version = _read_streams(data, name)
    else:
        raise PercheadError(f"{name} is not a .spz file (neither gzip nor an NGSP header); give a .spz file")
    positions, alphas, colours, scales, rotations, sh = arrays
    p = positions.reshape(n, 3, 3).astype(np.int32)
    fixed = p[..., 0] | (p[..., 1] << 8) | (p[..., 2] << 16)
    fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
    means = fixed.astype(np.float32) / (1 << bits) * _FLIP_AXES
    a = alphas.astype(np.float64) / 255
    with np.errstate(divide="ignore"):
        logits = np.clip(np.log(a) - np.log1p(-a), -SATURATED_LOGIT, SATURATED_LOGIT)
    dc = (colours.reshape(n, 3).astype(np.float32) / 255 - 0.5) / COLOUR_SCALE
    k = (degree + 1) ** 2
    rest = (sh.reshape(n, k - 1, 3).astype(np.float32) - 128) / 128 * _FLIP_SH[:k - 1, None]
    quats = _unpack_rotations(rotations, n, version)
    g = Gaussians(means=torch.from_numpy(means), quats=torch.from_numpy(quats),
                  log_scales=torch.from_numpy(scales.reshape(n, 3).astype(np.float32) / 16 - 10),
                  opacity_logits=torch.from_numpy(logits.astype(np.float32)),
                  sh=torch.from_numpy(np.concatenate([dc[:, None], rest], 1)),
                  labels=torch.zeros(n, dtype=torch.long))
    return g.validate(name)


def _unpack_rotations(raw: np.ndarray, n: int, version: int) -> np.ndarray:
    """.spz rotation bytes -> unit quaternions [N, 4] (w, x, y, z, .ply axes)."""
    if version < 3:  # x, y, z as 8 bits each, w >= 0 implied
        xyz = raw.reshape(n, 3).astype(np.float64) / 127.5 - 1
        q = np.concatenate([xyz, np.sqrt(np.clip(1 - (xyz ** 2).sum(1, keepdims=True), 0, None))], 1)
    else:
        comp = raw.reshape(n, 4).copy().view("<u4")[:, 0].astype(np.uint64)
        largest = (comp >> 30).astype(np.int64)
        q = np.zeros((n, 4))
        for i in (3, 2, 1, 0):  # the last packed component sits in the lowest bits
            keep = largest != i
            mag = (comp & 511).astype(np.float64) / 511 * _SQRT1_2
            sign = np.where((comp >> 9) & 1, -1.0, 1.0)
            q[:, i] = np.where(keep, sign * mag, 0.0)
            comp = np.where(keep, comp >> 10, comp)
        q[np.arange(n), largest] = np.sqrt(np.clip(1 - (q ** 2).sum(1), 0, None))
    wxyz = np.concatenate([q[:, 3:], q[:, :3] * _FLIP_AXES], 1)
    return wxyz.astype(np.float32)


def _sizes(n: int, degree: int, version: int) -> list[int]:
    """Bytes of positions, alphas, colours, scales, rotations, SH for ``n`` splats."""
    return [9 * n, n, 3 * n, 3 * n, (4 if version >= 3 else 3) * n, 3 * n * ((degree + 1) ** 2 - 1)]


def _check_header(n: int, degree: int, bits: int, version: int, known: tuple[int, ...], name: str) -> None:
    if version not in known:
        raise PercheadError(f"{name} is .spz version {version}, which this reader does not know (it reads 2, 3 and "
                            "4); convert it with a current splat-transform")
    if degree > 3:
        raise PercheadError(f"{name} claims SH degree {degree}; .spz holds degrees 0-3, so the file is corrupt")
    if n == 0:
        raise PercheadError(f"{name} holds 0 Gaussians, so there is nothing to load")
    if bits > 23:
        raise PercheadError(f"{name} claims {bits} fractional bits of 24-bit positions; the file is corrupt")


def _read_gzip(data, name: str):
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = inflate.decompress(bytes(data), _LEGACY_HEADER.size)
        if len(head) < _LEGACY_HEADER.size:
            raise PercheadError(f"{name} is truncated: its gzip stream ends before the 16-byte .spz header")
        magic, version, n, degree, bits, _flags, _ = _LEGACY_HEADER.unpack(head)
        if magic != MAGIC:
            raise PercheadError(f"{name} is gzip but not a .spz file (no NGSP header inside); give a .spz file")
        _check_header(n, degree, bits, version, (2, 3), name)
        sizes = _sizes(n, degree, version)
        body = inflate.decompress(inflate.unconsumed_tail, sum(sizes))
    except zlib.error as e:
        raise PercheadError(f"{name} is a corrupt gzip stream ({e}); re-export the .spz") from e
    if len(body) < sum(sizes):
        raise PercheadError(f"{name} is truncated or corrupt: the header promises {n} Gaussians needing "
                            f"{sum(sizes)} bytes of data, only {len(body)} present")
    return _split(body, sizes), n, degree, bits, version


def _read_streams(data, name: str):
    if len(data) < _V4_HEADER.size:
        raise PercheadError(f"{name} is truncated: {len(data)} bytes, less than the 32-byte .spz header")
    _, version, n, degree, bits, _flags, streams, toc = _V4_HEADER.unpack_from(data, 0)
    _check_header(n, degree, bits, version, (4,), name)
    sizes = _sizes(n, degree, version)[:streams]
    if streams != (6 if degree else 5):
        raise PercheadError(f"{name} has {streams} data streams where SH degree {degree} needs "
                            f"{6 if degree else 5}; the file is corrupt")
    if toc < _V4_HEADER.size or toc + 16 * streams > len(data):
        raise PercheadError(f"{name} is truncated or corrupt: its table of streams lies outside the file")
    try:
        import zstandard  # noqa: PLC0415
    except ImportError as e:
        raise PercheadError(f"{name} is a version-4 .spz (zstd streams), which needs the zstandard package: "
                            "pip install zstandard") from e
    out, offset = [], toc + 16 * streams
    for i, size in enumerate(sizes):
        packed, unpacked = struct.unpack_from("<QQ", data, toc + 16 * i)
        if unpacked != size:
            raise PercheadError(f"{name} is corrupt: stream {i} holds {unpacked} bytes where {n} Gaussians need {size}")
        if offset + packed > len(data):
            raise PercheadError(f"{name} is truncated: stream {i} needs {packed} bytes, "
                                f"{max(0, len(data) - offset)} present")
        try:
            raw = zstandard.ZstdDecompressor().decompress(bytes(data[offset:offset + packed]), max_output_size=size)
        except zstandard.ZstdError as e:
            raise PercheadError(f"{name}: stream {i} is not valid zstd data ({e}); re-export the .spz") from e
        if len(raw) != size:
            raise PercheadError(f"{name} is corrupt: stream {i} unpacks to {len(raw)} bytes, {size} expected")
        out.append(np.frombuffer(raw, np.uint8))
        offset += packed
    if not degree:
        out.append(np.zeros(0, np.uint8))
    return out, n, degree, bits, version


def _split(body: bytes, sizes: list[int]) -> list[np.ndarray]:
    out, at = [], 0
    for size in sizes:
        out.append(np.frombuffer(body, np.uint8, size, at))
        at += size
    return out
