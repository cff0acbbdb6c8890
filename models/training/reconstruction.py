"""The base and edit stages: decode heads from the canonical view, render them from several
views, and compare with the engine's ground truth (RGB, alpha, class maps, features)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, get_args

import torch
from torch import Tensor, nn

from models.errors import PercheadError
from models.gaussians import SH_C0, Gaussians
from models.io.checkpoints import clean_state_dict
from models.losses.image import class_cross_entropy, soft_class_jaccard
from models.networks.checkpoint import load_checkpoint, save_checkpoint
from models.networks.config import NetConfig
from models.networks.decoder import PredictedHeads
from models.networks.inputs import HeadBatch, model_inputs
from models.networks.perchead import PercHeadNet, point_bias_width
from models.networks.template import load_template
from models.render import choose_backend, render_views
from models.render.gsplat_backend import rasterize_gsplat
from models.training.config import TrainConfig
from models.training.distributed import DistInfo

log = logging.getLogger(__name__)
RenderMode = Literal["batched", "per_head"]


def render_predictions(pred: PredictedHeads, batch: HeadBatch, mode: RenderMode = "batched") -> dict[str, Tensor]:
    """Render every head of a prediction from its V cameras, differentiably, in float32.

    Returns rgb [B, V, H, W, 3] (background composited), alpha [B, V, H, W] and class_weights
    [B, V, H, W, C] (soft class memberships blended). "batched" on a GPU with gsplat: all B x V
    views in one launch (every predicted head has the same N Gaussians, so no padding).
    Otherwise, or with "per_head", each head goes through render_views (gsplat per head on a
    GPU, the torch rasteriser elsewhere): the reference path.
    """
    b, n = pred.means.shape[:2]
    v, h, w = batch.rgb.shape[1], batch.rgb.shape[2], batch.rgb.shape[3]
    probs = pred.class_logits.float().softmax(-1)  # [B, N, C]
    flat = Gaussians(pred.means.reshape(b * n, 3).float(), pred.quats.reshape(b * n, 4).float(),
                     pred.log_scales.reshape(b * n, 3).float(), pred.opacity_logits.reshape(b * n).float(),
                     pred.sh_dc.reshape(b * n, 1, 3).float(), torch.zeros(b * n, dtype=torch.long, device=pred.means.device))
    if mode == "per_head" or choose_backend("auto", pred.means.device) != "gsplat":
        outs = [render_views(flat[i * n:(i + 1) * n], batch.cameras(i), background=batch.background,
                             class_probs=probs[i]) for i in range(b)]
        return {"rgb": torch.stack([o.rgb for o in outs]), "alpha": torch.stack([o.alpha for o in outs]),
                "class_weights": torch.stack([o.class_weights for o in outs])}
    means = flat.means.view(b, n, 3)
    w2c, ks = batch.world_to_cam.float(), batch.K.float()  # [B, V, 4, 4], [B, V, 3, 3]
    cam_z = torch.einsum("bnk,bvk->bvn", means, w2c[:, :, 2, :3]) + w2c[:, :, 2, 3, None]  # [B, V, N]
    rgb = flat.base_rgb().view(b, 1, n, 3).expand(b, v, n, 3)  # SH degree 0: the same colour from every view
    feats = torch.cat([rgb, cam_z[..., None], probs[:, None].expand(b, v, n, probs.shape[-1])], -1)  # [B, V, N, 4 + C]
    acc, alpha = rasterize_gsplat(means, flat.activated_quats().view(b, n, 4), flat.activated_scales().view(b, n, 3),
                                  flat.activated_opacities().view(b, n), feats, w2c, ks, w, h)  # [B*V, H*W, D]
    acc, alpha = acc.reshape(b, v, h, w, -1), alpha.reshape(b, v, h, w)
    color = acc[..., :3] + (1.0 - alpha)[..., None] * batch.background.to(acc.dtype)
    return {"rgb": color, "alpha": alpha, "class_weights": acc[..., 4:]}


def overbright_colour(pred: PredictedHeads) -> Tensor:
    """How far the predicted Gaussians' colour lies outside 0..1 (the renderer clamps it, so an excess only makes a
    hard, glowing edge), times opacity, summed over each head's N Gaussians, mean over the B heads. [] """
    rgb = 0.5 + SH_C0 * pred.sh_dc.float()  # [B, N, 3], before the renderer's clamp
    excess = (torch.relu(rgb - 1.0) + torch.relu(-rgb)).sum(-1)  # [B, N]
    return (torch.sigmoid(pred.opacity_logits.float()) * excess).sum(-1).mean()


