"""Image encoding for outputs: float tensors to PNG bytes, written atomically."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.atomic_io import write_bytes_atomic


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
