"""Measure how the engine frames its seg maps, for the framing normaliser (models/fitting/framing.py).

Renders the canonical-view class maps of engine heads of a training stream (every head, with
glasses, beards, hats and hair over the eyes, at the model's input size: exactly the maps the
edit model trains on before augmentation) and records, per map, the normaliser's cues: the eye
and mouth centroids and the face region's centroid and area. Their means are the engine's
framing; the similarity each map's own cues give against those means is the spread the engine
itself shows (the landmark cue's scale is the inverse-variance mean of the landmarks' and the
face area's log scales, whose variances are measured here too), and its extreme (``--quantile``, default the largest) per parameter becomes the
limit beyond which a map counts as framed differently. Writes assets/segmap_framing.yaml.

    python scripts/measure_segmap_framing.py --heads 400 -o assets/segmap_framing.yaml
"""
from __future__ import annotations

import argparse
import math
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heads", type=int, default=400, help="engine heads to measure")
    p.add_argument("--stream", type=int, default=31, help="training stream the heads come from")
    p.add_argument("--quantile", type=float, default=1.0,
                   help="quantile of |parameter| over engine maps that becomes its limit (1.0 = the largest)")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)

    import numpy as np
    import yaml

    from models.io.atomic import write_bytes_atomic
    from models.cameras import canonical_view
    from models.fitting.framing import (
        FramingStats,
        face_cue,
        face_framing,
        landmark_framing,
        landmarks,
    )
    from models.synthetic.sampler import HeadSampler

    size = canonical_view().image_size
    sampler = HeadSampler("train", stream=args.stream, device=args.device)
    maps: list[np.ndarray] = []
    while len(maps) < args.heads:
        batch = sampler.make_batch(min(16, args.heads - len(maps)), views=1, size=size)
        maps.extend(batch.class_map[:, 0].cpu().numpy().astype(np.uint8))
        print(f"{len(maps)} maps", file=sys.stderr)
    pts = [landmarks(m) for m in maps]
    faces = [face_cue(m) for m in maps]
    lm = np.stack([x for x in pts if x is not None]) / size  # [L, 3, 2]
    fc = np.stack([f[0] for f in faces if f is not None]) / size  # [F, 2]
    fa = np.array([f[1] for f in faces if f is not None])  # [F]
    mean_lm, centre, area = lm.mean(0), fc.mean(0), float(fa.mean())

    # each map's framing against the means: the landmark cue where it reads, the face cue on every map
    open_limits = {k: math.inf for k in ("shift_x", "shift_y", "log_scale", "roll_deg")}
    stats = FramingStats(mean_lm, centre, area, {"landmarks": open_limits, "face": open_limits})
    # landmark and face log scales of maps with both: their variances weigh them in the joint scale
    pairs = np.array([[math.log(a.scale), math.log(b.scale)] for a, b in
                      ((landmark_framing(m, stats), face_framing(m, stats)) for m in maps) if a and b])
    var_l, var_f = pairs.var(0)
    weight = float(var_f / (var_l + var_f))
    stats = FramingStats(mean_lm, centre, area, stats.limits, weight)
    params: dict[str, list[list[float]]] = {"landmarks": [], "face": []}
    for m in maps:  # the face cue on every map (it is the fallback for any kind of head), landmarks where they read
        for cue, f in (("landmarks", landmark_framing(m, stats)), ("face", face_framing(m, stats))):
            if f is not None:
                params[cue].append([f.shift_px[0] / size, f.shift_px[1] / size, math.log(f.scale), f.roll_deg])
    names = ("shift_x", "shift_y", "log_scale", "roll_deg")
    limits, report = {}, {}
    for cue, rows in params.items():
        arr = np.abs(np.array(rows))  # [M, 4]
        limits[cue] = {n: round(float(np.quantile(arr[:, i], args.quantile)), 5) for i, n in enumerate(names)}
        if cue == "face":
            limits[cue]["roll_deg"] = 0.0  # the face cue does not estimate roll
        report[cue] = {"maps": len(rows), **{n: {q: round(float(np.quantile(arr[:, i], float(q))), 5)
                                                   for q in ("0.5", "0.9", "0.99", "1.0")} for i, n in enumerate(names)}}
    doc = {
        "landmarks": {n: [round(float(v), 5) for v in mean_lm[i]] for i, n in enumerate(("eye_left", "eye_right", "mouth"))},
        "face": {"centre": [round(float(v), 5) for v in centre], "area": round(area, 5)},
        "landmark_scale_weight": round(weight, 4),
        "scale_cues": {"landmark_log_scale_std": round(float(var_l ** 0.5), 5), "face_log_scale_std": round(float(var_f ** 0.5), 5),
                       "correlation": round(float(np.corrcoef(pairs.T)[0, 1]), 3), "maps": len(pairs)},
        "limits": limits,
        "spread": report,
        "maps": len(maps), "maps_with_landmarks": len(lm), "stream": args.stream, "size": size,
        "quantile": args.quantile,
    }
    header = ("# How the engine frames its seg maps (canonical view, the edit model's input size): the mean\n"
              "# eye / mouth centroids and face-region centroid / area share (units of the image side; x right,\n"
              "# y down, pixel centres at +0.5), and per cue the largest |shift| (units of the side), |log scale|\n"
              "# and |roll| (degrees) that engine maps themselves show against those means. A map whose framing\n"
              "# goes beyond a limit is re-framed by models/fitting/framing.py; engine maps never are.\n"
              "# Measured by scripts/measure_segmap_framing.py; re-run it when the engine or the camera changes.\n")
    write_bytes_atomic(args.output, (header + yaml.safe_dump(doc, sort_keys=False)).encode())
    print(yaml.safe_dump(doc, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
