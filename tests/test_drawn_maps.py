"""The drawn-map robustness set: reproducible, really of each kind, and scored like edit_front_iou."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.evaluation.drawn_maps import DRAWN_COUNT, DRAWN_KINDS, drawn_map, drawn_maps, drawn_prompts, similarity
from models.palette import palette

PART_CLASS = {"ear": "ears", "neck": "neck", "brow": "eyebrows", "nose": "nose", "clothes": "clothes"}


@pytest.fixture(scope="module")
def maps():
    return drawn_maps(DRAWN_COUNT)


def test_maps_are_a_pure_function_of_their_index(maps) -> None:
    again = drawn_map(3)
    assert np.array_equal(again.labels, maps[3].labels) and again.prompt == maps[3].prompt
    assert not np.array_equal(maps[0].labels, maps[5].labels)  # same kind, another drawing
    assert drawn_prompts(10) == [m.prompt for m in maps[:10]]


def test_every_kind_is_present_and_maps_look_like_heads(maps) -> None:
    pal = palette()
    assert {m.kind for m in maps} == set(DRAWN_KINDS)
    for m in maps:
        assert m.labels.shape == (256, 256) and m.labels.dtype == np.uint8 and m.labels.max() < 15
        present = set(np.unique(m.labels).tolist())
        assert {0, pal.id_of("skin"), pal.id_of("eyes"), pal.id_of("upper_lip")} <= present, m.parts
        share = (m.labels > 0).mean()
        assert 0.15 < share < 0.75, (m.index, share)


def test_missing_maps_lack_their_parts(maps) -> None:
    pal = palette()
    missing = [m for m in maps if m.kind == "missing"]
    assert missing
    left_out = 0
    for m in missing:
        for part, cls in PART_CLASS.items():
            if part not in m.parts:
                left_out += 1
                assert not (m.labels == pal.id_of(cls)).any(), (m.index, part)
    assert left_out >= len(missing)


def test_celebamask_maps_go_through_the_label_mapping(maps) -> None:
    pal = palette()
    celeb = [m for m in maps if m.kind == "celebamask"]
    assert celeb and all(not (m.labels == pal.id_of("facial_hair")).any() for m in celeb)  # no beard label there
    # left/right labels (4, 5 eyes; 2, 3 brows) both arrive as our single class
    m = celeb[0]
    xs = np.nonzero(m.labels == pal.id_of("eyes"))[1]
    assert xs.min() < 128 < xs.max()


def test_rough_maps_were_read_through_the_palette_loader(maps) -> None:
    rough = [m for m in maps if m.kind == "rough"]
    assert rough and all(any("not palette colours" in n for n in m.loader_notes) for m in rough)


def test_similarity_moves_scales_and_turns_about_the_centre() -> None:
    lab = np.zeros((64, 64), np.uint8)
    lab[28:36, 40:48] = 3  # a square right of the centre
    moved = similarity(lab, (5.0, -4.0), 1.0, 0.0)
    ys, xs = np.nonzero(moved == 3)
    assert xs.mean() == pytest.approx(43.5 + 5, abs=0.6) and ys.mean() == pytest.approx(31.5 - 4, abs=0.6)
    bigger = similarity(lab, (0.0, 0.0), 1.5, 0.0)
    assert (bigger == 3).sum() == pytest.approx(64 * 1.5**2, rel=0.2)
    turned = similarity(lab, (0.0, 0.0), 1.0, 90.0)
    ys, xs = np.nonzero(turned == 3)
    assert abs(xs.mean() - 31.5) < 1.0 and abs(abs(ys.mean() - 31.5) - 12) < 1.0  # now above or below the centre


def test_evaluate_drawn_scores_front_iou_per_kind(tmp_path) -> None:
    from models.evaluation.benchmark import evaluate_drawn
    from models.networks.config import NetConfig
    from models.networks.perchead import PercHeadNet
    from models.networks.template import build_template

    g = torch.Generator().manual_seed(0)
    cloud = torch.nn.functional.normalize(torch.randn(3000, 3, generator=g), dim=1) * torch.tensor([0.08, 0.11, 0.1])
    cfg = NetConfig(kind="edit", image_size=32, patch_size=8, enc_dim=16, enc_depth=1, enc_heads=2, dec_dim=16,
                    dec_depth=1, dec_heads=2, style_dim=8)
    model = PercHeadNet(cfg, build_template(cloud, 16, 8)).eval()
    small = drawn_maps(5, size=32)
    out = evaluate_drawn(model, lambda prompts: torch.zeros(len(prompts), 8), small)
    assert set(out) == {"edit_front_iou_drawn"} | {f"edit_front_iou_drawn_{k}" for k in DRAWN_KINDS}
    assert 0.0 <= out["edit_front_iou_drawn"] <= 1.0
    assert out["edit_front_iou_drawn"] == pytest.approx(sum(out[f"edit_front_iou_drawn_{k}"] for k in DRAWN_KINDS) / 5)
