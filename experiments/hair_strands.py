"""Issue 24 item 2: can the decoded head's hair carry strands if each hair Gaussian is drawn as a few thin ones?

The edit model's hair Gaussians are few and fat (run 13: ~1,300 a head, 1-2 x 3-4 x 5-8 mm; the engine's: 6-11k
strands of 0.44 x 0.55 x 3-4 mm, docs/quality.md), and half of the truth's missing detail is hair. Here each shown
hair Gaussian of the network's raw output (no fit, no CPU budget) is split into K thin ones side by side across its
middle axis (spread over 1.5 x its middle scale, each 1.5/K of its width, its length x 0.85-1.15, its turn kept), their
luminance varied strand to strand by a log-normal factor (sigma --contrast; its mean exp(sigma^2 / 2) brightens the hair
a little before the clamp), from a fixed random table so the same Gaussian splits the same way on every decode. Nothing is learned: this asks what such a
layer does to the detail ratio and to the picture, on training-stream heads (stream 9,100; never the benchmark).

    python experiments/hair_strands.py --heads 4 --k 4 --contrast 0.3 --pictures runs/strands
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.cameras import canonical_view, orbit_camera
from models.evaluation.metrics import DETAIL_ALPHA, detail_ratio, laplacian_energy
from models.evaluation.text import TextEmbedder
from models.gaussians import Gaussians, quat_to_rotmat, rgb_to_sh_dc
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.pipeline import HeadPipeline
from models.render import render_views
from models.synthetic.sampler import HeadSampler

YAWS = (0.0, 45.0, 90.0, 180.0)
STREAM = 9_100


def split_strands(g: Gaussians, classes: list[int], k: int, contrast: float, seed: int = 0,
                  min_opacity: float = 0.05) -> Gaussians:
    """``g`` with each shown Gaussian of ``classes`` replaced by ``k`` thin ones across its middle axis."""
    op = torch.sigmoid(g.opacity_logits.float())
    pick = torch.isin(g.labels, torch.tensor(classes)) & (op > min_opacity)
    idx = pick.nonzero()[:, 0]
    if len(idx) == 0 or k < 2:
        return g
    gen = torch.Generator().manual_seed(seed)
    n_all = len(g)
    z = torch.randn(n_all, k, generator=gen)[idx]                              # [M, k] luminance draw per strand
    jitter = torch.rand(n_all, k, generator=gen)[idx] - 0.5                     # [M, k] along the length
    length = 0.85 + 0.3 * torch.rand(n_all, k, generator=gen)[idx]              # [M, k]
    part = g[idx]
    log_s = part.log_scales.float()                                             # [M, 3]
    order = log_s.argsort(-1)                                                   # short, middle, long
    rot = quat_to_rotmat(torch.nn.functional.normalize(part.quats.float(), dim=-1))  # [M, 3, 3], columns = axes
    mid_ax, long_ax = order[:, 1], order[:, 2]
    ar = torch.arange(len(idx))
    mid_dir = rot[ar, :, mid_ax]                                                # [M, 3]
    long_dir = rot[ar, :, long_ax]
    s = log_s.exp()
    s_mid, s_long = s[ar, mid_ax], s[ar, long_ax]                               # [M]
    across = (torch.arange(k).float() + 0.5) / k * 2 - 1                        # [k] in (-1, 1)
    offsets = (mid_dir[:, None] * (1.5 * s_mid[:, None, None] * across[None, :, None])
               + long_dir[:, None] * (s_long[:, None, None] * jitter[..., None]))  # [M, k, 3]
    means = (part.means.float()[:, None] + offsets).reshape(-1, 3)
    child_log = log_s[:, None].repeat(1, k, 1)                                  # [M, k, 3]
    child_log[ar[:, None], torch.arange(k)[None], mid_ax[:, None]] += float(np.log(1.5 / k))
    child_log[ar[:, None], torch.arange(k)[None], long_ax[:, None]] += length.log()
    rgb = part.base_rgb().float().clamp(0, 1)[:, None] * torch.exp(contrast * z)[..., None]  # [M, k, 3]
    sh = rgb_to_sh_dc(rgb.clamp(0, 1)).reshape(-1, 1, 3)
    if part.sh.shape[1] > 1:
        sh = torch.cat([sh, part.sh[:, 1:].float().repeat_interleave(k, 0)], 1)
    children = Gaussians(means, part.quats.float().repeat_interleave(k, 0), child_log.reshape(-1, 3),
                         part.opacity_logits.float().repeat_interleave(k, 0), sh, part.labels.repeat_interleave(k, 0))
    rest = g[~pick]
    return Gaussians.cat([rest.to(dtype=torch.float32), children])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="checkpoints")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--contrast", type=float, default=0.3)
    ap.add_argument("--parts", default="hair,facial_hair")
    ap.add_argument("--pictures", default=None)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    pal = palette()
    classes = [pal.id_of(p) for p in args.parts.split(",")]
    pipe = HeadPipeline(args.checkpoint, "cpu")
    net, style = pipe.net("edit"), pipe.style_model()
    embed = TextEmbedder([])
    batch = HeadSampler("train", stream=STREAM).make_batch(args.heads, views=1, size=pipe.image_size)
    styles = style.encode_prompts(list(batch.captions), embed(batch.captions))
    labels, st = model_inputs(net.cfg, HeadBatch.from_engine(batch, styles))
    pred = net(labels, st)
    view = canonical_view()
    rows, report = [], {"k": args.k, "contrast": args.contrast, "heads": []}
    for b in range(args.heads):
        truth, head = batch.gaussians[b], pred.head(b)
        split = split_strands(head, classes, args.k, args.contrast)
        bg = batch.background[b, 0]
        entry = {"caption": batch.captions[b], "gaussians": [len(head), len(split)], "detail": {}, "hair_detail": {}}
        tiles = []
        for yaw in YAWS:
            cam = [orbit_camera(view.orbit_at(yaw, 0.0), args.size)]
            ref = render_views(truth, cam, background=bg, classes=True)
            outs = {n: render_views(x, cam, background=bg, classes=False) for n, x in (("net", head), ("split", split))}
            hair = torch.isin(ref.class_map[0], torch.tensor(classes))
            for n, o in outs.items():
                entry["detail"].setdefault(n, []).append(round(detail_ratio(o.rgb[0], o.alpha[0], ref.rgb[0], ref.alpha[0]), 3))
                mask = hair & ((o.alpha[0] > DETAIL_ALPHA) | (ref.alpha[0] > DETAIL_ALPHA))
                if mask.sum() > 200:
                    entry["hair_detail"].setdefault(n, []).append(
                        round(laplacian_energy(o.rgb[0], mask) / laplacian_energy(ref.rgb[0], mask), 3))
            tiles.append(torch.cat([ref.rgb[0], outs["net"].rgb[0], outs["split"].rgb[0]], 0))  # truth / net / split
        report["heads"].append(entry)
        print(json.dumps(entry), flush=True)
        rows.append(torch.cat(tiles, 1))
    if args.pictures:
        out = Path(args.pictures)
        out.mkdir(parents=True, exist_ok=True)
        for b, r in enumerate(rows):
            Image.fromarray((r.clamp(0, 1) * 255).byte().numpy()).save(out / f"head{b}_k{args.k}_c{args.contrast}.jpg", quality=90)
    for n in ("net", "split"):
        d = np.array([e["detail"][n] for e in report["heads"]])
        print(n, "detail yaw 0/45/90/180:", np.round(d.mean(0), 3).tolist())


if __name__ == "__main__":
    main()
