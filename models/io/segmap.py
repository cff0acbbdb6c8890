"""Seg maps in and out: any reasonable image (or array) -> a square [size, size] class-id map.

Reading rules (DESIGN.md "Semantic classes"), with ``labels``:
- "palette": colours. A pixel that is not a class colour takes the nearest one, and ONE
  warning gives the share of pixels remapped (anti-aliased brushes and JPEG leave many).
- "index": one-channel class ids 0-14 (8-bit, 16-bit or 32-bit; values are ids, not greys).
- "celebamask": one-channel CelebAMask-HQ / BiSeNet face-parsing labels 0-18, mapped through
  assets/classes.yaml. Explicit only: values 0-14 look exactly like our own index maps.
- "auto": colour images read as "palette"; one-channel images as "index" when every value
  is <= 14, refused with a --labels celebamask hint when values reach 15-18 (never guessed).
  An RGB image whose pixels are all grey levels 0-18 is a label map saved as RGB (a colour
  map is never that dark and grey), so it is read as one-channel, with a warning.
Paletted (P) PNGs: "auto" and "palette" read their colours, because painting tools save
indexed images in any palette order; "index"/"celebamask" read the raw palette indices, as
label maps with a visualisation palette (VOC style) need. When "auto" had to remap colours
of such a file and its indices fit a label map, the warning says which --labels to try.
Alpha: a pixel with alpha 0 is background whatever its colour (a warning says how many);
partial alpha keeps the colour. Non-square maps are padded with background, centred, with a
warning, then resampled with nearest neighbour (ids never blend) to ``size``.
Every bad input ends in one PercheadError line; no other exception escapes for bad data.
"""
from __future__ import annotations

import io
import os
import re
import struct
import warnings as pywarnings
import zlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Literal, Union, get_args

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.cameras import canonical_view
from models.errors import PercheadError
from models.io.atomic import write_atomic
from models.io.paths import require_file
from models.palette import NUM_CELEBAMASK_LABELS, NUM_CLASSES, palette

LabelsMode = Literal["auto", "palette", "index", "celebamask"]
Source = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]

