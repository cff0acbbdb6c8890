"""2D encoders on foreground patches only.

``ImageEncoder`` (base model): a trainable MAE-style ViT on RGB patches, optionally joined per
patch by a frozen DINOv2 branch's features, fused by an MLP. ``SegEncoder`` (edit model): the
same ViT over one-hot class patches plus one global style token. Background patches are dropped
(B = 1: physically removed; batches: masked out of attention, same result).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.networks.config import NetConfig
from models.networks.layers import MLP, EncoderBlock, sincos_2d


def foreground_patches(mask: Tensor, patch: int, threshold: float) -> Tensor:
    """mask [B, H, W] in 0..1 -> keep [B, T] bool: patches with enough foreground."""
    share = F.avg_pool2d(mask[:, None].float(), patch).flatten(1)  # [B, T]
    keep = share > threshold
    # an empty input keeps every patch, so attention always has keys
    return keep | ~keep.any(1, keepdim=True)


class ViTTrunk(nn.Module):
    """Patch tokens (+ fixed 2D positions) -> ViT blocks on the kept patches."""

    def __init__(self, cfg: NetConfig, in_channels: int, extra_tokens: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = nn.Conv2d(in_channels, cfg.enc_dim, cfg.patch_size, cfg.patch_size)
        self.register_buffer("pos", sincos_2d(cfg.grid, cfg.enc_dim), persistent=False)
        self.blocks = nn.ModuleList(EncoderBlock(cfg.enc_dim, cfg.enc_heads, cfg.mlp_ratio)
                                    for _ in range(cfg.enc_depth))
        self.norm = nn.LayerNorm(cfg.enc_dim)
        self.out = nn.Linear(cfg.enc_dim, cfg.dec_dim)
        self.extra_tokens = extra_tokens
        # True: background patches are masked out of attention even for one input, so shapes never
        # depend on the map (what a CUDA graph needs); same result as dropping them, more work
        self.fixed_shape = False

    def forward(self, x: Tensor, keep: Tensor, extra: Tensor | None = None,
                patch_features: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """x [B, C, H, W], keep [B, T]; extra [B, E, enc_dim] always-kept tokens;
        patch_features [B, T, enc_dim] added per patch. Returns (tokens [B, S, dec_dim], mask [B, S] or None)."""
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos  # [B, T, enc_dim]
        if patch_features is not None:
            tokens = tokens + patch_features
        mask: Tensor | None
        if tokens.shape[0] == 1 and not self.fixed_shape:
            tokens, mask = tokens[:, keep[0]], None  # drop background patches outright
        else:
            mask = keep
        if extra is not None:
            tokens = torch.cat([extra, tokens], 1)
            if mask is not None:
                mask = torch.cat([torch.ones(mask.shape[0], extra.shape[1], dtype=torch.bool, device=mask.device),
                                  mask], 1)
        for block in self.blocks:
            tokens = block(tokens, mask)
        return self.out(self.norm(tokens)), mask


class ImageEncoder(nn.Module):
    """Base model encoder: RGB (+ optional DINOv2 patch features) on foreground patches."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ViTTrunk(cfg, in_channels=3)
        # DINOv2 features [B, T, dino_dim] are fused per patch (concatenate + MLP == project + add)
        self.dino_fuse = (nn.Sequential(nn.Linear(cfg.dino_dim, cfg.enc_dim), MLP(cfg.enc_dim, 2.0))
                          if cfg.dino_dim > 0 else None)

    def forward(self, image: Tensor, alpha: Tensor, dino: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """image [B, 3, H, W] in 0..1, alpha [B, H, W]; background already removed."""
        keep = foreground_patches(alpha, self.cfg.patch_size, self.cfg.fg_threshold)
        feats = self.dino_fuse(dino) if (self.dino_fuse is not None and dino is not None) else None
        return self.trunk(image * 2.0 - 1.0, keep, patch_features=feats)


class SegEncoder(nn.Module):
    """Edit model encoder: one-hot class patches on the head's footprint plus one style token."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ViTTrunk(cfg, in_channels=cfg.num_classes, extra_tokens=1)
        self.style_token = nn.Sequential(nn.Linear(cfg.style_dim, cfg.enc_dim), nn.GELU(),
                                         nn.Linear(cfg.enc_dim, cfg.enc_dim))

    def forward(self, labels: Tensor, style: Tensor) -> tuple[Tensor, Tensor | None]:
        """labels [B, H, W] int class ids, style [B, style_dim] -> (tokens, mask)."""
        one_hot = F.one_hot(labels.long(), self.cfg.num_classes).permute(0, 3, 1, 2).float().contiguous()
        keep = foreground_patches((labels > 0).float(), self.cfg.patch_size, self.cfg.fg_threshold)
        extra = self.style_token(style)[:, None]  # [B, 1, enc_dim]
        return self.trunk(one_hot, keep, extra=extra)
