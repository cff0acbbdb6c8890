"""PercHead: a 2D encoder + the 3D decoder + the Gaussian head, as one module."""
from __future__ import annotations

from torch import Tensor, nn

from models.networks.config import NetConfig
from models.networks.decoder import Decoder3D, GaussianHead, PredictedHeads
from models.networks.encoders import ImageEncoder, SegEncoder
from models.networks.template import Template


class PercHeadNet(nn.Module):
    """``kind='base'``: forward(image, alpha) ; ``kind='edit'``: forward(labels, style)."""

    def __init__(self, cfg: NetConfig, template: Template) -> None:
        super().__init__()
        cfg.num_tokens, cfg.points_per_token = template.num_tokens, template.points_per_token
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg) if cfg.kind == "base" else SegEncoder(cfg)
        self.decoder = Decoder3D(cfg, template.centres())
        self.head = GaussianHead(cfg, template.points, template.base_log_scale)

    def forward(self, *inputs: Tensor) -> PredictedHeads:
        context, mask = self.encoder(*inputs)  # [B, S, D]
        return self.head(self.decoder(context, mask))

    def template(self) -> Template:
        return Template(self.head.points, self.head.base_log_scale, self.cfg.points_per_token)
