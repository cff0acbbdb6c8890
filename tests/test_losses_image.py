"""Pixel losses: SSIM against hand-computed values and an independent reference, L1 masks,
class-map cross-entropy on perfect / wrong / empty weights, finite gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.evaluation.metrics import mean_iou
from models.losses.image import class_cross_entropy, class_probabilities, l1_loss, soft_class_jaccard, ssim, ssim_loss

pytestmark = pytest.mark.usefixtures("one_thread")


C1, C2 = 0.01 ** 2, 0.03 ** 2


def reference_ssim(x: np.ndarray, y: np.ndarray, size: int = 11, sigma: float = 1.5) -> float:
    """Wang et al. 2004 written out: a 2D Gaussian window slid over every valid position. x, y [H, W, C]."""
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g)
    w /= w.sum()
    vals = []
    for c in range(x.shape[2]):
        for i in range(x.shape[0] - size + 1):
            for j in range(x.shape[1] - size + 1):
                a, b = x[i:i + size, j:j + size, c], y[i:i + size, j:j + size, c]
                ma, mb = (w * a).sum(), (w * b).sum()
                va, vb = (w * (a - ma) ** 2).sum(), (w * (b - mb) ** 2).sum()
                cov = (w * (a - ma) * (b - mb)).sum()
                vals.append((2 * ma * mb + C1) * (2 * cov + C2) / ((ma ** 2 + mb ** 2 + C1) * (va + vb + C2)))
    return float(np.mean(vals))


def test_ssim_of_an_image_with_itself_is_one() -> None:
    x = torch.rand(2, 32, 24, 3, dtype=torch.float64)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-12)
    assert ssim_loss(x, x).item() == pytest.approx(0.0, abs=1e-12)


def test_ssim_of_two_constant_images_is_the_luminance_term() -> None:
    a, b = 0.2, 0.6  # no variance: SSIM = (2ab + C1) / (a^2 + b^2 + C1) = 0.2401 / 0.4001
    x, y = torch.full((16, 16, 3), a, dtype=torch.float64), torch.full((16, 16, 3), b, dtype=torch.float64)
    assert ssim(x, y).item() == pytest.approx((2 * a * b + C1) / (a * a + b * b + C1), abs=1e-12)
    assert ssim(x, y).item() == pytest.approx(0.600100, abs=1e-6)


def test_ssim_matches_the_written_out_definition() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.rand(17, 14, 3, generator=g, dtype=torch.float64)
    y = (0.7 * x + 0.2 * torch.rand(17, 14, 3, generator=g, dtype=torch.float64)).clamp(0, 1)
    expect = reference_ssim(x.numpy(), y.numpy())
    torch.testing.assert_close(ssim(x, y).item(), expect, rtol=0, atol=1e-10)
    # channels-first gives the same value; per-image reduction keeps the batch axes
    torch.testing.assert_close(ssim(x.permute(2, 0, 1), y.permute(2, 0, 1), layout="chw").item(), expect,
                               rtol=0, atol=1e-10)
    per = ssim(torch.stack([x, x]), torch.stack([y, x]), reduction="none")
    assert per.shape == (2,)
    torch.testing.assert_close(per, torch.tensor([expect, 1.0], dtype=torch.float64), rtol=0, atol=1e-10)


def test_ssim_orders_degradations_and_has_finite_gradients() -> None:
    x = torch.rand(1, 32, 32, 3)
    mild = (x + 0.02 * torch.randn_like(x)).clamp(0, 1)
    strong = (x + 0.3 * torch.randn_like(x)).clamp(0, 1)
    assert 1.0 > ssim(x, mild).item() > ssim(x, strong).item()
    pred = strong.clone().requires_grad_(True)
    ssim_loss(pred, x).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_ssim_refuses_images_smaller_than_the_window() -> None:
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.rand(8, 8, 3), torch.rand(8, 8, 3))


def test_l1_unmasked_and_masked() -> None:
    pred, target = torch.zeros(2, 4, 4, 3), torch.zeros(2, 4, 4, 3)
    pred[:, :2] = 1.0  # error only in the top half
    assert l1_loss(pred, target).item() == pytest.approx(0.5)
    top, bottom = torch.zeros(2, 4, 4), torch.zeros(2, 4, 4)
    top[:, :2], bottom[:, 2:] = 1.0, 1.0
    assert l1_loss(pred, target, top).item() == pytest.approx(1.0)
    assert l1_loss(pred, target, bottom).item() == pytest.approx(0.0)
    # soft weights: a weighted mean (0.25 on the error rows, 1 on the clean ones)
    soft = torch.where(top > 0, 0.25, 1.0)
    assert l1_loss(pred, target, soft).item() == pytest.approx(0.25 * 8 / (0.25 * 8 + 8))
    # a mask of one view broadcasts over the views; chw layout agrees
    assert l1_loss(pred, target, top[0]).item() == pytest.approx(1.0)
    assert l1_loss(pred.movedim(-1, -3), target.movedim(-1, -3), top, layout="chw").item() == pytest.approx(1.0)


def test_l1_with_an_empty_mask_is_zero_with_finite_gradient() -> None:
    pred = torch.rand(3, 5, 5, 3, requires_grad=True)
    loss = l1_loss(pred, torch.rand(3, 5, 5, 3), torch.zeros(3, 5, 5))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(pred.grad).all()


def one_hot_render(labels: torch.Tensor, num_classes: int = 15) -> tuple[torch.Tensor, torch.Tensor]:
    """Class weights and alpha a perfect opaque render of ``labels`` would give (background: alpha 0)."""
    fg = labels > 0
    weights = torch.nn.functional.one_hot(labels, num_classes).float() * fg[..., None]
    return weights, fg.float()


def test_class_ce_is_near_zero_for_perfect_weights_and_high_for_wrong_ones() -> None:
    labels = torch.randint(0, 15, (2, 8, 8))
    weights, alpha = one_hot_render(labels)
    assert class_cross_entropy(weights, alpha, labels).item() < 2e-3
    wrong = (labels % 14) + 1  # every pixel a different (foreground) class
    assert class_cross_entropy(weights, alpha, wrong).item() > 5.0


def test_class_probabilities_sum_to_one_and_survive_zero_weights() -> None:
    weights = torch.zeros(4, 4, 15)
    alpha = torch.ones(4, 4)  # opaque yet no class weight: numerically degenerate
    p = class_probabilities(weights, alpha)
    torch.testing.assert_close(p.sum(-1), torch.ones(4, 4))
    assert torch.isfinite(p).all() and (p > 0).all()
    # a half-transparent pixel: background gets 1 - alpha
    w = torch.zeros(1, 1, 15)
    w[..., 9] = 0.4
    p = class_probabilities(w, torch.tensor([[0.4]]), eps=0.0)
    assert p[0, 0, 0].item() == pytest.approx(0.6) and p[0, 0, 9].item() == pytest.approx(0.4)


def test_class_ce_gradients_are_finite_even_at_zero_weights() -> None:
    weights = torch.zeros(3, 6, 6, 15, requires_grad=True)
    alpha = torch.full((3, 6, 6), 0.5, requires_grad=True)
    target = torch.randint(1, 15, (3, 6, 6))
    loss = class_cross_entropy(weights, alpha, target)
    loss.backward()
    assert math.isfinite(loss.item())
    assert torch.isfinite(weights.grad).all() and torch.isfinite(alpha.grad).all()
    # the target class gets pushed up: its weight's gradient is negative
    picked = weights.grad.gather(-1, target[..., None])
    assert (picked < 0).all()


def test_class_ce_mask_balance_and_bad_targets() -> None:
    labels = torch.randint(0, 15, (6, 6))
    weights, alpha = one_hot_render(labels)
    wrong = (labels % 14) + 1
    assert class_cross_entropy(weights, alpha, wrong, mask=torch.zeros(6, 6)).item() == 0.0
    balance = torch.ones(15)
    assert class_cross_entropy(weights, alpha, labels, class_balance=balance).item() < 2e-3
    with pytest.raises(ValueError, match="outside 0-14"):
        class_cross_entropy(weights, alpha, torch.full((6, 6), 15))
    with pytest.raises(TypeError, match="integer class map"):
        class_cross_entropy(weights, alpha, labels.float())


def test_soft_class_jaccard_is_one_minus_mean_iou_for_confident_renders() -> None:
    """On a confident (one-hot) render the soft loss equals 1 - the benchmark's per-image mIoU."""
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 6, (3, 16, 16), generator=gen)
    pred = target.clone()
    pred[:, :4] = torch.randint(0, 15, (3, 4, 16), generator=gen)  # a band of wrong classes, strays included
    weights, alpha = one_hot_render(pred)
    loss = soft_class_jaccard(weights, alpha, target, eps=0.0)
    expected = 1 - sum(mean_iou(pred[i], target[i]) for i in range(3)) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    perfect, a = one_hot_render(target)
    assert soft_class_jaccard(perfect, a, target).item() < 5e-3  # eps keeps every class a little mass


