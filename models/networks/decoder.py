"""3D ViT decoder: template patch tokens attend to each other and to the 2D tokens; the
Gaussian head turns each token into its patch's Gaussians."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.gaussians import Gaussians, quat_multiply, rgb_to_sh_dc
from models.networks.config import NetConfig
from models.networks.layers import DecoderBlock, fourier_3d

# raw channels per Gaussian: offset 3, log-scale delta 3, quaternion 4, opacity 1, colour 3, classes C
_GEOMETRY = 3 + 3 + 4 + 1 + 3


class Decoder3D(nn.Module):
    def __init__(self, cfg: NetConfig, centres: Tensor) -> None:
        super().__init__()
        self.register_buffer("centres", centres.clone(), persistent=True)  # [T, 3]
        pos_in = fourier_3d(centres[:1]).shape[1]
        self.pos_mlp = nn.Sequential(nn.Linear(pos_in, cfg.dec_dim), nn.GELU(), nn.Linear(cfg.dec_dim, cfg.dec_dim))
        self.token = nn.Parameter(torch.zeros(cfg.num_tokens, cfg.dec_dim))
        nn.init.normal_(self.token, std=0.02)
        self.blocks = nn.ModuleList(DecoderBlock(cfg.dec_dim, cfg.dec_heads, cfg.mlp_ratio)
                                    for _ in range(cfg.dec_depth))
        self.norm = nn.LayerNorm(cfg.dec_dim)

    def forward(self, context: Tensor, key_mask: Tensor | None) -> Tensor:
        """context [B, S, D] 2D tokens -> 3D tokens [B, T, D]."""
        x = (self.token + self.pos_mlp(fourier_3d(self.centres)))[None].expand(context.shape[0], -1, -1)
        for block in self.blocks:
            x = block(x, context, key_mask)
        return self.norm(x)


@dataclass
class PredictedHeads:
    """B decoded heads of N Gaussians each (raw parameters, as Gaussians stores them)."""

    means: Tensor           # [B, N, 3]
    quats: Tensor           # [B, N, 4]
    log_scales: Tensor      # [B, N, 3]
    opacity_logits: Tensor  # [B, N]
    sh_dc: Tensor           # [B, N, 3]
    class_logits: Tensor    # [B, N, C]

    def __len__(self) -> int:
        return self.means.shape[0]

    def head(self, i: int) -> Gaussians:
        """One head as Gaussians; labels are each Gaussian's most likely class."""
        return Gaussians(self.means[i], self.quats[i], self.log_scales[i], self.opacity_logits[i],
                         self.sh_dc[i][:, None, :], self.class_logits[i].argmax(-1))

    def class_probs(self, i: int) -> Tensor:
        return self.class_logits[i].softmax(-1)  # [N, C]


class GaussianHead(nn.Module):
    """Token [D] -> its patch's K Gaussians, as offsets from the template points."""

    def __init__(self, cfg: NetConfig, points: Tensor, base_log_scale: Tensor, base_quats: Tensor | None = None,
                 shape_log_scales: Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("points", points.clone(), persistent=True)  # [T*K, 3]
        self.register_buffer("base_log_scale", base_log_scale.clone(), persistent=True)  # [T*K]
        if cfg.shaped_template:  # a shaped template: each point starts turned and stretched as its engine Gaussian
            if base_quats is None or shape_log_scales is None:
                raise ValueError("a shaped template needs base_quats and shape_log_scales")
            self.register_buffer("base_quats", base_quats.clone(), persistent=True)              # [T*K, 4]
            self.register_buffer("shape_log_scales", shape_log_scales.clone(), persistent=True)  # [T*K, 3]
        k = cfg.points_per_token
        self.proj = nn.Linear(cfg.dec_dim, k * (_GEOMETRY + cfg.num_classes))
        # start as the template: zero output except a little noise so symmetry breaks
        nn.init.normal_(self.proj.weight, std=1e-3)
        nn.init.zeros_(self.proj.bias)
        if cfg.point_bias:
            width = _GEOMETRY + (cfg.num_classes if cfg.point_bias_classes else 0)
            self.point_bias = nn.Parameter(torch.zeros(points.shape[0], width))
        # a buffer, not a tensor made per call: a host-to-device copy cannot be captured in a CUDA graph
        self.register_buffer("identity_quat", torch.tensor([1.0, 0.0, 0.0, 0.0]), persistent=False)

    def forward(self, tokens: Tensor) -> PredictedHeads:
        """tokens [B, T, D] -> PredictedHeads with N = T*K Gaussians."""
        b = tokens.shape[0]
        cfg = self.cfg
        # float32 even under bf16 autocast: positions need sub-pixel precision (one cheap layer)
        with torch.autocast(device_type=tokens.device.type, enabled=False):
            raw = self.proj(tokens.float()).view(b, -1, _GEOMETRY + cfg.num_classes)  # [B, N, 14 + C]
            if cfg.point_bias:  # its columns are raw's first ones (without a class part: geometry and colour)
                raw = raw + F.pad(self.point_bias.float(), (0, raw.shape[-1] - self.point_bias.shape[-1]))
        offset, dscale, rot, opac, col, cls = torch.split(raw, [3, 3, 4, 1, 3, cfg.num_classes], -1)
        identity = self.identity_quat.to(raw.dtype)
        init_logit = math.log(cfg.init_opacity / (1 - cfg.init_opacity))
        lim = cfg.max_log_scale_delta
        delta = lim * torch.tanh(dscale / lim)
        if cfg.max_log_size_delta > 0:  # hold the size, free the shape
            size, held = delta.mean(-1, keepdim=True), cfg.max_log_size_delta
            delta = delta - size + held * torch.tanh(size / held)
        quats, log_scales = identity + rot, self.base_log_scale[:, None] + delta
        if cfg.shaped_template:  # the network turns and stretches each point's own Gaussian
            quats = quat_multiply(self.base_quats.to(raw.dtype), quats)
            log_scales = log_scales + self.shape_log_scales.to(raw.dtype)
        return PredictedHeads(
            means=self.points + cfg.offset_scale * offset,
            quats=quats,
            log_scales=log_scales,
            opacity_logits=init_logit + opac[..., 0],
            sh_dc=rgb_to_sh_dc(torch.full_like(col, 0.5)) + col,
            class_logits=cls,
        )
