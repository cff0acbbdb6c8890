"""Seg map loading: every accepted form gives class ids, every bad input one PercheadError line."""
from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from models.errors import PercheadError
from models.palette import NUM_CLASSES, palette
from models.io.segmap import MAX_SIDE, SegMap, load_segmap, save_segmap, segmap_png_bytes, segmap_to_rgb

CELEBAMASK_EXPECTED = [0, 1, 4, 4, 3, 3, 13, 5, 5, 5, 2, 6, 7, 8, 11, 11, 12, 9, 14]


def png(img: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **params)
    return buf.getvalue()


def one_line_error(source, **kw) -> str:
    with pytest.raises(PercheadError) as info:
        load_segmap(source, **kw)
    msg = str(info.value)
    assert msg and "\n" not in msg
    return msg


def random_labels(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, NUM_CLASSES, (h, w), dtype=np.uint8)


# ----- colours -------------------------------------------------------------------------------

def test_exact_palette_colours_round_trip(tmp_path) -> None:
    labels = random_labels(32, 32)
    path = tmp_path / "map.png"
    Image.fromarray(palette().colorize(labels), "RGB").save(path)
    out = load_segmap(path, size=32)
    assert isinstance(out, SegMap) and out.warnings == []
    assert out.labels.dtype == np.uint8
    np.testing.assert_array_equal(out.labels, labels)
    np.testing.assert_array_equal(load_segmap(str(path), labels="palette", size=32).labels, labels)


def test_off_palette_colours_map_to_nearest_with_one_warning() -> None:
    pal = palette()
    labels = random_labels(100, 100, seed=1)
    rgb = pal.colorize(labels).copy()
    rng = np.random.default_rng(2)
    flat = rng.choice(100 * 100, size=321, replace=False)
    ys, xs = np.unravel_index(flat, (100, 100))
    # Nudge within half the smallest palette gap, so the nearest class is the painted one.
    rgb[ys, xs] = np.clip(rgb[ys, xs].astype(int) + rng.choice([-9, 9], size=(321, 3)), 0, 255)
    off = int((rgb != pal.colorize(labels)).any(-1).sum())
    out = load_segmap(rgb, size=100)
    np.testing.assert_array_equal(out.labels, labels)
    assert len(out.warnings) == 1
    share = f"{100 * off / 10000:.1f}%"
    assert out.warnings[0].startswith(f"{share} of pixels ({off:,} of 10,000) were not palette colours")
    assert "nearest class" in out.warnings[0]


def test_tiny_share_is_not_rounded_to_zero() -> None:
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[0, 0] = (1, 2, 3)
    (warning,) = load_segmap(rgb, size=200).warnings
    assert warning.startswith("<0.1% of pixels (1 of 40,000)")


def test_jpeg_is_read_as_nearest_colours() -> None:
    labels = np.zeros((64, 64), np.uint8)
    labels[16:48, 16:48] = 1
    buf = io.BytesIO()
    Image.fromarray(palette().colorize(labels)).save(buf, "JPEG", quality=90)
    out = load_segmap(buf.getvalue(), size=64)
    assert (out.labels == labels).mean() > 0.95
    assert len(out.warnings) == 1


# ----- label-index maps ----------------------------------------------------------------------

def test_index_png_auto_and_explicit(tmp_path) -> None:
    labels = random_labels(20, 20, seed=3)
    path = tmp_path / "index.png"
    Image.fromarray(labels, "L").save(path)
    for mode in ("auto", "index"):
        out = load_segmap(path, labels=mode, size=20)
        np.testing.assert_array_equal(out.labels, labels)
        assert out.warnings == []


def test_celebamask_maps_every_label() -> None:
    values = np.repeat(np.arange(19, dtype=np.uint8)[:, None], 19, axis=1)  # row i = label i
    out = load_segmap(png(Image.fromarray(values, "L")), labels="celebamask", size=19)
    assert out.labels[:, 0].tolist() == CELEBAMASK_EXPECTED
    assert (out.labels == out.labels[:, :1]).all()


def test_auto_refuses_celebamask_range_with_hint() -> None:
    values = np.repeat(np.arange(19, dtype=np.uint8)[:, None], 4, axis=1)
    msg = one_line_error(png(Image.fromarray(values, "L")))
    assert "--labels celebamask" in msg


def test_auto_reads_celebamask_like_values_within_0_14_as_our_ids() -> None:
    values = np.full((4, 4), 14, np.uint8)
    assert (load_segmap(values, size=4).labels == 14).all()


