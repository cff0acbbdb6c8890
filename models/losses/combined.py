"""The reconstruction loss of the base and editing models: one weighted sum of named terms.

Terms (a weight of 0 turns one off):
  l1        |rendered rgb - target rgb|, optionally weighted by the target alpha
  ssim      1 - SSIM(rendered rgb, target rgb)
  gradient  |image gradients of rendered rgb - of target rgb| (edges and texture, beside L1's colours)
  texture   |local texture statistics of rendered - of target| (strength and direction of the luminance's
            gradients near each pixel, at two scales; asks for strands and grain without their exact phase)
  class_ce  cross-entropy of the rendered class weights (+ background 1 - alpha) vs the target map
  feature   our engine-trained FeatureNet perceptual loss (checkpoints/feature_net.safetensors)
  dino      DINOv2 perceptual loss: on only when ``dino_dir`` names a local weights folder
  sam       SAM2.1 image-encoder perceptual loss: on only when ``sam_dir`` names one
``ReconstructionLoss.describe()`` says which terms ran and from which weights, for model cards.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Mapping

from torch import Tensor, nn

from models.errors import PercheadError
from models.losses.common import Distance
from models.losses.feature_net import DEFAULT_FEATURE_NET_PATH, FeatureLoss, FeatureNet, load_feature_net
from models.losses.image import class_cross_entropy, gradient_l1, l1_loss, ssim_loss, texture_statistics_l1

TERMS = ("l1", "ssim", "gradient", "texture", "class_ce", "feature", "dino", "sam")


@dataclass
class LossConfig:
    # weights of the terms; 0 = off
    l1: float = 1.0
    ssim: float = 0.2            # 3DGS' 0.8 L1 / 0.2 D-SSIM balance
    gradient: float = 0.0        # off unless a recipe asks (the shipped models trained without it)
    texture: float = 0.0         # off unless a recipe asks (issue 24: edit run 16 on)
    class_ce: float = 0.1
    feature: float = 0.1
    dino: float = 0.1            # counts only with dino_dir
    sam: float = 0.1             # counts only with sam_dir
    l1_mask: Literal["none", "alpha"] = "none"   # "alpha": L1 over the target's foreground only
    feature_net_path: str | None = None          # None: checkpoints/feature_net.safetensors
    feature_distance: Distance = "l2"
    dino_dir: str | None = None                  # local DINOv2 weights folder (transformers layout)
    dino_layers: tuple[int, ...] | None = None   # None: four layers spread to the last
    dino_image_size: int = 224
    sam_dir: str | None = None                   # local SAM2.1 weights folder (transformers layout)
    sam_source: Literal["fpn", "backbone"] = "fpn"
    sam_image_size: int = 512

    def __post_init__(self) -> None:
        for name in TERMS:
            w = getattr(self, name)
            if not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0:
                raise PercheadError(f"loss weight {name}={w!r} must be a number >= 0")
        if self.l1_mask not in ("none", "alpha"):
            raise PercheadError(f"l1_mask={self.l1_mask!r}; use 'none' or 'alpha'")
        if self.dino_layers is not None:
            self.dino_layers = tuple(int(l) for l in self.dino_layers)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LossConfig:
        """From a config file's ``loss:`` section; an unknown key names the valid ones."""
        data = dict(data or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PercheadError(f"unknown loss option(s) {', '.join(unknown)}; valid: {', '.join(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def active_terms(self, *, dino_given: bool = False, sam_given: bool = False) -> tuple[str, ...]:
        """The terms that run: weight > 0, and for dino/sam a weights folder (or a given model)."""
        on = {"l1": True, "ssim": True, "gradient": True, "texture": True, "class_ce": True, "feature": True,
              "dino": bool(self.dino_dir) or dino_given, "sam": bool(self.sam_dir) or sam_given}
        return tuple(t for t in TERMS if getattr(self, t) > 0 and on[t])


class ReconstructionLoss(nn.Module):
    """Weighted sum of the active terms, rendered prediction vs target.

    Frozen networks (feature net, DINOv2, SAM) load once here, follow ``.to(device)``, and stay
    out of ``parameters()`` / ``state_dict()``. Pass ``feature_net`` / ``dino_model`` /
    ``sam_model`` to use networks already built (tests use random-initialised ones); otherwise
    they load from the config's paths and a missing file or folder is a PercheadError.
    """

    def __init__(self, config: LossConfig = LossConfig(), *, feature_net: FeatureNet | None = None,
                 dino_model: nn.Module | None = None, sam_model: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.terms = config.active_terms(dino_given=dino_model is not None, sam_given=sam_model is not None)
        self.sources: dict[str, str] = {}
        self.feature_loss = self.dino_loss = self.sam_loss = None
        if "feature" in self.terms:
            if feature_net is None:
                path = config.feature_net_path or DEFAULT_FEATURE_NET_PATH
                feature_net, self.sources["feature"] = load_feature_net(path), str(path)
            else:
                self.sources["feature"] = "given FeatureNet"
            self.feature_loss = FeatureLoss(feature_net, distance=config.feature_distance)
        if "dino" in self.terms:
            from models.losses.foundation import DinoFeatureLoss

            kw = dict(layers=config.dino_layers, image_size=config.dino_image_size, distance=config.feature_distance)
            self.dino_loss = (DinoFeatureLoss(dino_model, **kw) if dino_model is not None
                              else DinoFeatureLoss.from_folder(config.dino_dir, **kw))
            self.sources["dino"] = "given model" if dino_model is not None else str(config.dino_dir)
        if "sam" in self.terms:
            from models.losses.foundation import SamFeatureLoss

            kw = dict(source=config.sam_source, image_size=config.sam_image_size, distance=config.feature_distance)
            self.sam_loss = (SamFeatureLoss(sam_model, **kw) if sam_model is not None
                             else SamFeatureLoss.from_folder(config.sam_dir, **kw))
            self.sources["sam"] = "given model" if sam_model is not None else str(config.sam_dir)

    def describe(self) -> dict[str, dict[str, Any]]:
        """Per term: weight, whether it ran, and the weights it used (for model cards)."""
        out = {}
        for t in TERMS:
            entry: dict[str, Any] = {"weight": float(getattr(self.config, t)), "on": t in self.terms}
            if t in self.sources:
                entry["weights_from"] = self.sources[t]
            out[t] = entry
        return out

    def forward(self, pred: Any, target: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """pred: a RenderOutput-like object or mapping with
             rgb [..., H, W, 3], alpha [..., H, W], class_weights [..., H, W, 15] (for class_ce);
           target: object or mapping with rgb [..., H, W, 3], class_map [..., H, W] long (for
             class_ce), alpha [..., H, W] (for l1_mask="alpha").
        Returns (weighted total, {term: unweighted value}); all differentiable w.r.t. pred.
        """
        p_rgb, t_rgb = _get(pred, "rgb", "prediction"), _get(target, "rgb", "target")
        if p_rgb.shape != t_rgb.shape:
            raise ValueError(f"rendered rgb {tuple(p_rgb.shape)} and target rgb {tuple(t_rgb.shape)} differ")
        values: dict[str, Tensor] = {}
        if "l1" in self.terms:
            mask = _get(target, "alpha", "target") if self.config.l1_mask == "alpha" else None
            values["l1"] = l1_loss(p_rgb, t_rgb, mask)
        if "ssim" in self.terms:
            values["ssim"] = ssim_loss(p_rgb, t_rgb)
        if "gradient" in self.terms:
            values["gradient"] = gradient_l1(p_rgb, t_rgb)
        if "texture" in self.terms:
            values["texture"] = texture_statistics_l1(p_rgb, t_rgb)
        if "class_ce" in self.terms:
            values["class_ce"] = class_cross_entropy(_get(pred, "class_weights", "prediction"),
                                                     _get(pred, "alpha", "prediction"),
                                                     _get(target, "class_map", "target"))
        for name, loss in (("feature", self.feature_loss), ("dino", self.dino_loss), ("sam", self.sam_loss)):
            if loss is not None:
                values[name] = loss(p_rgb, t_rgb)
        if not values:
            raise PercheadError("every loss weight is 0; give at least one term a positive weight")
        total = sum(float(getattr(self.config, k)) * v for k, v in values.items())
        return total, values


def _get(obj: Any, name: str, role: str) -> Tensor:
    value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    if value is None:
        raise ValueError(f"the {role} has no '{name}', which the active loss terms need")
    return value


__all__ = ["TERMS", "LossConfig", "ReconstructionLoss"]
