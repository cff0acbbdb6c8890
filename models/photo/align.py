"""Similarity alignment of a photo to the canonical input view, and warping by it.

Three key points carry the alignment: the two eye centres and the mouth centre, each the area
centroid of its landmark contour, because that matches how their canonical positions were
measured (centroids of the engine's eyes and lips class regions; assets/photo_alignment.yaml,
made by scripts/measure_canonical_landmarks.py). A similarity (scale, rotation, translation;
no shear, so the face keeps its proportions) is fitted to them by least squares (Umeyama).
Transforms are [2, 3] matrices acting on (x, y, 1) in continuous pixel coordinates: x right,
y down, the image's top-left corner at (0, 0), pixel centres at +0.5.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import yaml
from PIL import Image

from models.assets import ASSETS_DIR
from models.errors import PercheadError
from models.photo.topology import LEFT_EYE, RIGHT_EYE, outer_lips

ALIGNMENT_PATH = ASSETS_DIR / "photo_alignment.yaml"
KEY_POINT_NAMES = ("eye_left", "eye_right", "mouth")  # eye_left: on the image's left (subject's right eye)
MAX_DIRECT_SHRINK = 0.75  # warps shrinking more than this resize first, so fine detail does not alias


@dataclass(frozen=True)
class CanonicalTargets:
    """Where the canonical view puts the key points, in units of the image side."""

    points: np.ndarray  # [3, 2] eye_left, eye_right, mouth; x right, y down

    def at(self, size: int) -> np.ndarray:
        """Key-point targets in px for a square view of ``size`` px. [3, 2]"""
        return self.points * float(size)


@lru_cache(maxsize=1)
def canonical_targets() -> CanonicalTargets:
    """The measured targets from assets/ (read once)."""
    try:
        cfg = yaml.safe_load(ALIGNMENT_PATH.read_text())
        pts = np.array([[float(v) for v in cfg["targets"][n]] for n in KEY_POINT_NAMES], dtype=np.float64)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise PercheadError(f"cannot read {ALIGNMENT_PATH}: {e}; restore the shipped file") from e
    if pts.shape != (3, 2) or not np.isfinite(pts).all():
        raise PercheadError(f"{ALIGNMENT_PATH} needs three [x, y] targets; restore the shipped file")
    return CanonicalTargets(pts)


def polygon_centroid(points: np.ndarray) -> np.ndarray:
    """Area centroid of a closed polygon [N, 2] (vertex mean if it is degenerate). [2]"""
    x, y = points[:, 0], points[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2
    if abs(area) < 1e-9:
        return points.mean(0)
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * area)


def key_points(landmarks: np.ndarray) -> np.ndarray:
    """Face-mesh points [478, 2+] -> [3, 2]: the eye on the image's left, the other eye, the mouth."""
    lm = landmarks[:, :2]
    a, b = polygon_centroid(lm[list(RIGHT_EYE)]), polygon_centroid(lm[list(LEFT_EYE)])
    mouth = polygon_centroid(lm[list(outer_lips())])
    # Order the eyes as they appear with the face upright: left-to-right with the mouth below (y down) makes
    # a positive cross product. Not by the subject's sides (a mirrored selfie swaps them) and not by image x
    # (a photo turned sideways would swap them).
    (ax, ay), (bx, by), (mx, my) = b - a, mouth - a, mouth - a
    if ax * my - ay * mx < 0:
        a, b = b, a
    return np.stack([a, b, mouth])


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity mapping src [N, 2] onto dst [N, 2] (Umeyama 1991, no reflection). [2, 3]"""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var_s = (s ** 2).sum() / len(src)
    if var_s < 1e-12:
        raise PercheadError("the face's key points coincide; use a sharper photo with the face in view")
    cov = d.T @ s / len(src)  # [2, 2]
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ fix @ vt
    scale = float((sig * np.diag(fix)).sum() / var_s)
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a [2, 3] affine. [2, 3]"""
    a = np.linalg.inv(m[:, :2])
    return np.concatenate([a, -(a @ m[:, 2])[:, None]], 1)


def apply_affine(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map points [N, 2] by a [2, 3] affine. [N, 2]"""
    return points @ m[:, :2].T + m[:, 2]


def affine_scale(m: np.ndarray) -> float:
    """The similarity's scale factor (output px per input px)."""
    return float(np.sqrt(abs(np.linalg.det(m[:, :2]))))


def warp(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """Resample ``image`` [H, W, C] uint8 or [H, W] float32 through ``m`` (input px -> output px)
    into a square [size, size(, C)]; outside the image is 0. Bicubic for uint8, bilinear for float."""
    scale = affine_scale(m)
    src = image
    if scale < MAX_DIRECT_SHRINK:  # shrink with a proper filter first, then the warp is near 1:1
        h, w = image.shape[:2]
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        src = _resize(image, nw, nh)
        pre = np.array([[nw / w, 0.0, 0.0], [0.0, nh / h, 0.0]])
        m = m @ np.vstack([invert_affine(pre), [0.0, 0.0, 1.0]])
    inv = invert_affine(m)  # PIL asks for output -> input
    coeffs = tuple(inv.reshape(-1))
    if src.dtype == np.uint8:
        out = Image.fromarray(src).transform((size, size), Image.Transform.AFFINE, coeffs,
                                             Image.Resampling.BICUBIC)
        return np.asarray(out)
    ch = Image.fromarray(np.ascontiguousarray(src, dtype=np.float32), mode="F")
    out = ch.transform((size, size), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def _resize(image: np.ndarray, w: int, h: int) -> np.ndarray:
    if image.dtype == np.uint8:
        return np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.LANCZOS))
    f = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32), mode="F")
    return np.asarray(f.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=2.0), dtype=np.float32)
