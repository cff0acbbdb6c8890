"""Measured: the photo pipeline's alignment error, person-mask and seg-map agreement on engine heads, and time per stage. Result: docs/photo.md "Measured".

Measure the photo pipeline (models.photo) for docs/photo.md: alignment error, mask and seg-map
agreement, and per-stage time.

- Real photos (scikit-image's astronaut and camera): eyes and mouth found afresh by MediaPipe in
  the photo warped by the pipeline's alignment, distance from the canonical targets (px at 256).
- Known similarities (tilt, sideways, upside down, close crop) applied to the astronaut and to
  engine renders: how far the new alignment, after undoing the similarity, moves the canonical
  crop's corners (px at 256).
- Engine heads in the canonical view (exact ground truth): key-point error, person-mask IoU
  against the rendered alpha, per-class IoU of the parsed map against the engine's class map.
- Wall time per stage on the astronaut (median and minimum of --repeats runs, graphs warm).

    python experiments/measure_photo_pipeline.py --heads 12 --repeats 20
"""
from __future__ import annotations

import argparse
import math
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heads", type=int, default=12, help="engine heads (training seeds of stream 11)")
    p.add_argument("--repeats", type=int, default=20, help="timed runs of the astronaut")
    args = p.parse_args(argv)

    import numpy as np
    import skimage.data
    import torch
    from PIL import Image

    from models.cameras import canonical_view
    from models.palette import palette
    from models.photo import apply_affine, canonical_targets, key_points, mediapipe_faces, prepare_photo, warp
    from models.render import render
    from models.synthetic import build_heads, sample_attributes, training_seed

    torch.set_num_threads(1)
    size = canonical_view().image_size
    targets = canonical_targets().at(size)
    mp = mediapipe_faces()
    pal = palette()

    def errors(rgb: np.ndarray, prepared) -> np.ndarray:  # [3] px
        crop = warp(rgb, prepared.alignment, size)
        faces = mp.detect(crop)
        if not faces:
            return np.full(3, np.nan)
        return np.linalg.norm(key_points(mp.landmarks(crop, faces[0])) - targets, axis=1)

    def similarity(angle: float, scale: float, shift: tuple[float, float], centre: tuple[float, float]) -> np.ndarray:
        a = math.radians(angle)
        rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        t = np.asarray(centre) - rot @ np.asarray(centre) + np.asarray(shift)
        return np.concatenate([rot, t[:, None]], 1)

    moves = {"tilt25_small": (25.0, 0.6, (40.0, -30.0)), "sideways": (-90.0, 0.9, (0.0, 20.0)),
             "upside_down": (180.0, 1.0, (0.0, 0.0)), "close_cropped": (-10.0, 1.4, (-60.0, 30.0))}
    probe = np.array([[0, 0], [size, 0], [0, size], [size, size], [size / 2, size / 2]], dtype=np.float64)

    def undo_error(rgb: np.ndarray, base) -> dict[str, float]:
        h, w = rgb.shape[:2]
        out = {}
        for name, (angle, scale, shift) in moves.items():
            t = similarity(angle, scale, shift, (w / 2, h / 2))
            try:
                moved = prepare_photo(warp(rgb, t, max(h, w)))
            except Exception as e:  # noqa: BLE001 (a measurement script reports every failure)
                print(f"  {name}: {e}")
                out[name] = float("nan")
                continue
            m = moved.alignment
            composed = np.concatenate([m[:, :2] @ t[:, :2], (m[:, :2] @ t[:, 2] + m[:, 2])[:, None]], 1)
            out[name] = float(np.abs(apply_affine(composed, apply_affine(base.inverse, probe)) - probe).max())
        return out

    print("## Real photos: eyes and mouth vs targets (px at 256), re-detected in the aligned photo")
    astronaut = skimage.data.astronaut()
    camera = np.repeat(skimage.data.camera()[..., None], 3, -1)
    for name, rgb in (("astronaut", astronaut), ("camera", camera)):
        prep = prepare_photo(rgb)
        e = errors(rgb, prep)
        print(f"{name}: eye_left {e[0]:.2f}, eye_right {e[1]:.2f}, mouth {e[2]:.2f}; face {prep.face.width:.0f} px; "
              f"notes: {prep.notes}")
        if name == "astronaut":
            print("  known similarities undone, max corner error:",
                  {k: round(v, 2) for k, v in undo_error(rgb, prep).items()})

    print(f"\n## Engine heads ({args.heads}, canonical view, exact ground truth)")
    camera_view = canonical_view().camera(size)
    rows, undo = [], []
    ious: dict[str, list[float]] = {}
    groups = {"skin": ("skin",), "hair": ("hair",), "nose": ("nose",), "eyes": ("eyes",),
              "eyebrows": ("eyebrows",), "lips": ("upper_lip", "lower_lip", "mouth"), "ears": ("ears",),
              "neck": ("neck",), "clothes": ("clothes",), "background": ("background",)}
    for i in range(args.heads):
        attrs = sample_attributes(training_seed(11, i))
        out = render(build_heads([attrs], "cpu")[0], camera_view, classes=True)
        rgb = (out.rgb.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
        cls = out.class_map.numpy().astype(np.uint8)
        extras = [a for a in (attrs.glasses, attrs.hat, attrs.facial_hair) if a != "none"]
        try:
            prep = prepare_photo(rgb)
        except Exception as e:  # noqa: BLE001
            print(f"seed {attrs.seed} ({', '.join(extras) or 'plain'}): {e}")
            continue
        inv = tuple(prep.inverse.reshape(-1))
        truth = np.asarray(Image.fromarray(cls).transform((size, size), Image.Transform.AFFINE, inv,
                                                          Image.Resampling.NEAREST))
        alpha = warp(out.alpha.numpy().astype(np.float32), prep.alignment, size) > 0.5
        mask = prep.mask > 0.5
        e = errors(rgb, prep)
        line = {"mask": float((mask & alpha).sum() / (mask | alpha).sum())}
        for g, names in groups.items():
            ids = [pal.id_of(n) for n in names]
            a, b = np.isin(prep.labels, ids), np.isin(truth, ids)
            if b.sum() >= 20:
                line[g] = float((a & b).sum() / (a | b).sum())
                ious.setdefault(g, []).append(line[g])
        rows.append(np.concatenate([e, [line["mask"]]]))
        if i < 2:
            undo.append(undo_error(rgb, prep))
        print(f"seed {attrs.seed} ({', '.join(extras) or 'plain'}): key points {np.round(e, 2).tolist()} px; "
              + ", ".join(f"{k} {v:.2f}" for k, v in line.items()))
    arr = np.array(rows)
    print(f"key-point error px: mean {np.nanmean(arr[:, :3]):.2f}, max {np.nanmax(arr[:, :3]):.2f}; "
          f"mask IoU mean {arr[:, 3].mean():.3f}, min {arr[:, 3].min():.3f}")
    print("per-class IoU mean:", {k: round(float(np.mean(v)), 2) for k, v in ious.items()})
    print("known similarities undone (first two heads), max corner error:",
          [{k: round(v, 2) for k, v in u.items()} for u in undo])

    print(f"\n## Wall time per stage, astronaut 512x512 -> 256, graphs warm, {args.repeats} runs (ms)")
    laps: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for k, v in prepare_photo(astronaut).timings_ms.items():
            laps.setdefault(k, []).append(v)
    total = np.sum([v for v in laps.values()], 0)
    for k, v in list(laps.items()) + [("total", list(total))]:
        print(f"{k}: median {np.median(v):.1f}, min {np.min(v):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
