"""Evaluation metrics against published reference values."""
from __future__ import annotations

import math

import pytest
import torch

from models.evaluation.metrics import (class_iou, delta_e2000, delta_e_srgb, foreground_weighted_iou, mean_iou,
                                       psnr, srgb_to_lab)

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula", Table 1 (a selection)
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1,lab2,expected", SHARMA)
def test_delta_e2000_matches_sharma_reference(lab1, lab2, expected) -> None:
    got = delta_e2000(torch.tensor(lab1), torch.tensor(lab2)).item()
    assert got == pytest.approx(expected, abs=1e-4)
    assert delta_e2000(torch.tensor(lab2), torch.tensor(lab1)).item() == pytest.approx(expected, abs=1e-4)


def test_srgb_to_lab_known_colours() -> None:
    white = srgb_to_lab(torch.tensor([1.0, 1.0, 1.0]))
    torch.testing.assert_close(white, torch.tensor([100.0, 0.0, 0.0], dtype=torch.float64), atol=0.05, rtol=0)
    red = srgb_to_lab(torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(red, torch.tensor([53.24, 80.09, 67.20], dtype=torch.float64), atol=0.05, rtol=0)
    assert delta_e_srgb(torch.tensor([0.2, 0.3, 0.4]), torch.tensor([0.2, 0.3, 0.4])).item() == 0.0


def test_iou_and_psnr() -> None:
    a = torch.zeros(10, 10, dtype=torch.long)
    b = torch.zeros(10, 10, dtype=torch.long)
    a[:5] = 1
    b[:4] = 1
    b[9] = 9
    assert class_iou(a, b) == {1: 0.8, 9: 0.0}
    assert mean_iou(a, b) == pytest.approx(0.4)
    assert foreground_weighted_iou(a, b) == pytest.approx(40 / 60)
    x = torch.full((4, 4, 3), 0.5)
    assert psnr(x, x) == math.inf
    assert psnr(x, x + 0.1) == pytest.approx(20.0, abs=1e-3)
