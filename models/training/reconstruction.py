"""The base and edit stages: decode heads from the canonical view, render them from several
views, and compare with the engine's ground truth (RGB, alpha, class maps, features)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import Tensor, nn

from models.cameras import Camera
from models.networks.checkpoint import load_checkpoint, save_checkpoint
from models.state_dict import clean_state_dict
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import load_template
from models.render import render_views
from models.training.config import TrainConfig
from models.training.distributed import DistInfo

log = logging.getLogger(__name__)


@dataclass
class HeadBatch:
    """B engine heads seen from V views (view 0 = the canonical input view)."""

    rgb: Tensor          # [B, V, H, W, 3] in 0..1 on the background colour
    alpha: Tensor        # [B, V, H, W]
    classes: Tensor      # [B, V, H, W] long class ids
    cameras: list[list[Camera]]  # [B][V]
    style: Tensor | None  # [B, style_dim] style vectors (edit stage)
    background: Tensor   # [3] background colour the targets were rendered on

    @classmethod
    def from_engine(cls, batch, style: Tensor | None = None) -> "HeadBatch":
        """From a models.synthetic Batch (and style vectors for the edit model)."""
        cams = [batch.cameras(b) for b in range(len(batch.seeds))]
        return cls(batch.rgb, batch.alpha, batch.class_map, cams, style, batch.background[0, 0].to(batch.rgb.device))


def model_inputs(model_cfg: NetConfig, batch: HeadBatch) -> tuple[Tensor, ...]:
    """The network's inputs from the canonical view: RGB + alpha (base) or class map + style (edit)."""
    if model_cfg.kind == "base":
        image = (batch.rgb[:, 0] * batch.alpha[:, 0, ..., None]).permute(0, 3, 1, 2)  # [B, 3, H, W]
        return image.contiguous(), batch.alpha[:, 0]
    if batch.style is None:
        raise ValueError("the edit stage needs style vectors in the batch")
    return batch.classes[:, 0], batch.style


def render_prediction(pred, i: int, cameras: list[Camera], background: Tensor):
    """Render head i of a prediction from its cameras, differentiably, in float32."""
    g = pred.head(i)
    g = type(g)(g.means.float(), g.quats.float(), g.log_scales.float(), g.opacity_logits.float(), g.sh.float(),
                g.labels)
    return render_views(g, cameras, background=background, class_probs=pred.class_probs(i).float())


class ReconstructionTask:
    """Task for models.training.loop: batches from a head source, losses from models.losses."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, heads: Callable[[int], HeadBatch],
                 loss_fn: nn.Module, evaluate: Callable[[nn.Module], dict[str, float]] | None = None) -> None:
        self.cfg, self.dist = cfg, dist
        self.net_cfg = NetConfig.from_dict({**cfg.net, "kind": cfg.stage, "image_size": cfg.image_size})
        self.heads = heads
        self.loss_fn = loss_fn.to(dist.device)
        self._evaluate = evaluate

    def build_model(self) -> PercHeadNet:
        branch = None
        if self.net_cfg.kind == "base" and self.cfg.data.get("dino_dir"):
            from models.networks.dino_branch import DinoPatchFeatures

            branch = DinoPatchFeatures.from_folder(self.cfg.data["dino_dir"], self.net_cfg.grid)
            self.net_cfg.dino_dim = branch.out_dim
        model = PercHeadNet(self.net_cfg, load_template(self.cfg.template))
        if branch is not None:
            model.attach_dino(branch)
        if self.cfg.init_from:
            source, _ = load_checkpoint(self.cfg.init_from)
            src = clean_state_dict(source.state_dict())
            own = model.state_dict()
            taken = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
            model.load_state_dict(taken, strict=False)
            log.warning("initialised %d of %d tensors from %s", len(taken), len(own), self.cfg.init_from)
        return model

    def batches(self) -> Iterator[HeadBatch]:
        while True:
            yield self.heads(self.cfg.batch_size)

    def loss(self, model: nn.Module, batch: HeadBatch) -> tuple[Tensor, dict[str, float]]:
        pred = model(*model_inputs(self.net_cfg, batch))  # under the loop's autocast (bf16 on GPU)
        # rendering and losses in float32: SSIM's E[x^2] - E[x]^2 cancels catastrophically in bf16
        with torch.autocast(device_type=batch.rgb.device.type, enabled=False):
            return self._render_losses(pred, batch)

    def _render_losses(self, pred, batch: HeadBatch) -> tuple[Tensor, dict[str, float]]:
        total: Tensor | None = None
        terms: dict[str, float] = {}
        for i in range(len(pred)):
            out = render_prediction(pred, i, batch.cameras[i], batch.background)
            target = {"rgb": batch.rgb[i], "alpha": batch.alpha[i], "class_map": batch.classes[i]}
            loss_i, named = self.loss_fn(out, target)
            total = loss_i if total is None else total + loss_i
            for k, v in named.items():
                terms[k] = terms.get(k, 0.0) + float(v.detach()) / len(pred)
        assert total is not None
        return total / len(pred), terms

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return self._evaluate(model) if self._evaluate else {}

    def export(self, model: nn.Module, path: Path, metrics: dict[str, Any]) -> None:
        save_checkpoint(path, model, extra={"metrics": metrics, "train": self.cfg.to_dict()})
