"""Real photos (issue 25): the base model's head from a portrait, scored against that portrait.

For each photo of ``assets/eval/photos/photos.yaml`` the app's own path runs (``prepare_photo`` at 512 px, then
``HeadPipeline.reconstruct``), and the head is rendered in the photo's view (the canonical input view the photo
was aligned to) and from the sides:

- ``photo_front_psnr``: render vs aligned photo, RGB, over the person mask's pixels (mask > 0.5);
- ``photo_front_detail``: that render's mean absolute Laplacian of luminance over the photo's, same pixels (the
  person mask's; the head's edge against a real photo's cut-out would count as detail);
- ``photo_landmark_nme``: MediaPipe's face mesh on the render vs on the photo, mean point distance over the
  photo's inter-ocular distance (outer eye corners), over the photos whose render shows a face;
- ``photo_front_found``: share of photos whose front render MediaPipe finds a face in (with its mesh);
- ``photo_side_found``: share of renders at yaw -30 and +30 degrees in which it finds one.

Renders are composited on mid grey for the landmarker, as ``prepare_photo`` puts a cut-out photo on grey.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from models.assets import ASSETS_DIR, read_data
from models.cameras import Camera, CanonicalView, canonical_view, orbit_camera
from models.evaluation.metrics import laplacian_energy, psnr
from models.gaussians import Gaussians
from models.render import render

PHOTOS_DIR = ASSETS_DIR / "eval" / "photos"
PHOTO_SIZE = 512            # px: the aligned photo and every render
SIDE_YAWS = (-30.0, 30.0)   # the "face found at +-30 degrees"
OUTER_EYE_CORNERS = (33, 263)  # face-mesh points: the subject's right and left outer eye corners
MASK_IN = 0.5               # person-mask value from which a pixel counts for PSNR


@dataclass(frozen=True)
class EvalPhoto:
    name: str
    path: Path
    person: str


def eval_photos(folder: Path = PHOTOS_DIR) -> list[EvalPhoto]:
    """The evaluation portraits listed in ``folder/photos.yaml`` (a data file: provenance first), in its order."""
    spec = read_data(folder / "photos.yaml")
    return [EvalPhoto(Path(e["file"]).stem, folder / e["file"], e["person"]) for e in spec["photos"]]


def _to_uint8(rgb: torch.Tensor) -> np.ndarray:
    return np.round(rgb.clamp(0, 1).cpu().numpy() * 255).astype(np.uint8)


def _view(head: Gaussians, camera: Camera) -> tuple[torch.Tensor, torch.Tensor]:
    """rgb [H, W, 3] on black, in 8-bit steps as the photo is (rounding adds high frequencies the detail ratio
    counts), and alpha [H, W], on the CPU."""
    out = render(head, camera, classes=False)
    return torch.round(out.rgb.float().clamp(0, 1).cpu() * 255) / 255, out.alpha.float().cpu()


def _face_points(mp, rgb: torch.Tensor, alpha: torch.Tensor) -> np.ndarray | None:
    """Face-mesh points [478, 2] of a render (composited on grey), or None where no face is found."""
    on_grey = rgb + 0.5 * (1 - alpha[..., None])
    img = _to_uint8(on_grey)
    faces = mp.detect(img)
    if not faces:
        return None
    pts = mp.landmarks(img, faces[0])
    return None if pts is None else pts[:, :2]


def score_photo(pipe, photo: EvalPhoto) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One photo's row (metrics) and its pictures (uint8 [S, S, 3]: the aligned photo and renders by yaw)."""
    from models.io.images import load_rgba
    from models.photo import mediapipe_faces

    mp = mediapipe_faces()
    head, prepared = pipe.photo_head(load_rgba(photo.path, "photo"), PHOTO_SIZE, name=photo.path.name)
    view = canonical_view()
    truth = torch.from_numpy(prepared.aligned_rgba[..., :3].astype(np.float32) / 255.0)
    mask = torch.from_numpy(prepared.mask)
    rgb, alpha = _view(head, view.camera(PHOTO_SIZE))
    inside = mask > MASK_IN
    row: dict[str, Any] = {"photo": photo.name, "gaussians": len(head), "front_psnr": psnr(rgb, truth, inside),
                           "front_detail": laplacian_energy(rgb, inside) / laplacian_energy(truth, inside)}
    lm = prepared.landmarks[:, :2]
    iod = float(np.linalg.norm(lm[OUTER_EYE_CORNERS[0]] - lm[OUTER_EYE_CORNERS[1]]))
    pts = _face_points(mp, rgb, alpha)
    row["front_found"] = pts is not None
    row["landmark_nme"] = float(np.linalg.norm(pts - lm, axis=-1).mean() / iod) if pts is not None else math.nan
    pictures = {"photo": prepared.aligned_rgba[..., :3], "yaw0": _to_uint8(rgb)}
    for yaw in SIDE_YAWS:
        side_rgb, side_alpha = _view(head, _orbit(view, yaw))
        row[f"found_yaw{yaw:+.0f}"] = _face_points(mp, side_rgb, side_alpha) is not None
    for yaw in (90.0, 180.0, 270.0):
        pictures[f"yaw{yaw:.0f}"] = _to_uint8(_view(head, _orbit(view, yaw))[0])
    return row, pictures


def _orbit(view: CanonicalView, yaw: float) -> Camera:
    return orbit_camera(view.orbit_at(yaw), PHOTO_SIZE)


def evaluate_photos(pipe, photos: Sequence[EvalPhoto], tick: Callable[[], None] | None = None,
                    pictures: Path | None = None) -> dict[str, Any]:
    """``photo_*`` metrics over ``photos`` (means over photos; NME over those whose render shows a face), and one
    row per photo under ``photo_rows``. ``pictures``: a folder for ``<name>.jpg`` (photo | yaw 0, 90, 180, 270)."""
    rows = []
    for photo in photos:
        row, pics = score_photo(pipe, photo)
        rows.append(row)
        if pictures is not None:
            from PIL import Image
            pictures.mkdir(parents=True, exist_ok=True)
            strip = np.concatenate([pics[k] for k in ("photo", "yaw0", "yaw90", "yaw180", "yaw270")], axis=1)
            Image.fromarray(strip).save(pictures / f"{photo.name}.jpg", quality=90)
        if tick is not None:
            tick()
    if not rows:
        return {"photos": 0}
    found = [r for r in rows if r["front_found"]]
    sides = [r[f"found_yaw{y:+.0f}"] for r in rows for y in SIDE_YAWS]
    return {
        "photo_front_psnr": float(np.mean([r["front_psnr"] for r in rows])),
        "photo_front_detail": float(np.mean([r["front_detail"] for r in rows])),
        "photo_landmark_nme": float(np.mean([r["landmark_nme"] for r in found])) if found else math.nan,
        "photo_front_found": len(found) / len(rows),
        "photo_side_found": float(np.mean(sides)),
        "photos": len(rows),
        "photo_rows": rows,
    }
