"""Fuzzing ``models.io.segmap.load_segmap``: real image files of every kind, then broken on purpose.

Seeds are PNGs in every mode a painting tool or face parser writes (1, L, LA, P with and without
tRNS, RGB, RGBA, 16-bit, 32-bit), plus JPEG, GIF, BMP, TIFF and WebP. Mutations understand PNG:
IHDR fields (size, bit depth, colour type, interlace), PLTE / tRNS / IDAT edits and unknown
chunks, with the CRC recomputed so the decoder goes past its checksum into the real parsing;
also raw byte flips and truncation. Sources come as bytes, as a file path, or as arrays of odd
shapes and types, with every ``labels`` mode and output size. The only outcomes allowed are a
valid map or one PercheadError line. 1,000 cases, derandomized so CI is reproducible.
"""
from __future__ import annotations

import atexit
import io
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from models.errors import PercheadError
from models.palette import NUM_CLASSES, palette
from models.io.segmap import load_segmap

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TMP = Path(tempfile.mkdtemp(prefix="fuzz_segmap_"))
atexit.register(shutil.rmtree, _TMP, True)


# ----- PNG chunks, for mutations that keep the file parseable -------------------------------

def png_chunks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """[(type, payload)] of a PNG, or None when the bytes are not a well-formed PNG."""
    if not data.startswith(PNG_MAGIC):
        return None
    out, i = [], len(PNG_MAGIC)
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        out.append((kind, data[i + 8:i + 8 + length]))
        i += 12 + length
    return out


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """Reassemble with correct lengths and CRCs, so the decoder parses whatever we put in."""
    return PNG_MAGIC + b"".join(struct.pack(">I", len(p)) + k + p + struct.pack(">I", zlib.crc32(k + p))
                                for k, p in chunks)


IHDR_FIELDS = {  # field -> (struct offset, format, interesting values)
    "width": (0, ">I", [0, 1, 2, 3, 8191, 9000, 2**31 - 1, 2**32 - 1]),
    "height": (4, ">I", [0, 1, 2, 5, 8191, 9000, 2**31 - 1, 2**32 - 1]),
    "bit_depth": (8, ">B", [0, 1, 2, 3, 4, 8, 16, 32]),
    "colour_type": (9, ">B", [0, 1, 2, 3, 4, 5, 6, 7]),
    "compression": (10, ">B", [0, 1]),
    "filter": (11, ">B", [0, 1]),
    "interlace": (12, ">B", [0, 1, 2]),
}
ODD_CHUNKS = [b"abCD", b"ABCD", b"tEXt", b"zTXt", b"iCCP", b"pHYs", b"acTL", b"fcTL", b"eXIf", b"sBIT", b"IEND"]


@st.composite
def mutate_png(draw, data: bytes) -> bytes:
    """1-3 structure-aware edits of a PNG (CRCs fixed), or raw damage for other bytes."""
    chunks = png_chunks(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["ihdr", "ihdr", "idat", "idat", "plte", "trns", "chunk", "drop", "dup",
                                     "raw_flip", "truncate"]))
        if chunks is None or kind in ("raw_flip", "truncate"):
            raw = bytearray(png_from_chunks(chunks) if chunks is not None else data)
            if kind == "truncate" or not raw:
                raw = raw[: draw(st.integers(0, len(raw)))]
            else:
                i = draw(st.integers(0, len(raw) - 1))
                raw[i] ^= draw(st.integers(1, 255))
            return bytes(raw)
        idx = {k: i for i, (k, _) in reversed(list(enumerate(chunks)))}
        if kind == "ihdr" and b"IHDR" in idx:
            field, (off, fmt, values) = draw(st.sampled_from(sorted(IHDR_FIELDS.items())))
            payload = bytearray(chunks[idx[b"IHDR"]][1].ljust(13, b"\0"))
            struct.pack_into(fmt, payload, off, draw(st.sampled_from(values)))
            chunks[idx[b"IHDR"]] = (b"IHDR", bytes(payload))
        elif kind == "idat" and b"IDAT" in idx:
            payload = bytearray(chunks[idx[b"IDAT"]][1])
            how = draw(st.sampled_from(["flip", "cut", "recompress", "empty", "split"]))
            if how == "flip" and payload:
                payload[draw(st.integers(0, len(payload) - 1))] ^= draw(st.integers(1, 255))
            elif how == "cut":
                payload = payload[: draw(st.integers(0, len(payload)))]
            elif how == "recompress":  # a valid zlib stream of the wrong length: rows too short or too long
                raw = zlib.decompress(bytes(payload)) if _inflates(payload) else b""
                payload = bytearray(zlib.compress(raw[: draw(st.integers(0, len(raw)))] + b"\0" * draw(
                    st.sampled_from([0, 0, 1, 7, 300]))))
            elif how == "empty":
                payload = bytearray()
            else:
                half = len(payload) // 2
                chunks.insert(idx[b"IDAT"] + 1, (b"IDAT", bytes(payload[half:])))
                payload = payload[:half]
            chunks[idx[b"IDAT"]] = (b"IDAT", bytes(payload))
        elif kind == "plte":
            entries = draw(st.sampled_from([0, 1, 2, 15, 256, 257]))
            plte = (b"PLTE", draw(st.binary(min_size=entries * 3, max_size=entries * 3 + 2)))
            at = idx.get(b"PLTE", idx.get(b"IDAT", 1))
            if b"PLTE" in idx:
                chunks[at] = plte
            else:
                chunks.insert(at, plte)
        elif kind == "trns":
            trns = (b"tRNS", draw(st.binary(max_size=300)))
            if b"tRNS" in idx:
                chunks[idx[b"tRNS"]] = trns
            else:
                chunks.insert(idx.get(b"IDAT", 1), trns)
        elif kind == "chunk":
            chunks.insert(draw(st.integers(1, len(chunks))), (draw(st.sampled_from(ODD_CHUNKS)),
                                                              draw(st.binary(max_size=64))))
        elif kind == "drop" and len(chunks) > 1:
            del chunks[draw(st.integers(0, len(chunks) - 1))]
        elif kind == "dup" and chunks:
            i = draw(st.integers(0, len(chunks) - 1))
            chunks.insert(i, chunks[i])
    return png_from_chunks(chunks) if chunks is not None else data


