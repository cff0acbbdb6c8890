"""Issue 24 item 3: does the edit model's eye colour follow the prompt? Benchmark heads' own class maps, prompts that
differ only in the eye colour; the mean front-view colour (sRGB levels, 512 px) of the eye class per prompt, and how
far those means lie apart (mean pairwise distance; a blue and a brown iris differ by far more than 14 levels).
``--truth-heads N``: the same means on the engine's own first N benchmark heads, grouped by their eye colour (what a
follower should show; the class holds the sclera too).

    python experiments/eye_colour_follow.py --edit checkpoints/edit.safetensors --edit runs/q18/ck17p/edit.safetensors
    python experiments/eye_colour_follow.py --truth-heads 12
"""
from __future__ import annotations

import argparse
import json

import torch

from models.cameras import canonical_view, orbit_camera
from models.evaluation.benchmark import benchmark_batches
from models.evaluation.text import TextEmbedder
from models.networks.checkpoint import load_checkpoint
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.style.checkpoint import load_style_model
from models.render import render_views
from models.synthetic.attributes import sample_attributes

COLOURS = ("blue", "brown", "green", "grey")
PROMPT = "a person with short black hair and {} eyes"


def eye_mean(head, size: int) -> list[float] | None:
    """The eye class's mean front-view colour of one head (sRGB levels), or None where it shows under 21 pixels."""
    view = render_views(head, [orbit_camera(canonical_view().orbit_at(0.0, 0.0), size)], classes=True)
    shown = view.class_map[0] == palette().id_of("eyes")
    return (view.rgb[0][shown].mean(0) * 255).tolist() if shown.sum() > 20 else None


def engine_eye_means(heads: int, size: int) -> dict[str, list[float]]:
    batch = benchmark_batches(heads, 256, torch.device("cpu"), chunk=heads)[0]
    groups: dict[str, list[list[float]]] = {}
    for i, seed in enumerate(batch.seeds):
        if (m := eye_mean(batch.gaussians[i], size)) is not None:
            groups.setdefault(sample_attributes(int(seed)).eye_color, []).append(m)
    return {c: [round(float(v), 1) for v in torch.tensor(ms).mean(0)] for c, ms in sorted(groups.items())}


def eye_means(net, style, batch, size: int) -> dict[str, list[float]]:
    out = {}
    for colour in COLOURS:
        prompts = [PROMPT.format(colour)] * len(batch.seeds)
        st = style.encode_prompts(prompts, TextEmbedder([])(prompts))
        with torch.no_grad():
            pred = net(*model_inputs(net.cfg, HeadBatch.from_engine(batch, st)))
        means = [m for i in range(len(batch.seeds)) if (m := eye_mean(pred.head(i), size)) is not None]
        out[colour] = torch.tensor(means).mean(0).tolist()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edit", action="append", default=[], help="an edit checkpoint (repeatable)")
    ap.add_argument("--style", default="checkpoints/style.safetensors",
                    help="the style model the edit checkpoints were trained on")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--truth-heads", type=int, default=0, help="also the engine's own first N benchmark heads")
    args = ap.parse_args()
    style, _ = load_style_model(args.style)
    batch = benchmark_batches(args.heads, 256, torch.device("cpu"), chunk=args.heads)[0]
    report: dict[str, object] = {}
    if args.truth_heads:
        report["engine"] = {"eye_means_rgb_by_eye_colour": engine_eye_means(args.truth_heads, args.size)}
    for path in args.edit:
        net, _ = load_checkpoint(path)
        means = eye_means(net.eval(), style, batch, args.size)
        rows = torch.tensor(list(means.values()))
        n = len(rows)
        spread = torch.cdist(rows, rows).sum() / (n * (n - 1))
        report[path] = {"eye_means_rgb": {c: [round(v, 1) for v in m] for c, m in means.items()},
                        "mean_pairwise_distance": round(float(spread), 1)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