# A seg map never needs more (the model reads 256 px); refusing on the header, before
# decoding, keeps a hostile or mistaken file from using gigabytes.
MAX_SIDE = 8192
_ONE_CHANNEL_MODES = {"1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_GREY_ALPHA_MODES = {"LA", "La"}
_PALETTED_MODES = {"P", "PA"}
# What Pillow raises on truncated or malformed files (its own fuzzers' list, plus zlib).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, MemoryError)


@dataclass
class SegMap:
    """A loaded seg map: class ids at the model's input size, and what was changed to get there."""

    labels: np.ndarray                                   # [size, size] uint8 class ids
    warnings: list[str] = field(default_factory=list)    # one line each, for the user


@dataclass
class _Pixels:
    """Decoded pixels before interpretation; transparent pixels already zeroed."""

    rgb: np.ndarray | None      # [H, W, 3] uint8 colours (colour and paletted images)
    values: np.ndarray | None   # [H, W] one-channel values or palette indices (any numeric dtype)
    paletted: bool = False


def load_segmap(source: Source, labels: LabelsMode = "auto", size: int | None = None) -> SegMap:
    """Read a seg map from a path, encoded bytes, a PIL image or an array [H, W(, 3|4)]."""
    if labels not in get_args(LabelsMode):
        raise PercheadError(f"unknown --labels {labels!r}; choose one of: {', '.join(get_args(LabelsMode))}")
    size = _checked_size(size)
    notes: list[str] = []
    name, pixels = _read(source, notes)
    ids = _class_ids(pixels, labels, name, notes)   # [H, W] uint8
    ids = _pad_square(ids, notes)                   # [S, S]
    return SegMap(_resample(ids, size, notes), notes)


def segmap_to_rgb(labels: np.ndarray) -> np.ndarray:
    """Class ids [H, W] -> palette colours [H, W, 3] uint8 (what a seg map PNG holds)."""
    return palette().colorize(_checked_labels(labels))


def segmap_png_bytes(labels: np.ndarray) -> bytes:
    """Class ids [H, W] -> an RGB PNG in palette colours, in memory (testable, then written once)."""
    buf = io.BytesIO()
    Image.fromarray(segmap_to_rgb(labels), "RGB").save(buf, "PNG")
    return buf.getvalue()


def save_segmap(path: str | os.PathLike, labels: np.ndarray) -> Path:
    """Write class ids [H, W] as a palette-colour RGB PNG; an existing file is replaced whole or kept."""
    data = segmap_png_bytes(labels)
    return write_atomic(path, lambda f: f.write(data))


# ----- reading -------------------------------------------------------------------------------

def _read(source: Source, notes: list[str]) -> tuple[str, _Pixels]:
    """Decode any accepted source into pixels; the name is how messages refer to it."""
    if isinstance(source, np.ndarray):
        return "seg map array", _pixels_from_array(source, "seg map array", notes)
    if isinstance(source, Image.Image):
        return "seg map image", _decode(lambda: nullcontext(source), "seg map image", notes)
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise PercheadError("seg map data is empty (0 bytes); give a PNG image")
        return "seg map data", _decode(lambda: Image.open(io.BytesIO(bytes(source))), "seg map data", notes)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = f"seg map {path}"
        require_file(path, name, "a PNG file", missing="not found; check the path",
                     folder="is a folder; give a PNG file")
        try:
            empty = path.stat().st_size == 0
        except OSError as e:
            raise PercheadError(f"cannot read {name}: {e.strerror or e}; check it is readable") from e
        if empty:
            raise PercheadError(f"{name} is an empty file (0 bytes); give a PNG image")
        return name, _decode(lambda: Image.open(path), name, notes)
    raise PercheadError(f"cannot read a seg map from a {type(source).__name__}; give a PNG path or an image")


def _decode(open_image: Callable[[], ContextManager[Image.Image]], name: str, notes: list[str]) -> _Pixels:
    """Open, check the header size, then decode, turning every Pillow failure into one line."""
    try:
        with pywarnings.catch_warnings():
            # Pillow warns from 89M px; any image that large has a side over MAX_SIDE and is refused
            # here. Its other warnings (a TIFF's "Truncated File Read") would print a stray stderr
            # line: a real problem ends in an exception, and so in one message.
            pywarnings.simplefilter("ignore")
            with open_image() as img:
                _check_dims(img.width, img.height, name)
                frames = getattr(img, "n_frames", 1)
                img.load()
                if frames > 1:
                    notes.append(f"the image has {frames} frames; used the first")
                return _pixels_from_pil(img, name, notes)
    except PercheadError:
        raise
    except Image.DecompressionBombError as e:
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too many pixels"
        raise PercheadError(f"{name} is too large to decode safely ({size}); "
                            f"a seg map needs at most {MAX_SIDE} px a side") from e
    except UnidentifiedImageError as e:
        raise PercheadError(f"{name} is not an image Pillow can read; save it as a PNG") from e
    except PermissionError as e:
        raise PercheadError(f"cannot read {name}: permission denied; check the file's permissions") from e
    except _DECODE_ERRORS as e:
        raise PercheadError(f"{name} is truncated or corrupt ({_one_line(e)}); re-export it as a PNG") from e


def _pixels_from_pil(img: Image.Image, name: str, notes: list[str]) -> _Pixels:
    """Pixels of a loaded image by mode family; unusual colour modes go through RGBA."""
    mode = img.mode
    if mode in _PALETTED_MODES:
        rgba = np.asarray(img.convert("RGBA"))     # [H, W, 4]: resolves colours and tRNS
        idx = np.asarray(img)
        idx = idx[..., 0] if idx.ndim == 3 else idx  # PA: [H, W, 2] -> indices
        return _with_alpha(rgba[..., :3], idx, rgba[..., 3], notes, paletted=True)
    if mode in _ONE_CHANNEL_MODES:
        # Mode "1" as 0/255 greys: its 255s then get the out-of-range message, not a silent mask.
        values = np.asarray(img.convert("L") if mode == "1" else img)  # [H, W]
        key = img.info.get("transparency")
        alpha = None if not isinstance(key, int) else np.where(values == key, 0, 255)
        return _with_alpha(None, values, alpha, notes)
    if mode in _GREY_ALPHA_MODES:
        la = np.asarray(img.convert("LA"))  # [H, W, 2]
        return _with_alpha(None, la[..., 0], la[..., 1], notes)
    try:
        rgba = np.asarray(img.convert("RGBA"))  # RGB, RGBA, CMYK, YCbCr, ... (+ tRNS)
    except ValueError as e:
        raise PercheadError(f"{name} has pixel mode {mode}, which seg maps do not use; "
                            "save it as an RGB PNG") from e
    return _with_alpha(rgba[..., :3], None, rgba[..., 3], notes)


def _pixels_from_array(arr: np.ndarray, name: str, notes: list[str]) -> _Pixels:
    """Arrays: [H, W] values, [H, W, 1] values, [H, W, 3] RGB, [H, W, 4] RGBA."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise PercheadError(f"{name} has shape {arr.shape}; give [H, W] class ids or [H, W, 3|4] colours")
    if arr.dtype.kind not in "uif":
        raise PercheadError(f"{name} has dtype {arr.dtype}; give integer class ids or uint8 colours")
    _check_dims(arr.shape[1], arr.shape[0], name)
    if arr.ndim == 2:
        return _with_alpha(None, arr, None, notes)
    if arr.dtype.kind == "f" or arr.min() < 0 or arr.max() > 255:
        raise PercheadError(f"{name} colours must be integers 0-255 (uint8); got dtype {arr.dtype}")
    chans = arr.astype(np.uint8)
    return _with_alpha(chans[..., :3], None, chans[..., 3] if arr.shape[2] == 4 else None, notes)


def _with_alpha(rgb: np.ndarray | None, values: np.ndarray | None, alpha: np.ndarray | None,
                notes: list[str], paletted: bool = False) -> _Pixels:
    """Zero (background) the fully transparent pixels, and say how many there were."""
    clear = None if alpha is None else (np.asarray(alpha) == 0)  # [H, W] bool
    if clear is not None and clear.any():
        if rgb is not None:
            rgb = rgb.copy()
            rgb[clear] = 0
        if values is not None:
            values = values.copy()
            values[clear] = 0
        notes.append(f"{_share(int(clear.sum()), clear.size)} of pixels were transparent "
                     "and were read as background")
    return _Pixels(rgb, values, paletted)


# ----- interpretation ------------------------------------------------------------------------

def _class_ids(px: _Pixels, labels: LabelsMode, name: str, notes: list[str]) -> np.ndarray:
    """Decoded pixels -> class ids [H, W] uint8, by the rules in the module docstring."""
    if labels == "palette":
        if px.rgb is None:
            raise PercheadError(f"{name} is a one-channel image, not palette colours; "
                                "use --labels index (class ids 0-14) or --labels celebamask")
        return _ids_from_colors(px.rgb, notes)
    if labels in ("index", "celebamask"):
        values = px.values if px.values is not None else _grey_levels(px.rgb)
        if values is None:
            raise PercheadError(f"{name} is a colour image, but --labels {labels} reads one-channel "
                                "label values; use --labels palette (or auto)")
        return _ids_from_values(values, labels, name)
    if px.rgb is None:
        return _ids_from_values(px.values, "auto", name)
    grey = _grey_levels(px.rgb)
    if grey is not None and 0 < int(grey.max()) < NUM_CELEBAMASK_LABELS:
        ids = _ids_from_values(grey, "auto", name)
        notes.append(f"the image is RGB but every pixel is a grey level 0-{int(grey.max())}; "
                     "read it as a label-index map (grey level = class id)")
        return ids
    hint = ""
    if px.paletted and int(px.values.max()) < NUM_CELEBAMASK_LABELS:
        hint = ("; if this paletted PNG is a label map, load it with --labels index "
                "(or --labels celebamask)")
    return _ids_from_colors(px.rgb, notes, hint)


def _ids_from_colors(rgb: np.ndarray, notes: list[str], hint: str = "") -> np.ndarray:
    """Colours [H, W, 3] -> nearest class ids, with one warning if any colour was off-palette."""
    pal = palette()
    ids = pal.nearest_labels(rgb)  # [H, W]
    off = int((pal.colors[ids] != rgb).any(-1).sum())
    if off:
        notes.append(f"{_share(off, ids.size)} of pixels ({off:,} of {ids.size:,}) were not palette "
                     f"colours and were mapped to the nearest class{hint}")
    return ids


def _ids_from_values(values: np.ndarray, labels: LabelsMode, name: str) -> np.ndarray:
    """One-channel values [H, W] -> class ids; out-of-range values are named in the error."""
    values = _whole_numbers(values, name)
    top = NUM_CELEBAMASK_LABELS - 1 if labels == "celebamask" else NUM_CLASSES - 1
    bad = np.unique(values[(values < 0) | (values > top)])
    if labels == "auto" and bad.size and bad.min() >= NUM_CLASSES and bad.max() <= NUM_CELEBAMASK_LABELS - 1:
        raise PercheadError(f"{name} holds label values up to {int(bad.max())}, beyond our class ids "
                            "0-14: it looks like a CelebAMask-HQ / face-parsing map; load it with "
                            "--labels celebamask")
    if bad.size:
        what = "CelebAMask-HQ labels 0-18" if labels == "celebamask" else "class ids 0-14"
        raise PercheadError(f"{name} holds label values {_list_values(bad)} outside {what}; fix those "
                            "pixels, or save the map as RGB in palette colours")
    if labels == "celebamask":
        return palette().celebamask[values]
    return values.astype(np.uint8)


def _grey_levels(rgb: np.ndarray) -> np.ndarray | None:
    """[H, W, 3] -> [H, W] when every pixel has R == G == B, else None."""
    r = rgb[..., 0]
    return r if (r == rgb[..., 1]).all() and (r == rgb[..., 2]).all() else None


def _whole_numbers(values: np.ndarray, name: str) -> np.ndarray:
    """Label values as int64; float maps are fine only when every value is a whole number."""
    if values.dtype.kind == "f":
        if not np.isfinite(values).all() or (values != np.round(values)).any():
            raise PercheadError(f"{name} holds non-integer values; a label-index map holds class ids 0-14")
        if np.abs(values).max(initial=0) > 2**31:
            raise PercheadError(f"{name} holds values far outside class ids 0-14; check it is a label map")
    return values.astype(np.int64)


# ----- geometry ------------------------------------------------------------------------------

def _pad_square(ids: np.ndarray, notes: list[str]) -> np.ndarray:
    """[H, W] -> [S, S], S = max(H, W), content centred on background (odd pixel: bottom/right)."""
    h, w = ids.shape
    if h == w:
        return ids
    s = max(h, w)
    out = np.zeros((s, s), dtype=np.uint8)
    top, left = (s - h) // 2, (s - w) // 2
    out[top:top + h, left:left + w] = ids
    notes.append(f"the map is {w}x{h} px, not square: padded with background to {s}x{s} (centred)")
    return out


def _resample(ids: np.ndarray, size: int, notes: list[str]) -> np.ndarray:
    """[S, S] -> [size, size] by nearest neighbour at pixel centres; ids never blend."""
    s = ids.shape[0]
    if s == size:
        return ids
    src = np.minimum(((np.arange(size) + 0.5) * s / size).astype(np.int64), s - 1)  # [size]
    out = ids[src[:, None], src[None, :]]
    lost = np.flatnonzero((np.bincount(ids.ravel(), minlength=NUM_CLASSES) > 0)
                          & (np.bincount(out.ravel(), minlength=NUM_CLASSES) == 0))
    if lost.size:
        names = ", ".join(palette().names[i] for i in lost)
        notes.append(f"resampling {s} px to {size} px dropped classes too thin to survive: {names}")
    return out


def _check_dims(width: int, height: int, name: str) -> None:
    if width <= 0 or height <= 0:
        raise PercheadError(f"{name} is empty ({width}x{height} px); give a seg map with pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise PercheadError(f"{name} is {width}x{height} px; the largest accepted is {MAX_SIDE} px a side "
                            f"(the model reads {canonical_view().image_size} px): downscale it first")


def _checked_size(size: int | None) -> int:
    if size is None:
        return canonical_view().image_size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= MAX_SIDE:
        raise PercheadError(f"seg map size must be a whole number of pixels from 1 to {MAX_SIDE}; got {size!r}")
    return int(size)


def _checked_labels(labels: np.ndarray) -> np.ndarray:
    """Guard for writers: class ids [H, W] of an integer dtype within 0-14 (else it is a bug)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise ValueError(f"expected integer class ids [H, W], got {labels.dtype} {labels.shape}")
    return labels


# ----- message helpers -----------------------------------------------------------------------

def _share(count: int, total: int) -> str:
    """Percentage for messages; never rounds a real share down to "0.0%"."""
    pct = 100.0 * count / total
    return "<0.1%" if 0 < pct < 0.05 else f"{pct:.1f}%"


def _list_values(values: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(int(v)) for v in values[:limit])
    return shown if values.size <= limit else f"{shown} and {values.size - limit} more"


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