def patch_neighbours(points: Tensor, points_per_token: int, count: int = 4) -> Tensor:
    """For each template point [N, 3] its ``count`` nearest points of the same patch (patches are consecutive runs
    of ``points_per_token``; Morton-ordered, so compact). [N, count] indices into the N points."""
    t = points.shape[0] // points_per_token
    per_patch = points.float().view(t, points_per_token, 3)
    d = torch.cdist(per_patch, per_patch)  # [T, K, K]
    d.diagonal(dim1=1, dim2=2).fill_(float("inf"))
    nearest = d.topk(min(count, points_per_token - 1), dim=-1, largest=False).indices  # [T, K, count]
    return (nearest + torch.arange(t, device=points.device)[:, None, None] * points_per_token).view(-1, nearest.shape[-1])


def colour_roughness(pred: PredictedHeads, neighbours: Tensor) -> Tensor:
    """How far each Gaussian's colour strays from its template neighbours' of the same predicted class (L1 over
    RGB, weighted by both opacities, detached): a total variation over the head's points. Where the truth is smooth
    (skin) it removes per-Gaussian colour noise; edges between classes (eye and skin) cost nothing, and an L1 lets
    a few strong steps (strands) stay. [] """
    rgb = 0.5 + SH_C0 * pred.sh_dc.float()                       # [B, N, 3]
    other = rgb[:, neighbours]                                    # [B, N, k, 3]
    labels = pred.class_logits.detach().argmax(-1)                # [B, N]
    opacity = torch.sigmoid(pred.opacity_logits.detach().float())  # [B, N]
    weight = (labels[:, :, None] == labels[:, neighbours]) * opacity[:, :, None] * opacity[:, neighbours]
    diff = (rgb[:, :, None] - other).abs().sum(-1)                # [B, N, k]
    return (weight * diff).sum() / weight.sum().clamp_min(1.0)


def class_balance(classes: Tensor, num_classes: int, power: float, cap: float) -> Tensor:
    """Per-class CE weights [C] from target maps [...]: share^-power, mean pixel weight 1, at most cap.

    Computed on the device from this batch's own counts (no host sync). A class absent from the
    batch gets the cap, which no pixel uses."""
    flat = classes.reshape(-1)
    ones = torch.ones_like(flat, dtype=torch.float32)
    counts = torch.zeros(num_classes, device=classes.device).scatter_add_(0, flat, ones)  # [C]; bincount would sync
    share = counts / counts.sum()
    w = (share + 1e-6).pow(-power)
    w = w / (share * w).sum()
    return w.clamp(max=cap)


def balanced_l1(rgb: Tensor, target: Tensor, classes: Tensor, weights: Tensor) -> Tensor:
    """Mean L1 of rgb [..., H, W, 3] against target, each pixel weighted by weights [C] of its true class
    (classes [..., H, W]); with every weight 1 it is the plain L1."""
    return (weights[classes][..., None] * (rgb - target).abs()).mean()


