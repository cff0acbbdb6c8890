"""Gaussian splat ``.ply`` files: the standard 3DGS layout out, anything reasonable in.

Writing follows the original 3DGS exporter byte for byte in layout (so SuperSplat,
splat-transform and other viewers open our files unchanged) plus one extra ``label``
property. Reading accepts what other tools write: any property order, SH degree 0-3,
unknown properties, other elements before or after ``vertex``, ascii or binary of either
endianness, any numeric type, CRLF headers. Saturated opacities (a logit of +-inf, as files that went
through a compressed web format such as .spz carry) read as opacity 1 or 0 with one warning giving the
count; every other bad input becomes one ``PercheadError`` line, and the header is checked against the bytes actually present before anything is
allocated, so a corrupt vertex count cannot exhaust memory.
"""
from __future__ import annotations

import logging
import os
import re
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.errors import PercheadError
from models.gaussians import Gaussians, sh_degree_from_coeffs
from models.io.atomic import check_output_path, write_bytes_atomic
from models.io.paths import require_file

log = logging.getLogger(__name__)

PlySource = str | os.PathLike | bytes | bytearray | memoryview
SATURATED_LOGIT = 20.0  # an infinite opacity logit reads as this (sigmoid(+-20) is 1 and 0 in float32)

# PLY type names (both spellings in the wild) -> numpy/struct codes, without byte order.
_NP_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_STRUCT_CODES = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d"}
_BYTE_ORDER = {"ascii": "", "binary_little_endian": "<", "binary_big_endian": ">"}
_REST_COUNTS = (0, 9, 24, 45)  # f_rest_* per file for SH degree 0..3: 3 * ((d+1)^2 - 1)
_REQUIRED = ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
             "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")
_MAX_HEADER_BYTES = 1 << 20  # real headers are ~2 KB; bounds the search in a non-PLY blob
_END_HEADER = re.compile(rb"(?:^|\n)end_header[ \t\r]*(?:\n|\Z)")
# The label is stored as float32, not uchar: it keeps every vertex property float32, so
# the record stays a plain float32 matrix. Several web viewers and converters assume that
# (stride = 4 bytes x property count, or a float-only fast path as in splat-transform),
# and SuperSplat ignores unknown float properties; a uchar would shift every later field
# for such readers. Class ids are small integers, exact in float32 up to 2^24.
_MAX_LABEL = 1 << 24


@dataclass
class _Property:
    name: str
    dtype: str                  # numpy code without byte order, e.g. "f4"
    count_dtype: str | None     # length-prefix code for a list property, else None


@dataclass
class _Element:
    name: str
    count: int
    properties: list[_Property]


@dataclass
class _VertexRows:
    """Vertex data as read: a plain [N, P] matrix when every property shares one type (the
    usual all-float file, gathered in one pass), else [N] structured records."""

    names: list[str]
    matrix: np.ndarray | None = None   # [N, P]
    records: np.ndarray | None = None  # [N] structured, one field per property

    def select(self, names: tuple[str, ...], dtype: type) -> np.ndarray:
        """Columns by name -> [N, len(names)], converted to ``dtype`` (native byte order)."""
        with np.errstate(all="ignore"):  # a double too big for float32 becomes inf, refused later
            if self.matrix is not None:
                cols = np.take(self.matrix, [self.names.index(c) for c in names], axis=1)
                return cols.astype(dtype, copy=False)
            if not names:
                return np.zeros((len(self.records), 0), dtype)
            return np.stack([self.records[c].astype(dtype) for c in names], axis=1)


