"""PercHead: a 2D encoder + the 3D decoder + the Gaussian head, as one module."""
from __future__ import annotations

from torch import Tensor, nn

from models.errors import PercheadError
from models.networks.config import NetConfig
from models.networks.dino_branch import DinoPatchFeatures
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

        self.dino: DinoPatchFeatures | None = None  # attached at run time, never saved

    def attach_dino(self, branch: DinoPatchFeatures) -> None:
        """Give a base model trained with DINOv2 features its frozen branch (the user's weights)."""
        if self.cfg.kind != "base" or self.cfg.dino_dim != branch.out_dim:
            raise PercheadError(f"this model expects DINOv2 features of size {self.cfg.dino_dim}, the given "
                                f"weights make {branch.out_dim}; use the DINOv2 size it was trained with")
        self.dino = branch

    def forward(self, *inputs: Tensor) -> PredictedHeads:
        if self.cfg.kind == "base" and self.cfg.dino_dim > 0:
            if self.dino is None:
                raise PercheadError("this base model was trained with a DINOv2 branch; give its local DINOv2 "
                                    "weights folder (--dino DIR)")
            inputs = (*inputs[:2], self.dino(inputs[0]))
        context, mask = self.encoder(*inputs)  # [B, S, D]
        return self.head(self.decoder(context, mask))

    def template(self) -> Template:
        return Template(self.head.points, self.head.base_log_scale, self.cfg.points_per_token)
