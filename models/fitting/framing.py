"""Seg-map framing normaliser: decode a map framed unlike the engine's, then put the head back.

The edit network learned the engine's framing of the canonical camera; a map drawn a little
off-centre, larger, smaller or tilted is decoded as a head in the usual place (docs/quality.md,
failure case 1). So, at inference:
1. ``estimate_framing``: the 2D similarity S (shift, scale about the image centre, roll) that
   takes the engine's average framing to the map's. Cues, most reliable first: the two eye
   centroids and the mouth centroid (upper + lower lip + inner mouth), fitted by least squares,
   with the scale taken jointly from them and the face region's area (on engine heads the two
   vary independently, so each alone mistakes a head's proportions for framing); without eyes
   or lips, the face region's centroid and area alone (scale and shift, no roll).
2. ``off_framing``: only when S lies beyond ``DRAWN_MARGINS`` times what engine maps themselves show
   (limits measured on engine maps by scripts/measure_segmap_framing.py, assets/segmap_framing.yaml)
   is re-framing a candidate, so engine maps are decoded exactly as before; a candidate on the eyes-and-mouth
   cue is then decoded as drawn, re-framed and halfway, and the head that follows the painted map best is kept
   (models/fitting/candidates.py):
   a drawing whose own proportions (a long face, wide-set eyes) only look off-frame stays as drawn.
3. ``canonicalise``: the map resampled by S^-1 (nearest, edges extended), decoded as usual;
   ``place_head``: the decoded Gaussians moved by S in 3D (models.fitting.similarity.frame_transform, the
   same similarity training re-frames heads with), so the front render lines up with the map.
Pixel coordinates: x right, y down, pixel centres at +0.5 (as models.cameras.project_points).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from models.assets import ASSETS_DIR
from models.cameras import Camera, canonical_view
from models.errors import PercheadError
from models.fitting.similarity import frame_transform, move_gaussians
from models.gaussians import Gaussians
from models.palette import palette
from models.photo.align import fit_similarity

FRAMING_PATH = ASSETS_DIR / "segmap_framing.yaml"
# How far beyond the engine's own spread a map's framing (landmark cue) must lie to be a re-framing candidate, per
# component of S. A candidate is decoded as drawn, re-framed and re-framed halfway, and the head that follows
# the painted map best is kept (models/fitting/candidates.py, in the app and in ``perchead eval``): a moved drawing
# and a face drawn in place with its own proportions read alike from eyes and mouth; only the decode tells. Before
# the choice (fourth and fifth sessions) the margin itself decided: 4 for all missed heads drawn 15 px high or low
# or x0.8 / x1.25; 4 / 2.5 / 1.5 / 4 caught more but re-framed a hand-drawn face whose mouth sits low (-0.16).
# Margins here are low, since a wrong candidate costs two more decodes, not a worse head: docs/quality.md
# "Framing normaliser", experiments/framing_gate_sweep.py.
DRAWN_MARGINS: dict[str, float] = {"shift_x": 1.5, "shift_y": 1.5, "log_scale": 1.0, "roll_deg": 1.5}
FramingMode = Literal["auto", "off"]
FRAMING_MODES: tuple[str, ...] = get_args(FramingMode)
Cue = Literal["landmarks", "face"]
FACE_CLASSES = ("skin", "nose", "eyes", "eyebrows", "upper_lip", "lower_lip", "mouth", "facial_hair", "eyeglasses")
MOUTH_CLASSES = ("upper_lip", "lower_lip", "mouth")
# Eyes and the mouth count only within this many px of the face around them (skin, nose, brows, beard,
# glasses): a lip-coloured mark on the shirt or an eye-coloured one in the hair is not a landmark
# (it moved the "mouth" 27 px and read as a x1.24 framing). Engine and drawn eyes lie well inside it.
FACE_CONTEXT = ("skin", "nose", "eyebrows", "facial_hair", "eyeglasses")
CONTEXT_PX = 12
MIN_PART_PX = 4       # a mouth smaller than this (at 256 px) is not a usable cue
# an eye smaller than this (at 256 px) is closed or hidden, not a usable cue: on engine heads (training stream 31,
# 320 heads) a closed eye leaves 0-3 px of eyeball at the lid seam (6 on one benchmark head) and the smallest open
# eye, in a broad smile, covers 17
MIN_EYE_PX = 12
SCALE_RANGE = (0.5, 2.0)  # a fitted scale outside this is a misread cue, not a framing


@dataclass(frozen=True)
class Framing:
    """A 2D similarity of the canonical image: x -> c + shift + scale * R(roll) (x - c), c the centre."""

    shift_px: tuple[float, float]  # x right, y down, at ``size`` px
    scale: float
    roll_deg: float
    cue: Cue
    size: int

    def matrix(self) -> np.ndarray:
        """[2, 3]: canonical px -> map px."""
        a = math.radians(self.roll_deg)
        lin = self.scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        c = np.full(2, self.size / 2)
        return np.concatenate([lin, (c + np.array(self.shift_px) - lin @ c)[:, None]], 1)

    @staticmethod
    def from_matrix(m: np.ndarray, cue: Cue, size: int) -> Framing:
        """A [2, 3] similarity (canonical px -> map px) as shift about the centre, scale and roll."""
        scale = float(math.sqrt(abs(np.linalg.det(m[:, :2]))))
        roll = math.degrees(math.atan2(m[1, 0], m[0, 0]))
        c = np.full(2, size / 2)
        shift = m[:, :2] @ c + m[:, 2] - c
        return Framing((float(shift[0]), float(shift[1])), scale, roll, cue, size)


@dataclass(frozen=True)
class FramingStats:
    """The engine's framing (assets/segmap_framing.yaml), in units of the image side."""

    landmarks: np.ndarray            # [3, 2] image-left eye, image-right eye, mouth
    face_centre: np.ndarray          # [2]
    face_area: float                 # share of the image
    limits: dict[str, dict[str, float]]  # cue -> shift_x / shift_y (units of the side), log_scale, roll_deg
    # weight of the landmarks' log scale against the face area's where a map has both (inverse variances
    # over engine maps): on engine heads the two vary independently (eye spacing vs hair over the face), a
    # whole map scaled moves both, so their weighted mean separates framing from a head's proportions
    landmark_scale_weight: float = 1.0

    def scaled_limits(self, cue: Cue, size: int) -> dict[str, float]:
        lim = dict(self.limits[cue])
        lim["shift_x"] *= size
        lim["shift_y"] *= size
        return lim


