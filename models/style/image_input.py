"""A user's reference (style) image: read (models/io/images.py), checked, and as the style encoder's tensors.

``read_style_image`` is what ``perchead edit --style-image`` and the app's "Load style image" read with;
``style_image_tensors`` is the one conversion to the encoder's input (models/pipeline.py, ``style_from_image``).
"""
from __future__ import annotations

import logging
import os

import numpy as np
import torch
from torch import Tensor

from models.errors import PercheadError
from models.io.images import MAX_SIDE, load_rgba

__all__ = ["MAX_SIDE", "load_style_image", "read_style_image", "style_image_tensors"]
log = logging.getLogger(__name__)
SMALL_SIDE = 64  # below this the encoder sees an upscaled blur: warn


def read_style_image(path: str | os.PathLike) -> np.ndarray:
    """A style image file -> RGBA [H, W, 4] float32 in 0..1; refused when nothing of it is visible."""
    rgba = load_rgba(path, "style image")
    h, w = rgba.shape[:2]
    if min(h, w) < SMALL_SIDE:
        log.warning("style image %s is small (%dx%d); results improve with 128 px or more", path, w, h)
    style_image_tensors(rgba, f"style image {path}")  # the visibility check, before anything keeps the image
    return rgba


def style_image_tensors(rgba: np.ndarray, name: str = "the style image") -> tuple[Tensor, Tensor]:
    """RGBA [H, W, 4] in 0..1 -> (rgb [1, 3, H, W], alpha [1, 1, H, W]), the style encoder's input; a PercheadError
    naming ``name`` when the image is fully transparent."""
    t = torch.from_numpy(np.ascontiguousarray(rgba)).float()  # [H, W, 4]
    if float(t[..., 3].max()) <= 0.0:
        raise PercheadError(f"{name} is fully transparent (alpha 0 everywhere); use an image with visible content")
    return t[..., :3].permute(2, 0, 1)[None], t[..., 3][None, None]


def load_style_image(path: str | os.PathLike) -> tuple[Tensor, Tensor | None]:
    """Image file -> (rgb [1, 3, H, W] float 0..1, alpha [1, 1, H, W] or None when opaque)."""
    img, alpha = style_image_tensors(read_style_image(path), f"style image {path}")
    return img.contiguous(), None if bool((alpha == 1).all()) else alpha.contiguous()
