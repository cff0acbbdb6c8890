"""Issue 24 item 2: how much detail can N Gaussians carry? An upper bound for the edit model's Gaussian count.

For a few engine v2 heads (training seeds, never the benchmark's), fit N free Gaussians straight to the engine
head's renders at 512 px from many views (L1 + 0.2 D-SSIM, Adam, one head at a time: nothing is averaged over
heads, so what stays soft is what N Gaussians cannot hold), starting from N of the engine's own Gaussians (scales
grown so they cover the head as the full set does). Then the detail ratio (models.evaluation.metrics.detail_ratio,
the eval's metric) and PSNR at the benchmark yaws 0 / 45 / 90 / 180 at 512 px, per N.

    python experiments/gaussian_capacity.py --counts 20000,50000,100000 --heads 2 --iters 1500 --out runs/capacity.json

On a CPU, only as a smoke run: --counts 2000 --heads 1 --iters 3 --size 64.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import torch

from models.cameras import canonical_view, orbit_camera
from models.device import resolve_device, synchronize
from models.evaluation.metrics import detail_ratio, psnr
from models.gaussians import Gaussians
from models.losses.image import ssim_loss
from models.render import render_views
from models.synthetic.sampler import HeadSampler

YAWS = (0.0, 45.0, 90.0, 180.0)


def views(count: int, size: int, gen: torch.Generator) -> list:
    """``count`` random views around the head (yaw anywhere, pitch -25..35 degrees)."""
    view = canonical_view()
    yaw = torch.rand(count, generator=gen) * 360 - 180
    pitch = torch.rand(count, generator=gen) * 60 - 25
    return [orbit_camera(view.orbit_at(float(y), float(p)), size) for y, p in zip(yaw, pitch)]


def fit(truth: Gaussians, n: int, iters: int, size: int, batch: int, gen: torch.Generator) -> tuple[Gaussians, float]:
    """N Gaussians fitted to ``truth``'s renders; returns them and the seconds it took."""
    keep = torch.randperm(len(truth), generator=gen)[:n].to(truth.device)
    start = truth[keep].detach()
    grow = math.log(max(1.0, len(truth) / n)) / 3  # each Gaussian covers len/n of the truth's: volume x that
    params = {
        "means": start.means.clone().requires_grad_(),
        "quats": start.quats.clone().requires_grad_(),
        "log_scales": (start.log_scales + grow).clone().requires_grad_(),
        "opacity_logits": start.opacity_logits.clone().requires_grad_(),
        "sh": start.sh[:, :1].clone().requires_grad_(),
    }
    lrs = {"means": 2e-4, "quats": 1e-3, "log_scales": 5e-3, "opacity_logits": 2e-2, "sh": 2.5e-3}
    opt = torch.optim.Adam([{"params": [p], "lr": lrs[k]} for k, p in params.items()], eps=1e-15)
    t0 = time.time()
    for it in range(iters):
        cams = views(batch, size, gen)
        with torch.no_grad():
            target = render_views(truth, cams, classes=False).rgb
        g = Gaussians(**params, labels=start.labels)
        out = render_views(g, cams, classes=False).rgb
        loss = (out - target).abs().mean() + 0.2 * ssim_loss(out, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for group in opt.param_groups:  # cosine decay to a tenth
            group["lr"] = group.setdefault("lr0", group["lr"]) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * it / iters)))
    synchronize(truth.device)
    return Gaussians(**{k: v.detach() for k, v in params.items()}, labels=start.labels), time.time() - t0


def score(pred: Gaussians, truth: Gaussians, size: int) -> dict[str, float]:
    view = canonical_view()
    cams = [orbit_camera(view.orbit_at(y, 0.0), size) for y in YAWS]
    with torch.no_grad():
        a, b = render_views(pred, cams, classes=False), render_views(truth, cams, classes=False)
    out = {}
    for i, y in enumerate(YAWS):
        out[f"detail_yaw{int(y)}"] = detail_ratio(a.rgb[i], a.alpha[i], b.rgb[i], b.alpha[i])
        out[f"psnr_yaw{int(y)}"] = psnr(a.rgb[i], b.rgb[i])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", default="20000,50000,100000")
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--iters", type=int, default=1500)
    p.add_argument("--batch", type=int, default=4, help="views per step")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="runs/capacity.json")
    args = p.parse_args()
    dev = resolve_device(args.device)
    sampler = HeadSampler("train", stream=424242, device=dev)
    seeds = sampler.next_seeds(args.heads)
    batch = sampler.make_batch(seeds, views=1, size=64)
    rows = []
    for h, truth in enumerate(batch.gaussians):
        truth = truth.to(dev)
        row = {"seed": seeds[h], "engine_gaussians": len(truth)}
        for asked in args.counts.split(","):  # keyed by the count asked: a head with fewer Gaussians fits all it has
            n = min(int(asked), len(truth))
            gen = torch.Generator().manual_seed(h)
            fitted, secs = fit(truth, n, args.iters, args.size, args.batch, gen)
            row[asked] = {**score(fitted, truth, args.size), "fitted": n, "seconds": secs}
            print(json.dumps({"seed": seeds[h], "n": n, **row[asked]}), flush=True)
        rows.append(row)
    counts = args.counts.split(",")
    mean = {n: {m: sum(r[n][m] for r in rows) / len(rows) for m in rows[0][n]} for n in counts}
    json.dump({"args": vars(args), "device": str(dev), "heads": rows, "mean": mean}, open(args.out, "w"), indent=1)
    print(json.dumps(mean, indent=1))


if __name__ == "__main__":
    main()
