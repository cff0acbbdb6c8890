"""Pixels for the window's textures, in plain numpy (testable without a window).

Dear PyGui raw textures take a flat float32 RGBA buffer; these helpers build it from the
canvas labels (palette colours, optionally blended with the head's render) and from a
rendered frame that may be smaller than the texture (interactive renders at lower size).
"""
from __future__ import annotations

import numpy as np

from models.palette import palette


def rgba(rgb: np.ndarray) -> np.ndarray:
    """[H, W, 3] float 0..1 -> [H, W, 4] float32 with opaque alpha."""
    h, w = rgb.shape[:2]
    out = np.ones((h, w, 4), np.float32)
    out[..., :3] = rgb
    return out


def canvas_rgb(labels: np.ndarray, overlay: np.ndarray | None = None, opacity: float = 0.0) -> np.ndarray:
    """Class ids [S, S] in palette colours, blended with ``overlay`` [S, S, 3] (0..1) -> [S, S, 3] float32."""
    rgb = palette().colorize(labels).astype(np.float32) / 255.0
    if overlay is not None and opacity > 0.0:
        if overlay.shape[:2] != rgb.shape[:2]:
            overlay = resize_nearest(overlay, rgb.shape[0], rgb.shape[1])
        a = float(np.clip(opacity, 0.0, 1.0))
        rgb = (1.0 - a) * rgb + a * overlay.astype(np.float32)
    return rgb


def resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """[h, w, C] -> [height, width, C] by nearest neighbour at pixel centres."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    ys = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.intp), h - 1)
    xs = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.intp), w - 1)
    return image[ys[:, None], xs[None, :]]


def texture_data(rgb: np.ndarray, size: int) -> np.ndarray:
    """A frame [h, w, 3] (any size) -> the flat RGBA buffer of a square ``size`` texture."""
    return rgba(np.clip(resize_nearest(rgb, size, size), 0.0, 1.0)).ravel()

