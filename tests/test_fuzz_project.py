"""Fuzzing ``perchead_gui.project.load_project``: real project files, then broken on purpose.

Seeds are projects the app saves (with and without a style image). Mutations understand zip:
fields of local headers, the central directory and its end record (sizes, CRC, method, flags,
name and extra lengths, offsets, entry counts) set to interesting values; members rebuilt with
project.json fields of the wrong type or value, map.png / style.png edited chunk by chunk (CRCs
fixed, see test_fuzz_segmap.py), other compression methods, duplicate, extra, missing and
path-traversal names; plus byte flips and truncation. About one case in ten goes through a real file
(``load_project``), the rest through the same parser in memory. The only outcomes allowed are a
project that saves again, or one PercheadError line. 1,000 cases, derandomized for CI.
"""
from __future__ import annotations

import atexit
import io
import json
import shutil
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.errors import PercheadError
from perchead_gui.project import Project, load_project, project_bytes, project_from_bytes
from tests.test_fuzz_segmap import mutate_png

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_TMP = Path(tempfile.mkdtemp(prefix="fuzz_project_"))
atexit.register(shutil.rmtree, _TMP, True)


def _seed(style: bool) -> bytes:
    rng = np.random.default_rng(3)
    return project_bytes(Project(
        rng.integers(0, 15, (24, 24), dtype=np.uint8), prompt="curly red hair, 眼鏡 👓",
        style_mode="image" if style else "text",
        style_image=rng.integers(0, 256, (10, 7, 4), dtype=np.uint8) if style else None,
        camera={"yaw": 10.0, "pitch": -5.0}, settings={"view": "rgb", "brush": 12}))


SEEDS = [_seed(True), _seed(False)]

# zip record signature -> {field: (offset from the signature, struct format)}
ZIP_FIELDS = {
    b"PK\x03\x04": {"version": (4, "<H"), "flags": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"),
                    "csize": (18, "<I"), "usize": (22, "<I"), "name_len": (26, "<H"), "extra_len": (28, "<H")},
    b"PK\x01\x02": {"made_by": (4, "<H"), "flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
                    "csize": (20, "<I"), "usize": (24, "<I"), "name_len": (28, "<H"), "extra_len": (30, "<H"),
                    "comment_len": (32, "<H"), "disk": (34, "<H"), "attrs": (38, "<I"), "offset": (42, "<I")},
    b"PK\x05\x06": {"disk": (4, "<H"), "cd_disk": (6, "<H"), "entries_here": (8, "<H"), "entries": (10, "<H"),
                    "cd_size": (12, "<I"), "cd_offset": (16, "<I"), "comment_len": (20, "<H")},
}
VALUES = {"<H": [0, 1, 8, 9, 12, 14, 99, 0x7FFF, 0xFFFF], "<I": [0, 1, 100, 2**20, 2**31 - 1, 0xFFFFFFFF]}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
FIELDS = ["format", "version", "prompt", "style_mode", "camera", "settings", "created_by"]
NAMES = ["project.json", "map.png", "style.png", "../evil.png", "/abs/map.png", "map.png/", "thumb.png", "MAP.PNG"]


@st.composite
def zip_field_edit(draw, data: bytes) -> bytes:
    """Set one field of one zip record to an interesting value (or off by one)."""
    data = bytearray(data)
    sig = draw(st.sampled_from(sorted(ZIP_FIELDS)))
    where = [i for i in range(len(data) - 3) if data[i:i + 4] == sig]
    if not where:
        return bytes(data)
    at = draw(st.sampled_from(where))
    name, (off, fmt) = draw(st.sampled_from(sorted(ZIP_FIELDS[sig].items())))
    if at + off + struct.calcsize(fmt) > len(data):
        return bytes(data)
    (old,) = struct.unpack_from(fmt, data, at + off)
    limit = 0xFFFF if fmt == "<H" else 0xFFFFFFFF
    new = draw(st.sampled_from(VALUES[fmt] + [max(0, old - 1), min(limit, old + 1)]))
    struct.pack_into(fmt, data, at + off, new)
    return bytes(data)


@st.composite
def rebuilt(draw, seed: bytes) -> bytes:
    """The seed's members, edited and re-zipped (a well-formed zip with bad content)."""
    with zipfile.ZipFile(io.BytesIO(seed)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    meta = json.loads(members["project.json"])
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["set", "set", "drop"]))
        key = draw(st.sampled_from(FIELDS + ["x"]))
        if how == "set":
            meta[key] = draw(JSON_VALUES | st.sampled_from(["perchead-project", 1, 2, "text", "image", 1e308]))
        else:
            meta.pop(key, None)
    members["project.json"] = json.dumps(meta).encode() if draw(st.integers(0, 9)) else draw(st.sampled_from(
        [b"", b"{", b"[]", b"\xff\xfe{}", b'{"format": "perchead-project", "version": 1e999}',
         b"[" * 5000 + b"]" * 5000]))
    for name in ("map.png", "style.png"):
        if name in members and draw(st.booleans()):
            members[name] = draw(mutate_png(members[name]))
    entries = list(members.items())
    for _ in range(draw(st.integers(0, 2))):
        how = draw(st.sampled_from(["drop", "dup", "extra", "rename"]))
        if how == "drop" and entries:
            del entries[draw(st.integers(0, len(entries) - 1))]
        elif how == "dup" and entries:
            entries.append(entries[draw(st.integers(0, len(entries) - 1))])
        elif how == "extra":
            entries.append((draw(st.sampled_from(NAMES)), draw(st.binary(max_size=32))))
        elif how == "rename" and entries:
            i = draw(st.integers(0, len(entries) - 1))
            entries[i] = (draw(st.sampled_from(NAMES)), entries[i][1])
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", method) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, payload in entries:
            zf.writestr(zipfile.ZipInfo(name), payload, compress_type=method)
    return buf.getvalue()


@st.composite
def project_files(draw) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    kind = draw(st.sampled_from(["members", "members", "members", "zip_fields", "zip_fields", "flip",
                                 "truncate", "valid"]))
    if kind == "valid":
        return seed
    if kind == "members":
        return draw(rebuilt(seed))
    data = seed
    for _ in range(draw(st.integers(1, 3))):
        if kind == "zip_fields":
            data = draw(zip_field_edit(data))
        elif kind == "flip" and data:
            raw = bytearray(data)
            raw[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
            data = bytes(raw)
        else:
            data = data[: draw(st.integers(0, len(data)))]
    return data


@FUZZ
@given(data=project_files(), through_file=st.integers(0, 9))
def test_fuzz_project_loader(data: bytes, through_file: int) -> None:
    try:
        if through_file == 7:  # about one case in ten goes through a real file
            path = _TMP / "fuzzed.perchead"
            path.write_bytes(data)
            out = load_project(path)
        else:
            out = project_from_bytes(data, "project fuzzed.perchead")
    except PercheadError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        return
    assert isinstance(out, Project) and out.labels.dtype == np.uint8
    assert out.labels.ndim == 2 and out.labels.shape[0] == out.labels.shape[1] and int(out.labels.max()) < 15
    assert out.style_image is None or (out.style_image.ndim == 3 and out.style_image.shape[2] == 4)
    project_bytes(out)  # whatever loads must save again
