"""The base model's frozen DINOv2 branch: per-patch features from four intermediate layers.

PercHead's encoder concatenates frozen DINOv2 features with its trainable ViT's, patch by patch.
The DINOv2 weights are the user's local files (no hub here), so the branch is attached at run
time and never stored in our checkpoints; a model trained with it records ``dino_dim`` and
refuses to run without it.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.losses.common import FrozenModule

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DinoPatchFeatures(nn.Module):
    """Frozen DINOv2 -> features on our grid x grid patch layout, [B, grid*grid, 4 * hidden]."""

    def __init__(self, model: nn.Module, grid: int, num_layers: int = 4) -> None:
        super().__init__()
        cfg = model.config
        self.holder = FrozenModule(model)
        self.grid = grid
        self.patch = int(cfg.patch_size)
        self.registers = int(getattr(cfg, "num_register_tokens", 0) or 0)
        depth = int(cfg.num_hidden_layers)
        # evenly spaced up to the last layer, as PercHead uses four intermediate layers
        self.layers = sorted({max(1, round(depth * (i + 1) / num_layers)) for i in range(num_layers)})
        self.out_dim = len(self.layers) * int(cfg.hidden_size)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, grid: int) -> "DinoPatchFeatures":
        from models.losses.foundation import load_dinov2

        return cls(load_dinov2(folder), grid)

    @torch.no_grad()
    def forward(self, image: Tensor) -> Tensor:
        """image [B, 3, H, W] in 0..1 -> [B, grid*grid, out_dim]."""
        side = self.grid * self.patch  # resize so DINOv2's patch grid equals ours
        x = F.interpolate(image.float(), size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        x = (x - self.mean) / self.std
        out = self.holder(pixel_values=x, output_hidden_states=True)
        skip = 1 + self.registers  # CLS (+ register) tokens come first
        return torch.cat([out.hidden_states[i][:, skip:] for i in self.layers], -1)