def test_soft_class_jaccard_weighs_a_small_part_like_a_large_one() -> None:
    """Missing a 4-pixel part costs as much mIoU as a 1/3 of the classes, unlike the pixel-weighted CE."""
    target = torch.full((1, 20, 20), 1)
    target[0, :, 10:] = 2
    target[0, 5:7, 5:7] = 3  # a small part: 4 of 400 pixels
    pred = target.clone()
    pred[0, 5:7, 5:7] = 1    # the small part missed
    weights, alpha = one_hot_render(pred)
    jac = soft_class_jaccard(weights, alpha, target, eps=0.0).item()
    assert jac > 0.3  # class 3 scores 0 of 3 classes
    assert class_cross_entropy(weights + 1e-3, alpha, target).item() < 0.2


def test_soft_class_jaccard_gradient_pushes_the_target_class_up() -> None:
    weights = torch.full((2, 8, 8, 15), 0.05, requires_grad=True)
    alpha = torch.full((2, 8, 8), 0.75, requires_grad=True)
    target = torch.randint(1, 15, (2, 8, 8))
    loss = soft_class_jaccard(weights, alpha, target)
    loss.backward()
    assert math.isfinite(loss.item()) and torch.isfinite(weights.grad).all() and torch.isfinite(alpha.grad).all()
    picked = weights.grad.gather(-1, target[..., None])
    assert (picked < 0).all()
