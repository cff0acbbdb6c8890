"""Vectorised pure-torch rasteriser: the reference for gsplat, and the CPU renderer of the app.

Instead of gsplat's per-tile thread loop, each Gaussian is expanded to the (Gaussian, pixel)
pairs inside its bounding box, pairs below the alpha threshold are dropped, and a stable sort
by pixel (over Gaussians already in depth order) lines every pixel's list up front to back.
Transmittance is then a segmented cumulative sum of log(1 - alpha) in float64 (float32 loses
the segment offsets over a million pairs). Every step is a tensor op, so it runs on CPU or GPU
and is differentiable. Rows are processed in bands when the pair count would exceed a budget.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from models.render.projection import ALPHA_THRESHOLD, MAX_ALPHA, TRANSMITTANCE_STOP, Projected

PAIR_BUDGET = 6_000_000
_FAR = 1e4  # pixel offset that puts a stamp cell far outside any footprint
_LOG_255 = math.log(1.0 / ALPHA_THRESHOLD)  # candidate (Gaussian, pixel) pairs per band; bounds peak memory (~0.5 GB)


def rasterize(proj: Projected, features: Tensor, labels: Tensor | None, num_classes: int,
              width: int, height: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """Composite projected Gaussians front to back.

    proj: survivors of projection; features [M, D] per-Gaussian values to blend (colour, depth);
    labels [M] class ids or None. Returns (accumulated features [H*W, D], alpha [H*W],
    class weights [H*W, C] or None); background is not added here.
    """
    order = torch.argsort(proj.depths)  # front to back
    # index_select: on the CPU it is several times faster than advanced indexing with a tensor
    means2d, conics = proj.means2d.index_select(0, order), proj.conics.index_select(0, order)
    opac, radii = proj.opacities.index_select(0, order), proj.radii.index_select(0, order)
    with torch.no_grad():
        x0 = torch.floor(means2d[:, 0] - radii[:, 0]).long().clamp(0, width)
        x1 = torch.ceil(means2d[:, 0] + radii[:, 0]).long().clamp(0, width)  # exclusive
        y0 = torch.floor(means2d[:, 1] - radii[:, 1]).long().clamp(0, height)
        y1 = torch.ceil(means2d[:, 1] + radii[:, 1]).long().clamp(0, height)
        boxes = torch.stack([x0, x1, y0, y1], -1)  # [M, 4]

    dev, dim = means2d.device, features.shape[1]
    # one table per Gaussian: blended features, a column of ones (alpha) and one-hot classes, so
    # a single weighted sum per pixel gives colour, depth, alpha and class weights
    parts = [features, torch.ones_like(features[:, :1])]
    if labels is not None:
        parts.append(torch.nn.functional.one_hot(labels, num_classes).to(features.dtype))
    table = torch.cat(parts, 1).index_select(0, order)  # [M, D + 1 (+ C)]
    acc = torch.zeros(height * width, table.shape[1], device=dev, dtype=features.dtype)

    for band in _row_bands(boxes, height):
        gid, pix, w = _band_weights(means2d, conics, opac, boxes, band, width)
        if gid.numel() == 0:
            continue
        acc = _accumulate(acc, table, gid, pix, w, band, width)
    cls = acc[:, dim + 1:] if labels is not None else None
    return acc[:, :dim], acc[:, dim], cls


def _accumulate(acc: Tensor, table: Tensor, gid: Tensor, pix: Tensor, w: Tensor, band: tuple[int, int],
                width: int) -> Tensor:
    """acc[pix] += w * table[gid] over a band's pairs (sorted by pixel). acc [H*W, K], table [M, K]

    Without gradients the pairs of a band form a sparse matrix [band pixels, M] in CSR layout
    (they are already sorted by pixel), and one sparse x dense product does the weighted sum
    about 3x faster than a gather and an index_add of [P, K] rows.
    """
    if torch.is_grad_enabled() and (w.requires_grad or table.requires_grad):
        return acc.index_add(0, pix, table.index_select(0, gid) * w[:, None])
    top, bottom = band
    lo, hi = top * width, bottom * width
    counts = torch.bincount(pix - lo, minlength=hi - lo)  # [band pixels]
    crow = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    with warnings.catch_warnings():  # CSR tensors warn that they are "beta" on first use
        warnings.simplefilter("ignore", UserWarning)
        weights = torch.sparse_csr_tensor(crow, gid, w, size=(hi - lo, table.shape[0]), check_invariants=False)
        acc[lo:hi] += weights @ table
    return acc


# Stamp sides: exact up to 8 px, then steps of about 1/4 of the size, so a box wastes at most
# ~40% of its stamp (powers of two would waste up to 75% on the common 9-16 px footprints).
_STAMP_SIDES = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
                             80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
                             1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 16384])


def _stamp_sizes(boxes: Tensor) -> Tensor:
    """Side of the square stamp that holds each box. [M] long"""
    side = torch.maximum(boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2]).clamp_min(1)
    sides = _STAMP_SIDES.to(boxes.device)
    return sides[torch.searchsorted(sides, side).clamp_max(len(sides) - 1)]


def _row_bands(boxes: Tensor, height: int) -> list[tuple[int, int]]:
    """Split the image rows so each band's candidate pair count stays under PAIR_BUDGET."""
    side = _stamp_sizes(boxes)
    rows = torch.zeros(height + 1, dtype=torch.long, device=boxes.device)
    # stamp pairs contributed to each row: a difference array over each box's row span
    rows.index_add_(0, boxes[:, 2], side)
    rows.index_add_(0, boxes[:, 3], -side)
    per_row = torch.cumsum(rows[:-1], 0).tolist()
    bands, start, total = [], 0, 0
    for r, count in enumerate(per_row):
        if total + count > PAIR_BUDGET and r > start:
            bands.append((start, r))
            start, total = r, 0
        total += count
    bands.append((start, height))
    return bands


