"""Images in and out: user images read (reference style images, photos to reconstruct) and PNGs written.

Reading: any common format, bounded cost, one PercheadError line for every refusal.

EXIF rotation is applied; large images are decoded at reduced size (JPEG draft) and shrunk to
MAX_SIDE, since every consumer resizes to 256 px or less; Pillow's decompression-bomb guard stays
(answered with a message). Extremely thin images (a 16,000 x 16 strip) are refused rather than
shrunk to a 1 px line. Writing: float tensors to PNG bytes, written atomically.
"""
from __future__ import annotations

import io
import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import PercheadError
from models.io.atomic import write_bytes_atomic
from models.io.paths import require_file

MIN_SIDE = 16             # smaller than this carries no usable style or shape
MAX_SIDE = 1024           # decoded images are shrunk to this before anything else
MAX_INPUT_SIDE = 16384    # a side longer than this is refused from the header, before decoding


def load_rgba(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """An image file -> float32 RGBA [H, W, 4] in 0..1 (alpha 1 where the file has none)."""
    p = Path(path)
    require_file(p, f"{what} {p}", "a PNG or JPEG file", missing="not found; give the path of a PNG or JPEG file",
                 folder="is a folder; give the path of a PNG or JPEG file")
    try:
        if p.stat().st_size == 0:
            raise PercheadError(f"{what} {p} is an empty file (0 bytes); give a PNG or JPEG image")
        with warnings.catch_warnings():
            # Pillow's guard stays on: it raises past 2x MAX_IMAGE_PIXELS and warns past 1x;
            # the warning is refused too (below), with the same message.
            warnings.simplefilter("ignore")  # Pillow's other warnings would print stray stderr lines
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                _check_size(w, h, p, what)
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a fraction of the size
                im = ImageOps.exif_transpose(im).convert("RGBA")
                if max(im.size) > MAX_SIDE:
                    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                return np.asarray(im, dtype=np.float32) / 255.0
    except PercheadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PercheadError(f"{what} {p} is too large to decode safely ({_pixels(e)}; the limit is "
                            f"{Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels); resize it below "
                            f"{MAX_SIDE * 4} px on a side") from e
    except UnidentifiedImageError as e:
        raise PercheadError(f"{what} {p} is not a readable image (no format Pillow knows); "
                            "use a PNG or JPEG") from e
    except PermissionError as e:
        raise PercheadError(f"cannot read {what} {p}: permission denied; check the file's permissions") from e
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error) as e:
        raise PercheadError(f"{what} {p} is truncated or corrupt ({_one_line(e)}); "
                            "re-export or re-download it as a PNG or JPEG") from e


def _check_size(w: int, h: int, p: Path, what: str) -> None:
    """Refuse from the header: too small to carry anything, too large, or so thin that the
    shrink to MAX_SIDE would leave less than MIN_SIDE px across."""
    if min(w, h) < MIN_SIDE:
        raise PercheadError(f"{what} {p} is only {w}x{h} px; use an image at least {MIN_SIDE} px on a side")
    if max(w, h) > MAX_INPUT_SIDE:
        raise PercheadError(f"{what} {p} is {w}x{h} px; shrink it below {MAX_INPUT_SIDE} px on a side")
    if max(w, h) > MAX_SIDE and min(w, h) * MAX_SIDE < MIN_SIDE * max(w, h):
        raise PercheadError(f"{what} {p} is {w}x{h} px, too thin: shrunk to {MAX_SIDE} px it would be "
                            f"under {MIN_SIDE} px across; crop it closer to a square")


def _pixels(e: BaseException) -> str:
    """'N pixels' from Pillow's bomb message, or a generic phrase."""
    m = re.search(r"\((\d+) pixels\)", str(e))
    return f"{int(m.group(1)) / 1e6:.0f} megapixels" if m else "too many pixels"


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}"[:160] if text else type(e).__name__


def to_uint8(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """[H, W, 3] float in 0..1 (or uint8) -> uint8 array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().float().cpu().numpy()
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def png_bytes(image: torch.Tensor | np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: str | os.PathLike, image: torch.Tensor | np.ndarray) -> Path:
    """Atomically write an RGB image: an existing file is replaced whole or not at all."""
    return write_bytes_atomic(path, png_bytes(image))


def save_picture(path: str | os.PathLike, image: torch.Tensor | np.ndarray) -> Path:
    """Atomically write a picture, JPEG (quality 90) for a .jpg/.jpeg name, else PNG: renders for docs/
    go as JPEG, a quarter of the PNG's size (the GPU call carries the whole tree)."""
    if Path(path).suffix.lower() not in (".jpg", ".jpeg"):
        return save_png(path, image)
    buf = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buf, format="JPEG", quality=90, optimize=True)
    return write_bytes_atomic(path, buf.getvalue())
