"""``perchead train CONFIG.yaml``: one training stage (also under torchrun for several processes)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model stage from a YAML config (works under torchrun)",
                       description="Train one stage (feature, style, base, edit) from CONFIG.yaml. Resumes from "
                                   "OUT_DIR/state.safetensors when present. Several processes: "
                                   "torchrun --nproc_per_node N -m perchead_gui.cli train CONFIG.yaml")
    p.add_argument("config", type=Path, metavar="CONFIG.yaml")
    p.add_argument("--steps", type=int, default=None, help="override the config's step count")
    p.add_argument("--out-dir", default=None, help="override the config's output folder")
    p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"))
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar on stderr (none is shown off a terminal; metrics.jsonl logs either way)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.training.config import TrainConfig
    from models.training.stages import run_stage
    from perchead_gui.progress import show_progress

    cfg = TrainConfig.load(args.config)
    if args.steps is not None:
        cfg.steps = args.steps
    if args.out_dir is not None:
        cfg.out_dir = args.out_dir
    if args.device is not None:
        cfg.device = args.device
    metrics = run_stage(cfg, progress=show_progress(args.quiet))
    if metrics:
        print(json.dumps(metrics, indent=2, default=float))
    return 0