@lru_cache(maxsize=1)
def framing_stats() -> FramingStats:
    """The measured engine framing (read once)."""
    try:
        cfg = yaml.safe_load(FRAMING_PATH.read_text())
        lm = np.array([cfg["landmarks"][n] for n in ("eye_left", "eye_right", "mouth")], dtype=np.float64)
        stats = FramingStats(lm, np.array(cfg["face"]["centre"], dtype=np.float64), float(cfg["face"]["area"]),
                             {cue: {k: float(v) for k, v in cfg["limits"][cue].items()} for cue in ("landmarks", "face")},
                             float(cfg["landmark_scale_weight"]))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise PercheadError(f"cannot read {FRAMING_PATH}: {e}; restore the shipped file") from e
    if stats.landmarks.shape != (3, 2) or stats.face_centre.shape != (2,):
        raise PercheadError(f"{FRAMING_PATH} has the wrong layout; restore the shipped file")
    return stats


# ---- cues -----------------------------------------------------------------------------------
def _ids(names: tuple[str, ...]) -> list[int]:
    pal = palette()
    return [pal.id_of(n) for n in names]


def _opened(mask: np.ndarray) -> np.ndarray:
    """A 3x3 morphological opening of a boolean mask [S, S]: drops the one- and two-pixel fringes
    that anti-aliased brushes leave as stray classes along other classes' edges, keeps real parts."""
    return _dilate(~_dilate(~mask))  # erosion = complement of the complement's dilation


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation of a boolean mask [h, w] (outside the mask's array counts as False), as a
    row pass then a column pass (4 ORs instead of 9: this runs on every brush stroke)."""
    rows = mask.copy()
    rows[:, 1:] |= mask[:, :-1]
    rows[:, :-1] |= mask[:, 1:]
    out = rows.copy()
    out[1:] |= rows[:-1]
    out[:-1] |= rows[1:]
    return out


_CROP_MARGIN = 3  # px around a part's bounding box: the opening and the 2 px reach stay inside it


def _box_dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Dilation of a boolean mask [h, w] by a (2r+1)² square, from running sums (cost independent of r)."""
    out = mask
    for axis in (0, 1):
        c = np.cumsum(out, axis=axis, dtype=np.int32)
        c = np.concatenate([np.zeros_like(c.take([0], axis=axis)), c], axis=axis)  # c[i] = sum of out[:i]
        n = out.shape[axis]
        hi = np.minimum(np.arange(n) + r + 1, n)
        lo = np.maximum(np.arange(n) - r, 0)
        out = (c.take(hi, axis=axis) - c.take(lo, axis=axis)) > 0
    return out


def _near_face(labels: np.ndarray) -> np.ndarray:
    """Pixels within ``CONTEXT_PX`` of the face's own classes. [S, S] bool"""
    ids = _ids(FACE_CONTEXT)
    face = labels == ids[0]
    for i in ids[1:]:
        face |= labels == i
    return _box_dilate(face, CONTEXT_PX)


def _part(labels: np.ndarray, names: tuple[str, ...], within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows and columns of a part, without stray fringe pixels (unless that would leave none).

    The morphology runs on the part's bounding box plus a margin (eyes and mouth are a few hundred
    of the map's 65,536 pixels); within the margin nothing differs from running it on the whole map."""
    ids = _ids(names)
    mask = labels == ids[0]  # [S, S]; ORed comparisons: several times faster than np.isin or a table lookup here
    for i in ids[1:]:
        mask |= labels == i
    if within is not None:
        mask &= within
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return rows, cols
    h, w = mask.shape
    y0, y1 = max(rows[0] - _CROP_MARGIN, 0), min(rows[-1] + _CROP_MARGIN + 1, h)
    x0, x1 = max(cols[0] - _CROP_MARGIN, 0), min(cols[-1] + _CROP_MARGIN + 1, w)
    crop = mask[y0:y1, x0:x1]
    core = _opened(crop)
    if core.sum() < MIN_PART_PX:
        ys, xs = np.nonzero(crop)
    else:  # the part's own pixels within 2 px of its core: thin tips stay (centroids stay exact), far specks go
        ys, xs = np.nonzero(crop & _dilate(_dilate(core)))
    return ys + y0, xs + x0


def landmarks(labels: np.ndarray, near: np.ndarray | None = None) -> np.ndarray | None:
    """Eye centroids (the eyes class split at its mean x) and the mouth centroid, px [3, 2]; None
    when an eye or the mouth is missing or too small to place."""
    near = _near_face(labels) if near is None else near
    ys, xs = _part(labels, ("eyes",), near)
    my, mx = _part(labels, MOUTH_CLASSES, near)
    if xs.size < 2 * MIN_EYE_PX or mx.size < MIN_PART_PX:
        return None
    split = xs.mean()
    left, right = xs < split, xs >= split
    if left.sum() < MIN_EYE_PX or right.sum() < MIN_EYE_PX:
        return None
    pts = np.array([[xs[left].mean(), ys[left].mean()], [xs[right].mean(), ys[right].mean()], [mx.mean(), my.mean()]])
    pts += 0.5  # pixel centres
    # one eye cut in two halves (the other hidden) gives two points closer than any eye pair
    eye_gap, mouth_gap = np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[:2].mean(0))
    if eye_gap < 0.25 * mouth_gap:
        return None
    return pts


def face_cue(labels: np.ndarray, near: np.ndarray | None = None) -> tuple[np.ndarray, float] | None:
    """Centroid (px) [2] and area share of the face region (skin and the parts inside it; parts
    away from the face, like a lip-coloured mark on the shirt, do not count)."""
    ys, xs = _part(labels, FACE_CLASSES, _near_face(labels) if near is None else near)
    if xs.size < 16 * MIN_PART_PX:
        return None
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5]), xs.size / labels.size


