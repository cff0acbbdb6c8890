"""DINOv2 and SAM2.1 feature losses, on when the user gives a local folder of their weights.

No model hub is reachable, so the weights come from a folder the user downloaded elsewhere:
a transformers ``save_pretrained`` layout (``config.json`` + ``model.safetensors``), e.g. a
copy of ``facebook/dinov2-small`` or ``facebook/sam2.1-hiera-tiny``. Only safetensors are
read (a pickle could run code). A missing, incomplete or wrong folder is a PercheadError that
names the folder and what to put in it.

Both losses take images [..., H, W, 3] in 0..1, resize them (bilinear, antialiased,
differentiable) to ``image_size`` rounded to a multiple of the model's patch grid, normalise
with the folder's image mean/std (ImageNet's when it has no preprocessor_config.json), and
compare unit-normalised features of rendered vs target at a few depths:
- DINOv2 (``Dinov2Model``): patch tokens of a few intermediate layers, as PercHead's encoder
  reads them (class and register tokens dropped).
- SAM2.1: its image encoder alone, transformers' ``Sam2VisionModel`` (Hiera backbone + FPN
  neck); the features are the FPN levels that SAM's mask decoder reads, or the Hiera stage
  outputs. A full ``Sam2Model`` / ``Sam2VideoModel`` folder (what the hub ships) is loaded
  whole and its ``vision_encoder`` kept.
"""
from __future__ import annotations

import json
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.errors import PercheadError
from models.losses.common import Distance, FrozenModule, feature_distance, weighted_sum
from models.losses.image import Layout, to_chw

if TYPE_CHECKING:
    from transformers import PreTrainedModel

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DINO_IMAGE_SIZE = 224   # DINOv2's training resolution: 16 x 16 patches of 14 px
SAM_IMAGE_SIZE = 512    # SAM2 trains at 1024; half keeps the loss affordable next to the renderer
DINO_NUM_LAYERS = 4     # PercHead reads four intermediate DINOv2 layers

SamSource = Literal["fpn", "backbone"]


# ---- loading --------------------------------------------------------------------------------

@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' load report and progress bars; we check the loading info ourselves."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _check_folder(folder: str | os.PathLike, what: str, example: str) -> tuple[Path, dict]:
    """The folder must hold config.json and safetensors weights; returns (path, config dict)."""
    p = Path(folder).expanduser()
    need = f"give a folder with config.json and model.safetensors (a local copy of {example})"
    if not p.exists():
        raise PercheadError(f"{what} weights folder {p} does not exist; {need}")
    if not p.is_dir():
        raise PercheadError(f"{what} weights path {p} is not a folder; {need}")
    cfg_path = p / "config.json"
    if not cfg_path.is_file():
        raise PercheadError(f"{what} weights folder {p} has no config.json; {need}")
    if not (p / "model.safetensors").is_file() and not (p / "model.safetensors.index.json").is_file():
        if any(p.glob("*.bin")) or any(p.glob("*.pt")) or any(p.glob("*.pth")):
            raise PercheadError(f"{what} weights folder {p} holds only pickle weights (.bin/.pt), which are never "
                                "loaded because they can run code; convert them to model.safetensors")
        raise PercheadError(f"{what} weights folder {p} has no model.safetensors; {need}")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PercheadError(f"{cfg_path} is not valid JSON ({e}); replace it with the model's config.json") from e
    if not isinstance(config, dict):
        raise PercheadError(f"{cfg_path} is not a model config; replace it with the model's config.json")
    return p, config