def class_colour(rgb: Tensor, target: Tensor, classes: Tensor, num_classes: int, min_pixels: int = 4) -> Tensor:
    """Mean over (image, class) of |mean rendered colour - mean true colour| inside the true class's pixels (L1 over
    RGB / 3): every part an image shows counts once, however few its pixels, and a part's colour is judged as a
    whole, not pixel by pixel, so a misplaced iris still pays for a wrong eye colour. rgb, target [..., H, W, 3],
    classes [..., H, W] (ids below num_classes); class 0 (background) and parts under min_pixels are left out.
    Counted on the device with index_add_ (no host sync)."""
    c = num_classes
    images = classes.reshape(-1, classes.shape[-2] * classes.shape[-1]).shape[0]
    index = (classes.reshape(images, -1) + c * torch.arange(images, device=classes.device)[:, None]).reshape(-1)
    ones = torch.ones_like(index, dtype=torch.float32)
    counts = torch.zeros(images * c, device=classes.device).index_add_(0, index, ones)
    diff = torch.zeros(images * c, 3, device=rgb.device).index_add_(0, index, (rgb - target).reshape(-1, 3).float())
    shown = (counts >= min_pixels) & (torch.arange(images * c, device=classes.device) % c != 0)
    per_part = (diff.abs() / counts.clamp_min(1)[:, None]).mean(-1)
    return (per_part * shown).sum() / shown.sum().clamp_min(1)