@pytest.mark.parametrize("labels, values, named", [
    ("auto", [0, 20, 255], "20, 255"),
    ("index", [0, 15, 16], "15, 16"),
    ("celebamask", [0, 19, 40], "19, 40"),
])
def test_out_of_range_labels_are_named(labels, values, named) -> None:
    arr = np.array([values * 3] * 9, dtype=np.uint8)
    msg = one_line_error(png(Image.fromarray(arr, "L")), labels=labels)
    assert named in msg


def test_negative_and_many_bad_values_are_named() -> None:
    assert "-3" in one_line_error(np.array([[0, -3], [1, 2]], np.int32))
    many = np.arange(100, 130, dtype=np.int32).reshape(5, 6)
    assert "and 22 more" in one_line_error(many)


def test_sixteen_bit_index_png(tmp_path) -> None:
    labels = random_labels(10, 10, seed=4).astype(np.uint16)
    img = Image.fromarray(labels)
    assert img.mode == "I;16"
    path = tmp_path / "sixteen.png"
    img.save(path)
    np.testing.assert_array_equal(load_segmap(path, size=10).labels, labels)
    labels[0, 0] = 300
    Image.fromarray(labels).save(path)
    assert "300" in one_line_error(path)


def test_integral_float_maps_only() -> None:
    assert (load_segmap(np.full((3, 3), 2.0, np.float32), size=3).labels == 2).all()
    assert "non-integer" in one_line_error(np.full((3, 3), 2.5))
    assert "non-integer" in one_line_error(np.full((3, 3), np.nan))
    assert "far outside" in one_line_error(np.full((3, 3), 1e30))


def test_grey_rgb_label_map_is_read_as_index() -> None:
    labels = random_labels(8, 8, seed=5)
    out = load_segmap(np.repeat(labels[..., None], 3, axis=2), size=8)
    np.testing.assert_array_equal(out.labels, labels)
    assert len(out.warnings) == 1 and "label-index" in out.warnings[0]


def test_mode_mismatches_are_refused() -> None:
    rgb = palette().colorize(random_labels(4, 4, seed=6))
    assert "--labels palette" in one_line_error(rgb, labels="index")
    assert "--labels index" in one_line_error(np.zeros((4, 4), np.uint8), labels="palette")


# ----- alpha and paletted --------------------------------------------------------------------

def test_rgba_transparent_pixels_are_background() -> None:
    pal = palette()
    labels = np.ones((10, 10), np.uint8)
    rgba = np.concatenate([pal.colorize(labels), np.full((10, 10, 1), 255, np.uint8)], axis=2)
    rgba[:5, :, :3] = (255, 0, 0)   # upper_lip colour...
    rgba[:5, :, 3] = 0              # ...but fully transparent
    rgba[5, :, 3] = 100             # partial alpha keeps its colour
    out = load_segmap(png(Image.fromarray(rgba, "RGBA")), size=10)
    assert (out.labels[:5] == 0).all() and (out.labels[5:] == 1).all()
    assert out.warnings == ["50.0% of pixels were transparent and were read as background"]


def test_opaque_rgba_has_no_warning() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    assert load_segmap(rgba, size=4).warnings == []


def _paletted(indices: np.ndarray, colours: list[tuple[int, int, int]]) -> Image.Image:
    img = Image.fromarray(indices.astype(np.uint8), "P")
    img.putpalette([v for c in colours for v in c])
    return img


def test_p_mode_in_class_colours_reads_colours() -> None:
    # Palette order differs from class ids: indices are not labels here.
    order = [9, 0, 3, 1]
    indices = np.random.default_rng(7).integers(0, 4, (12, 12))
    img = _paletted(indices, [tuple(palette().colors[k]) for k in order])
    out = load_segmap(png(img), size=12)
    np.testing.assert_array_equal(out.labels, np.array(order)[indices])
    assert out.warnings == []


def test_p_mode_label_map_with_visualisation_palette() -> None:
    vis = [(0, 0, 0), (204, 0, 0), (76, 153, 0), (204, 204, 0), (51, 51, 255)]
    indices = np.random.default_rng(8).integers(0, 5, (12, 12))
    data = png(_paletted(indices, vis))
    np.testing.assert_array_equal(load_segmap(data, labels="index", size=12).labels, indices)
    np.testing.assert_array_equal(load_segmap(data, labels="celebamask", size=12).labels,
                                  np.array(CELEBAMASK_EXPECTED)[indices])
    auto = load_segmap(data, size=12)
    assert len(auto.warnings) == 1 and "--labels index" in auto.warnings[0]


def test_p_mode_grey_palette_reads_grey_levels() -> None:
    indices = np.random.default_rng(9).integers(0, 15, (12, 12))
    out = load_segmap(png(_paletted(indices, [(i, i, i) for i in range(256)])), size=12)
    np.testing.assert_array_equal(out.labels, indices)


