"""Pixel losses on rendered vs target images: L1, SSIM, image gradients, and class-map cross-entropy.

Layout: images are channels-last ``[..., H, W, C]`` by default, as ``RenderOutput.rgb`` is;
pass ``layout="chw"`` for channels-first ``[..., C, H, W]``. Leading dims are any batch/view
axes. Values are linear 0..1 (SSIM's constants assume ``data_range`` = 1 unless told).
Everything is plain torch and differentiable with respect to the prediction.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Layout = Literal["hwc", "chw"]
Reduction = Literal["mean", "none"]

SSIM_WINDOW = 11    # Wang et al. 2004: 11x11 Gaussian window, sigma 1.5
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01      # C1 = (K1 * L)^2, C2 = (K2 * L)^2 with L the data range
SSIM_K2 = 0.03
CE_EPS = 1e-4       # added to every class weight before normalising: keeps log finite and gives
                    # a zero-weight target class a gradient (a clamp would give it none)


def to_chw(image: Tensor, layout: Layout) -> Tensor:
    """[..., H, W, C] (hwc) or [..., C, H, W] (chw) -> [N, C, H, W] with N the product of leading dims."""
    if layout == "hwc":
        if image.dim() < 3:
            raise ValueError(f"expected an image [..., H, W, C], got shape {tuple(image.shape)}")
        image = image.movedim(-1, -3)
    elif layout != "chw":
        raise ValueError(f"unknown layout {layout!r}; use 'hwc' or 'chw'")
    if image.dim() < 3:
        raise ValueError(f"expected an image [..., C, H, W], got shape {tuple(image.shape)}")
    return image.reshape(-1, *image.shape[-3:])


def l1_loss(pred: Tensor, target: Tensor, mask: Tensor | None = None, *, layout: Layout = "hwc") -> Tensor:
    """Mean absolute error, optionally weighted per pixel.

    pred, target: [..., H, W, C] (or [..., C, H, W] with layout="chw")
    mask:         [..., H, W] weights in 0..1 (e.g. target alpha), shared by the channels.
    A masked mean is the weighted sum over the mask's total weight; an all-zero mask gives 0.
    """
    diff = (pred - target).abs()
    if mask is None:
        return diff.mean()
    m = mask.unsqueeze(-1 if layout == "hwc" else -3).to(diff.dtype).expand_as(diff)
    # clamp: an empty mask gives 0 and a zero gradient instead of 0/0
    return (diff * m).sum() / m.sum().clamp_min(1e-8)


@lru_cache(maxsize=16)
def _gaussian_1d(size: int, sigma: float, device: torch.device, dtype: torch.dtype) -> Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return (g / g.sum()).to(device=device, dtype=dtype)


def _blur(x: Tensor, window: Tensor) -> Tensor:
    """Separable 'valid' Gaussian filter of every channel. [N, C, H, W] -> [N, C, H-k+1, W-k+1]"""
    c, k = x.shape[1], window.numel()
    x = F.conv2d(x, window.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)
    return F.conv2d(x, window.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)


def ssim(pred: Tensor, target: Tensor, *, layout: Layout = "hwc", data_range: float = 1.0,
         window_size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA, reduction: Reduction = "mean") -> Tensor:
    """Structural similarity (Wang et al. 2004), the standard Gaussian-window definition.

    Local statistics use an ``window_size`` Gaussian (sigma 1.5) over the 'valid' region (no
    padding, as skimage ``gaussian_weights=True, use_sample_covariance=False`` and
    pytorch-msssim), per channel; the SSIM map is averaged over pixels and channels.

    pred, target: [..., H, W, C] (or [..., C, H, W]); H and W at least ``window_size``.
    Returns a scalar (reduction="mean") or one value per image [...] (reduction="none").
    """
    if pred.shape != target.shape:
        raise ValueError(f"ssim needs equal shapes, got {tuple(pred.shape)} and {tuple(target.shape)}")
    lead = pred.shape[:-3]
    x, y = to_chw(pred, layout), to_chw(target, layout)
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f"ssim needs images of at least {window_size}x{window_size} pixels, got "
                         f"{x.shape[-2]}x{x.shape[-1]}")
    dtype = torch.promote_types(x.dtype, torch.float32)  # half-precision statistics lose SSIM's small terms
    x, y = x.to(dtype), y.to(dtype)
    w = _gaussian_1d(window_size, float(sigma), x.device, dtype)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2

    mu_x, mu_y = _blur(x, w), _blur(y, w)
    var_x = _blur(x * x, w) - mu_x ** 2
    var_y = _blur(y * y, w) - mu_y ** 2
    cov = _blur(x * y, w) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2)
    per_image = (num / den).flatten(1).mean(1)
    if reduction == "none":
        return per_image.reshape(lead)
    return per_image.mean()


def ssim_loss(pred: Tensor, target: Tensor, *, layout: Layout = "hwc", data_range: float = 1.0) -> Tensor:
    """1 - SSIM: 0 for identical images."""
    return 1.0 - ssim(pred, target, layout=layout, data_range=data_range)


def gradient_l1(pred: Tensor, target: Tensor, *, layout: Layout = "hwc") -> Tensor:
    """Mean absolute difference of the images' horizontal and vertical finite differences: edges and texture
    where the target has them (an L1 on pixels alone lets a blur pass where it cannot place them exactly).

    pred, target: [..., H, W, C] (or [..., C, H, W]). A scalar."""
    if pred.shape != target.shape:
        raise ValueError(f"gradient_l1 needs equal shapes, got {tuple(pred.shape)} and {tuple(target.shape)}")
    x, y = to_chw(pred, layout), to_chw(target, layout)
    dx = (x[..., :, 1:] - x[..., :, :-1]) - (y[..., :, 1:] - y[..., :, :-1])
    dy = (x[..., 1:, :] - x[..., :-1, :]) - (y[..., 1:, :] - y[..., :-1, :])
    return 0.5 * (dx.abs().mean() + dy.abs().mean())


TEXTURE_SIGMA = 2.0   # px: the window over which texture statistics are pooled (about 5 x 5 px at 256 px)
TEXTURE_LEVELS = 2    # full resolution and half: the 0.5-1 px and 1-2 px bands, where the edit model loses most
TEXTURE_EPS = 1e-6    # under the square root: a flat patch has a finite gradient


def _structure_tensor(y: Tensor, window: Tensor) -> Tensor:
    """[N, 1, H, W] luminance -> [N, 3, H', W'] local (gx^2, gy^2, gx*gy) pooled by ``window``, divided by the
    local RMS gradient: statistics in units of gradient, of degree 1 in the image's contrast."""
    gx = y[..., :-1, 1:] - y[..., :-1, :-1]
    gy = y[..., 1:, :-1] - y[..., :-1, :-1]
    j = _blur(torch.cat([gx * gx, gy * gy, gx * gy], 1), window)
    return j / (j[:, :1] + j[:, 1:2] + TEXTURE_EPS).sqrt()


