"""Evaluation metrics against published reference values."""
from __future__ import annotations

import math

import pytest
import torch

from models.evaluation.metrics import (DETAIL_ALPHA, class_iou, delta_e2000, delta_e_srgb, detail_ratio,
                                       foreground_weighted_iou, laplacian_energy, mean_iou, psnr, srgb_to_lab)

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


def test_laplacian_energy_of_known_patterns() -> None:
    flat = torch.full((8, 8, 3), 0.3)
    everywhere = torch.ones(8, 8, dtype=torch.bool)
    assert laplacian_energy(flat, everywhere) == 0.0
    checker = ((torch.arange(8)[:, None] + torch.arange(8)[None]) % 2).float()[..., None].expand(8, 8, 3)
    assert laplacian_energy(checker, everywhere) == pytest.approx(4.0)  # each pixel 4 away from its 4 neighbours
    ramp = torch.linspace(0, 1, 8)[None, :, None].expand(8, 8, 3)
    assert laplacian_energy(ramp, everywhere) == pytest.approx(0.0, abs=1e-6)  # a gradient has no curvature


def test_detail_ratio_is_one_for_the_truth_below_for_blur_above_for_noise() -> None:
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(64, 64, 3, generator=g) * 0.3 + 0.4
    alpha = torch.zeros(64, 64)
    alpha[8:56, 8:56] = 1.0
    assert detail_ratio(truth, alpha, truth, alpha) == 1.0
    blurred = torch.nn.functional.avg_pool2d(truth.permute(2, 0, 1)[None], 3, 1, 1, count_include_pad=False)[0]
    assert detail_ratio(blurred.permute(1, 2, 0), alpha, truth, alpha) < 0.5
    noisy = (truth + 0.4 * torch.rand(64, 64, 3, generator=g) - 0.2).clamp(0, 1)  # more noise than the truth has
    assert detail_ratio(noisy, alpha, truth, alpha) > 1.2
    # only pixels inside either head count: what lies outside both alphas does not change the score
    outside = truth.clone()
    outside[:4] = torch.rand(4, 64, 3, generator=g)
    assert detail_ratio(outside, alpha, truth, alpha) == 1.0
    # a head that is missing where the truth has one is scored over the truth's pixels (empty there: no detail)
    empty = torch.zeros(64, 64, 3)
    assert detail_ratio(empty, torch.zeros(64, 64), truth, alpha) < 0.1
    assert DETAIL_ALPHA == 0.04


def test_benchmark_detail_of_the_truth_is_one_and_of_a_blurred_head_below() -> None:
    """The benchmark's detail keys at both sizes: the engine head scored against itself is 1, and the same head with
    every Gaussian three times as wide (a blurred head) carries less detail."""
    from collections import defaultdict
    from dataclasses import replace

    from models.evaluation.benchmark import DETAIL_SIZE, _view_metrics, benchmark_batches

    batch = benchmark_batches(1, 64, torch.device("cpu"))[0]
    truth = batch.gaussians[0]
    acc: dict[str, list[float]] = defaultdict(list)
    with torch.no_grad():
        _view_metrics("t", truth, batch, 0, acc)
        _view_metrics("b", replace(truth, log_scales=truth.log_scales + math.log(3.0)), batch, 0, acc)
    assert DETAIL_SIZE == 512
    for group in ("yaw0", "yaw45", "yaw90", "yaw180"):
        assert acc[f"t_detail_{group}"] and all(v == pytest.approx(1.0) for v in acc[f"t_detail_{group}"])
        assert all(v == pytest.approx(1.0) for v in acc[f"t_detail_{group}_64"])
        assert max(acc[f"b_detail_{group}"]) < 0.8
        assert max(acc[f"b_detail_{group}_64"]) < 0.8


def test_shaded_reference_is_the_mean_lab_of_the_region() -> None:
    from types import SimpleNamespace

    from models.evaluation.references import measure, region_mean_lab
    from models.palette import palette
    from models.synthetic.attributes import sample_attributes

    pal = palette()
    attrs = [sample_attributes(s) for s in range(40)]
    a, b = [x for x in attrs if x.hair_style != "bald"][:2]
    b = type(b)(**{**b.__dict__, "hair_color": a.hair_color})  # two heads, one hair colour
    rgb = torch.zeros(2, 1, 8, 8, 3)
    classes = torch.zeros(2, 1, 8, 8, dtype=torch.long)
    classes[:, :, :4] = pal.id_of("hair")
    rgb[0, 0, :4] = torch.tensor([0.6, 0.3, 0.1])
    rgb[1, 0, :4] = torch.tensor([0.4, 0.2, 0.1])
    table = measure([SimpleNamespace(attributes=[a, b], rgb=rgb, class_map=classes)])
    entry = table["hair"][a.hair_color]
    expect = (srgb_to_lab(torch.tensor([0.6, 0.3, 0.1])) + srgb_to_lab(torch.tensor([0.4, 0.2, 0.1]))) / 2
    torch.testing.assert_close(torch.tensor(entry["lab"], dtype=torch.float64), expect, atol=1e-3, rtol=0)
    assert entry["heads"] == 2 and entry["engine_delta_e"] > 1.0
    assert "skin" not in table  # 32 hair pixels, no skin pixels: regions under 10 px do not count
    assert region_mean_lab(rgb[0, 0], classes[0, 0], "eyes") is None


def test_reference_seeds_cover_every_value_and_the_shipped_table_is_complete() -> None:
    from models.evaluation.references import PARTS, attribute_value, load_shaded_references, missing_values, pick_seeds
    from models.synthetic.attributes import sample_attributes
    from models.synthetic.sampler import is_benchmark_seed

    seeds = pick_seeds(2)
    assert not any(is_benchmark_seed(s) for s in seeds)
    seen = {(p, attribute_value(sample_attributes(s), p)) for s in seeds for p in PARTS}
    assert all((p, v) in seen for p, (_, values) in PARTS.items() for v in values)
    from models.evaluation.benchmark import DELTA_E_PARTS
    from models.evaluation.prompt_colours import REFERENCES_512

    shipped = load_shaded_references()  # 256 px: the benchmark's hair, skin and eyes
    table = {p: {v: {} for v in t} for p, t in shipped.items()}
    assert [m for m in missing_values(table) if m.split(":")[0] in DELTA_E_PARTS] == []
    at_512 = load_shaded_references(REFERENCES_512)  # 512 px: every part the held-out prompt colours score
    assert missing_values({p: {v: {} for v in t} for p, t in at_512.items()}) == []
    for refs in (shipped, at_512):
        assert all(r.heads >= 16 and r.engine_delta_e < 12 for t in refs.values() for r in t.values())


def test_nearest_reference_names_the_value_of_its_own_reference() -> None:
    from models.evaluation.references import load_shaded_references, nearest_reference

    refs = load_shaded_references()
    for part, table in refs.items():
        for value, ref in table.items():
            assert nearest_reference(part, torch.tensor(ref.lab)) == value
