""".splat: the plain 32-byte-per-splat format of the first web viewers (antimatter15's), read by SuperSplat,
Spark and splat-transform: position and scale as float32 x 3 each (scale linear), colour and opacity as RGBA
bytes, rotation as 4 bytes (w, x, y, z mapped from -1..1). .ply axes; no header, no higher SH bands and no class
labels (written files drop both; callers say so). About half a .ply of SH degree 0.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from models.errors import PercheadError
from models.gaussians import SH_C0, Gaussians
from models.io.atomic import check_output_path, write_bytes_atomic
from models.io.paths import read_bytes_of

SplatSource = str | os.PathLike | bytes | bytearray | memoryview
RECORD = np.dtype([("position", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rotation", "u1", 4)])
SATURATED_LOGIT = 20.0  # opacity bytes 0 and 255 read as this logit (sigmoid: 0 and 1 in float32)


def splat_bytes(g: Gaussians) -> bytes:
    """``g`` as .splat records (DC colour only; labels are not stored)."""
    if len(g) == 0:
        raise PercheadError("nothing to write: there are 0 Gaussians; check the model output or edit")
    g = g.to("cpu").validate("the head to write")
    rec = np.zeros(len(g), RECORD)
    rec["position"] = g.means.numpy()
    rec["scale"] = g.activated_scales().numpy()
    rgb = (0.5 + SH_C0 * g.sh[:, 0].double()).numpy()
    rec["rgba"][:, :3] = np.clip(np.round(rgb * 255), 0, 255)
    rec["rgba"][:, 3] = np.clip(np.round(g.activated_opacities().double().numpy() * 255), 0, 255)
    rec["rotation"] = np.clip(np.round(g.activated_quats().double().numpy() * 128 + 128), 0, 255)
    return rec.tobytes()


def write_splat(path: str | os.PathLike, g: Gaussians) -> Path:
    """Write a .splat atomically: an existing file is replaced whole or left untouched."""
    check_output_path(path)
    return write_bytes_atomic(path, splat_bytes(g))


def read_splat(source: SplatSource) -> Gaussians:
    """Decode a .splat from a path or bytes into float32 CPU Gaussians (SH degree 0, labels 0)."""
    data, name = read_bytes_of(source, ".splat")
    if len(data) == 0:
        raise PercheadError(f"{name} is empty (0 bytes), so there are no Gaussians to load")
    if len(data) % RECORD.itemsize:
        raise PercheadError(f"{name} is {len(data)} bytes, not a whole number of 32-byte .splat records: the file "
                            "is truncated or not a .splat")
    rec = np.frombuffer(data, RECORD)
    scale = rec["scale"].astype(np.float64)
    if not np.isfinite(scale).all() or (scale <= 0).any() or not np.isfinite(rec["position"]).all():
        bad = int((~np.isfinite(scale).all(1) | (scale <= 0).any(1) | ~np.isfinite(rec["position"]).all(1)).sum())
        raise PercheadError(f"{name}: {bad} of {len(rec)} Gaussians have a position that is not finite or a scale "
                            "that is not positive; the file is corrupt or not a .splat")
    a = rec["rgba"][:, 3].astype(np.float64) / 255
    with np.errstate(divide="ignore"):
        logits = np.clip(np.log(a) - np.log1p(-a), -SATURATED_LOGIT, SATURATED_LOGIT)
    q = rec["rotation"].astype(np.float64) - 128
    norm = np.linalg.norm(q, axis=1, keepdims=True)
    q = np.where(norm > 0, q / np.where(norm > 0, norm, 1), np.array([1.0, 0, 0, 0]))
    dc = (rec["rgba"][:, :3].astype(np.float64) / 255 - 0.5) / SH_C0
    g = Gaussians(means=torch.from_numpy(rec["position"].copy()), quats=torch.from_numpy(q.astype(np.float32)),
                  log_scales=torch.from_numpy(np.log(scale).astype(np.float32)),
                  opacity_logits=torch.from_numpy(logits.astype(np.float32)),
                  sh=torch.from_numpy(dc.astype(np.float32)[:, None]), labels=torch.zeros(len(rec), dtype=torch.long))
    return g.validate(name)
