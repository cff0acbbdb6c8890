"""Issue 24 item 2: where does the edit model lose its detail? Per part of the head, per frequency band, and in the
Gaussians themselves (their size and opacity against the engine's).

For training-stream heads (a stream no run trains on; never the benchmark), the edit model decodes the head's own
canonical class map + caption (no fitting: the fit moves Gaussians, it does not sharpen them); both heads render at
512 px at yaw 0 / 45 / 90 / 180. Reported:
- detail ratio per class of the truth's class render (the eval's metric restricted to that part's pixels) and each
  part's share of the truth's Laplacian energy (where the missing detail lives);
- energy per band (difference of Gaussian blurs, sigma 0.5-1, 1-2, 2-4, 4-8 px) of output over truth, whole head;
- the Gaussians: median / 10th percentile of the largest axis (mm) and the opacity of those that show (> 0.05).

    python experiments/detail_breakdown.py --checkpoint checkpoints --heads 6 --out runs/detail_breakdown.json
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict

import torch
import torch.nn.functional as F

from models.cameras import canonical_view, orbit_camera
from models.evaluation.metrics import DETAIL_ALPHA, LUMA, laplacian_energy
from models.evaluation.text import TextEmbedder
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.sampler import HeadSampler

YAWS = (0.0, 45.0, 90.0, 180.0)
BANDS = ((0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0))
STREAM = 9_100  # no recipe trains on it (training streams are 0..few)


def blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-r, r + 1, dtype=y.dtype)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    img = y[None, None]
    img = F.conv2d(F.pad(img, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    img = F.conv2d(F.pad(img, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return img[0, 0]


def luma(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb.clamp(0, 1).double() * torch.tensor(LUMA, dtype=torch.float64)).sum(-1)


def gaussian_stats(g) -> dict[str, float]:
    opacity = torch.sigmoid(g.opacity_logits.float())
    shown = opacity > 0.05
    axis = g.log_scales.float().exp().max(-1).values[shown] * 1000
    return {"shown": int(shown.sum()), "axis_mm_p10": axis.quantile(0.1).item(),
            "axis_mm_p50": axis.median().item(), "opacity_p50": opacity[shown].median().item()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net = pipe.net("edit")
    style = pipe.style_model()
    embed = TextEmbedder([])
    sampler = HeadSampler("train", stream=STREAM)
    batch = sampler.make_batch(args.heads, views=1, size=pipe.image_size)
    with torch.no_grad():
        styles = style.encode_prompts(list(batch.captions), embed(batch.captions))
        labels, st = model_inputs(net.cfg, HeadBatch.from_engine(batch, styles))
        pred = net(labels, st)
    names = palette().names
    part_pred, part_true = defaultdict(float), defaultdict(float)
    part_ratio = defaultdict(list)
    band_ratio = defaultdict(list)
    stats = {"pred": [], "truth": []}
    view = canonical_view()
    for b in range(args.heads):
        head, truth = pred.head(b), batch.gaussians[b]
        stats["pred"].append(gaussian_stats(head))
        stats["truth"].append(gaussian_stats(truth))
        for yaw in YAWS:
            cam = [orbit_camera(view.orbit_at(yaw, 0.0), args.size)]
            bg = batch.background[b, 0]
            out = render_views(head, cam, background=bg, classes=False)
            ref = render_views(truth, cam, background=bg, classes=True)
            mask = (out.alpha[0] > DETAIL_ALPHA) | (ref.alpha[0] > DETAIL_ALPHA)
            for cid in ref.class_map[0].unique().tolist():
                m = mask & (ref.class_map[0] == cid)
                if m.sum() < 200:
                    continue
                t = laplacian_energy(ref.rgb[0], m) * m[1:-1, 1:-1].sum().item()
                p = laplacian_energy(out.rgb[0], m) * m[1:-1, 1:-1].sum().item()
                part_true[names[cid]] += t
                part_pred[names[cid]] += p
                part_ratio[names[cid]].append(p / t if t > 0 else float("nan"))
            yo, yt = luma(out.rgb[0]), luma(ref.rgb[0])
            for lo, hi in BANDS:
                eo = (blur(yo, lo) - blur(yo, hi)).abs()[mask].mean().item()
                et = (blur(yt, lo) - blur(yt, hi)).abs()[mask].mean().item()
                band_ratio[f"{lo}-{hi}px"].append(eo / et)
    total = sum(part_true.values())
    report = {
        "checkpoint": args.checkpoint, "heads": args.heads, "size": args.size,
        "parts": {k: {"share_of_truth_energy": part_true[k] / total, "ratio_pooled": part_pred[k] / part_true[k],
                      "views": len(part_ratio[k])}
                  for k in sorted(part_true, key=part_true.get, reverse=True)},
        "bands": {k: sum(v) / len(v) for k, v in band_ratio.items()},
        "gaussians": {k: {s: sum(r[s] for r in v) / len(v) for s in v[0]} for k, v in stats.items()},
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