def _band_weights(means2d: Tensor, conics: Tensor, opac: Tensor, boxes: Tensor, band: tuple[int, int],
                  width: int) -> tuple[Tensor, Tensor, Tensor]:
    """Blend weights alpha_i * T_i of every contributing (Gaussian, pixel) pair in a row band.

    Gaussians are in depth order. Each is evaluated on a dense S x S stamp (S a power of two
    >= its box), bucketed by S, so candidates come from broadcasting rather than gathers.
    The exponent is written t = sigma - log(opacity), so alpha = exp(-t) and the 1/255 test
    is t <= log(255): exp runs on live pairs only. Rows and columns outside the box or band get
    a huge offset instead of a mask (the conic is positive definite, so t stays huge there).
    Returns (gaussian index [P], pixel index [P], weight [P]).
    """
    dev, n = means2d.device, means2d.shape[0]
    top, bottom = band
    with torch.no_grad():
        in_band = (boxes[:, 3] > top) & (boxes[:, 2] < bottom) & (boxes[:, 1] > boxes[:, 0])
        band_ids = torch.nonzero(in_band).squeeze(1)
        side = _stamp_sizes(boxes[band_ids])
    # sort keys are band-local (pixel within the band, rank among the band's Gaussians), so they
    # usually fit int32, which sorts about 3x faster than int64
    n_band = max(1, band_ids.numel())
    key_dtype = torch.int32 if (bottom - top) * width * n_band < 2**31 else torch.long
    differentiable = torch.is_grad_enabled() and any(x.requires_grad for x in (means2d, conics, opac))
    keys, ts = [], []
    for s in torch.unique(side).tolist():
        rank = torch.nonzero(side == s).squeeze(1)  # positions in band_ids: depth order within the band
        ids = band_ids.index_select(0, rank)
        b = boxes.index_select(0, ids)
        ar = torch.arange(s, device=dev)
        px = b[:, 0, None] + ar  # [m, S]
        py = b[:, 2, None] + ar  # [m, S]
        col_out = px >= b[:, 1, None]
        row_out = (py >= b[:, 3, None]) | (py < top) | (py >= bottom)
        m2, con = means2d.index_select(0, ids), conics.index_select(0, ids)
        dx = torch.where(col_out, _FAR, m2[:, 0, None] - px - 0.5)  # [m, S] centre minus pixel centre
        dy = torch.where(row_out, _FAR, m2[:, 1, None] - py - 0.5)  # [m, S]
        col_term = (0.5 * con[:, 0, None] * dx * dx - torch.log(opac.index_select(0, ids))[:, None])[:, None, :]  # [m, 1, S]
        row_term = (0.5 * con[:, 2, None] * dy * dy)[:, :, None]  # [m, S, 1]
        if differentiable:
            t = (dy[:, :, None] * dx[:, None, :]) * con[:, 1, None, None] + col_term + row_term  # [m, S, S]
        else:  # inference: the same sum in place, without three temporaries of the largest size
            t = torch.mul(dy[:, :, None], dx[:, None, :]).mul_(con[:, 1, None, None]).add_(col_term).add_(row_term)
        live = t <= _LOG_255  # [m, S, S]
        # sort key = pixel * n + depth rank = (box corner pixel * n + rank) + (stamp offset * n),
        # built densely (cheap int32 adds) and compacted with the same mask as t
        corner_key = (((b[:, 2] - top) * width + b[:, 0]) * n_band + rank).to(key_dtype)  # [m]
        offsets = ((ar[:, None] * width + ar[None, :]) * n_band).to(key_dtype)  # [S, S]
        keys.append(torch.masked_select(corner_key[:, None, None] + offsets, live))
        ts.append(torch.masked_select(t, live))
    if not keys:
        e = torch.zeros(0, dtype=torch.long, device=dev)
        return e, e, torch.zeros(0, device=dev, dtype=means2d.dtype)
    key, perm = torch.sort(torch.cat(keys))
    alpha = torch.clamp(torch.exp(-torch.cat(ts).index_select(0, perm)), max=MAX_ALPHA)
    key = key.long()
    pix, gid = key // n_band + top * width, band_ids.index_select(0, key % n_band)
    return gid, pix, _front_to_back_weights(pix, alpha)


def _front_to_back_weights(pix: Tensor, alpha: Tensor) -> Tensor:
    """alpha_i * T_i per pair, pairs grouped by pixel in depth order; 0 past the stop. [P]"""
    log_t = torch.log1p(-alpha.double())
    incl = torch.cumsum(log_t, 0)
    _, seg_counts = torch.unique_consecutive(pix, return_counts=True)
    seg_first = torch.cumsum(seg_counts, 0) - seg_counts
    base = (incl - log_t)[seg_first]  # exclusive sum at each pixel's first pair
    log_t_before = incl - log_t - torch.repeat_interleave(base, seg_counts)
    t_before = torch.exp(log_t_before).to(alpha.dtype)
    t_after = t_before * (1 - alpha)
    # exclusive stop: a pair counts only while T stays above the threshold (a prefix per pixel)
    return alpha * t_before * (t_after > TRANSMITTANCE_STOP)