def test_p_mode_transparency_is_background() -> None:
    indices = np.zeros((4, 4), np.uint8)
    indices[:2] = 1
    img = _paletted(indices, [(255, 255, 0), (255, 0, 0)])
    out = load_segmap(png(img, transparency=1), size=4)
    assert (out.labels[:2] == 0).all() and (out.labels[2:] == 9).all()
    assert any("transparent" in w for w in out.warnings)


def test_grey_alpha_png() -> None:
    la = np.zeros((4, 4, 2), np.uint8)
    la[..., 0], la[..., 1] = 200, 0   # out-of-range values, but all transparent
    la[0, 0] = (3, 255)
    out = load_segmap(png(Image.fromarray(la, "LA")), size=4)
    assert out.labels[0, 0] == 3 and out.labels.sum() == 3


# ----- geometry ------------------------------------------------------------------------------

def test_non_square_is_padded_centred_with_warning() -> None:
    wide = np.full((2, 5), 9, np.uint8)   # H=2, W=5 -> 5x5, content rows 1-2
    out = load_segmap(wide, size=5)
    assert out.labels[1:3].tolist() == [[9] * 5] * 2
    assert (out.labels[[0, 3, 4]] == 0).all()
    assert out.warnings == ["the map is 5x2 px, not square: padded with background to 5x5 (centred)"]
    tall = load_segmap(np.full((6, 2), 9, np.uint8), size=6).labels
    assert (tall[:, 2:4] == 9).all() and (tall[:, [0, 1, 4, 5]] == 0).all()


def test_nearest_resampling_keeps_palette_ids_only() -> None:
    labels = random_labels(37, 37, seed=10)
    up = load_segmap(labels).labels
    assert up.shape == (256, 256) and up.dtype == np.uint8
    assert set(np.unique(up)) <= set(np.unique(labels))
    big = random_labels(512, 512, seed=11)
    down = load_segmap(palette().colorize(big), size=256).labels
    np.testing.assert_array_equal(down, big[1::2, 1::2])  # pixel centres of a 2x shrink


def test_resampling_warns_when_a_class_vanishes() -> None:
    labels = np.ones((512, 512), np.uint8)
    labels[100] = 3  # one even row: a 2x shrink samples odd rows only
    out = load_segmap(labels, size=256)
    assert not (out.labels == 3).any()
    assert out.warnings == ["resampling 512 px to 256 px dropped classes too thin to survive: eyes"]


def test_one_pixel_map_is_accepted() -> None:
    out = load_segmap(png(Image.new("RGB", (1, 1), (255, 255, 0))))
    assert out.labels.shape == (256, 256) and (out.labels == 9).all() and out.warnings == []


# ----- bad input -----------------------------------------------------------------------------

