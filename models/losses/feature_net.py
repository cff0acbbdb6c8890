"""A small perceptual feature network trained on engine renders, and the feature loss it gives.

Without DINOv2/SAM2.1 weights, perceptual supervision comes from this net: a few conv stages
trained to segment engine renders into the 15 classes of ``assets/classes.yaml``. Features
that tell hair from skin and lips from teeth are the features a head's perceptual loss needs;
``FeatureLoss`` compares them between rendered and target images.

Pipeline: image -> stages (1, 1/2, 1/4, 1/8 resolution) -> FPN-lite decoder -> class logits.
The stage outputs are the perceptual features.

Checkpoint: ``checkpoints/feature_net.safetensors`` (fp16 weights, the config in the
metadata) is written by a GPU run of ``train_feature_net`` + ``save_feature_net``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.device import is_accelerator
from models.errors import PercheadError
from models.io.checkpoints import clean_key, load_tensors, one_line, read_header, save_model
from models.losses.common import Distance, FrozenModule, feature_distance, weighted_sum
from models.losses.image import Layout, to_chw

log = logging.getLogger(__name__)

CHECKPOINTS_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
DEFAULT_FEATURE_NET_PATH = CHECKPOINTS_DIR / "feature_net.safetensors"
CHECKPOINT_FORMAT = "perchead.feature_net"
CHECKPOINT_VERSION = "1"


@dataclass(frozen=True)
class FeatureNetConfig:
    channels: tuple[int, ...] = (32, 64, 128, 128)  # width per stage
    strides: tuple[int, ...] = (1, 2, 2, 2)          # first stage at full resolution: fine parts (eyes, lips) need it
    decoder_channels: int = 64
    num_classes: int = 15                            # ids of assets/classes.yaml, 0 = background
    norm_groups: int = 8                             # GroupNorm: no batch statistics to sync across DDP ranks
    input_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    input_std: tuple[float, float, float] = (0.25, 0.25, 0.25)

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.strides) or not self.channels:
            raise ValueError("channels and strides need one entry per stage")
        if any(c % self.norm_groups for c in (*self.channels, self.decoder_channels)):
            raise ValueError(f"every width must be a multiple of norm_groups={self.norm_groups}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FeatureNetConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            raise ValueError(f"unknown config keys {sorted(set(data) - known) if isinstance(data, dict) else data}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


PRESETS: dict[str, FeatureNetConfig] = {
    "default": FeatureNetConfig(),
    "tiny": FeatureNetConfig(channels=(8, 16, 16, 16), decoder_channels=16),  # tests only
}


def conv_norm_act(cin: int, cout: int, stride: int, groups: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.GroupNorm(groups, cout), nn.SiLU())


class Stage(nn.Module):
    """Two 3x3 convs; the first one may downsample."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int):
        super().__init__()
        self.down = conv_norm_act(cin, cout, stride, groups)
        self.conv = conv_norm_act(cout, cout, 1, groups)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.down(x))


class SegDecoder(nn.Module):
    """FPN-lite: project every stage to one width, sum top-down, one conv, classify at stage 0's size."""

    def __init__(self, channels: Sequence[int], width: int, num_classes: int, groups: int):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.fuse = conv_norm_act(width, width, 1, groups)
        self.classify = nn.Conv2d(width, num_classes, 1)

    def forward(self, feats: list[Tensor]) -> Tensor:
        x = self.lateral[-1](feats[-1])
        for lat, f in zip(reversed(self.lateral[:-1]), reversed(feats[:-1])):
            x = lat(f) + F.interpolate(x, size=f.shape[-2:], mode="bilinear", align_corners=False)
        return self.classify(self.fuse(x))


