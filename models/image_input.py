"""Reading user images (reference style images, images to reconstruct) safely.

Pillow's decompression-bomb guard stays on; every failure is one PercheadError line.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.errors import PercheadError

MIN_SIDE = 16     # smaller than this carries no usable style or shape
MAX_SIDE = 16384  # larger is refused from the header, before decoding


def load_rgba(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """An image file -> float32 RGBA [H, W, 4] in 0..1 (alpha 1 where the file has none)."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"{what} {p} not found")
    try:
        with Image.open(p) as im:
            w, h = im.size
            if min(w, h) < MIN_SIDE:
                raise PercheadError(f"{what} {p} is {w}x{h} px; use an image at least {MIN_SIDE} px on a side")
            if max(w, h) > MAX_SIDE:
                raise PercheadError(f"{what} {p} is {w}x{h} px; shrink it below {MAX_SIDE} px on a side")
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
    except PercheadError:
        raise
    except Image.DecompressionBombError as e:
        raise PercheadError(f"{what} {p} is too large to decode safely ({e}); shrink it first") from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise PercheadError(f"{what} {p} is not a readable image ({type(e).__name__}); use a PNG or JPEG") from e
    return rgba
