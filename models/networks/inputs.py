"""Engine heads as network inputs: a batch of heads seen from several views, and what each network reads of it.

Training (models/training/) and ``perchead eval`` (models/evaluation/) both feed networks from engine batches.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from models.cameras import Camera
from models.networks.config import NetConfig


@dataclass
class HeadBatch:
    """B engine heads seen from V views (view 0 = the canonical input view)."""

    rgb: Tensor          # [B, V, H, W, 3] in 0..1 on the background colour
    alpha: Tensor        # [B, V, H, W]
    classes: Tensor      # [B, V, H, W] long class ids
    world_to_cam: Tensor  # [B, V, 4, 4]
    K: Tensor            # [B, V, 3, 3]
    style: Tensor | None  # [B, style_dim] style vectors (edit stage)
    background: Tensor   # [3] background colour the targets were rendered on
    input_map: Tensor | None = None  # [B, H, W] the edit model's input when augmented (else classes[:, 0])
    input_image: Tensor | None = None  # [B, 3, H, W] the base model's input when made photo-like (premultiplied)
    input_alpha: Tensor | None = None  # [B, H, W] ... and its cut-out (else view 0's image and alpha)

    @classmethod
    def from_engine(cls, batch, style: Tensor | None = None, input_map: Tensor | None = None,
                    input_image: Tensor | None = None, input_alpha: Tensor | None = None) -> "HeadBatch":
        """From a models.synthetic Batch (and style vectors for the edit model, augmented inputs)."""
        return cls(batch.rgb, batch.alpha, batch.class_map, batch.world_to_cam, batch.K, style,
                   batch.background[0, 0].to(batch.rgb.device), input_map, input_image, input_alpha)

    def cameras(self, b: int) -> list[Camera]:
        """The V cameras of head b."""
        size = self.rgb.shape[-2]
        return [Camera(self.world_to_cam[b, v], self.K[b, v], size, size) for v in range(self.rgb.shape[1])]


def premultiplied(rgb: Tensor, alpha: Tensor, background: Tensor) -> Tensor:
    """The head alone, its colour times alpha once, from an image on a background: rgb [..., H, W, 3] composited
    over background [..., 3] (broadcast over H, W), alpha [..., H, W]. What an RGBA image's colour times its alpha
    gives the networks at inference (models/pipeline.py)."""
    return (rgb - (1 - alpha[..., None]) * background[..., None, None, :]).clamp(0, 1)


def model_inputs(model_cfg: NetConfig, batch: HeadBatch) -> tuple[Tensor, ...]:
    """The network's inputs from the canonical view: RGB + alpha (base; a pixel-aligned base model also gets view
    0's camera, so a batch seen through another input view projects through it) or class map + style (edit)."""
    if model_cfg.kind == "base":
        if batch.input_image is not None:
            image, alpha = batch.input_image, batch.input_alpha
        else:
            image = premultiplied(batch.rgb[:, 0], batch.alpha[:, 0], batch.background).permute(0, 3, 1, 2).contiguous()
            alpha = batch.alpha[:, 0]
        if model_cfg.pixel_aligned:
            return image, alpha, batch.world_to_cam[:, 0], batch.K[:, 0]
        return image, alpha
    if batch.style is None:
        raise ValueError("the edit stage needs style vectors in the batch")
    return (batch.classes[:, 0] if batch.input_map is None else batch.input_map), batch.style
