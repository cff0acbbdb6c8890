"""Transformer pieces shared by the 2D encoders and the 3D decoder (pre-norm, SDPA attention)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MLP(nn.Module):
    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head attention; queries from ``x``, keys/values from ``context`` (``x`` when None)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} not divisible by heads {heads}")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, context: Tensor | None = None, key_mask: Tensor | None = None) -> Tensor:
        """x [B, N, D], context [B, M, D], key_mask [B, M] bool (True = attend)."""
        ctx = x if context is None else context
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)  # [B, h, N, d/h]
        k, v = self.kv(ctx).view(b, ctx.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)  # [B, h, M, d/h] each
        mask = None if key_mask is None else key_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class EncoderBlock(nn.Module):
    """ViT block: self-attention over 2D tokens, then MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, x: Tensor, key_mask: Tensor | None = None) -> Tensor:
        x = x + self.attn(self.norm1(x), key_mask=key_mask)
        return x + self.mlp(self.norm2(x))


class DecoderBlock(nn.Module):
    """3D block: self-attention among 3D tokens, cross-attention to 2D tokens, then MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(dim)
        self.self_attn = Attention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim)
        self.norm_ctx = nn.LayerNorm(dim)
        self.cross_attn = Attention(dim, heads)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, x: Tensor, context: Tensor, key_mask: Tensor | None = None) -> Tensor:
        x = x + self.self_attn(self.norm_self(x))
        x = x + self.cross_attn(self.norm_cross(x), self.norm_ctx(context), key_mask)
        return x + self.mlp(self.norm_mlp(x))


def sincos_2d(grid: int, dim: int) -> Tensor:
    """Fixed 2D sine-cosine position embedding (MAE), [grid*grid, dim]."""
    quarter = dim // 4
    omega = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                            indexing="ij")
    out = [f(c.reshape(-1, 1) * omega) for c in (xs, ys) for f in (torch.sin, torch.cos)]
    emb = torch.cat(out, 1)
    return torch.nn.functional.pad(emb, (0, dim - emb.shape[1]))


def fourier_3d(points: Tensor, bands: int = 8, scale: float = 4.0) -> Tensor:
    """Fourier features of 3D positions (~metres) [N, 3] -> [N, 3 + 6*bands]."""
    freqs = scale * (2.0 ** torch.arange(bands, dtype=points.dtype, device=points.device)) * torch.pi
    ang = points[..., None] * freqs  # [N, 3, bands]
    return torch.cat([points, torch.sin(ang).flatten(-2), torch.cos(ang).flatten(-2)], -1)