def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size (no pixel data): enough for Image.open's checks."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_missing_folder_empty_and_non_image_files(tmp_path) -> None:
    assert "not found" in one_line_error(tmp_path / "nope.png")
    assert "folder" in one_line_error(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in one_line_error(tmp_path / "empty.png")
    (tmp_path / "notes.png").write_text("not an image at all\n")
    assert "not an image" in one_line_error(tmp_path / "notes.png")
    assert "empty" in one_line_error(b"")


def test_truncated_and_corrupt_images(tmp_path) -> None:
    noise = np.random.default_rng(12).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = png(Image.fromarray(noise))
    assert "truncated or corrupt" in one_line_error(data[: len(data) // 2])
    broken = bytearray(data)
    broken[len(data) // 2] ^= 0xFF   # bad CRC / zlib stream mid-file
    path = tmp_path / "broken.png"
    path.write_bytes(bytes(broken))
    assert "corrupt" in one_line_error(path)


def test_empty_images_and_arrays() -> None:
    assert "empty" in one_line_error(Image.new("RGB", (0, 0)))
    assert "empty" in one_line_error(np.zeros((0, 5), np.uint8))
    assert "empty" in one_line_error(np.zeros((5, 0, 3), np.uint8))


def test_decompression_bomb_is_refused(monkeypatch) -> None:
    assert "too large to decode safely" in one_line_error(_png_header_only(100_000, 100_000))
    small = png(Image.new("RGB", (64, 64)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert "too large to decode safely" in one_line_error(small)


def test_oversized_maps_are_refused_before_decoding() -> None:
    msg = one_line_error(_png_header_only(MAX_SIDE + 1, 10))
    assert f"{MAX_SIDE} px" in msg
    assert "downscale" in one_line_error(Image.new("L", (10, MAX_SIDE + 1)))


@pytest.mark.parametrize("source", [
    np.zeros((4, 4, 2), np.uint8),                  # two channels
    np.zeros((4, 4, 3, 1), np.uint8),               # 4-D
    np.zeros((4, 4), bool),                         # boolean mask
    np.zeros((4, 4, 3), np.float32),                # float colours
    np.full((4, 4, 3), 256, np.int32),              # colours out of 0-255
    12345,                                          # not a source at all
])
def test_bad_arrays_and_sources(source) -> None:
    one_line_error(source)


def test_bad_options() -> None:
    assert "--labels" in one_line_error(np.zeros((2, 2), np.uint8), labels="colours")
    for size in (0, -1, MAX_SIDE + 1, 2.5, True):
        assert "size" in one_line_error(np.zeros((2, 2), np.uint8), size=size)


def test_unsupported_pixel_mode() -> None:
    # Pillow images of exotic modes go through RGBA when they can; "I;16B" is one-channel.
    big_endian = Image.new("I;16B", (3, 3), 5)
    assert (load_segmap(big_endian, size=3).labels == 5).all()
    assert load_segmap(Image.new("CMYK", (3, 3)), size=3).labels.shape == (3, 3)


# ----- writing -------------------------------------------------------------------------------

def test_save_round_trip_and_bytes(tmp_path) -> None:
    labels = random_labels(24, 24, seed=13)
    path = save_segmap(tmp_path / "out.png", labels)
    with Image.open(path) as img:
        assert img.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(img), segmap_to_rgb(labels))
    np.testing.assert_array_equal(load_segmap(path, size=24).labels, labels)
    assert segmap_png_bytes(labels) == path.read_bytes()
    with pytest.raises(PercheadError, match="does not exist"):
        save_segmap(tmp_path / "missing" / "out.png", labels)
    with pytest.raises(ValueError):
        segmap_to_rgb(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError):
        segmap_to_rgb(np.full((2, 2), NUM_CLASSES))


# ----- fuzz ----------------------------------------------------------------------------------

_MODES = {"1": 1, "L": 1, "LA": 2, "P": 1, "PA": 2, "RGB": 3, "RGBA": 4, "I;16": 2, "I": 4,
          "F": 4, "CMYK": 4, "YCbCr": 3}


@st.composite
def pil_images(draw) -> Image.Image:
    mode = draw(st.sampled_from(sorted(_MODES)))
    w, h = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    bits = 1 if mode == "1" else 8 * _MODES[mode]
    nbytes = (w + 7) // 8 * h if mode == "1" else w * h * bits // 8
    # Small values are more interesting than uniform bytes: they hit the label-id ranges.
    raw = draw(st.one_of(st.binary(min_size=nbytes, max_size=nbytes),
                         st.lists(st.integers(0, 20), min_size=nbytes, max_size=nbytes).map(bytes)))
    img = Image.frombytes(mode, (w, h), raw)
    if mode in ("P", "PA"):
        img.putpalette(draw(st.binary(min_size=48, max_size=768)))
    return img


@st.composite
def sources(draw):
    kind = draw(st.sampled_from(["pil", "png", "corrupt_png", "bytes", "array"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "array":
        shape = draw(st.sampled_from([(3, 4), (5, 5, 1), (2, 6, 3), (4, 4, 4), (0, 3), (3, 3, 2)]))
        dtype = draw(st.sampled_from([np.uint8, np.int16, np.uint16, np.int64, np.float32, np.float64, bool]))
        flat = draw(st.lists(st.integers(-3, 300), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return np.array(flat).reshape(shape).astype(dtype)
    img = draw(pil_images())
    if kind == "pil":
        return img
    try:
        data = png(img)
    except OSError:  # modes PNG cannot hold: feed the image itself
        return img
    if kind == "corrupt_png":
        cut = draw(st.integers(0, len(data)))
        flip = draw(st.integers(0, len(data) - 1))
        data = bytearray(data[:cut] + data[cut:])
        data[flip] ^= draw(st.integers(1, 255))
        data = bytes(data[: draw(st.integers(0, len(data)))])
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=sources(), labels=st.sampled_from(["auto", "palette", "index", "celebamask"]),
       size=st.sampled_from([None, 1, 7, 16]))
def test_fuzz_only_segmap_or_percheaderror(source, labels, size) -> None:
    try:
        out = load_segmap(source, labels=labels, size=size)
    except PercheadError as e:
        assert str(e) and "\n" not in str(e)
        return
    n = 256 if size is None else size
    assert out.labels.shape == (n, n) and out.labels.dtype == np.uint8
    assert int(out.labels.max()) < NUM_CLASSES
    assert all(isinstance(w, str) and w and "\n" not in w for w in out.warnings)
    assert not re.search(r"\b0\.0%", " ".join(out.warnings))