# ---- writing --------------------------------------------------------------------------------
def _property_names(k: int) -> list[str]:
    """Vertex properties in 3DGS order for K SH coefficients per channel, plus ``label``."""
    return (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
            + [f"f_rest_{i}" for i in range(3 * (k - 1))]
            + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3", "label"])


def ply_bytes(g: Gaussians) -> bytes:
    """Encode Gaussians as a binary little-endian 3DGS ``.ply`` (in memory, so it is testable)."""
    g = g.detach().to("cpu", torch.float32).validate("gaussians to write")
    n, k = len(g), g.sh.shape[1]
    if n == 0:
        raise PercheadError("nothing to write: there are 0 Gaussians; check the model output or edit")
    try:
        sh_degree_from_coeffs(k)
    except ValueError as e:
        raise PercheadError(f"cannot write {k} SH coefficients per channel; .ply holds SH degree 0-3") from e
    if int(g.labels.min()) < 0 or int(g.labels.max()) >= _MAX_LABEL:
        raise PercheadError(f"labels must be class ids in 0..{_MAX_LABEL - 1}; fix the labels before writing")
    # 3DGS stores f_rest channel-major: all R coefficients of bands 1.., then G, then B.
    rest = g.sh[:, 1:, :].transpose(1, 2).reshape(n, 3 * (k - 1))  # [N, 3*(K-1)]
    table = torch.cat([
        g.means, torch.zeros(n, 3), g.sh[:, 0], rest,  # normals are unused by splats: zeros
        g.opacity_logits[:, None], g.log_scales, g.quats, g.labels[:, None].float(),
    ], dim=1)  # [N, P]
    names = _property_names(k)
    header = ("ply\nformat binary_little_endian 1.0\n"
              f"element vertex {n}\n"
              + "".join(f"property float {name}\n" for name in names)
              + "end_header\n")
    body = np.ascontiguousarray(table.numpy(), dtype="<f4")  # no copy on little-endian hosts
    return b"".join((header.encode("ascii"), body.data))  # one copy into the result


def write_ply(path: str | os.PathLike, g: Gaussians) -> Path:
    """Write a ``.ply`` atomically: an existing file is replaced whole or left untouched."""
    check_output_path(path)  # refuse a missing folder before spending time encoding
    return write_bytes_atomic(path, ply_bytes(g))


# ---- reading --------------------------------------------------------------------------------
def read_ply(source: PlySource) -> Gaussians:
    """Decode a splat ``.ply`` from a path or bytes into float32 CPU Gaussians."""
    data, name = _load(source)
    fmt, elements, offset = _parse_header(data, name)
    vertex = _vertex_element(elements, name)
    if fmt == "ascii":
        rows = _ascii_vertex_rows(data, offset, elements, name)
    else:
        rows = _binary_vertex_rows(data, offset, elements, _BYTE_ORDER[fmt], name)
    return _to_gaussians(rows, vertex.count, name)


def _load(source: PlySource) -> tuple[bytes | bytearray | memoryview, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source, "PLY data"
    p = Path(source)
    require_file(p, str(p), "a .ply file", missing="does not exist; check the path",
                 folder="is a folder, not a .ply file; give the file itself")
    try:
        with open(p, "rb") as f:
            # The header is checked before the rest is read: a multi-gigabyte file that is not a
            # PLY (a video renamed .ply) is refused at once instead of being read into memory.
            _parse_header(f.read(_MAX_HEADER_BYTES), str(p))
        return p.read_bytes(), str(p)
    except OSError as e:
        raise PercheadError(f"cannot read {p}: {e.strerror or e}; check that it is a readable file") from e


def _parse_header(data: bytes | bytearray | memoryview, name: str) -> tuple[str, list[_Element], int]:
    """Return (format, elements, offset of the body). Tolerates CRLF and repeated blanks."""
    head = bytes(data[:_MAX_HEADER_BYTES])
    if not head:
        raise PercheadError(f"{name} is empty (0 bytes), not a PLY file; re-export or re-download it")
    if not re.match(rb"ply[ \t]*\r?\n", head):
        raise PercheadError(f"{name} is not a PLY file (it does not start with 'ply'); give a .ply file")
    end = _END_HEADER.search(head)
    if end is None:
        raise PercheadError(f"{name}: the PLY header has no end_header line; the file is truncated or corrupt")
    fmt: str | None = None
    elements: list[_Element] = []
    for line in head[:end.start()].decode("latin-1").splitlines()[1:]:
        words = line.split()
        prop = _parse_property(words) if words[:1] == ["property"] and elements else None
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format" and len(words) == 3 and words[1] in _BYTE_ORDER:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3 and words[2].isascii() and words[2].isdigit():
            elements.append(_Element(words[1], int(words[2]), []))
        elif prop is not None:
            elements[-1].properties.append(prop)
        else:
            raise PercheadError(f"{name}: unreadable PLY header line {line.strip()[:80]!r}; the file is corrupt")
    if fmt is None:
        raise PercheadError(f"{name}: the PLY header has no valid format line; the file is corrupt")
    return fmt, elements, end.end()


def _parse_property(words: list[str]) -> _Property | None:
    """``property TYPE NAME`` or ``property list COUNT_TYPE TYPE NAME``; None if malformed."""
    if len(words) == 3 and words[1] in _NP_TYPES:
        return _Property(words[2], _NP_TYPES[words[1]], None)
    if (len(words) == 5 and words[1] == "list" and words[3] in _NP_TYPES
            and _NP_TYPES.get(words[2], "f")[0] in "iu"):  # a list length must be an integer type
        return _Property(words[4], _NP_TYPES[words[3]], _NP_TYPES[words[2]])
    return None


def _vertex_element(elements: list[_Element], name: str) -> _Element:
    """Find ``vertex`` and check it can hold Gaussians, all before the body is touched."""
    vertex = next((e for e in elements if e.name == "vertex"), None)
    if vertex is None:
        raise PercheadError(f"{name} has no vertex element, so it holds no Gaussians; give a splat .ply")
    lists = [p.name for p in vertex.properties if p.count_dtype is not None]
    if lists:
        raise PercheadError(f"{name}: vertex property {lists[0]!r} is a list; "
                            "splat .ply vertices have scalar properties only")
    names = [p.name for p in vertex.properties]
    twice = sorted(n for n, c in Counter(names).items() if c > 1)
    if twice:
        raise PercheadError(f"{name}: vertex property {twice[0]!r} is declared more than once; the file is corrupt")
    if vertex.count == 0:
        raise PercheadError(f"{name} has 0 vertices, so there are no Gaussians to load")
    missing = [n for n in _REQUIRED if n not in names]
    if missing:
        raise PercheadError(f"{name} is missing the splat properties {', '.join(missing)}; "
                            "it is not a 3D Gaussian splat .ply (a plain point cloud or mesh?)")
    rest = [n for n in names if n.startswith("f_rest_")]
    if len(rest) not in _REST_COUNTS or set(rest) != {f"f_rest_{i}" for i in range(len(rest))}:
        raise PercheadError(f"{name} has {len(rest)} f_rest_* properties, expected f_rest_0.. with 0, 9, 24 "
                            "or 45 of them (SH degree 0-3); the file is not a standard splat .ply")
    return vertex


def _truncated(name: str, what: str, needed: int, present: int) -> PercheadError:
    return PercheadError(f"{name} is truncated or corrupt: the header promises {what} needing {needed} bytes "
                         f"but only {present} bytes are present; re-export or re-download it")


def _binary_vertex_rows(data: bytes | bytearray | memoryview, offset: int, elements: list[_Element],
                       order: str, name: str) -> _VertexRows:
    """Skip elements before ``vertex`` by size, then view the vertex rows without copying."""
    for el in elements:
        if el.name == "vertex":
            break
        offset = _skip_binary_element(data, offset, el, order, name)
    names = [p.name for p in el.properties]
    dtype = np.dtype([(n, order + p.dtype) for n, p in zip(names, el.properties)])
    needed, present = el.count * dtype.itemsize, len(data) - offset
    if needed > present:  # checked before numpy sees the count: a huge claim allocates nothing
        raise _truncated(name, f"{el.count} vertices", needed, present)
    if len({p.dtype for p in el.properties}) == 1:  # the usual all-float file: one plain matrix
        flat = np.frombuffer(data, dtype=order + el.properties[0].dtype, count=el.count * len(names), offset=offset)
        return _VertexRows(names, matrix=flat.reshape(el.count, len(names)))
    return _VertexRows(names, records=np.frombuffer(data, dtype=dtype, count=el.count, offset=offset))


def _skip_binary_element(data: bytes | bytearray | memoryview, offset: int, el: _Element,
                         order: str, name: str) -> int:
    """Offset just past a non-vertex element; list properties (faces) are walked row by row."""
    sizes = [np.dtype(p.count_dtype or p.dtype).itemsize for p in el.properties]  # row size with empty lists
    needed, present = el.count * sum(sizes), len(data) - offset
    if needed > present:
        raise _truncated(name, f"{el.count} {el.name} rows", needed, present)
    if all(p.count_dtype is None for p in el.properties):
        return offset + needed
    for _ in range(el.count):
        for p in el.properties:
            if p.count_dtype is None:
                offset += np.dtype(p.dtype).itemsize
                continue
            fmt = order + _STRUCT_CODES[p.count_dtype]
            if offset + struct.calcsize(fmt) > len(data):
                raise _truncated(name, f"{el.count} {el.name} rows", offset + struct.calcsize(fmt), len(data))
            (length,) = struct.unpack_from(fmt, data, offset)
            if length < 0:
                raise PercheadError(f"{name}: a {el.name} list has negative length {length}; the file is corrupt")
            offset += struct.calcsize(fmt) + length * np.dtype(p.dtype).itemsize
        if offset > len(data):
            raise _truncated(name, f"{el.count} {el.name} rows", offset, len(data))
    return offset


def _ascii_vertex_rows(data: bytes | bytearray | memoryview, offset: int, elements: list[_Element],
                       name: str) -> _VertexRows:
    """ASCII PLY puts one element row per line: skip rows of earlier elements, parse vertex rows."""
    lines = [ln for ln in bytes(data[offset:]).decode("latin-1").splitlines() if ln.strip()]
    start = 0
    for el in elements:
        if el.name == "vertex":
            break
        start += el.count
    if start + el.count > len(lines):
        raise PercheadError(f"{name} is truncated or corrupt: the header promises {el.count} vertices after "
                            f"{start} other rows but only {len(lines)} text rows are present; re-export it")
    try:
        table = np.loadtxt(lines[start:start + el.count], dtype=np.float64, comments=None, ndmin=2)  # [N, P]
    except ValueError as e:
        raise PercheadError(f"{name}: the ascii vertex rows are not all numbers; the file is corrupt") from e
    if table.shape != (el.count, len(el.properties)):
        raise PercheadError(f"{name}: ascii vertex rows have {table.shape[1]} values, "
                            f"expected {len(el.properties)}; the file is corrupt")
    return _VertexRows([p.name for p in el.properties], matrix=table)


def _to_gaussians(rows: _VertexRows, n: int, name: str) -> Gaussians:
    """Assemble vertex columns (any numeric type, any order) into validated float32 Gaussians."""
    def take(*names: str) -> torch.Tensor:  # [N, len(names)] float32
        return torch.from_numpy(rows.select(names, np.float32))

    k = 1 + sum(c.startswith("f_rest_") for c in rows.names) // 3
    rest = take(*(f"f_rest_{i}" for i in range(3 * (k - 1))))  # [N, 3*(K-1)] channel-major
    sh = torch.cat([take("f_dc_0", "f_dc_1", "f_dc_2")[:, None, :],
                    rest.reshape(n, 3, k - 1).transpose(1, 2)], dim=1)  # [N, K, 3]
    labels = rows.select(("label",), np.float64)[:, 0] if "label" in rows.names else None
    g = Gaussians(
        means=take("x", "y", "z"),
        quats=take("rot_0", "rot_1", "rot_2", "rot_3"),
        log_scales=take("scale_0", "scale_1", "scale_2"),
        opacity_logits=_saturated_opacities(take("opacity")[:, 0], name),
        sh=sh,
        labels=torch.from_numpy(_labels(labels, n, name)),
    )
    return g.validate(name)


def _saturated_opacities(logits: torch.Tensor, name: str) -> torch.Tensor:
    """Opacity logits [N] with +-inf (fully opaque / fully clear, as compressed formats quantise them) made the
    finite logit of the same opacity, with one warning giving the count. NaN stays, for validate to refuse."""
    inf = torch.isinf(logits)
    count = int(inf.sum())
    if count:
        log.warning("%s: %d of %d opacities are saturated (an infinite logit, as compressed splat formats write); "
                    "read as opacity 1 or 0", name, count, len(logits))
        logits = torch.where(inf, torch.sign(logits) * SATURATED_LOGIT, logits)
    return logits


def _labels(values: np.ndarray | None, n: int, name: str) -> np.ndarray:
    """Class ids [N] int64; absent -> 0 (files from other tools carry no labels)."""
    if values is None:
        return np.zeros(n, dtype=np.int64)
    with np.errstate(invalid="ignore"):  # NaN comparisons; NaN is counted as bad anyway
        bad = ~np.isfinite(values) | (values < 0) | (values >= _MAX_LABEL) | (values != np.round(values))
    count = int(bad.sum())
    if count:
        raise PercheadError(f"{name}: {count} of {n} labels are not whole class ids in 0..{_MAX_LABEL - 1}; "
                            "repair the label property or remove it")
    return values.astype(np.int64)
