"""Joint training of the style space: CLIP-style InfoNCE between captions and renders, plus
linear attribute classifiers that keep colour words (and hairstyle, beard, ...) separable.

Data: a caption bank (``bank.py``) gives frozen-backbone embeddings of captions, each tagged with
the engine seed it describes. The engine renders that seed for the image branch (once, into a
uint8 cache on the training device) and ``sample_attributes(seed)`` gives exact attribute labels
for both branches. Paraphrases (``models/style/paraphrases.py``) never enter training; embedded into their
own bank, they score ``prompt_attribute_accuracy`` during evaluation.

    loss = InfoNCE(text, image; learnable temperature) + attr_weight * mean CE(attributes | text, image)
"""
from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from models.device import is_accelerator
import torch.nn.functional as F
from torch import Tensor

from models.style.encoders import ATTRIBUTES, StyleConfig, StyleModel
from models.style.paraphrases import Paraphrase, prompt_attribute_accuracy
from models.style.train.bank import CaptionBank
from models.synthetic.attributes import HeadAttributes, attribute_class, sample_attributes

log = logging.getLogger(__name__)


# ---- losses -----------------------------------------------------------------------------------
def clip_loss(text: Tensor, image: Tensor, logit_scale: Tensor) -> Tensor:
    """Symmetric InfoNCE. text, image: [B, D] unit length (row i of each is a pair); logit_scale: scalar."""
    logits = logit_scale * text @ image.T  # [B, B]
    target = torch.arange(text.shape[0], device=text.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def attribute_targets(attrs: Sequence[HeadAttributes], device: torch.device | str = "cpu") -> dict[str, Tensor]:
    """Class indices per attribute for a batch of heads: {name: [B] long}."""
    return {name: torch.tensor([vocab.index(attribute_class(a, name)) for a in attrs], device=device)
            for name, vocab in ATTRIBUTES.items()}


def attribute_loss(logits: dict[str, Tensor], targets: dict[str, Tensor]) -> Tensor:
    """Mean cross-entropy over attributes. logits: {name: [B, K]}; targets: {name: [B]}."""
    return torch.stack([F.cross_entropy(logits[k], targets[k]) for k in logits]).mean()


# ---- images for the bank's seeds ---------------------------------------------------------------
@torch.no_grad()
def render_seed_images(seeds: Sequence[int], size: int, device: torch.device, views: int = 1,
                       chunk: int = 64) -> tuple[Tensor, Tensor]:
    """Engine renders of ``seeds``: (rgb [S, V, 3, H, W] uint8, alpha [S, V, 1, H, W] uint8) on ``device``.

    View 0 is the canonical input view (what a reference portrait looks like); extra views are
    the sampler's random orbit views. Black background: the alpha lets training composite others.
    """
    from models.synthetic.sampler import HeadSampler  # noqa: PLC0415 - engine import only when rendering

    sampler = HeadSampler("train", device=device, background="black", paraphrase=False)
    rgbs, alphas = [], []
    for i in range(0, len(seeds), chunk):
        b = sampler.make_batch(list(seeds[i:i + chunk]), views=views, size=size)
        rgbs.append((b.rgb.permute(0, 1, 4, 2, 3).clamp(0, 1) * 255 + 0.5).to(torch.uint8))
        alphas.append((b.alpha[:, :, None].clamp(0, 1) * 255 + 0.5).to(torch.uint8))
    return torch.cat(rgbs), torch.cat(alphas)


def augment_images(rgb: Tensor, alpha: Tensor, gen: torch.Generator | None = None,
                   max_shift: float = 0.06, max_zoom: float = 0.1, p_alpha: float = 0.5) -> tuple[Tensor, Tensor | None]:
    """Training views of cached renders. rgb: [B, 3, H, W] uint8/0..1; alpha: [B, 1, H, W].

    Geometry jitter (small shift and zoom: reference photos are not framed like our camera) and a
    random flat background. Colours are never jittered: colour is what the style must carry.
    With probability ``p_alpha`` the alpha is passed on (user images with transparency), else the
    image is opaque on its new background (photos). Returns (rgb [B,3,H,W] 0..1, alpha or None).
    """
    rgb = rgb.float() / 255.0 if rgb.dtype == torch.uint8 else rgb.float()
    a = alpha.float() / 255.0 if alpha.dtype == torch.uint8 else alpha.float()
    b, dev = rgb.shape[0], rgb.device
    u = torch.rand(b, 5, generator=gen).to(dev)
    zoom = 1.0 + (u[:, 0] * 2 - 1) * max_zoom
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / zoom
    theta[:, 0, 2] = (u[:, 1] * 2 - 1) * max_shift * 2
    theta[:, 1, 2] = (u[:, 2] * 2 - 1) * max_shift * 2
    grid = F.affine_grid(theta, list(rgb.shape), align_corners=False)
    rgba = F.grid_sample(torch.cat([rgb * a, a], 1), grid, align_corners=False, padding_mode="zeros")
    rgb_p, a = rgba[:, :3], rgba[:, 3:]
    bg = torch.rand(b, 3, 1, 1, generator=gen).to(dev)
    grey = u[:, 3] < 0.5  # half flat greys, half random colours
    bg[grey] = bg[grey, :1].expand(-1, 3, 1, 1)
    comp = rgb_p + (1 - a) * bg  # rgb_p is premultiplied
    keep_alpha = (u[:, 4] < p_alpha)[:, None, None, None]
    return comp.clamp(0, 1), torch.where(keep_alpha, a, torch.ones_like(a)) if p_alpha > 0 else None


# ---- training -----------------------------------------------------------------------------------
@dataclass
class TrainStyleConfig:
    steps: int = 3000
    batch_size: int = 256          # pairs per step (distinct heads; InfoNCE negatives)
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 200
    attr_weight: float = 1.0       # weight of the attribute cross-entropy (text + image)
    emb_noise: float = 0.02        # std of Gaussian noise on backbone embeddings (robustness to wording)
    views: int = 1                 # engine views rendered per seed (view 0 canonical)
    val_fraction: float = 0.05     # seeds held out of training for retrieval / attribute metrics
    eval_every: int = 500
    seed: int = 0
    amp: bool = True               # bf16 autocast on CUDA
    model: StyleConfig = field(default_factory=StyleConfig)


def _lr_at(step: int, cfg: TrainStyleConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


@torch.no_grad()
def evaluate_style(model: StyleModel, emb: Tensor, rgb: Tensor, alpha: Tensor, attrs: Sequence[HeadAttributes],
                   chunk: int = 256) -> dict[str, float]:
    """Retrieval and attribute accuracy on pairs (emb [N, E], renders [N, 3, H, W] uint8 + alpha).

    text_to_image_top1: caption retrieves its own render among the N; *_attr_acc: mean accuracy
    of the attribute head on text and image style vectors.
    """
    was_training = model.training
    model.eval()
    t = torch.cat([model.encode_text_embeddings(emb[i:i + chunk].float()) for i in range(0, len(emb), chunk)])
    v = torch.cat([model.encode_images(rgb[i:i + chunk].float() / 255, alpha[i:i + chunk].float() / 255)
                   for i in range(0, len(rgb), chunk)])
    model.train(was_training)
    sim = t @ v.T
    target = torch.arange(len(t), device=t.device)
    out = {"text_to_image_top1": (sim.argmax(1) == target).float().mean().item(),
           "image_to_text_top1": (sim.argmax(0) == target).float().mean().item()}
    y = attribute_targets(attrs, t.device)
    for name, s in (("text", t), ("image", v)):
        logits = model.attributes(s)
        accs = {k: (logits[k].argmax(-1) == y[k]).float().mean().item() for k in logits}
        out[f"{name}_attr_acc"] = sum(accs.values()) / len(accs)
        out[f"{name}_hair_color_acc"] = accs["hair_color"]
    return out


def train_style(bank: CaptionBank, cfg: TrainStyleConfig | None = None, device: torch.device | str = "cpu",
                eval_embeddings: Tensor | None = None, eval_paraphrases: Sequence[Paraphrase] | None = None,
                images: tuple[Tensor, Tensor] | None = None,
                model: StyleModel | None = None) -> tuple[StyleModel, dict[str, float]]:
    """Train a ``StyleModel`` from a caption bank and engine renders of its seeds.

    bank: caption rows (seed >= 0) are trained on; extra-prompt rows are ignored. Seeds are split
    into train/val (``val_fraction``). ``images`` optionally gives the renders of the bank's unique
    seeds in sorted order (rgb [S,V,3,H,W] uint8, alpha [S,V,1,H,W] uint8), else they are rendered
    here. ``eval_embeddings``/``eval_paraphrases`` (held-out prompts) add
    ``prompt_attribute_accuracy`` to the metrics. Returns (model in eval mode, metrics).
    """
    cfg = cfg or TrainStyleConfig()
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    py_rng = random.Random(cfg.seed)
    t_start = time.perf_counter()

    rows = bank.seed_rows()
    if len(rows) < 2:
        raise ValueError("the caption bank needs at least 2 caption rows to train on")
    seeds_all = sorted(set(bank.seeds[rows].tolist()))
    seed_index = {s: i for i, s in enumerate(seeds_all)}
    if images is None:
        t0 = time.perf_counter()
        rgb_c, alpha_c = render_seed_images(seeds_all, cfg.model.image_size, device, cfg.views)
        render_s = time.perf_counter() - t0
    else:
        rgb_c, alpha_c = images[0].to(device), images[1].to(device)
        render_s = 0.0
        if rgb_c.shape[0] != len(seeds_all):
            raise ValueError(f"images hold {rgb_c.shape[0]} seeds, the bank {len(seeds_all)}")
    attrs_all = [sample_attributes(s) for s in seeds_all]
    targets_all = attribute_targets(attrs_all, device)

    order = seeds_all[:]
    py_rng.shuffle(order)
    n_val = int(len(order) * cfg.val_fraction) if len(order) >= 20 else 0
    val_seeds, train_seeds = order[:n_val], order[n_val:]
    rows_of: dict[int, list[int]] = {}
    for r, s in zip(rows.tolist(), bank.seeds[rows].tolist()):
        rows_of.setdefault(s, []).append(r)
    emb_all = bank.embeddings.to(device).float()

    model = (model or StyleModel(cfg.model)).to(device).train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    use_amp = cfg.amp and is_accelerator(device)
    bsz = min(cfg.batch_size, len(train_seeds))
    metrics: dict[str, float] = {"render_seconds": render_s, "train_heads": float(len(train_seeds)),
                                 "val_heads": float(len(val_seeds)), "bank_rows": float(len(rows))}
    history: list[float] = []
    t_train = time.perf_counter()
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, cfg)
        batch_seeds = py_rng.sample(train_seeds, bsz)  # distinct heads: no duplicate positives
        r = torch.tensor([py_rng.choice(rows_of[s]) for s in batch_seeds], device=device)
        si = torch.tensor([seed_index[s] for s in batch_seeds], device=device)
        vi = torch.randint(0, rgb_c.shape[1], (bsz,), generator=gen).to(device)
        emb = emb_all[r]
        if cfg.emb_noise > 0:
            emb = F.normalize(emb + cfg.emb_noise * torch.randn(emb.shape, generator=gen).to(device), dim=-1)
        img, alpha = augment_images(rgb_c[si, vi], alpha_c[si, vi], gen)
        y = {k: v[si] for k, v in targets_all.items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            t = model.encode_text_embeddings(emb)
            v = model.encode_images(img, alpha)
            l_clip = clip_loss(t.float(), v.float(), model.logit_scale_value())
            l_attr = 0.5 * (attribute_loss(model.attributes(t), y) + attribute_loss(model.attributes(v), y))
            loss = l_clip + cfg.attr_weight * l_attr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        history.append(loss.item())
        if step == 0:
            metrics["loss_first"] = history[0]
        if cfg.eval_every and (step + 1) % cfg.eval_every == 0:
            log.info("step %d loss %.4f clip %.4f attr %.4f temp %.4f", step + 1, loss.item(), l_clip.item(),
                     l_attr.item(), 1.0 / model.logit_scale_value().item())
    metrics["train_seconds"] = time.perf_counter() - t_train
    metrics["steps_per_s"] = cfg.steps / max(metrics["train_seconds"], 1e-9)
    tail = history[-max(1, min(20, len(history) // 5)):]
    metrics["loss_last"] = sum(tail) / len(tail)
    metrics["temperature"] = 1.0 / model.logit_scale_value().item()

    model.eval()
    if val_seeds:
        vi_seeds = val_seeds[:1024]
        r = torch.tensor([rows_of[s][0] for s in vi_seeds], device=device)
        si = torch.tensor([seed_index[s] for s in vi_seeds], device=device)
        metrics.update({f"val_{k}": x for k, x in evaluate_style(
            model, emb_all[r], rgb_c[si, 0], alpha_c[si, 0], [attrs_all[seed_index[s]] for s in vi_seeds]).items()})
    if eval_embeddings is not None and eval_paraphrases is not None:
        metrics.update(prompt_attribute_accuracy(model, eval_embeddings.to(device), eval_paraphrases))
    metrics["total_seconds"] = time.perf_counter() - t_start
    return model, metrics
