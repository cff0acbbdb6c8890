"""A user's reference (style) image as the style encoder's tensors (reading: models.io.images)."""
from __future__ import annotations

import logging
import os

import torch
from torch import Tensor

from models.errors import PercheadError
from models.io.images import MAX_SIDE, load_rgba

__all__ = ["MAX_SIDE", "load_style_image"]
log = logging.getLogger(__name__)
SMALL_SIDE = 64  # below this the encoder sees an upscaled blur: warn


def load_style_image(path: str | os.PathLike) -> tuple[Tensor, Tensor | None]:
    """Image file -> (rgb [1, 3, H, W] float 0..1, alpha [1, 1, H, W] or None when opaque)."""
    t = torch.from_numpy(load_rgba(path, "style image")).permute(2, 0, 1)[None]  # [1, 4, H, W]
    h, w = t.shape[-2:]
    if min(h, w) < SMALL_SIDE:
        log.warning("style image %s is small (%dx%d); results improve with 128 px or more", path, w, h)
    alpha = t[:, 3:4]
    if float(alpha.max()) == 0.0:
        raise PercheadError(f"style image {path} is fully transparent; nothing to read the style from")
    return t[:, :3].contiguous(), None if bool((alpha == 1).all()) else alpha.contiguous()
