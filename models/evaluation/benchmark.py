"""The fixed held-out benchmark: engine heads whose seeds training never sees.

Base: the canonical RGB render in, novel views out (PSNR, SSIM, class mIoU per yaw; +-k
averaged). Edit: the canonical class map + the head's caption in; the same view metrics,
``edit_front_iou`` (output class map at the canonical view vs the painted input), and CIE
Delta E 2000 of the hair/skin/eyes mean colour at the canonical view vs the attribute's
*shaded* reference (models/evaluation/references.py: what engine renders of that attribute
look like), and ``*_color_match_*``, the share of heads whose region colour is nearest the asked
value's reference among all values of that part. ``*_delta_e_*_albedo`` keep the old comparison
against the albedo table for one release. Drawn: ``edit_front_iou_drawn``, the same front-view IoU on seg maps drawn like an
artist draws them (models/evaluation/drawn_maps.py), per kind as well.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import torch
from torch import Tensor

from models.cameras import canonical_view, orbit_camera
from models.evaluation.drawn_maps import DrawnMap
from models.evaluation.metrics import delta_e_srgb, detail_ratio, foreground_weighted_iou, mean_iou, psnr
from models.evaluation.references import (attribute_value, lab_delta_e, nearest_reference, region_mean_lab,
                                          shaded_reference_lab)
from models.fitting import FramingMode, MapFitter, SilhouetteMode
from models.losses.image import ssim
from models.networks.inputs import HeadBatch, model_inputs
from models.networks.perchead import PercHeadNet
from models.palette import palette
from models.render import render_views
from models.synthetic.attributes import REFERENCE_COLORS
from models.synthetic.head import EngineConfig
from models.synthetic.sampler import BENCHMARK_SEEDS, BENCHMARK_YAWS, Batch, HeadSampler, benchmark_cameras

DETAIL_SIZE = 512  # px: the detail metric's second size (the first is the benchmark's own), where targets are set
YAW_GROUPS = {"yaw0": (0.0,), "yaw45": (45.0, -45.0), "yaw90": (90.0, -90.0), "yaw180": (180.0,)}
DELTA_E_PARTS = {"hair": "hair", "skin": "skin", "eyes": "eyes"}  # part -> REFERENCE_COLORS table


def benchmark_batches(heads: int, size: int, device: torch.device, chunk: int = 8,
                      engine: EngineConfig | None = None) -> list[Batch]:
    """The first ``heads`` benchmark heads at the benchmark views, in chunks."""
    sampler = HeadSampler("bench", device=device, config=engine or EngineConfig())
    seeds = list(BENCHMARK_SEEDS[:heads])
    return [sampler.make_batch(seeds[i:i + chunk], size=size) for i in range(0, len(seeds), chunk)]


def _view_metrics(prefix: str, pred, batch: Batch, b: int, acc: dict[str, list[float]]) -> None:
    """PSNR, SSIM, class mIoU and detail per yaw group; detail at the benchmark's size (``*_detail_<group>_<S>``)
    and at ``DETAIL_SIZE`` (``*_detail_<group>``), where the truth is the engine head rendered again at that size."""
    out = render_views(pred, batch.cameras(b), background=batch.background[b, 0].to(batch.rgb.device))
    size = batch.rgb.shape[-2]
    view = canonical_view()
    for v, yaw in enumerate(BENCHMARK_YAWS):
        groups = [group for group, yaws in YAW_GROUPS.items() if yaw in yaws]
        for group in groups:
            acc[f"{prefix}_psnr_{group}"].append(psnr(out.rgb[v], batch.rgb[b, v]))
            acc[f"{prefix}_ssim_{group}"].append(ssim(out.rgb[v][None], batch.rgb[b, v][None]).item())
            acc[f"{prefix}_miou_{group}"].append(mean_iou(out.class_map[v], batch.class_map[b, v]))
            acc[f"{prefix}_detail_{group}_{size}"].append(
                detail_ratio(out.rgb[v], out.alpha[v], batch.rgb[b, v], batch.alpha[b, v]))
        if groups and batch.gaussians:
            y, p = (float(a) for a in batch.yaw_pitch[b, v])
            cam = [orbit_camera(view.orbit_at(y, p), DETAIL_SIZE)]
            bg = batch.background[b, v]
            big = render_views(pred, cam, background=bg.to(pred.device), classes=False)
            truth = render_views(batch.gaussians[b], cam, background=bg.to(batch.gaussians[b].device), classes=False)
            ratio = detail_ratio(big.rgb[0], big.alpha[0], truth.rgb[0].to(big.rgb.device),
                                 truth.alpha[0].to(big.rgb.device))
            for group in groups:
                acc[f"{prefix}_detail_{group}"].append(ratio)
    return out


def _region_delta_e(rgb: Tensor, classes: Tensor, part: str, reference: tuple[int, int, int]) -> float | None:
    cid = palette().id_of(part)
    mask = classes == cid
    if mask.sum() < 10:
        return None
    mean = rgb[mask].mean(0)
    return delta_e_srgb(mean.cpu(), torch.tensor(reference, dtype=torch.float64) / 255).item()


@torch.no_grad()
def evaluate_base(model: PercHeadNet, batches: Sequence[Batch], tick: Callable[[], None] | None = None) -> dict[str, float]:
    """``tick`` is called after each head (progress)."""
    acc: dict[str, list[float]] = defaultdict(list)
    for batch in batches:
        pred = model(*model_inputs(model.cfg, HeadBatch.from_engine(batch)))
        for b in range(len(batch.seeds)):
            _view_metrics("base", pred.head(b), batch, b, acc)
            if tick is not None:
                tick()
    return _finish(acc)


@torch.no_grad()
def settled_heads(model: PercHeadNet, labels: Tensor, style: Tensor, framing: FramingMode = "auto",
                  silhouette: SilhouetteMode = "fit", reframed: list[bool] | None = None) -> list:
    """Maps [B, S, S] (class ids) + styles [B, D] -> the B heads as the app settles on them: decoded in the framing
    it chooses and fitted to the painted map (models/fitting). ``reframed`` receives whether each map was decoded
    re-framed."""
    fitted = MapFitter(framing, silhouette).decode(model, labels.cpu().numpy(), style)
    if reframed is not None:
        reframed.extend(f.framing is not None for f in fitted)
    return [f.settled() for f in fitted]


def evaluate_edit(model: PercHeadNet, style_of: Callable[[list[str]], Tensor], batches: Sequence[Batch],
                  framing: FramingMode = "auto", silhouette: SilhouetteMode = "fit",
                  reframed: list[bool] | None = None, tick: Callable[[], None] | None = None) -> dict[str, float]:
    """style_of(captions) -> style vectors [B, D] (the style model applied to the text). ``tick``: called after
    each head (progress). ``framing``:
    the app's seg-map framing normaliser (models/fitting/framing.py), "off" to decode maps as given;
    ``silhouette``: the head fitted to the painted silhouette, as the app does (models/fitting/painted.py)."""
    acc: dict[str, list[float]] = defaultdict(list)
    for batch in batches:
        labels, style = model_inputs(model.cfg, HeadBatch.from_engine(batch, style_of(batch.captions)))
        heads = settled_heads(model, labels, style, framing, silhouette, reframed)
        for b, attrs in enumerate(batch.attributes):
            out = _view_metrics("edit", heads[b], batch, b, acc)
            front = out.class_map[0]
            acc["edit_front_iou"].append(foreground_weighted_iou(front, batch.class_map[b, 0]))
            _delta_e(acc, attrs, out.rgb[0], front, batch.rgb[b, 0], batch.class_map[b, 0])
            if tick is not None:
                tick()
    return _finish(acc)


def _delta_e(acc: dict[str, list[float]], attrs, rgb: Tensor, classes: Tensor, gt_rgb: Tensor,
             gt_classes: Tensor) -> None:
    """Delta E of hair/skin/eyes at the canonical view: output (edit_*) and the engine's own render
    (gt_*, the floor), against the shaded reference and, as before, the albedo (*_albedo)."""
    for part in DELTA_E_PARTS:
        value = attribute_value(attrs, part)
        if value is None:
            continue
        albedo = REFERENCE_COLORS[DELTA_E_PARTS[part]][value]
        shaded = shaded_reference_lab(part, value)
        for prefix, img, cls in (("edit", rgb, classes), ("gt", gt_rgb, gt_classes)):
            de = _region_delta_e(img, cls, part, albedo)
            if de is not None:
                acc[f"{prefix}_delta_e_{part}_albedo"].append(de)
            lab = region_mean_lab(img, cls, part) if shaded is not None else None
            if lab is not None:
                acc[f"{prefix}_delta_e_{part}"].append(lab_delta_e(lab, shaded))
                # neighbouring colours sit 5-8 apart (black / dark brown, auburn / red): the share whose
                # colour is nearest the asked value's reference says whether the colour reads right
                acc[f"{prefix}_color_match_{part}"].append(float(nearest_reference(part, lab) == value))


@torch.no_grad()
def evaluate_drawn(model: PercHeadNet, style_of: Callable[[list[str]], Tensor], maps: Sequence[DrawnMap],
                   chunk: int = 8, framing: FramingMode = "auto",
                   silhouette: SilhouetteMode = "fit", per_map: list[float] | None = None,
                   on_render: Callable[[DrawnMap, Tensor, Tensor], None] | None = None,
                   reframed: list[bool] | None = None, tick: Callable[[], None] | None = None) -> dict[str, float]:
    """edit_front_iou on drawn maps: decode map + prompt, render the canonical view, IoU vs the map.
    ``per_map``, when given, receives each map's IoU in order (paired comparisons); ``on_render`` gets each
    map with its front render (classes [S, S], rgb [S, S, 3] 0..1) to show what was scored; ``reframed`` receives
    whether each map was decoded re-framed (as the app chooses: models/fitting/candidates.py)."""
    acc: dict[str, list[float]] = defaultdict(list)
    device = next(model.parameters()).device
    size = model.cfg.image_size
    front = benchmark_cameras(size)[:1]  # yaw 0, pitch 0: the canonical input camera
    for i in range(0, len(maps), chunk):
        part = maps[i:i + chunk]
        labels = torch.stack([torch.from_numpy(m.labels.astype("int64")) for m in part]).to(device)  # [B, S, S]
        style = style_of([m.prompt for m in part])
        heads = settled_heads(model, labels, style, framing, silhouette, reframed)
        for b, m in enumerate(part):
            out = render_views(heads[b], front, background=torch.zeros(3, device=device))
            iou = foreground_weighted_iou(out.class_map[0], labels[b])
            if on_render is not None:
                on_render(m, out.class_map[0], out.rgb[0])
            acc["edit_front_iou_drawn"].append(iou)
            if per_map is not None:
                per_map.append(iou)
            acc[f"edit_front_iou_drawn_{m.kind}"].append(iou)
            if tick is not None:
                tick()
    return _finish(acc)


def _finish(acc: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for k, vals in sorted(acc.items()):
        vals = [v for v in vals if v == v and v != float("inf")]
        out[k] = sum(vals) / len(vals) if vals else float("nan")
    return out