def _from_pretrained(cls: type, folder: Path, what: str) -> "PreTrainedModel":
    """cls.from_pretrained offline and safetensors-only; every weight must come from the folder."""
    try:
        with _quiet_transformers():
            model, info = cls.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                              output_loading_info=True)
    except Exception as e:  # transformers raises many types (OSError, ValueError, KeyError, safetensors')
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PercheadError(f"could not load {what} from {folder} ({first[:200]}); the folder must be a "
                            f"transformers save of the {what} model") from e
    missing = sorted(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if missing or mismatched:
        bad = missing or [str(m[0] if isinstance(m, tuple) else m) for m in mismatched]
        raise PercheadError(f"{folder} lacks {len(bad)} of the {what} weights (e.g. {bad[0]}) or their shapes "
                            f"differ; the folder is incomplete or holds another model")
    return model


def load_dinov2(folder: str | os.PathLike) -> nn.Module:
    """A frozen DINOv2 (``Dinov2Model``, or ``Dinov2WithRegistersModel``) from a local folder."""
    from transformers import Dinov2Model, Dinov2WithRegistersModel

    classes = {"dinov2": Dinov2Model, "dinov2_with_registers": Dinov2WithRegistersModel}
    p, config = _check_folder(folder, "DINOv2", "facebook/dinov2-small")
    kind = config.get("model_type")
    if kind not in classes:
        raise PercheadError(f"{p}/config.json describes a {kind!r} model, not DINOv2; give a DINOv2 weights folder")
    return _from_pretrained(classes[kind], p, "DINOv2").requires_grad_(False).eval()


def load_sam2_vision(folder: str | os.PathLike) -> nn.Module:
    """SAM2.1's image encoder (``Sam2VisionModel``: Hiera + FPN neck), frozen, from a local folder.

    Accepts a full SAM2 save (model_type ``sam2`` or ``sam2_video``; the prompt encoder and mask
    decoder are dropped) or a save of the vision model alone (``sam2_vision_model``).
    """
    from transformers import Sam2Model, Sam2VideoModel, Sam2VisionModel

    classes = {"sam2": Sam2Model, "sam2_video": Sam2VideoModel, "sam2_vision_model": Sam2VisionModel}
    p, config = _check_folder(folder, "SAM2.1", "facebook/sam2.1-hiera-tiny")
    kind = config.get("model_type")
    if kind not in classes:
        raise PercheadError(f"{p}/config.json describes a {kind!r} model, not SAM2; give a SAM2.1 weights folder")
    model = _from_pretrained(classes[kind], p, "SAM2.1")
    encoder = model if kind == "sam2_vision_model" else model.vision_encoder
    return encoder.requires_grad_(False).eval()


def _image_stats(folder: str | os.PathLike | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """image_mean/std of the folder's preprocessor_config.json, else ImageNet's."""
    if folder is not None:
        f = Path(folder) / "preprocessor_config.json"
        try:
            cfg = json.loads(f.read_text(encoding="utf-8"))
            mean, std = cfg["image_mean"], cfg["image_std"]
            if len(mean) == 3 and len(std) == 3:
                return tuple(map(float, mean)), tuple(map(float, std))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return IMAGENET_MEAN, IMAGENET_STD


# ---- shared preprocessing -------------------------------------------------------------------

def target_size(height: int, width: int, image_size: int, multiple: int) -> tuple[int, int]:
    """Scale so the longer side is about ``image_size``; round both sides to ``multiple`` (>= 1 unit)."""
    s = image_size / max(height, width)
    return (max(multiple, round(height * s / multiple) * multiple),
            max(multiple, round(width * s / multiple) * multiple))


class _FoundationLoss(nn.Module):
    """Resize + normalise, run the frozen model, compare per-level features."""

    def __init__(self, model: nn.Module, image_size: int, multiple: int, mean: Sequence[float],
                 std: Sequence[float], distance: Distance):
        super().__init__()
        self.frozen = FrozenModule(model)
        self.image_size, self.multiple, self.distance = int(image_size), int(multiple), distance
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.layer_weights: list[float] = []

    def prepare(self, images: Tensor) -> Tensor:
        """[N, 3, H, W] 0..1 -> model input [N, 3, h, w], h and w multiples of the patch grid."""
        size = target_size(images.shape[-2], images.shape[-1], self.image_size, self.multiple)
        if tuple(images.shape[-2:]) != size:
            images = F.interpolate(images, size=size, mode="bilinear", align_corners=False,
                                   antialias=size[0] < images.shape[-2] or size[1] < images.shape[-1])
        return (images - self.mean) / self.std

    def features(self, pixels: Tensor) -> list[Tensor]:
        """Model input -> list of (features, channel dim)."""
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, *, layout: Layout = "hwc") -> Tensor:
        """pred, target: [..., H, W, 3] (or [..., 3, H, W]) in 0..1 -> scalar."""
        x = self.prepare(to_chw(pred, layout).float())
        with torch.no_grad():
            fy = self.features(self.prepare(to_chw(target, layout).float()))
        fx = self.features(x)
        terms = [feature_distance(a, b, dim=d, distance=self.distance) for (a, d), (b, _) in zip(fx, fy)]
        return weighted_sum(terms, self.layer_weights)


class DinoFeatureLoss(_FoundationLoss):
    """DINOv2 perceptual loss over the patch tokens of a few layers.

    layers: 1-based encoder layers to compare; default four spread evenly to the last
    (3, 6, 9, 12 on ViT-S/B). Tokens are unit-normalised per patch.
    """

    def __init__(self, model: nn.Module, *, layers: Sequence[int] | None = None, image_size: int = DINO_IMAGE_SIZE,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 layer_weights: Sequence[float] | None = None, distance: Distance = "l2"):
        cfg = model.config
        depth = cfg.num_hidden_layers
        if layers is None:
            layers = sorted({max(1, round(depth * (i + 1) / DINO_NUM_LAYERS)) for i in range(DINO_NUM_LAYERS)})
        if not layers or any(not 1 <= int(l) <= depth for l in layers):
            raise ValueError(f"DINOv2 layers must lie in 1..{depth}, got {list(layers)}")
        super().__init__(model, image_size, cfg.patch_size, mean, std, distance)
        self.layers = [int(l) for l in layers]
        self.prefix_tokens = 1 + int(getattr(cfg, "num_register_tokens", 0) or 0)  # CLS (+ registers)
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * len(self.layers)
        if len(self.layer_weights) != len(self.layers):
            raise ValueError("layer_weights needs one entry per layer")

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, **kwargs) -> DinoFeatureLoss:
        mean, std = _image_stats(folder)
        return cls(load_dinov2(folder), **{"mean": mean, "std": std, **kwargs})

    def features(self, pixels: Tensor) -> list[tuple[Tensor, int]]:
        out = self.frozen(pixel_values=pixels, output_hidden_states=True)
        # hidden_states[0] is the embedding output, [i] the output of layer i
        return [(out.hidden_states[i][:, self.prefix_tokens:], -1) for i in self.layers]


