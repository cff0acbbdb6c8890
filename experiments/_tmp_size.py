import math, torch
from overfit_one_head import score
from models.synthetic.sampler import HeadSampler
from models.gaussians import Gaussians
s = HeadSampler("train", stream=9100)
seeds = s.next_seeds(4)
b = s.make_batch(seeds, views=1, size=64)
for h in (0, 3):
    t = b.gaussians[h]
    ax = t.log_scales.exp().max(-1).values
    print("head", h, "n", len(t), "median axis mm", ax.median().item()*1000)
    for grow in (1.0, 1.5, 2.0, 3.0):
        g = Gaussians(t.means, t.quats, t.log_scales + math.log(grow), t.opacity_logits, t.sh, t.labels)
        print(" grow", grow, score(g, t))
    # isotropic: every Gaussian a sphere of its largest axis (no strands)
    iso = t.log_scales.max(-1, keepdim=True).values.expand_as(t.log_scales).clone()
    g = Gaussians(t.means, t.quats, iso, t.opacity_logits, t.sh, t.labels)
    print(" isotropic", score(g, t))
    keep = torch.randperm(len(t), generator=torch.Generator().manual_seed(0))[:9000]
    sub = t[keep]
    g = Gaussians(sub.means, sub.quats, sub.log_scales + math.log(len(t)/9000)/2, sub.opacity_logits, sub.sh, sub.labels)
    print(" 9000 grown", score(g, t))
