"""The fixed held-out benchmark: engine heads whose seeds training never sees.

Base: the canonical RGB render in, novel views out (PSNR, SSIM, class mIoU per yaw; +-k
averaged). Edit: the canonical class map + the head's caption in; the same view metrics,
``edit_front_iou`` (output class map at the canonical view vs the painted input), and CIE
Delta E 2000 of the hair/skin/eyes mean colour vs the caption's attribute reference colour.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import torch
from torch import Tensor

from models.evaluation.metrics import delta_e_srgb, foreground_weighted_iou, mean_iou, psnr
from models.losses.image import ssim
from models.networks.perchead import PercHeadNet
from models.palette import palette
from models.render import render_views
from models.synthetic.attributes import REFERENCE_COLORS
from models.synthetic.head import EngineConfig
from models.training.reconstruction import HeadBatch, model_inputs
from models.synthetic.sampler import BENCHMARK_SEEDS, BENCHMARK_YAWS, Batch, HeadSampler

YAW_GROUPS = {"yaw0": (0.0,), "yaw45": (45.0, -45.0), "yaw90": (90.0, -90.0), "yaw180": (180.0,)}
DELTA_E_PARTS = {"hair": "hair", "skin": "skin", "eyes": "eyes"}


def benchmark_batches(heads: int, size: int, device: torch.device, chunk: int = 8,
                      engine: EngineConfig | None = None) -> list[Batch]:
    """The first ``heads`` benchmark heads at the benchmark views, in chunks."""
    sampler = HeadSampler("bench", device=device, config=engine or EngineConfig())
    seeds = list(BENCHMARK_SEEDS[:heads])
    return [sampler.make_batch(seeds[i:i + chunk], size=size) for i in range(0, len(seeds), chunk)]


def _view_metrics(prefix: str, pred, batch: Batch, b: int, acc: dict[str, list[float]]) -> None:
    out = render_views(pred, batch.cameras(b), background=batch.background[b, 0].to(batch.rgb.device))
    for v, yaw in enumerate(BENCHMARK_YAWS):
        for group, yaws in YAW_GROUPS.items():
            if yaw in yaws:
                acc[f"{prefix}_psnr_{group}"].append(psnr(out.rgb[v], batch.rgb[b, v]))
                acc[f"{prefix}_ssim_{group}"].append(ssim(out.rgb[v][None], batch.rgb[b, v][None]).item())
                acc[f"{prefix}_miou_{group}"].append(mean_iou(out.class_map[v], batch.class_map[b, v]))
    return out


def _region_delta_e(rgb: Tensor, classes: Tensor, part: str, reference: tuple[int, int, int]) -> float | None:
    cid = palette().id_of(part)
    mask = classes == cid
    if mask.sum() < 10:
        return None
    mean = rgb[mask].mean(0)
    return delta_e_srgb(mean.cpu(), torch.tensor(reference, dtype=torch.float64) / 255).item()


@torch.no_grad()
def evaluate_base(model: PercHeadNet, batches: Sequence[Batch]) -> dict[str, float]:
    acc: dict[str, list[float]] = defaultdict(list)
    for batch in batches:
        pred = model(*model_inputs(model.cfg, HeadBatch.from_engine(batch)))
        for b in range(len(batch.seeds)):
            _view_metrics("base", pred.head(b), batch, b, acc)
    return _finish(acc)


@torch.no_grad()
def evaluate_edit(model: PercHeadNet, style_of: Callable[[list[str]], Tensor], batches: Sequence[Batch]) -> dict[str, float]:
    """style_of(captions) -> style vectors [B, D] (the style model applied to the text)."""
    acc: dict[str, list[float]] = defaultdict(list)
    for batch in batches:
        pred = model(*model_inputs(model.cfg, HeadBatch.from_engine(batch, style_of(batch.captions))))
        for b, attrs in enumerate(batch.attributes):
            out = _view_metrics("edit", pred.head(b), batch, b, acc)
            front = out.class_map[0]
            acc["edit_front_iou"].append(foreground_weighted_iou(front, batch.class_map[b, 0]))
            refs = {"hair": REFERENCE_COLORS["hair"][attrs.hair_color] if attrs.hair_style != "bald" else None,
                    "skin": REFERENCE_COLORS["skin"][attrs.skin_tone],
                    "eyes": REFERENCE_COLORS["eyes"][attrs.eye_color]}
            for part, ref in refs.items():
                if ref is None:
                    continue
                de = _region_delta_e(out.rgb[0], front, part, ref)
                if de is not None:
                    acc[f"edit_delta_e_{part}"].append(de)
                gt = _region_delta_e(batch.rgb[b, 0], batch.class_map[b, 0], part, ref)
                if gt is not None:  # the engine's own render against the same reference: the floor
                    acc[f"gt_delta_e_{part}"].append(gt)
    return _finish(acc)


def _finish(acc: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for k, vals in sorted(acc.items()):
        vals = [v for v in vals if v == v and v != float("inf")]
        out[k] = sum(vals) / len(vals) if vals else float("nan")
    return out
