"""Issue 24 item 2: is the edit model's softness averaging (many heads, one answer) or its Gaussians (what one
decoded head can show)? Fit ONE head, where nothing is averaged, three ways, and score detail at 512 px.

- ``net``:   fine-tune the whole edit network on this one head's renders (its map + caption in, its views out);
- ``proj``:  fine-tune only the last layer (token -> its patch's Gaussians);
- ``free``:  the network's decoded Gaussians as free parameters (positions, scales, rotations, opacity, colour).

If ``free`` reaches the engine's detail and ``net`` does not, the network cannot say it; if even ``free`` stays soft,
the decoded Gaussians (where the template puts them, how large they start) are the limit; if ``net`` gets sharp on
one head, training over many heads averages it away. Supervision: 256 px windows of 512 px views (as
``data.zoom``), L1 + 0.2 D-SSIM, random yaw and pitch, black background; a training-stream head no run trains on.

    python experiments/overfit_one_head.py --modes free,proj,net --steps 300 --out runs/overfit.json

``--template PATH``: the network first moved onto another template (PercHeadNet.transfer_state), as a
``retemplate: true`` training run starts.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import torch
from gaussian_capacity import score  # experiments/, beside this file

from models.cameras import canonical_view, orbit_camera
from models.evaluation.text import TextEmbedder
from models.gaussians import Gaussians
from models.losses.image import ssim_loss
from models.networks.config import NetConfig
from models.networks.inputs import HeadBatch, model_inputs
from models.networks.perchead import PercHeadNet
from models.networks.template import load_template
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.sampler import HeadSampler

STREAM = 9_100


def views(count: int, size: int, gen: torch.Generator) -> list:
    """``count`` random 256-px-class windows: views at 2 x ``size``, a ``size`` window of each."""
    view = canonical_view()
    out = []
    for _ in range(count):
        y, p, l, t = torch.rand(4, generator=gen).tolist()
        cam = orbit_camera(view.orbit_at(y * 360 - 180, p * 60 - 25), size)
        out.append(cam.cropped(2.0, round(l * size), round(t * size)))
    return out


def run(mode: str, net, inputs, truth: Gaussians, steps: int, lr: float, seed: int) -> dict:
    state = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    gen = torch.Generator().manual_seed(seed)
    try:
        if mode == "free":
            with torch.no_grad():
                start = net(*inputs).head(0)
            params = {"means": start.means, "quats": start.quats, "log_scales": start.log_scales,
                      "opacity_logits": start.opacity_logits, "sh": start.sh}
            params = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
            lrs = {"means": 2e-4, "quats": 1e-3, "log_scales": 5e-3, "opacity_logits": 2e-2, "sh": 2.5e-3}
            opt = torch.optim.Adam([{"params": [p], "lr": lrs[k]} for k, p in params.items()], eps=1e-15)
            head = lambda: Gaussians(**params, labels=start.labels)  # noqa: E731
        else:
            train = net.parameters() if mode == "net" else net.head.parameters()
            opt = torch.optim.Adam(train, lr=lr)
            head = lambda: net(*inputs).head(0)  # noqa: E731
        t0 = time.time()
        for it in range(steps):
            cams = views(2, 256, gen)
            with torch.no_grad():
                target = render_views(truth, cams, classes=False).rgb
            out = render_views(head(), cams, classes=False).rgb
            loss = (out - target).abs().mean() + 0.2 * ssim_loss(out, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for group in opt.param_groups:  # cosine to a tenth
                group["lr"] = group.setdefault("lr0", group["lr"]) * (0.1 + 0.45 * (1 + math.cos(math.pi * it / steps)))
            if it % 50 == 0:
                print(f"  {mode} step {it} loss {loss.item():.4f}", flush=True)
        with torch.no_grad():
            return {"mode": mode, "steps": steps, "seconds": round(time.time() - t0, 1), **score(head(), truth, 512)}
    finally:
        net.load_state_dict(state)
        net.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--modes", default="free,proj,net")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head", type=int, default=0, help="index into the stream")
    ap.add_argument("--template", default=None)
    ap.add_argument("--max-log-scale-delta", type=float, default=None,
                    help="with --template: hold each Gaussian's log-scales within +-this of its template point's")
    ap.add_argument("--max-log-size-delta", type=float, default=None,
                    help="with --template: hold each Gaussian's size (mean log-scale) within +-this, its shape free")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    if args.template:
        over = {k: v for k, v in (("max_log_scale_delta", args.max_log_scale_delta),
                                  ("max_log_size_delta", args.max_log_size_delta)) if v is not None}
        moved = PercHeadNet(NetConfig.from_dict({**net.cfg.to_dict(), **over}), load_template(args.template))
        moved.load_state_dict(moved.transfer_state(net.state_dict()))
        net = moved.eval()
    sampler = HeadSampler("train", stream=STREAM)
    seed = sampler.next_seeds(args.head + 1)[-1]
    batch = sampler.make_batch([seed], views=1, size=pipe.image_size)
    with torch.no_grad():
        styles = style.encode_prompts(list(batch.captions), TextEmbedder([])(batch.captions))
        inputs = model_inputs(net.cfg, HeadBatch.from_engine(batch, styles))
        before = score(net(*inputs).head(0), batch.gaussians[0], 512)
    rows = [{"mode": "decoded", **before}]
    print(json.dumps(rows[0]), flush=True)
    for mode in args.modes.split(","):
        rows.append(run(mode, net, inputs, batch.gaussians[0], args.steps, args.lr, seed=1))
        print(json.dumps(rows[-1]), flush=True)
    report = {"checkpoint": args.checkpoint, "template": args.template, "seed": seed, "caption": batch.captions[0], "rows": rows}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
