"""Photo -> canonical framing: find the one face, align it, remove the background, parse it.

Our networks learned from engine renders in the canonical input view (assets/canonical_camera.yaml):
head upright, eyes and mouth at fixed places, background transparent. A photograph reaches them
only after the same framing, so ``prepare_photo`` maps it there with a similarity fitted to the
eyes and mouth, masks the person with MediaPipe's selfie segmentation, and draws a first seg map
from the face mesh (``models.photo.parse``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from models.cameras import canonical_view
from models.errors import PercheadError
from models.photo.align import (affine_scale, apply_affine, canonical_targets, fit_similarity, invert_affine,
                                key_points, warp)
from models.photo.detect import FaceBox, mediapipe_faces
from models.photo.parse import fill_polygon, parse_face
from models.photo.topology import FACE_OVAL, FACE_SIDE_LEFT, FACE_SIDE_RIGHT, LEFT_EYE, NOSE_TIP, RIGHT_EYE

log = logging.getLogger(__name__)

EYES_DISAGREE = 0.75      # mesh eyes this many eye distances from the detector's: not a clear face
MIN_FACE_PX = 40          # face box width below which landmarks are unreliable: refused
SHARP_FACE_PX = 100       # about the canonical face's box width at 256 px: smaller faces are upscaled (soft)
OTHER_FACE_SHARE = 0.5    # a second face at least this share of the main face's width makes the photo ambiguous
MASK_EDGE = (0.3, 0.7)    # selfie-mask values mapped to alpha 0 and 1 (a crisper edge, like engine renders)
TURNED_REACH = 0.3        # nose-to-face-side share below which the face counts as turned
OUTSIDE_NOTE_SHARE = 0.02  # note when more than this share of the crop lies outside the photo
SEGMAP_NOTE = ("the seg map is a first guess from face landmarks and colours, a start for painting, "
               "not ground truth: check hair, neck, ears and clothes, and paint beards, glasses and hats")


@dataclass
class PreparedPhoto:
    """A photo in the canonical framing, with what is needed to map results back onto it."""

    aligned_rgba: np.ndarray  # [S, S, 4] uint8; alpha = person mask, RGB 0 where alpha is 0
    mask: np.ndarray          # [S, S] float32 0..1 person mask (the alpha, as float)
    labels: np.ndarray        # [S, S] uint8 class ids: a first seg map (SEGMAP_NOTE)
    alignment: np.ndarray     # [2, 3] similarity, photo px -> canonical px (continuous, pixel centres +0.5)
    inverse: np.ndarray       # [2, 3] canonical px -> photo px
    landmarks: np.ndarray     # [478, 2] face-mesh points in canonical px
    face: FaceBox             # the face box in photo px
    notes: list[str] = field(default_factory=list)  # one line each, for the user
    timings_ms: dict[str, float] = field(default_factory=dict)  # wall time per stage (detect, landmarks, ...)

    @property
    def size(self) -> int:
        return int(self.aligned_rgba.shape[0])

    def rgba_float(self) -> np.ndarray:
        """The aligned photo as float32 RGBA [S, S, 4] in 0..1: what HeadPipeline.reconstruct and
        HeadPipeline.style_from_image read."""
        return self.aligned_rgba.astype(np.float32) / 255.0


def prepare_photo(rgba: np.ndarray, size: int | None = None, *, name: str = "the photo") -> PreparedPhoto:
    """A photo [H, W, 3|4] (uint8, or float 0..1 as load_rgba gives) -> PreparedPhoto at ``size`` px.

    ``size`` defaults to the canonical view size; ``name`` is how error lines refer to the photo.
    Raises PercheadError for no face, several faces, a face too small, or MediaPipe missing.
    """
    size = canonical_view().image_size if size is None else int(size)
    if not 16 <= size <= 4096:
        raise PercheadError(f"photo size {size} is out of range; use 16 to 4096 px")
    rgb, alpha_in = _split_rgba(rgba, name)
    mp = mediapipe_faces()
    notes: list[str] = []
    clock = _Stopwatch()
    faces = mp.detect(rgb)
    clock.lap("detect")
    face = _the_face(faces, name, notes)
    pts = mp.landmarks(rgb, face)
    clock.lap("landmarks")
    if pts is None:
        raise PercheadError(f"found a face in {name} but could not place its features; use a photo where the "
                            "face looks at the camera, unoccluded")
    if _eyes_disagree(face, pts):  # detector and mesh saw different things: a face-like pattern, or a misread
        raise PercheadError(f"no clear face found in {name}; use a photo with one upright face looking at the "
                            "camera")
    m = fit_similarity(key_points(pts), canonical_targets().at(size))
    aligned = warp(rgb, m, size)  # [S, S, 3]
    inside = warp(np.ones(rgb.shape[:2], np.float32), m, size)  # [S, S]: 1 where the photo covers the crop
    clock.lap("align")
    mask = _crisp(mp.person_mask(aligned)) * np.clip(inside * 2 - 1, 0, 1)
    if alpha_in is not None:  # the user's own cut-out wins where it is stricter
        mask = np.minimum(mask, warp(alpha_in, m, size))
        notes.append("used the photo's transparency as well as the person mask")
    lm = apply_affine(m, pts[:, :2])  # [478, 2]
    oval = fill_polygon(lm[list(FACE_OVAL)], size)
    if float(mask[oval].mean()) < 0.5:
        raise PercheadError(f"the person mask of {name} misses the face; use a photo with the head and "
                            "shoulders in view against a plain background")
    clock.lap("mask")
    parsed = parse_face(aligned, mask, lm)
    clock.lap("parse")
    notes += _framing_notes(face, m, inside, lm, size) + parsed.notes
    alpha = np.round(mask * 255).astype(np.uint8)
    out = np.concatenate([aligned * (alpha[..., None] > 0), alpha[..., None]], -1).astype(np.uint8)
    for n in notes:
        log.info("%s: %s", name, n)
    log.info("%s: %s", name, ", ".join(f"{k} {v:.0f} ms" for k, v in clock.laps.items()))
    return PreparedPhoto(out, mask.astype(np.float32), parsed.labels, m, invert_affine(m), lm, face, notes,
                         clock.laps)


class _Stopwatch:
    """Wall time of consecutive stages, in ms."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = 1000.0 * (now - self._t)
        self._t = now