def texture_statistics_l1(pred: Tensor, target: Tensor, *, layout: Layout = "hwc") -> Tensor:
    """L1 between the two images' local texture statistics: the structure tensor of their luminance (how strong
    the gradients are near each pixel and which way they run), pooled over a ``TEXTURE_SIGMA`` window, at full and
    half resolution. Unlike L1 or ``gradient_l1`` it does not ask for the texture's exact phase: strands or skin
    grain of the right strength and direction, shifted by a pixel or two, cost nothing, and a flat region where the
    target has texture costs its full strength. What the input does not determine (where each curl or strand
    lies) is asked for as texture, not as its blurred average. pred, target: [..., H, W, 3]. A scalar."""
    if pred.shape != target.shape:
        raise ValueError(f"texture_statistics_l1 needs equal shapes, got {tuple(pred.shape)} and {tuple(target.shape)}")
    x, y = to_chw(pred, layout), to_chw(target, layout)
    luma = torch.tensor((0.2126, 0.7152, 0.0722), device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    x, y = (x * luma).sum(1, keepdim=True), (y * luma).sum(1, keepdim=True)
    window = _gaussian_1d(2 * math.ceil(2 * TEXTURE_SIGMA) + 1, TEXTURE_SIGMA, x.device, x.dtype)
    total = x.new_zeros(())
    for level in range(TEXTURE_LEVELS):
        if level:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        if min(x.shape[-2:]) <= window.numel():
            break
        total = total + (_structure_tensor(x, window) - _structure_tensor(y, window)).abs().mean()
    return total


def class_probabilities(class_weights: Tensor, alpha: Tensor, eps: float = CE_EPS) -> Tensor:
    """Rendered class weights plus background -> per-pixel class probabilities.

    class_weights: [..., H, W, C] accumulated blend weight per class (C = 15, id 0 background)
    alpha:         [..., H, W] accumulated opacity; the remaining 1 - alpha counts as background
    Returns [..., H, W, C], each pixel summing to 1. Negative weights (numerical noise from a
    rasteriser) are clamped; ``eps`` keeps every class' probability above zero.
    """
    bg = (1.0 - alpha).unsqueeze(-1)
    w = torch.cat([class_weights[..., :1] + bg, class_weights[..., 1:]], dim=-1)
    # zero out negatives with where, not clamp: clamp's gradient vanishes at exactly 0, and a
    # class nobody rendered yet (weight 0) must still be pushed up when it is the target
    w = torch.where(w < 0, torch.zeros_like(w), w) + eps
    return w / w.sum(-1, keepdim=True)


def class_cross_entropy(class_weights: Tensor, alpha: Tensor, target: Tensor, *,
                        mask: Tensor | None = None, class_balance: Tensor | None = None,
                        eps: float = CE_EPS) -> Tensor:
    """Cross-entropy of the rendered class distribution against a target class map.

    class_weights: [..., H, W, C] as rendered (see ``class_probabilities``)
    alpha:         [..., H, W]
    target:        [..., H, W] long class ids 0..C-1
    mask:          [..., H, W] optional pixel weights
    class_balance: [C] optional per-class weights (e.g. to lift small regions such as eyes)
    Returns the (weighted) mean negative log-likelihood over pixels; a perfect render gives
    about C * eps, a confidently wrong one about -log(eps).
    """
    num_classes = class_weights.shape[-1]
    if target.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise TypeError("target must be an integer class map [..., H, W], not floats")
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= num_classes):
        raise ValueError(f"target class map holds ids outside 0-{num_classes - 1}")
    logp = class_probabilities(class_weights.float(), alpha.float(), eps).log()
    nll = -logp.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)  # [..., H, W]
    weight = torch.ones_like(nll)
    if class_balance is not None:
        weight = weight * class_balance.to(nll)[target.long()]
    if mask is not None:
        weight = weight * mask.to(nll)
    return (nll * weight).sum() / weight.sum().clamp_min(1e-8)