def _inflates(payload: bytes | bytearray) -> bool:
    try:
        zlib.decompress(bytes(payload))
    except zlib.error:
        return False
    return True


# ----- seeds -----------------------------------------------------------------------------------

MODES = ["1", "L", "LA", "P", "P+tRNS", "RGB", "RGBA", "I;16", "I"]


@st.composite
def seed_images(draw) -> Image.Image:
    mode = draw(st.sampled_from(MODES))
    w, h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    content = draw(st.sampled_from(["classes", "small", "any"]))
    ids = rng.integers(0, NUM_CLASSES, (h, w)).astype(np.uint8)
    if content == "small":
        ids = rng.integers(0, 20, (h, w)).astype(np.uint8)
    if mode in ("RGB", "RGBA"):
        rgb = palette().colorize(ids % NUM_CLASSES) if content == "classes" else rng.integers(0, 256, (h, w, 3),
                                                                                             dtype=np.uint8)
        if mode == "RGB":
            return Image.fromarray(rgb, "RGB")
        alpha = rng.choice(np.array([0, 128, 255], np.uint8), (h, w))
        return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    if mode.startswith("P"):
        img = Image.fromarray(ids if content != "any" else rng.integers(0, 256, (h, w)).astype(np.uint8), "P")
        pal = palette().colors.astype(np.uint8).tobytes() if content == "classes" else rng.bytes(768)
        img.putpalette(pal)
        if mode == "P+tRNS":
            img.info["transparency"] = int(rng.integers(0, 16))
        return img
    if mode == "1":
        return Image.fromarray(rng.integers(0, 2, (h, w)).astype(bool))
    if mode == "LA":
        return Image.fromarray(np.dstack([ids, rng.choice(np.array([0, 255], np.uint8), (h, w))]), "LA")
    if mode == "I;16":
        return Image.fromarray(ids.astype(np.uint16) * (1 if content != "any" else 4099))
    if mode == "I":  # 32-bit: PNG cannot hold it, so it reaches the loader as an image object
        return Image.fromarray(ids.astype(np.int32) * (1 if content != "any" else -7))
    return Image.fromarray(ids, "L")


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "PNG":
        params = {"compress_level": 0 if img.size[0] % 2 else 6}  # stored blocks: IDAT flips hit pixels
        if "transparency" in img.info:
            params["transparency"] = img.info["transparency"]
        img.save(buf, "PNG", **params)
    else:
        conv = img.convert("RGB") if fmt in ("JPEG",) or img.mode in ("I;16", "I", "LA") else img
        conv.save(buf, fmt)
    return buf.getvalue()


ARRAY_SHAPES = [(3, 4), (5, 5, 1), (2, 6, 3), (4, 4, 4), (0, 3), (3, 3, 2), (2, 2, 2, 2), (1, 9000)]
ARRAY_TYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int64, np.float32, np.float64, bool]


@st.composite
def sources(draw):
    kind = draw(st.sampled_from(["png", "png", "png", "png", "png_path", "other_format", "array", "image"]))
    if kind == "array":
        shape = draw(st.sampled_from(ARRAY_SHAPES))
        size = int(np.prod(shape))
        values = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(-3, 300, size)
        arr = values.reshape(shape).astype(draw(st.sampled_from(ARRAY_TYPES)))
        if arr.dtype.kind == "f" and arr.size and draw(st.booleans()):
            arr.flat[0] = draw(st.sampled_from([np.nan, np.inf, 0.5, 1e300]))
        return arr
    img = draw(seed_images())
    if kind == "image":
        return img
    fmt = draw(st.sampled_from(["JPEG", "GIF", "BMP", "TIFF", "WEBP"])) if kind == "other_format" else "PNG"
    try:
        data = encode(img, fmt)
    except OSError:  # a mode that format cannot hold: feed the image itself
        return img
    if draw(st.integers(0, 5)):
        data = draw(mutate_png(data))
    if kind == "png_path":
        path = _TMP / "map.png"
        path.write_bytes(data)
        return path
    return data


@FUZZ
@given(source=sources(), labels=st.sampled_from(["auto", "auto", "palette", "index", "celebamask"]),
       size=st.sampled_from([None, 1, 7, 64]))
def test_fuzz_segmap_loader(source, labels: str, size: int | None) -> None:
    try:
        out = load_segmap(source, labels=labels, size=size)
    except PercheadError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        return
    side = size or 256
    assert out.labels.dtype == np.uint8 and out.labels.shape == (side, side)
    assert int(out.labels.max()) < NUM_CLASSES
    assert all(isinstance(w, str) and w and "\n" not in w for w in out.warnings)