def _split_rgba(rgba: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """[H, W, 3|4] uint8 or float 0..1 -> RGB [H, W, 3] uint8 (transparent parts on grey) and alpha or None."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 16:
        raise PercheadError(f"{name} must be an RGB(A) image of at least 16x16 px; got an array of shape {a.shape}")
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype.kind == "f":
        f = np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)
    else:
        raise PercheadError(f"{name} must be uint8 or float 0..1 pixels; got {a.dtype}")
    alpha = f[..., 3] if a.shape[2] == 4 and float(f[..., 3].min()) < 1.0 else None
    rgb = f[..., :3] if alpha is None else f[..., :3] * alpha[..., None] + 0.5 * (1 - alpha[..., None])
    return np.round(rgb * 255).astype(np.uint8), alpha


def _the_face(faces: list[FaceBox], name: str, notes: list[str]) -> FaceBox:
    """The one face to use, or the error that says why there is none."""
    if not faces:
        raise PercheadError(f"no face found in {name}; use a photo with one upright face looking at the camera, "
                            f"at least {MIN_FACE_PX} px wide")
    main, others = faces[0], faces[1:]
    rivals = [f for f in others if f.width >= OTHER_FACE_SHARE * main.width]
    if rivals:
        raise PercheadError(f"found {1 + len(rivals)} faces in {name}; crop the photo to one face")
    if others:
        notes.append(f"ignored {len(others)} smaller face(s) in the background")
    if main.width < MIN_FACE_PX:
        raise PercheadError(f"the face in {name} is only {main.width:.0f} px wide; it needs at least "
                            f"{MIN_FACE_PX} px (use a larger or closer photo)")
    return main


def _eyes_disagree(face: FaceBox, pts: np.ndarray) -> bool:
    """Whether the mesh's eyes [478, 2+] lie far from the detector's, in eye distances (measured on real faces:
    <= 0.1 frontal, 0.2-0.33 turned 45 degrees; a colour wheel read as a face: 2.1)."""
    if face.eyes is None:
        return False
    right, left = np.asarray(face.eyes[0]), np.asarray(face.eyes[1])
    span = max(float(np.linalg.norm(left - right)), 1e-6)
    mesh_right, mesh_left = pts[list(RIGHT_EYE), :2].mean(0), pts[list(LEFT_EYE), :2].mean(0)
    off = max(np.linalg.norm(mesh_right - right), np.linalg.norm(mesh_left - left)) / span
    return off > EYES_DISAGREE


def _crisp(mask: np.ndarray) -> np.ndarray:
    """Selfie-mask probabilities [S, S] -> alpha with a short smooth edge (smoothstep)."""
    lo, hi = MASK_EDGE
    t = np.clip((mask - lo) / (hi - lo), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _framing_notes(face: FaceBox, m: np.ndarray, inside: np.ndarray, lm: np.ndarray, size: int) -> list[str]:
    notes = []
    upscale = affine_scale(m)
    if face.width < SHARP_FACE_PX * size / 256 and upscale > 1.0:
        notes.append(f"the face is only {face.width:.0f} px wide: the aligned crop is enlarged x{upscale:.1f} "
                     "and looks soft; a closer photo gives more detail")
    outside = float((inside < 0.5).mean())
    if outside > OUTSIDE_NOTE_SHARE:
        notes.append(f"{outside:.0%} of the canonical framing lies outside the photo (left transparent)")
    face_w = abs(lm[FACE_SIDE_LEFT, 0] - lm[FACE_SIDE_RIGHT, 0])
    reach = min(abs(lm[s, 0] - lm[NOSE_TIP, 0]) for s in (FACE_SIDE_LEFT, FACE_SIDE_RIGHT)) / max(face_w, 1e-6)
    if reach < TURNED_REACH:
        notes.append("the face is turned to one side; the networks expect a face looking at the camera")
    return notes