def estimate_framing(labels: np.ndarray, stats: FramingStats | None = None) -> Framing | None:
    """The similarity taking the engine's framing to this map's [S, S] (None: no usable cue)."""
    stats = stats or framing_stats()
    near = _near_face(labels)  # [S, S]; computed once for every cue
    return landmark_framing(labels, stats, near) or face_framing(labels, stats, near)


def landmark_framing(labels: np.ndarray, stats: FramingStats, near: np.ndarray | None = None) -> Framing | None:
    """Roll from the least-squares similarity of the engine's mean eye / mouth centroids onto the
    map's; scale from it and the face area together (``landmark_scale_weight``); shift so the
    centroid of the three points lands where the map has it."""
    pts = landmarks(labels, near)
    if pts is None:
        return None
    size = labels.shape[0]
    src = stats.landmarks * size  # [3, 2]
    fit = Framing.from_matrix(fit_similarity(src, pts), "landmarks", size)
    log_scale = math.log(fit.scale)
    face = face_framing(labels, stats, near)
    if face is not None:
        w = stats.landmark_scale_weight
        log_scale = w * log_scale + (1 - w) * math.log(face.scale)
    scale = math.exp(log_scale)
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        return None
    a = math.radians(fit.roll_deg)
    lin = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = np.full(2, size / 2)
    shift = pts.mean(0) - c - lin @ (src.mean(0) - c)
    return Framing((float(shift[0]), float(shift[1])), scale, fit.roll_deg, "landmarks", size)


