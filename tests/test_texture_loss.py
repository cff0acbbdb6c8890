"""The texture-statistics term (models/losses/image.py: texture_statistics_l1): strands of the right strength and
direction cost nothing wherever they lie; a blur, or strands running the wrong way, cost their strength."""
from __future__ import annotations

import math

import pytest
import torch

from models.losses.combined import LossConfig, ReconstructionLoss
from models.losses.image import gradient_l1, l1_loss, texture_statistics_l1


def _strands(size: int = 64, angle_deg: float = 0.0, phase: float = 0.0, seed: int = 0) -> torch.Tensor:
    """[1, S, S, 3] a field of thin strands (a sine of 3 px period with jittered amplitude) running at angle."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                          indexing="ij")
    a = math.radians(angle_deg)
    across = x * math.cos(a) + y * math.sin(a)  # strands run perpendicular to this direction
    amp = 0.2 + 0.05 * torch.rand(size, size, generator=g)
    lum = 0.4 + amp * torch.sin(2 * math.pi * across / 3.0 + phase)
    return lum[None, :, :, None].expand(1, size, size, 3).contiguous()


def test_identical_images_cost_nothing() -> None:
    img = _strands()
    assert texture_statistics_l1(img, img).item() == pytest.approx(0.0, abs=1e-7)


def test_strands_out_of_phase_cost_far_less_than_their_blur() -> None:
    truth = _strands(phase=0.0)
    moved = _strands(phase=math.pi)                # the same strands, each half a period away: no pixel matches
    flat = torch.full_like(truth, float(truth.mean()))
    # per-pixel terms prefer the blur: it is what they average to
    assert l1_loss(flat, truth) < l1_loss(moved, truth)
    assert gradient_l1(flat, truth) < gradient_l1(moved, truth)
    # the texture term prefers the strands, wherever they lie
    assert texture_statistics_l1(moved, truth).item() < 0.1 * texture_statistics_l1(flat, truth).item()


def test_strands_running_the_wrong_way_cost() -> None:
    truth = _strands(angle_deg=0.0)
    across = _strands(angle_deg=90.0)
    flat = torch.full_like(truth, float(truth.mean()))
    wrong = texture_statistics_l1(across, truth).item()
    assert wrong > 0.5 * texture_statistics_l1(flat, truth).item()
    assert texture_statistics_l1(_strands(angle_deg=0.0, seed=1), truth).item() < 0.2 * wrong


def test_gradient_reaches_the_prediction_and_shapes_are_checked() -> None:
    truth = _strands()
    pred = torch.full_like(truth, 0.4).requires_grad_()
    texture_statistics_l1(pred, truth).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    with pytest.raises(ValueError, match="equal shapes"):
        texture_statistics_l1(pred, truth[:, :32])


def test_tiny_images_use_the_levels_they_can() -> None:
    small = _strands(size=12)
    assert torch.isfinite(texture_statistics_l1(small * 0.5, small))


def test_reconstruction_loss_runs_the_term_only_when_asked() -> None:
    truth = {"rgb": _strands(), "class_map": torch.zeros(1, 64, 64, dtype=torch.long)}
    pred = {"rgb": torch.full_like(truth["rgb"], 0.4)}
    off = ReconstructionLoss(LossConfig(l1=1.0, ssim=0.0, class_ce=0.0, feature=0.0))
    on = ReconstructionLoss(LossConfig(l1=1.0, ssim=0.0, class_ce=0.0, feature=0.0, texture=2.0))
    assert "texture" not in off(pred, truth)[1]
    total, values = on(pred, truth)
    assert values["texture"].item() > 0
    assert total.item() == pytest.approx(values["l1"].item() + 2.0 * values["texture"].item(), rel=1e-5)
    assert on.describe()["texture"] == {"weight": 2.0, "on": True}
