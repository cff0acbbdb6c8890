"""Options of one PercHead network, kept as YAML presets in configs/ (tiny for tests, default to ship)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from models.errors import PercheadError


@dataclass
class NetConfig:
    kind: Literal["base", "edit"] = "edit"  # base: image -> head; edit: seg map + style -> head
    image_size: int = 256       # input resolution (the canonical view)
    patch_size: int = 16        # 2D patch side; 256 / 16 = a 16 x 16 token grid
    enc_dim: int = 192
    enc_depth: int = 4
    enc_heads: int = 3
    dec_dim: int = 256
    dec_depth: int = 4          # blocks of self-attention (3D) + cross-attention (2D) + MLP
    dec_heads: int = 4
    mlp_ratio: float = 4.0
    num_classes: int = 15       # assets/classes.yaml
    style_dim: int = 256        # size of the style space (models/style)
    dino_dim: int = 0           # > 0: a frozen DINOv2 branch's per-patch features join the encoder
    num_tokens: int = 512       # 3D patches of the template (set from the template when built)
    points_per_token: int = 48  # template points, so Gaussians, per 3D patch
    shaped_template: bool = False  # template points carry the engine's turn and stretch (set from the template)
    offset_scale: float = 0.03  # metres per unit of raw offset output; hair shells sit near template
    max_log_scale_delta: float = 3.0  # each predicted log-scale change stays within +-this (before the size hold below)
    # > 0: the mean of the three log-scale changes (the Gaussian's size) stays within +-this, while their differences
    # (its shape: a strand may turn into a disc of about the same size) keep max_log_scale_delta's range
    max_log_size_delta: float = 0.0
    init_opacity: float = 0.6   # opacity of every Gaussian before training
    # each template point also has its own learned outputs (place, shape, opacity, colour, class), added to what its
    # token says: the Gaussian head is shared by all patches (slot k of every patch reads its token through the
    # same rows), so a point's own part (an eye point's eye class, a lip point's colour) need not be carried by
    # its token; starts at zero (the network without it)
    point_bias: bool = False
    # ... with a class part too (True: every file before the nineteenth session); edit run 17h scored better without
    # it (mIoU yaw 45 0.775 -> 0.796 with its class part zeroed, nothing else moved; docs/quality.md), and it was
    # 15 of the part's 29 numbers a point (1.5 MB of a 51,200-point checkpoint)
    point_bias_classes: bool = True
    # edit: a colour offset per class read from the style vector alone (one linear layer, zero at the start), added
    # to each Gaussian's colour by its class probabilities (detached): the prompt's eye, beard or brow colour
    # reaches every Gaussian of that part directly, not through 512 patch tokens and a per-point part that learns
    # the average eye (issue 24 item 3; docs/quality.md, eighteenth session)
    style_colour: bool = False
    fg_threshold: float = 0.02  # share of foreground pixels a 2D patch needs to be kept
    pixel_aligned: bool = False  # base: each Gaussian also reads the input image where it projects (pixel_aligned.py)
    pixel_dim: int = 16         # ... channels of its image features
    pixel_hidden: int = 64      # ... width of its per-Gaussian MLP

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_gaussians(self) -> int:
        return self.num_tokens * self.points_per_token

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PercheadError(f"unknown network options {sorted(unknown)}; known: {sorted(known)}")
        cfg = cls(**data)
        if cfg.image_size % cfg.patch_size:
            raise PercheadError(f"image_size {cfg.image_size} is not a multiple of patch_size {cfg.patch_size}")
        return cfg


def load_net_config(path: str | Path) -> NetConfig:
    data = yaml.safe_load(Path(path).read_text()) or {}
    return NetConfig.from_dict(data.get("net", data))