def face_framing(labels: np.ndarray, stats: FramingStats, near: np.ndarray | None = None) -> Framing | None:
    """Scale from the face region's area, shift from its centroid; no roll (a face's outline
    says little about its tilt once hair covers part of it)."""
    face = face_cue(labels, near)
    if face is None:
        return None
    size = labels.shape[0]
    centre, area = face
    scale = math.sqrt(area / stats.face_area)
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        return None
    c = size / 2
    shift = centre - c - scale * (stats.face_centre * size - c)
    return Framing((float(shift[0]), float(shift[1])), scale, 0.0, "face", size)


def off_framing(f: Framing, stats: FramingStats | None = None, margins: Mapping[str, float] | None = None) -> bool:
    """Whether the map is framed beyond what engine maps show (by any of shift, scale, roll): ``margins``
    (default ``DRAWN_MARGINS``) x their spread for the landmark cue; the face-region cue's limits are already
    wide (engine faces vary in size and place far more than their eyes and mouth do), so they are used as measured."""
    lim = (stats or framing_stats()).scaled_limits(f.cue, f.size)
    if f.cue != "landmarks":
        margins = dict.fromkeys(DRAWN_MARGINS, 1.0)
    elif margins is None:
        margins = DRAWN_MARGINS
    value = {"shift_x": abs(f.shift_px[0]), "shift_y": abs(f.shift_px[1]), "log_scale": abs(math.log(f.scale)),
             "roll_deg": abs(f.roll_deg)}
    return any(value[k] > margins[k] * lim[k] for k in value)


def plan_framing(labels: np.ndarray, mode: FramingMode = "auto") -> Framing | None:
    """The framing to undo for this map, or None to decode it as it is."""
    if mode == "off":
        return None
    if mode not in FRAMING_MODES:
        raise PercheadError(f"unknown framing mode {mode!r}; use one of {', '.join(FRAMING_MODES)}")
    f = estimate_framing(labels)
    return f if f is not None and off_framing(f) else None


# ---- applying it ----------------------------------------------------------------------------
def canonicalise(labels: np.ndarray, f: Framing) -> np.ndarray:
    """The map [S, S] in the engine's framing: canonical pixel p takes the map's class at S(p).
    Nearest (class ids never blend); beyond the map's edge its border continues (shoulders and
    clothes run off the bottom of engine maps, and must not end where the drawing's frame did)."""
    s = labels.shape[0]
    if labels.shape != (f.size, f.size):
        raise ValueError(f"map {labels.shape} and framing ({f.size} px) differ in size")
    m = torch.from_numpy(f.matrix())  # [2, 3] float64
    ys, xs = torch.meshgrid(torch.arange(s, dtype=torch.float64) + 0.5, torch.arange(s, dtype=torch.float64) + 0.5,
                            indexing="ij")
    src = torch.stack([xs, ys], -1) @ m[:, :2].T + m[:, 2]  # [S, S, 2] map px (continuous)
    grid = (src / s * 2 - 1).float()[None]  # [1, S, S, 2], align_corners=False convention
    img = torch.from_numpy(labels.astype(np.float32))[None, None]
    out = F.grid_sample(img, grid, mode="nearest", padding_mode="border", align_corners=False)
    return out[0, 0].round().numpy().astype(labels.dtype)


def place_head(g: Gaussians, f: Framing, camera: Camera | None = None) -> Gaussians:
    """Move a head decoded from the canonicalised map by S in 3D, so its render at the canonical
    camera lines up with the original map. ``camera``: the canonical camera (default: assets)."""
    cam = camera or canonical_view().camera(f.size)
    fx = float(cam.K[0, 0]) * f.size / cam.width  # the shift is in pixels of the map's size
    t = frame_transform(cam.world_to_cam, fx, f.shift_px, f.scale, f.roll_deg)  # [4, 4] float64
    return move_gaussians(g, t)


def frame_maps(maps: np.ndarray, plans: list[Framing | None]) -> np.ndarray:
    """Maps [B, S, S] re-framed by their plans (None: as drawn) [B, S, S]: what the network decodes."""
    return np.stack([canonicalise(m, f) if f is not None else m for m, f in zip(maps, plans)])