class FeatureNet(nn.Module):
    """Segmentation net whose stage outputs are perceptual features.

    Input: images [N, 3, H, W] in 0..1 (any H, W). ``forward`` -> logits [N, C, H, W];
    ``features`` -> one map per stage [N, channels[i], H / prod(strides[:i+1]), ...].
    """

    def __init__(self, config: FeatureNetConfig = FeatureNetConfig()):
        super().__init__()
        self.config = config
        widths = (3, *config.channels)
        self.stages = nn.ModuleList(Stage(widths[i], widths[i + 1], s, config.norm_groups)
                                    for i, s in enumerate(config.strides))
        self.decoder = SegDecoder(config.channels, config.decoder_channels, config.num_classes, config.norm_groups)
        self.register_buffer("mean", torch.tensor(config.input_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.input_std).view(1, 3, 1, 1), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # He init for SiLU-activated convs keeps activations' scale through the stages
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # a near-zero classifier starts every pixel at the uniform distribution (loss log C)
        nn.init.normal_(self.decoder.classify.weight, std=1e-3)

    def features(self, images: Tensor) -> list[Tensor]:
        """images [N, 3, H, W] 0..1 -> stage outputs, high to low resolution."""
        x = (images - self.mean.to(images.dtype)) / self.std.to(images.dtype)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats

    def forward(self, images: Tensor) -> Tensor:
        """images [N, 3, H, W] 0..1 -> class logits [N, C, H, W]."""
        logits = self.decoder(self.features(images))
        return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- the loss -----------------------------------------------------------------------------

class FeatureLoss(nn.Module):
    """Perceptual loss: distance of unit-normalised FeatureNet stage features, rendered vs target.

    The net is frozen and kept out of this module's state_dict (see ``FrozenModule``). Target
    features carry no gradient; the rendered image's do.
    """

    def __init__(self, net: FeatureNet, layer_weights: Sequence[float] | None = None,
                 distance: Distance = "l2"):
        super().__init__()
        n = len(net.config.channels)
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * n
        if len(self.layer_weights) != n:
            raise ValueError(f"layer_weights needs {n} entries (one per stage), got {len(self.layer_weights)}")
        self.distance = distance
        self.frozen = FrozenModule(net)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike = DEFAULT_FEATURE_NET_PATH, **kwargs) -> FeatureLoss:
        return cls(load_feature_net(path), **kwargs)

    @property
    def net(self) -> FeatureNet:
        return self.frozen.net  # type: ignore[return-value]

    def forward(self, pred: Tensor, target: Tensor, *, layout: Layout = "hwc") -> Tensor:
        """pred, target: [..., H, W, 3] (or [..., 3, H, W]) in 0..1 -> scalar."""
        x, y = to_chw(pred, layout), to_chw(target, layout)
        fx = self.net.features(x)
        with torch.no_grad():
            fy = self.net.features(y.to(x.dtype))
        terms = [feature_distance(a, b, dim=1, distance=self.distance) for a, b in zip(fx, fy)]
        return weighted_sum(terms, self.layer_weights)


# ---- checkpoints ----------------------------------------------------------------------------

def save_feature_net(model: FeatureNet, path: str | os.PathLike = DEFAULT_FEATURE_NET_PATH, *,
                     metrics: Mapping[str, Any] | None = None) -> Path:
    """Write fp16 weights + the config (and training metrics) as safetensors metadata, atomically."""
    meta = {"format_version": CHECKPOINT_VERSION}
    if metrics:
        meta["metrics"] = json.dumps(dict(metrics), sort_keys=True, default=float)
    return save_model(path, model, CHECKPOINT_FORMAT, asdict(model.config), metadata=meta)


