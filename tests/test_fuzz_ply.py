"""Fuzzing ``models.io.ply.read_ply``: valid splat files in every layout, then broken on purpose.

Each case is a file a real tool could write (ascii or binary of either endianness, any property
order and numeric type, SH degree 0-3, extra properties and elements, CRLF, comments), then 0-3
mutations aimed at what readers get wrong: header lines (counts, types, formats, names), byte
flips in header and body, truncation, inserted and deleted bytes. The only outcomes allowed are
valid Gaussians or one PercheadError line; an unmutated file must read back exactly.
1,000 cases, derandomized so CI is reproducible.
"""
from __future__ import annotations

import struct

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.errors import PercheadError
from models.io.ply import read_ply

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CORE = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
        "rot_0", "rot_1", "rot_2", "rot_3"]
NP = {"float": "f4", "float32": "f4", "double": "f8", "float64": "f8", "char": "i1", "int8": "i1",
      "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
      "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4"}
FLOATS = ["float", "float", "float", "float32", "double", "float64"]
INTS = ["uchar", "char", "short", "ushort", "int", "uint", "int8", "uint8", "int16", "int32"]
FORMATS = ["ascii", "binary_little_endian", "binary_big_endian"]


def _column(ptype: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if NP[ptype][0] == "f":
        return rng.normal(0, 1, n).astype(np.float32).astype(np.float64)  # exact in float32
    info = np.iinfo(np.dtype(NP[ptype]))
    return rng.integers(max(info.min, -100), min(info.max, 100) + 1, n).astype(np.float64)


@st.composite
def valid_plys(draw) -> tuple[bytes, dict[str, np.ndarray], int]:
    """(file bytes, columns by name, vertex count) of a valid splat .ply. Hypothesis picks the
    layout; a seeded generator fills in per-property types and order (cheap to draw)."""
    fmt = draw(st.sampled_from(FORMATS))
    n = draw(st.integers(1, 6))
    degree = draw(st.sampled_from([0, 0, 1, 1, 2, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    names = CORE + [f"f_rest_{i}" for i in range(3 * ((degree + 1) ** 2 - 1))]
    if rng.random() < 0.5:
        names += ["nx", "ny", "nz"]
    label = draw(st.sampled_from([None, "float", "uchar", "int", "ushort"]))
    extras = [e for e in ("confidence", "red", "segment", "age") if rng.random() < 0.2]
    props = [(str(rng.choice(INTS)) if rng.random() < 0.1 else str(rng.choice(FLOATS)), nm) for nm in names + extras]
    if label:
        props.append((label, "label"))
    props = [props[i] for i in (rng.permutation(len(props)) if rng.random() < 0.7 else range(len(props)))]
    cols = {nm: _column(t, n, rng) for t, nm in props}
    if label:
        cols["label"] = rng.integers(0, 15, n).astype(np.float64)
    before = draw(st.sampled_from([None, None, "face", "camera"]))
    after = draw(st.sampled_from([None, None, "face", "camera"]))
    eol = "\r\n" if rng.random() < 0.2 else "\n"
    return _encode(fmt, props, cols, n, before, after, eol), cols, n


def _extra_element(kind: str, fmt: str, order: str) -> tuple[list[str], bytes, list[str]]:
    """Header lines, binary body and ascii rows of an element that is not ``vertex``."""
    if kind == "face":
        rows = [(3, 0, 1, 2), (4, 2, 1, 0, 3)]
        header = ["element face 2", "property list uchar int vertex_indices"]
        binary = b"".join(struct.pack(f"{order}B{len(r) - 1}i", *r) for r in rows)
    else:
        rows = [(1.5, -2.0, 7)]
        header = ["element camera 1", "property float fx", "property double fy", "property ushort w"]
        binary = struct.pack(f"{order}fdH", *rows[0])
    return header, binary, [" ".join(str(v) for v in r) for r in rows]


def _encode(fmt: str, props: list[tuple[str, str]], cols: dict[str, np.ndarray], n: int,
            before: str | None, after: str | None, eol: str) -> bytes:
    order = ">" if fmt == "binary_big_endian" else "<"
    lines = ["ply", f"format {fmt} 1.0", "comment fuzz seed", "obj_info generated"]
    parts_before = _extra_element(before, fmt, order) if before else ([], b"", [])
    parts_after = _extra_element(after, fmt, order) if after else ([], b"", [])
    lines += parts_before[0] + [f"element vertex {n}"] + [f"property {t} {nm}" for t, nm in props]
    lines += parts_after[0] + ["end_header"]
    head = (eol.join(lines) + eol).encode()
    if fmt == "ascii":
        rows = [" ".join(repr(float(cols[nm][i])) if NP[t][0] == "f" else str(int(cols[nm][i])) for t, nm in props)
                for i in range(n)]
        return head + (eol.join(parts_before[2] + rows + parts_after[2]) + eol).encode()
    rec = np.zeros(n, dtype=[(nm, order + NP[t]) for t, nm in props])
    for _, nm in props:
        rec[nm] = cols[nm]
    return head + parts_before[1] + rec.tobytes() + parts_after[1]


HEADER_LINES = [
    "element vertex 0", "element vertex -1", "element vertex 99999999999999999999", "element vertex 1e3",
    "element vertex", "element face 1000000000", "element vertex 2", "element vertex 7",
    "property float", "property quad x", "property list uchar float x", "property list float int x",
    "property float x", "property float label", "property uchar label", "property double opacity",
    "property float f_rest_0", "property float f_rest_44", "format ascii 1.0", "format binary_big_endian 1.0",
    "format binary_little_endian 2.0", "format binary_middle_endian 1.0", "format", "end_header", "ply",
    "comment \xff\xfe", "", " ", "\t", "element \x00 3", "property float x\rproperty float y",
]


@st.composite
def mutate(draw, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        end = data.find(b"end_header")
        body = end + len("end_header") if end >= 0 else len(data)
        kind = draw(st.sampled_from(["header_line", "header_line", "header_line", "count", "count", "flip_header",
                                     "flip_body", "flip_body", "truncate", "truncate_header", "insert", "delete",
                                     "magic"]))
        if kind == "header_line":
            lines = bytes(data[:body]).split(b"\n")
            i = draw(st.integers(min(1, len(lines) - 1), len(lines) - 1))  # line 0 ("ply") is one case, below
            choice = draw(st.sampled_from(["replace", "insert", "delete", "duplicate"]))
            new = draw(st.sampled_from(HEADER_LINES)).encode("latin-1")
            if choice == "replace":
                lines[i] = new
            elif choice == "insert":
                lines.insert(i, new)
            elif choice == "delete" and len(lines) > 1:
                del lines[i]
            else:
                lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines)) + data[body:]
        elif kind == "count":  # off-by-a-few vertex count: the classic truncated-export mismatch
            head = bytes(data[:body])
            at = head.find(b"element vertex ")
            if at >= 0:
                stop = head.find(b"\n", at)
                stop = len(head) if stop < 0 else stop
                digits = head[at + 15:stop].strip(b"\r")
                value = int(digits) if digits.isdigit() else 1
                value = max(0, value + draw(st.sampled_from([-2, -1, 1, 2, 1000, 2**31, 2**62])))
                data = bytearray(head[:at + 15] + str(value).encode() + head[stop:]) + data[body:]
        elif kind in ("flip_header", "flip_body") and data:
            lo, hi = (min(4, len(data) - 1), max(0, body - 1)) if kind == "flip_header" else \
                (min(body, len(data) - 1), len(data) - 1)
            i = draw(st.integers(lo, hi))
            data[i] = draw(st.sampled_from([0, 255, 10, 13, 32, 0x7F, 0x80, data[i] ^ 1, data[i] ^ 0x40]))
        elif kind == "truncate":  # mostly inside the body: a half-copied download
            data = data[: draw(st.integers(min(body, len(data)), len(data)))]
        elif kind == "truncate_header":
            data = data[: draw(st.integers(0, min(body, len(data))))]
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.sampled_from([b"\n", b"\r\n", b" ", b"\x00", b"nan ", b"1e39 ", b"-", b"\xff" * 4]))
        elif kind == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i: i + draw(st.integers(1, 8))]
        elif kind == "magic":  # not a PLY at all: another format's bytes, or random ones
            data = bytearray(draw(st.sampled_from([b"", b"PLY\n", b"ply", b"\xef\xbb\xbfply\n", b"PK\x03\x04",
                                                   b"\x89PNG\r\n\x1a\n"]))) + data[3:]
    return bytes(data)


def only_gaussians_or_one_line(data: bytes):
    try:
        g = read_ply(data)
    except PercheadError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        return None
    n = len(g)
    assert n > 0 and g.means.shape == (n, 3) and g.quats.shape == (n, 4) and g.sh.shape[0] == n
    for t in (g.means, g.quats, g.log_scales, g.opacity_logits, g.sh):
        assert t.dtype == torch.float32 and bool(torch.isfinite(t).all())
    assert g.labels.dtype == torch.long and int(g.labels.min()) >= 0
    return g


@FUZZ
@given(st.data())
def test_fuzz_ply_reader(data) -> None:
    raw, cols, n = data.draw(valid_plys())
    if data.draw(st.integers(0, 9)) == 0:  # the valid file itself must read back exactly
        g = only_gaussians_or_one_line(raw)
        assert g is not None and len(g) == n
        expected = np.stack([cols["x"], cols["y"], cols["z"]], 1).astype(np.float32)
        np.testing.assert_array_equal(g.means.numpy(), expected)
        if "label" in cols:
            np.testing.assert_array_equal(g.labels.numpy(), cols["label"].astype(np.int64))
        return
    only_gaussians_or_one_line(data.draw(mutate(raw)))
