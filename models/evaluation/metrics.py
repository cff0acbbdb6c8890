"""Image and colour metrics: PSNR, class-map IoU, detail (Laplacian energy against the truth), and CIE Delta E
2000 of sRGB colours."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from models.fitting.candidates import foreground_weighted_iou  # noqa: F401 (edit_front_iou: what the framing choice maximises)


def psnr(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> float:
    """PSNR in dB of images in 0..1 (optionally over mask pixels only)."""
    err = (pred.clamp(0, 1) - target.clamp(0, 1)).double() ** 2
    if mask is not None:
        err = err[mask.bool()]
    mse = err.mean().item() if err.numel() else 0.0
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709 weights of R, G, B in luminance
DETAIL_ALPHA = 0.04              # a pixel is inside the head where the output's or the truth's alpha exceeds this


def laplacian_energy(rgb: Tensor, mask: Tensor) -> float:
    """Mean absolute Laplacian (4-neighbour) of an image's luminance over mask pixels: rgb [H, W, 3], mask [H, W]
    bool. The one-pixel frame, where the Laplacian has no neighbours, is left out."""
    y = (rgb.clamp(0, 1).double() * torch.tensor(LUMA, dtype=torch.float64, device=rgb.device)).sum(-1)
    lap = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1]
    inner = mask[1:-1, 1:-1]
    return lap.abs()[inner].mean().item() if inner.any() else float("nan")


def detail_ratio(rgb: Tensor, alpha: Tensor, gt_rgb: Tensor, gt_alpha: Tensor) -> float:
    """How much high-frequency detail an output carries against the truth: the mean absolute Laplacian of its
    luminance inside the head (output or truth alpha > ``DETAIL_ALPHA``) over the truth's, same pixels. 1: as
    detailed as the truth; below: blurred; above: noisier. rgb [H, W, 3] 0..1, alpha [H, W]."""
    mask = (alpha > DETAIL_ALPHA) | (gt_alpha > DETAIL_ALPHA)
    truth = laplacian_energy(gt_rgb, mask)
    return laplacian_energy(rgb, mask) / truth if truth > 0 else float("nan")


def class_iou(pred: Tensor, target: Tensor, num_classes: int = 15, ignore_background: bool = True) -> dict[int, float]:
    """Per-class IoU of two label maps [H, W]; classes absent from both are left out."""
    out = {}
    for c in range(1 if ignore_background else 0, num_classes):
        p, t = pred == c, target == c
        union = (p | t).sum().item()
        if union:
            out[c] = (p & t).sum().item() / union
    return out


def mean_iou(pred: Tensor, target: Tensor, num_classes: int = 15) -> float:
    """Mean IoU over the foreground classes present in either map (nan when there are none)."""
    ious = class_iou(pred, target, num_classes)
    return sum(ious.values()) / len(ious) if ious else float("nan")


def srgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB in 0..1 [..., 3] -> CIELAB (D65) [..., 3]."""
    c = rgb.double().clamp(0, 1)
    lin = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                      [0.2126729, 0.7151522, 0.0721750],
                      [0.0193339, 0.1191920, 0.9503041]], dtype=torch.float64)
    xyz = lin @ m.T / torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)
    eps, kappa = 216 / 24389, 24389 / 27
    f = torch.where(xyz > eps, xyz ** (1 / 3), (kappa * xyz + 16) / 116)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e2000(lab1: Tensor, lab2: Tensor) -> Tensor:
    """CIEDE2000 colour difference of CIELAB colours [..., 3] (Sharma, Wu, Dalal 2005)."""
    l1, a1, b1 = lab1.double().unbind(-1)
    l2, a2, b2 = lab2.double().unbind(-1)
    c1, c2 = torch.hypot(a1, b1), torch.hypot(a2, b2)
    c_bar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - torch.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = torch.hypot(a1p, b1), torch.hypot(a2p, b2)
    h1p = torch.rad2deg(torch.atan2(b1, a1p)) % 360
    h2p = torch.rad2deg(torch.atan2(b2, a2p)) % 360
    d_l = l2 - l1
    d_c = c2p - c1p
    zero = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = torch.where(dh > 180, dh - 360, torch.where(dh < -180, dh + 360, dh))
    dh = torch.where(zero, torch.zeros_like(dh), dh)
    d_h = 2 * torch.sqrt(c1p * c2p) * torch.sin(torch.deg2rad(dh / 2))
    l_bar = (l1 + l2) / 2
    c_bar_p = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = torch.where(torch.abs(h1p - h2p) > 180,
                        torch.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2), h_sum / 2)
    h_bar = torch.where(zero, h_sum, h_bar)
    t = (1 - 0.17 * torch.cos(torch.deg2rad(h_bar - 30)) + 0.24 * torch.cos(torch.deg2rad(2 * h_bar))
         + 0.32 * torch.cos(torch.deg2rad(3 * h_bar + 6)) - 0.20 * torch.cos(torch.deg2rad(4 * h_bar - 63)))
    d_theta = 30 * torch.exp(-(((h_bar - 275) / 25) ** 2))
    c_bar_p7 = c_bar_p**7
    r_c = 2 * torch.sqrt(c_bar_p7 / (c_bar_p7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / torch.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = -torch.sin(torch.deg2rad(2 * d_theta)) * r_c
    return torch.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def delta_e_srgb(rgb1: Tensor, rgb2: Tensor) -> Tensor:
    """Delta E 2000 between sRGB colours in 0..1."""
    return delta_e2000(srgb_to_lab(rgb1), srgb_to_lab(rgb2))