def load_feature_net(path: str | os.PathLike = DEFAULT_FEATURE_NET_PATH, *,
                     device: torch.device | str = "cpu") -> FeatureNet:
    """Rebuild the net from its checkpoint alone (fp32, eval mode). The file is read as every model file is
    (models/io/checkpoints.py: pickles, devices and cut files refused, weights finite); this loss net's own words
    say how to re-create it."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"feature-net checkpoint {p} not found; train it with "
                            "models.losses.feature_net.train_feature_net + save_feature_net (a GPU run), "
                            "or set the feature loss weight to 0")
    redo = "re-create it with train_feature_net + save_feature_net"
    name = f"feature-net checkpoint {p}"
    meta, _ = read_header(p, name)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise PercheadError(f"{p} is not a feature-net checkpoint (format {meta.get('format')!r}); {redo}")
    if meta.get("format_version") != CHECKPOINT_VERSION:
        raise PercheadError(f"{p} has feature-net format version {meta.get('format_version')!r}, "
                            f"this code reads {CHECKPOINT_VERSION}; {redo}")
    try:
        config = FeatureNetConfig.from_json(meta["config"])
        state = {clean_key(k): v.float() for k, v in load_tensors(p, name).items()}
        model = FeatureNet(config)
        model.load_state_dict(state, strict=True)
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise PercheadError(f"{name} is unreadable or corrupt ({one_line(e)}); {redo}") from e
    return model.to(device).eval()


def checkpoint_metadata(path: str | os.PathLike = DEFAULT_FEATURE_NET_PATH) -> dict[str, Any]:
    """Config and training metrics stored in a checkpoint (for model cards)."""
    from safetensors.torch import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    return {k: json.loads(v) if k in ("config", "metrics", "extra") else v for k, v in meta.items()}


# ---- training -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeatureNetTrainConfig:
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_frac: float = 0.05     # share of steps with linear LR warm-up
    final_lr_frac: float = 0.05   # cosine decays to this share of lr
    grad_clip: float = 1.0
    flip: bool = True             # left/right are one class, so a mirrored render is a valid sample
    color_jitter: float = 0.1     # per-image, per-channel gain in 1 +- this: robust to the decoder's colour drift
    balance_power: float = 0.5    # class weights ~ frequency^-power: small parts (eyes, lips) are most of a
                                  # face's identity yet few pixels; 0 = plain cross-entropy
    reuse: int = 1                # optimiser steps per engine batch (fresh flips/jitter each): > 1 when the
                                  # engine, not the net, is the bottleneck (measured on an H100 without gsplat)
    log_every: int = 50


def batch_to_tensors(batch: Any) -> tuple[Tensor, Tensor]:
    """One training batch -> (images [N, 3, H, W] 0..1, class map [N, H, W] long).

    A batch is a mapping or an object (e.g. a ``RenderOutput``) with ``rgb`` [..., H, W, 3]
    channels-last 0..1 and either ``class_map`` [..., H, W] ids or ``class_weights``
    [..., H, W, 15] + ``alpha`` [..., H, W] (the argmax then gives the map, background where
    1 - alpha wins). Leading dims (batch, views) are flattened.
    """
    def get(name: str) -> Any:
        return batch.get(name) if isinstance(batch, Mapping) else getattr(batch, name, None)

    rgb = get("rgb")
    if rgb is None:
        raise ValueError("a feature-net batch needs 'rgb' [..., H, W, 3]")
    labels = get("class_map")
    if labels is None:
        cw, alpha = get("class_weights"), get("alpha")
        if cw is None or alpha is None:
            raise ValueError("a feature-net batch needs 'class_map' or 'class_weights' + 'alpha'")
        cw = cw.clone()
        cw[..., 0] += 1.0 - alpha
        labels = cw.argmax(-1)
    images = to_chw(rgb.float(), "hwc")
    labels = labels.reshape(-1, *labels.shape[-2:]).long()
    if labels.shape[0] != images.shape[0] or labels.shape[-2:] != images.shape[-2:]:
        raise ValueError(f"rgb {tuple(rgb.shape)} and class map {tuple(labels.shape)} do not match")
    return images, labels


def augment(images: Tensor, labels: Tensor, cfg: FeatureNetTrainConfig,
            generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    n, dev = images.shape[0], images.device
    if cfg.flip:
        flip = torch.rand(n, generator=generator).to(dev) < 0.5
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        labels = torch.where(flip[:, None, None], labels.flip(-1), labels)
    if cfg.color_jitter > 0:
        gain = 1.0 + cfg.color_jitter * (2 * torch.rand(n, 3, 1, 1, generator=generator) - 1)
        images = (images * gain.to(dev)).clamp(0.0, 1.0)
    return images, labels


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """[C, C] counts, rows = target class, columns = predicted class."""
    idx = target.reshape(-1) * num_classes + pred.reshape(-1)
    return torch.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes).cpu()


def segmentation_metrics(confusion: Tensor) -> dict[str, Any]:
    """Pixel accuracy, mIoU over classes present in the targets, per-class IoU (None: absent)."""
    conf = confusion.double()
    tp, gt, pr = conf.diag(), conf.sum(1), conf.sum(0)
    union = gt + pr - tp
    present = gt > 0
    iou = torch.where(union > 0, tp / union.clamp_min(1), torch.zeros_like(tp))
    return {
        "pixel_accuracy": float(tp.sum() / conf.sum().clamp_min(1)),
        "miou": float(iou[present].mean()) if present.any() else 0.0,
        "per_class_iou": [float(v) if p else None for v, p in zip(iou, present)],
    }


@torch.no_grad()
def evaluate_feature_net(model: FeatureNet, batches: Iterable[Any], device: torch.device | str = "cpu") -> dict[str, Any]:
    """Segmentation quality of the net on held-out batches (same format as training)."""
    was_training = model.training
    model.eval()
    c = model.config.num_classes
    conf = torch.zeros(c, c, dtype=torch.long)
    for batch in batches:
        images, labels = batch_to_tensors(batch)
        logits = model(images.to(device))
        conf += confusion_matrix(logits.argmax(1), labels.to(device), c)
    model.train(was_training)
    return segmentation_metrics(conf)


def engine_batches(heads: int = 8, views: int = 4, size: int = 256, *, device: torch.device | str = "auto",
                   stream: int = 7, background: str = "random", split: str = "train") -> Iterator[Any]:
    """Endless engine renders for ``train_feature_net``: ``HeadSampler.make_batch`` batches
    (rgb [heads, views, H, W, 3], exact class_map [heads, views, H, W]).

    ``background="random"`` (a grey per view) keeps the net from reading "black" as "background";
    ``split="bench"`` gives held-out heads (the benchmark seeds, never trained on) for evaluation.
    """
    from models.synthetic import HeadSampler

    sampler = HeadSampler(split, stream=stream, device=device, background=background)  # type: ignore[arg-type]
    while True:
        yield sampler.make_batch(heads, views=views, size=size)


def class_weights(freq: Tensor, power: float, floor: float = 1e-4) -> Tensor:
    """Per-class loss weights ~ freq^-power, scaled so an average pixel keeps weight 1. [C]"""
    w = freq.clamp_min(floor) ** -power
    return w / (freq * w).sum().clamp_min(1e-12)


def lr_at(step: int, steps: int, cfg: FeatureNetTrainConfig) -> float:
    """Linear warm-up then cosine decay to final_lr_frac * lr."""
    warm = max(1, int(cfg.warmup_frac * steps))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    t = (step - warm) / max(1, steps - warm)
    return cfg.lr * (cfg.final_lr_frac + (1 - cfg.final_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def train_feature_net(batches_iter: Iterable[Any], steps: int, device: torch.device | str, *,
                      config: FeatureNetConfig = FeatureNetConfig(),
                      train: FeatureNetTrainConfig = FeatureNetTrainConfig(),
                      eval_batches: Sequence[Any] | None = None, seed: int = 0,
                      on_log: Callable[[dict[str, float]], None] | None = None) -> tuple[FeatureNet, dict[str, Any]]:
    """Train a FeatureNet to segment engine renders; returns (model in eval mode, metrics).

    batches_iter: yields batches (see ``batch_to_tensors``): engine renders ``rgb``
                  [B, H, W, 3] 0..1 with their exact ``class_map`` [B, H, W]. One batch per
                  step; it may be endless. Images may be any size the engine renders.
    steps:        optimiser steps. device: where to train (bf16 autocast on CUDA).
    eval_batches: held-out batches (engine seeds not used for training) for the final metrics;
                  without them, metrics come from the last 20 training batches.
    Metrics: steps, batches (drawn from batches_iter), final_loss, pixel_accuracy, miou, per_class_iou, seconds, images_per_second,
    parameters, device: what the model card of the checkpoint reports.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = FeatureNet(config).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    c = config.num_classes
    recent = torch.zeros(c, c, dtype=torch.long)  # confusion of the last training batches
    window = min(20, steps)
    it: Iterator[Any] = iter(batches_iter)
    reuse = max(1, int(train.reuse))
    freq = torch.full((c,), 1.0 / c, device=device)  # running class frequencies for the balance weights
    images_seen, batches_seen, loss_val = 0, 0, float("nan")
    start = time.perf_counter()
    for step in range(steps):
        if step % reuse == 0:
            try:
                batch = next(it)
            except StopIteration:
                raise ValueError(f"batches_iter ran out after {batches_seen} batches ({step} of {steps} steps)") from None
            batches_seen += 1
            fresh_images, fresh_labels = batch_to_tensors(batch)
            fresh_images = fresh_images.to(device, non_blocking=True)
            fresh_labels = fresh_labels.to(device, non_blocking=True)
            counts = torch.bincount(fresh_labels.reshape(-1), minlength=c).float()
            freq = counts / counts.sum() if batches_seen == 1 else 0.95 * freq + 0.05 * counts / counts.sum()
        images, labels = augment(fresh_images, fresh_labels, train, gen)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, train)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=is_accelerator(device)):
            logits = model(images)
        loss = F.cross_entropy(logits.float(), labels, weight=class_weights(freq, train.balance_power))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        opt.step()
        images_seen += images.shape[0]
        if step >= steps - window:
            recent += confusion_matrix(logits.detach().argmax(1), labels, c)
        if step % train.log_every == 0 or step == steps - 1:
            loss_val = float(loss.detach())
            record = {"step": step, "loss": loss_val, "lr": lr_at(step, steps, train)}
            log.info("feature net step %d loss %.4f", step, loss_val)
            if on_log:
                on_log(record)
    seconds = time.perf_counter() - start
    model.eval()
    quality = evaluate_feature_net(model, eval_batches, device) if eval_batches else segmentation_metrics(recent)
    metrics = {
        "steps": steps, "batches": batches_seen, "final_loss": loss_val, "seconds": seconds,
        "images_per_second": images_seen / max(seconds, 1e-9), "parameters": count_parameters(model),
        "device": str(device), "eval": "held-out" if eval_batches else "last training batches", **quality,
    }
    return model, metrics


__all__ = [
    "DEFAULT_FEATURE_NET_PATH", "FeatureNetConfig", "PRESETS", "FeatureNet", "FeatureLoss", "count_parameters",
    "save_feature_net", "load_feature_net", "checkpoint_metadata", "FeatureNetTrainConfig", "batch_to_tensors",
    "evaluate_feature_net", "engine_batches", "train_feature_net",
]
