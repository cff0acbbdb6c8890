"""Reading a user's reference (style) image: any common format, bounded cost, clear refusals."""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from models.errors import PercheadError

log = logging.getLogger(__name__)

MIN_SIDE = 16          # below this there is no head to read, only a few pixels
SMALL_SIDE = 64        # below this the encoder sees an upscaled blur: warn
MAX_SIDE = 1024        # decoded images are shrunk to this before anything else (the encoder uses 128)
MAX_PIXELS = 200_000_000  # refuse to decode more than this (decompression bombs)


def load_style_image(path: str | os.PathLike) -> tuple[Tensor, Tensor | None]:
    """Image file -> (rgb [1, 3, H, W] float 0..1, alpha [1, 1, H, W] or None when opaque).

    EXIF rotation is applied; huge images are decoded at reduced size; transparency (RGBA, LA,
    palette with a transparent index) becomes the alpha that masks the encoder to the foreground.
    """
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"style image {p} not found; give the path of a PNG or JPEG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise PercheadError(f"style image {p} is {w}x{h} pixels, too large to read; resize it below {MAX_SIDE} px")
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a fraction of the size
                im = ImageOps.exif_transpose(im)
                has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
                im = im.convert("RGBA" if has_alpha else "RGB")
                if max(im.size) > MAX_SIDE:
                    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                arr = np.asarray(im, dtype=np.float32) / 255.0
    except PercheadError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PercheadError(f"style image {p} is not a readable image ({type(e).__name__}); use a PNG or JPEG") from e
    except (OSError, ValueError, SyntaxError) as e:
        raise PercheadError(f"style image {p} is damaged or not an image ({e}); use a PNG or JPEG") from e
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise PercheadError(f"style image {p} is only {w}x{h} pixels; use a picture of a head at least {SMALL_SIDE} px across")
    if min(h, w) < SMALL_SIDE:
        log.warning("style image %s is small (%dx%d); results improve with 128 px or more", p, w, h)
    t = torch.from_numpy(arr.copy()).permute(2, 0, 1)[None]  # [1, C, H, W]
    alpha = t[:, 3:4] if t.shape[1] == 4 else None
    if alpha is not None and float(alpha.max()) == 0.0:
        raise PercheadError(f"style image {p} is fully transparent; nothing to read the style from")
    if alpha is not None and bool((alpha == 1).all()):
        alpha = None
    return t[:, :3].contiguous(), alpha