class ReconstructionTask:
    """Task for models.training.loop: batches from a head source, losses from models.losses."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, heads: Callable[[int], HeadBatch],
                 loss_fn: nn.Module, evaluate: Callable[[nn.Module], dict[str, float]] | None = None) -> None:
        self.cfg, self.dist = cfg, dist
        self.net_cfg = NetConfig.from_dict({**cfg.net, "kind": cfg.stage, "image_size": cfg.image_size})
        self.heads = heads
        self.loss_fn = loss_fn.to(dist.device)
        self._evaluate = evaluate
        from models.losses.adversarial import AdversarialConfig, Adversary

        adv = AdversarialConfig.from_dict(cfg.adversarial)
        self.adversary = Adversary(adv, dist.device, seed=cfg.seed * 7919 + dist.rank) if adv.active else None
        self.render_mode: RenderMode = cfg.data.get("render_mode", "batched")
        if self.render_mode not in get_args(RenderMode):
            raise PercheadError(f"data.render_mode={self.render_mode!r}; use one of {get_args(RenderMode)}")

    def build_model(self) -> PercHeadNet:
        branch = None
        if self.net_cfg.kind == "base" and self.cfg.data.get("dino_dir"):
            from models.networks.dino_branch import DinoPatchFeatures

            branch = DinoPatchFeatures.from_folder(self.cfg.data["dino_dir"], self.net_cfg.grid)
            self.net_cfg.dino_dim = branch.out_dim
        template = load_template(self.cfg.template)
        model = PercHeadNet(self.net_cfg, template.rounded() if self.cfg.round_template else template)
        if branch is not None:
            model.attach_dino(branch)
        if self.cfg.init_from:
            source, _ = load_checkpoint(self.cfg.init_from)
            src = clean_state_dict(source.state_dict())
            if self.cfg.retemplate:
                src = model.transfer_state(src)
                log.warning("moved %s onto the template %s (%d Gaussians)", self.cfg.init_from, self.cfg.template,
                            model.cfg.num_gaussians)
            own = model.state_dict()
            bias, own_bias = src.get("head.point_bias"), own.get("head.point_bias")
            if bias is not None and own_bias is not None and len(bias) == len(own_bias):  # with or without classes
                src["head.point_bias"] = point_bias_width(bias, own_bias.shape[1])
            taken = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
            model.load_state_dict(taken, strict=False)
            log.warning("initialised %d of %d tensors from %s", len(taken), len(own), self.cfg.init_from)
        if self.cfg.colour_roughness > 0:  # the template's neighbour graph, once (the points are buffers)
            self.neighbours = patch_neighbours(model.head.points, model.cfg.points_per_token).to(self.dist.device)
        if self.cfg.train_only:
            chosen = 0
            for name, p in model.named_parameters():
                p.requires_grad_(name.startswith(tuple(self.cfg.train_only)))
                chosen += p.numel() if p.requires_grad else 0
            if chosen == 0:
                raise PercheadError(f"train_only {self.cfg.train_only} names no parameter of the {self.cfg.stage} "
                                    "model; give parameter-name prefixes such as 'pixel.'")
            log.warning("training %d of %d parameters (train_only %s)", chosen,
                        sum(p.numel() for p in model.parameters()), self.cfg.train_only)
        return model

    def batches(self) -> Iterator[HeadBatch]:
        while True:
            yield self.heads(self.cfg.batch_size)

    def loss(self, model: nn.Module, batch: HeadBatch) -> tuple[Tensor, dict[str, Tensor]]:
        pred = model(*model_inputs(self.net_cfg, batch))  # under the loop's autocast (bf16 on GPU)
        # rendering and losses in float32: SSIM's E[x^2] - E[x]^2 cancels catastrophically in bf16
        with torch.autocast(device_type=batch.rgb.device.type, enabled=False):
            return self._render_losses(pred, batch)

    def _render_losses(self, pred, batch: HeadBatch) -> tuple[Tensor, dict[str, Tensor]]:
        """One render of all B x V views and one loss call: every term is a mean over heads, views
        and pixels, as the per-head loop it replaces averaged them. Terms stay tensors (detached):
        reading them forces a device sync, which the loop does only when it logs."""
        out = render_predictions(pred, batch, self.render_mode)
        target = {"rgb": batch.rgb, "alpha": batch.alpha, "class_map": batch.classes}
        total, named = self.loss_fn(out, target)
        if self.cfg.balanced_class_ce > 0 or self.cfg.balanced_l1 > 0:
            weights = class_balance(batch.classes, out["class_weights"].shape[-1], self.cfg.class_balance_power,
                                    self.cfg.class_balance_max)
        if self.cfg.balanced_class_ce > 0:
            named["class_ce_balanced"] = class_cross_entropy(out["class_weights"], out["alpha"], batch.classes,
                                                             class_balance=weights)
            total = total + self.cfg.balanced_class_ce * named["class_ce_balanced"]
        if self.cfg.balanced_l1 > 0:
            named["l1_balanced"] = balanced_l1(out["rgb"], batch.rgb, batch.classes, weights)
            total = total + self.cfg.balanced_l1 * named["l1_balanced"]
        if self.cfg.class_colour > 0:
            named["class_colour"] = class_colour(out["rgb"], batch.rgb, batch.classes,
                                                 out["class_weights"].shape[-1])
            total = total + self.cfg.class_colour * named["class_colour"]
        if self.cfg.class_jaccard > 0:
            named["class_jaccard"] = soft_class_jaccard(out["class_weights"], out["alpha"], batch.classes)
            total = total + self.cfg.class_jaccard * named["class_jaccard"]
        if self.cfg.overbright > 0:
            named["overbright"] = overbright_colour(pred)
            total = total + self.cfg.overbright * named["overbright"]
        if self.cfg.colour_roughness > 0:
            named["colour_roughness"] = colour_roughness(pred, self.neighbours)
            total = total + self.cfg.colour_roughness * named["colour_roughness"]
        if self.adversary is not None:
            adv_total, adv_terms = self.adversary.generator_terms(out["rgb"], batch.rgb, batch.classes)
            total = total + adv_total
            named.update(adv_terms)
        return total, {k: v.detach() for k, v in named.items()}

    def after_step(self) -> dict[str, Tensor]:
        """After the model's optimiser step: the discriminator's step (its terms, for the log)."""
        return self.adversary.update() if self.adversary is not None else {}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return self._evaluate(model) if self._evaluate else {}

    def close(self) -> None:
        """Stop the batch producer process, if there is one (data.prefetch)."""
        close = getattr(self.heads, "close", None)
        if close is not None:
            close()

    def export(self, model: nn.Module, path: Path, metrics: dict[str, Any]) -> None:
        save_checkpoint(path, model, extra={"metrics": metrics, "train": self.cfg.to_dict()},
                        template=None if self.cfg.round_template else self.cfg.template)
