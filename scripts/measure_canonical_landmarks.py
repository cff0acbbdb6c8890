"""Measure where the engine's canonical view puts the eyes and the mouth, for photo alignment.

Renders the canonical-view class maps of engine heads (training seeds; heads whose glasses or
facial hair hide the eyes or lips are skipped), takes the centroid of each eye's pixels (the
eyes class split at the image centre) and of the lips + inner mouth, and writes their mean
(and spread) to assets/photo_alignment.yaml in units of the image side, so any view size uses
them: ``x_px = u * size``.

    python scripts/measure_canonical_landmarks.py --heads 48 -o assets/photo_alignment.yaml
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heads", type=int, default=48, help="how many engine heads to average")
    p.add_argument("--size", type=int, default=512, help="render size (px) of the class maps")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)

    import numpy as np
    import yaml

    from models.io.atomic import write_bytes_atomic
    from models.cameras import canonical_view
    from models.device import resolve_device
    from models.palette import palette
    from models.render import render
    from models.synthetic import build_heads, sample_attributes, training_seed

    pal = palette()
    eyes = pal.id_of("eyes")
    mouth = [pal.id_of(n) for n in ("upper_lip", "lower_lip", "mouth")]
    device = resolve_device(args.device)
    camera = canonical_view().camera(args.size)
    s = float(args.size)
    points: list[np.ndarray] = []  # each [3, 2]: image-left eye, image-right eye, mouth (units of the side)
    index = 0
    while len(points) < args.heads:
        attrs = sample_attributes(training_seed(7, index))
        index += 1
        if attrs.glasses != "none" or attrs.facial_hair in ("moustache", "full_beard", "goatee"):
            continue
        head = build_heads([attrs], device)[0]
        cls = render(head, camera, classes=True).class_map.cpu().numpy()  # [S, S]
        ys, xs = np.nonzero(cls == eyes)
        left, right = xs < s / 2, xs >= s / 2
        my, mx = np.nonzero(np.isin(cls, mouth))
        if left.sum() < 20 or right.sum() < 20 or mx.size < 50:  # hidden by hair or a hat brim
            continue
        centre = lambda x, y: [(x.mean() + 0.5) / s, (y.mean() + 0.5) / s]  # noqa: E731 (pixel centres)
        points.append(np.array([centre(xs[left], ys[left]), centre(xs[right], ys[right]), centre(mx, my)]))
        print(f"seed {attrs.seed}: eyes {points[-1][0]}, {points[-1][1]}; mouth {points[-1][2]}", file=sys.stderr)
    arr = np.stack(points)  # [N, 3, 2]
    mean, std = arr.mean(0), arr.std(0)
    names = ("eye_left", "eye_right", "mouth")
    doc = {
        "targets": {n: [round(float(v), 5) for v in mean[i]] for i, n in enumerate(names)},
        "spread": {n: [round(float(v), 5) for v in std[i]] for i, n in enumerate(names)},
        "heads": len(points),
        "render_size": args.size,
    }
    header = ("# Where the canonical input view puts the eyes and the mouth (centroids of the eyes class,\n"
              "# split at the image centre, and of upper_lip + lower_lip + mouth), averaged over engine\n"
              "# heads; units of the image side, x right, y down (pixel centres at +0.5 px).\n"
              "# eye_left is on the image's left (the subject's right eye). Photos are aligned so their\n"
              "# eyes and mouth land here. Measured by scripts/measure_canonical_landmarks.py; re-run it\n"
              "# whenever the engine's face layout or assets/canonical_camera.yaml changes.\n")
    write_bytes_atomic(args.output, (header + yaml.safe_dump(doc, sort_keys=False)).encode())
    print(yaml.safe_dump(doc, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
