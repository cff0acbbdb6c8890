"""A conditional patch discriminator for rendered views: does this image look like an engine render of a head
laid out as this class map? Used only in training, by the adversarial loss (models/losses/adversarial.py), as the
feature net serves the feature loss; never shipped.

Input: the RGB view and the view's class map as one-hot channels. Each scale (the image, then the image
halved) runs a PatchGAN of strided convolutions with spectral normalisation and answers one logit per patch
(about 70 px of the input at the first scale); the intermediate activations feed the feature-matching term.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass
class DiscriminatorConfig:
    num_classes: int = 15
    width: int = 64        # channels of the first layer, doubled at each stride (at most 8x)
    layers: int = 3        # strided layers per scale (3: 70 px patches at the first scale)
    scales: int = 2        # the image, then halved again per scale


class _PatchNet(nn.Module):
    def __init__(self, in_ch: int, width: int, layers: int) -> None:
        super().__init__()
        blocks, ch = [], in_ch
        for i in range(layers):
            out = width * min(2 ** i, 8)
            blocks.append(nn.Sequential(spectral_norm(nn.Conv2d(ch, out, 4, 2, 1)), nn.LeakyReLU(0.2)))
            ch = out
        out = width * min(2 ** layers, 8)
        blocks.append(nn.Sequential(spectral_norm(nn.Conv2d(ch, out, 4, 1, 1)), nn.LeakyReLU(0.2)))
        self.blocks = nn.ModuleList(blocks)
        self.head = spectral_norm(nn.Conv2d(out, 1, 4, 1, 1))

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return self.head(x), feats


class PatchDiscriminator(nn.Module):
    """Multi-scale conditional PatchGAN. forward(rgb [N, 3, H, W] in 0..1, classes [N, H, W] long) ->
    per scale (logits [N, 1, h, w], features [list of [N, c, h', w']])."""

    def __init__(self, cfg: DiscriminatorConfig = DiscriminatorConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.nets = nn.ModuleList(_PatchNet(3 + cfg.num_classes, cfg.width, cfg.layers) for _ in range(cfg.scales))

    def forward(self, rgb: Tensor, classes: Tensor) -> list[tuple[Tensor, list[Tensor]]]:
        cond = F.one_hot(classes.clamp(0, self.cfg.num_classes - 1), self.cfg.num_classes).permute(0, 3, 1, 2)
        x = torch.cat([rgb * 2 - 1, cond.to(rgb.dtype)], 1)
        out = []
        for i, net in enumerate(self.nets):
            if i:
                x = F.avg_pool2d(x, 2)
            out.append(net(x))
        return out


__all__ = ["DiscriminatorConfig", "PatchDiscriminator"]