def soft_class_jaccard(class_weights: Tensor, alpha: Tensor, target: Tensor, *, eps: float = 1e-6) -> Tensor:
    """1 - soft mean IoU over the foreground classes of each image, as ``mean_iou`` scores a render.

    The benchmark's class mIoU counts every class an image shows once, however few pixels it has: an
    eye sliver at a side view weighs as much as the hair. Cross-entropy weighs pixels, so the small
    parts that set the side views' mIoU barely count; this loss weighs classes per image.
    class_weights: [..., H, W, C] as rendered; alpha: [..., H, W]; target: [..., H, W] long ids.
    A class enters an image's mean when the target shows it or it wins at least one pixel of the
    render (a stray class costs, as in the metric). ``eps`` is far below the CE's floor: that floor,
    summed over an image, would give every class a few pixels of mass. Returns a scalar; 0 for a
    perfect, confident render.
    """
    num_classes = class_weights.shape[-1]
    prob = class_probabilities(class_weights.float(), alpha.float(), eps)  # [..., H, W, C]
    prob = prob.flatten(0, -4).flatten(1, 2)                               # [N, P, C]
    labels = target.long().flatten(0, -3).flatten(1)                       # [N, P]
    # per-image class sums by scatter (one-hot tensors of N x P x C would cost gigabytes at batch 24 x 6)
    ones = torch.ones_like(labels, dtype=prob.dtype)
    area = torch.zeros(prob.shape[0], num_classes, device=prob.device).scatter_add_(1, labels, ones)   # [N, C]
    won = torch.zeros_like(area).scatter_add_(1, prob.detach().argmax(-1), ones)                       # [N, C]
    hit = prob.gather(-1, labels.unsqueeze(-1)).squeeze(-1)                                             # [N, P]
    inter = torch.zeros_like(area).scatter_add(1, labels, hit)                                         # [N, C]
    union = prob.sum(1) + area - inter
    present = ((area > 0) | (won > 0)).to(prob)[:, 1:]                     # [N, C-1] foreground classes
    inter, union = inter[:, 1:], union[:, 1:]
    iou = inter / union.clamp_min(1e-6)
    per_image = (iou * present).sum(1) / present.sum(1).clamp_min(1.0)
    has_any = (present.sum(1) > 0).to(prob)
    return ((1.0 - per_image) * has_any).sum() / has_any.sum().clamp_min(1.0)


__all__ = ["Layout", "to_chw", "l1_loss", "ssim", "ssim_loss", "class_probabilities", "class_cross_entropy",
           "soft_class_jaccard", "gradient_l1", "texture_statistics_l1"]
