"""Reading user images (reference style images, images to reconstruct): any common format,
bounded cost, one PercheadError line for every refusal.

EXIF rotation is applied; large images are decoded at reduced size (JPEG draft) and shrunk to
MAX_SIDE, since every consumer resizes to 256 px or less; Pillow's decompression-bomb guard stays.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import PercheadError

MIN_SIDE = 16             # smaller than this carries no usable style or shape
MAX_SIDE = 1024           # decoded images are shrunk to this before anything else
MAX_INPUT_SIDE = 16384    # a side longer than this is refused from the header, before decoding
MAX_PIXELS = 200_000_000  # refuse to decode more than this (decompression bombs)


def load_rgba(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """An image file -> float32 RGBA [H, W, 4] in 0..1 (alpha 1 where the file has none)."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"{what} {p} not found; give the path of a PNG or JPEG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if min(w, h) < MIN_SIDE:
                    raise PercheadError(f"{what} {p} is only {w}x{h} px; use an image at least {MIN_SIDE} px on a side")
                if max(w, h) > MAX_INPUT_SIDE:
                    raise PercheadError(f"{what} {p} is {w}x{h} px; shrink it below {MAX_INPUT_SIDE} px on a side")
                if w * h > MAX_PIXELS:
                    raise PercheadError(f"{what} {p} is {w}x{h} px, too large to read; resize it below {MAX_SIDE} px")
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a fraction of the size
                im = ImageOps.exif_transpose(im).convert("RGBA")
                if max(im.size) > MAX_SIDE:
                    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                return np.asarray(im, dtype=np.float32) / 255.0
    except PercheadError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PercheadError(f"{what} {p} is not a readable image ({type(e).__name__}); use a PNG or JPEG") from e
    except (OSError, ValueError, SyntaxError) as e:
        raise PercheadError(f"{what} {p} is damaged or not a readable image ({type(e).__name__}); "
                            "use a PNG or JPEG") from e
