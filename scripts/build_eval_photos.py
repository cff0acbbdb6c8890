"""Cut the evaluation portraits (assets/eval/photos/photos.yaml) from the packages that ship them.

Each original is cropped to a square ``--width`` face widths wide around its face (MediaPipe's box, centred a
little below the face so hair and shoulders fit) and resized so the face is ``--face-px`` wide, then saved as
JPEG. scikit-image and matplotlib are read where installed; the face_recognition originals come from its sdist
(``pip download face_recognition==1.3.0 --no-deps --no-binary :all:``, unpacked: pass the folder).

    python scripts/build_eval_photos.py --face-recognition-sdist /tmp/face_recognition-1.3.0
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from models.assets import ASSETS_DIR, read_data
from models.photo import mediapipe_faces

PHOTOS = ASSETS_DIR / "eval" / "photos"


def original(origin: str, sdist: Path | None) -> Path:
    """The file an ``origin`` line of photos.yaml names."""
    package, inner = origin.split(", ", 1)
    if package.startswith("scikit-image"):
        import skimage
        return Path(skimage.__file__).parent / inner.split("/", 1)[1]
    if package.startswith("matplotlib"):
        import matplotlib
        return Path(matplotlib.get_data_path()) / inner.split("/", 1)[1]
    if package.startswith("face_recognition"):
        if sdist is None:
            raise SystemExit(f"{origin}: pass --face-recognition-sdist DIR (the unpacked sdist)")
        return sdist / inner.split(", ", 1)[-1]
    raise SystemExit(f"unknown origin {origin!r}")


def crop(rgb: np.ndarray, width: float, face_px: int) -> Image.Image:
    faces = mediapipe_faces().detect(rgb)
    if not faces:
        raise SystemExit("no face found")
    f = faces[0]
    cx, cy = (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2 + 0.25 * f.width
    half = width * f.width / 2
    h, w = rgb.shape[:2]
    box = [max(0, round(cx - half)), max(0, round(cy - half)), min(w, round(cx + half)), min(h, round(cy + half))]
    scale = face_px / f.width
    img = Image.fromarray(rgb).crop(box)
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    return img


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--face-recognition-sdist", type=Path, default=None, metavar="DIR")
    p.add_argument("--width", type=float, default=3.2, help="crop side in face widths")
    p.add_argument("--face-px", type=int, default=200, help="face width after resizing (never enlarged)")
    args = p.parse_args()
    spec = read_data(PHOTOS / "photos.yaml")
    for entry in spec["photos"]:
        src = original(entry["origin"], args.face_recognition_sdist)
        img = crop(np.asarray(Image.open(src).convert("RGB")), args.width, args.face_px)
        out = PHOTOS / entry["file"]
        img.save(out, quality=92)
        print(f"{out}: {img.width}x{img.height}, {out.stat().st_size / 1e3:.0f} kB from {src}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
