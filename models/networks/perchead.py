"""PercHead: a 2D encoder + the 3D decoder + the Gaussian head, as one module."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.cameras import canonical_view
from models.errors import PercheadError
from models.networks.config import NetConfig
from models.networks.dino_branch import DinoPatchFeatures
from models.networks.decoder import Decoder3D, GaussianHead, PredictedHeads
from models.networks.encoders import ImageEncoder, SegEncoder
from models.networks.pixel_aligned import PixelAligned
from models.networks.template import Template


# buffers that are the template itself (points, their scales, patch centres), not learned
TEMPLATE_BUFFERS = ("decoder.centres", "head.points", "head.base_log_scale", "head.base_quats", "head.shape_log_scales")


class PercHeadNet(nn.Module):
    """``kind='base'``: forward(image, alpha) ; ``kind='edit'``: forward(labels, style)."""

    def __init__(self, cfg: NetConfig, template: Template) -> None:
        super().__init__()
        cfg.num_tokens, cfg.points_per_token = template.num_tokens, template.points_per_token
        cfg.shaped_template = template.shaped
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg) if cfg.kind == "base" else SegEncoder(cfg)
        self.decoder = Decoder3D(cfg, template.centres())
        self.head = GaussianHead(cfg, template.points, template.base_log_scale, template.base_quats,
                                 template.shape_log_scales)

        self.style_colour = (nn.Linear(cfg.style_dim, cfg.num_classes * 3)
                             if cfg.kind == "edit" and cfg.style_colour else None)
        if self.style_colour is not None:  # starts as the network without it
            nn.init.zeros_(self.style_colour.weight)
            nn.init.zeros_(self.style_colour.bias)
        self.dino: DinoPatchFeatures | None = None  # attached at run time, never saved
        self.pixel = (PixelAligned(cfg, canonical_view().camera(cfg.image_size))
                      if cfg.kind == "base" and cfg.pixel_aligned else None)

    def attach_dino(self, branch: DinoPatchFeatures) -> None:
        """Give a base model trained with DINOv2 features its frozen branch (the user's weights)."""
        if self.cfg.kind != "base" or self.cfg.dino_dim != branch.out_dim:
            raise PercheadError(f"this model expects DINOv2 features of size {self.cfg.dino_dim}, the given "
                                f"weights make {branch.out_dim}; use the DINOv2 size it was trained with")
        self.dino = branch

    def forward(self, *inputs: Tensor) -> PredictedHeads:
        """base: (image [B, 3, H, W], alpha [B, H, W][, world_to_cam [B, 4, 4], K [B, 3, 3]: the input view, for
        the pixel-aligned part; default the canonical one]); edit: (labels [B, H, W], style [B, style_dim])."""
        view: tuple[Tensor, ...] = ()
        if self.cfg.kind == "base":
            inputs, view = inputs[:2], inputs[2:]
            if self.cfg.dino_dim > 0:
                if self.dino is None:
                    raise PercheadError("this base model was trained with a DINOv2 branch; give its local DINOv2 "
                                        "weights folder (--dino DIR)")
                inputs = (*inputs, self.dino(inputs[0]))
        context, mask = self.encoder(*inputs)  # [B, S, D]
        heads = self.head(self.decoder(context, mask))
        if self.style_colour is not None:
            heads = self._style_colour(heads, inputs[1])
        if self.pixel is not None:
            heads = self.pixel(inputs[0], inputs[1], heads, *view)
        return heads

    def _style_colour(self, heads: PredictedHeads, style: Tensor) -> PredictedHeads:
        """Each Gaussian's colour + the style's colour offset of each class, weighted by its class probabilities."""
        with torch.autocast(device_type=style.device.type, enabled=False):
            offsets = self.style_colour(style.float()).view(style.shape[0], self.cfg.num_classes, 3)  # [B, C, 3]
            probs = heads.class_logits.detach().float().softmax(-1)                                  # [B, N, C]
            return replace(heads, sh_dc=heads.sh_dc + probs @ offsets)

    def template(self) -> Template:
        return Template(self.head.points, self.head.base_log_scale, self.cfg.points_per_token,
                        getattr(self.head, "base_quats", None), getattr(self.head, "shape_log_scales", None))

    def transfer_state(self, old: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """A trained network's weights (a state dict of the same architecture) moved onto THIS network's template,
        which may have other points and another number of points per patch: the template's buffers stay this
        network's; each token's learned embedding comes from the old token whose patch centre lies nearest its
        own; each point slot's output rows (the Gaussian head is shared by all patches, one block of rows per
        slot) come from the old slot at the same place in its patch's order. On its own template the result is
        the old network unchanged. A starting point for training, not a trained network."""
        own = self.state_dict()
        out = {k: v for k, v in old.items() if k not in TEMPLATE_BUFFERS}
        out.update({k: own[k] for k in TEMPLATE_BUFFERS if k in own})
        old_centres, new_centres = old["decoder.centres"].float(), own["decoder.centres"].float()
        nearest = torch.cdist(new_centres, old_centres).argmin(1)  # [T_new]
        out["decoder.token"] = old["decoder.token"][nearest]
        k_old = old["head.points"].shape[0] // old_centres.shape[0]
        k_new = self.cfg.points_per_token
        slot = torch.arange(k_new) * k_old // k_new  # [K_new] old slot of each new slot
        for name in ("head.proj.weight", "head.proj.bias"):
            w = old[name]
            out[name] = w.view(k_old, -1, *w.shape[1:])[slot].reshape(-1, *w.shape[1:])
        if "head.point_bias" in old and "head.point_bias" in own:  # each new point: the nearest old point's own part
            near = _nearest(own["head.points"].float(), old["head.points"].float())
            out["head.point_bias"] = point_bias_width(old["head.point_bias"][near], own["head.point_bias"].shape[1])
        elif "head.point_bias" in old:  # this network has no per-point part: the old one's is dropped
            out.pop("head.point_bias")
        return out


def point_bias_width(bias: Tensor, width: int) -> Tensor:
    """A per-point part [N, W] as one of ``width`` columns: a class part the new network lacks is dropped, one it
    adds starts at zero (geometry and colour come first in both)."""
    return F.pad(bias[:, :width], (0, max(0, width - bias.shape[1])))


def _nearest(query: Tensor, points: Tensor, chunk: int = 4096) -> Tensor:
    """Index of the nearest of points [M, 3] to each query point [N, 3]. [N]"""
    return torch.cat([torch.cdist(query[i:i + chunk], points).argmin(1) for i in range(0, query.shape[0], chunk)])
