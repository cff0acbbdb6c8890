"""Real photos in: find the face, align it to the canonical view, remove the background, parse it.

Public API:
- ``prepare_photo(rgba, size=None, *, name="the photo") -> PreparedPhoto`` (aligned RGBA, mask,
  first seg map, alignment and its inverse, landmarks, notes);
- ``SEGMAP_NOTE``: the line to show next to a parsed seg map (a start for painting);
- ``mediapipe_available()``, ``mediapipe_has_wheels()`` and ``INSTALL_HINT``: whether photo support is
  installed, whether it could be on this platform, and how; ``MediaPipeMissing`` (a PercheadError);
- ``canonical_targets()``, ``key_points``, ``fit_similarity``, ``apply_affine``, ``warp``: the
  alignment pieces, for tests and for mapping results back onto the photo.
MediaPipe is imported on first use, so importing this package is cheap.
"""
from models.photo.align import apply_affine, canonical_targets, fit_similarity, invert_affine, key_points, warp
from models.photo.detect import (INSTALL_HINT, FaceBox, MediaPipeMissing, mediapipe_available, mediapipe_faces,
                                 mediapipe_has_wheels)
from models.photo.pipeline import MIN_FACE_PX, SEGMAP_NOTE, PreparedPhoto, prepare_photo

__all__ = [
    "INSTALL_HINT", "MIN_FACE_PX", "SEGMAP_NOTE", "FaceBox", "MediaPipeMissing", "PreparedPhoto", "apply_affine",
    "canonical_targets", "fit_similarity", "invert_affine", "key_points", "mediapipe_available", "mediapipe_faces",
    "mediapipe_has_wheels", "prepare_photo", "warp",
]