class SamFeatureLoss(_FoundationLoss):
    """SAM2.1 image-encoder perceptual loss.

    source "fpn": the FPN levels SAM's mask decoder reads (high to low resolution);
    "backbone": the Hiera stage outputs. levels: indices into that list (default all).
    """

    def __init__(self, model: nn.Module, *, source: SamSource = "fpn", levels: Sequence[int] | None = None,
                 image_size: int = SAM_IMAGE_SIZE, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, layer_weights: Sequence[float] | None = None,
                 distance: Distance = "l2"):
        if source not in ("fpn", "backbone"):
            raise ValueError(f"unknown SAM feature source {source!r}; use 'fpn' or 'backbone'")
        cfg = model.config
        bb = cfg.backbone_config
        stages = len(bb.blocks_per_stage)
        count = cfg.num_feature_levels if source == "fpn" else stages
        levels = list(range(count)) if levels is None else [int(l) for l in levels]
        if not levels or any(not 0 <= l < count for l in levels):
            raise ValueError(f"SAM {source} levels must lie in 0..{count - 1}, got {levels}")
        stride = bb.patch_stride[0] if isinstance(bb.patch_stride, (list, tuple)) else bb.patch_stride
        # the input must tile the windowed position embedding (first window) at every stage's stride
        multiple = math.lcm(stride * bb.window_size_per_stage[0], stride * 2 ** bb.num_query_pool_stages)
        super().__init__(model, image_size, multiple, mean, std, distance)
        self.source, self.levels = source, levels
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * len(levels)
        if len(self.layer_weights) != len(levels):
            raise ValueError("layer_weights needs one entry per level")

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, **kwargs) -> SamFeatureLoss:
        mean, std = _image_stats(folder)
        return cls(load_sam2_vision(folder), **{"mean": mean, "std": std, **kwargs})

    def features(self, pixels: Tensor) -> list[tuple[Tensor, int]]:
        if self.source == "fpn":
            out = self.frozen(pixel_values=pixels)
            return [(out.fpn_hidden_states[i], 1) for i in self.levels]  # [N, C, h, w]
        out = self.frozen.net.backbone(pixel_values=pixels)
        return [(out.intermediate_hidden_states[i], -1) for i in self.levels]  # [N, h, w, C]


__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "load_dinov2", "load_sam2_vision", "target_size",
           "DinoFeatureLoss", "SamFeatureLoss"]
