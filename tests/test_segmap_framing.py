"""Seg-map framing normaliser: known similarities are found, engine maps are left alone, the
face region stands in for missing eyes / lips, and the head is moved by exactly the similarity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.cameras import canonical_view, project_points
from models.evaluation.metrics import foreground_weighted_iou
from models.fitting.similarity import frame_transform, move_gaussians
from models.gaussians import Gaussians
from models.palette import palette
from models.photo.align import invert_affine
from models.render import render
from models.fitting.framing import (
    Framing,
    canonicalise,
    estimate_framing,
    frame_maps,
    off_framing,
    place_head,
    plan_framing,
)
from models.synthetic.sampler import BENCHMARK_SEEDS, HeadSampler

pytestmark = pytest.mark.usefixtures("one_thread")
SIZE = 256


@pytest.fixture(scope="module")
def engine() -> tuple[list[Gaussians], np.ndarray]:
    """Four benchmark heads and their canonical class maps [4, S, S] (the maps the model trains on)."""
    batch = HeadSampler("bench", device="cpu").make_batch(list(BENCHMARK_SEEDS[:4]), size=SIZE)
    return batch.gaussians, batch.class_map[:, 0].numpy().astype(np.uint8)


def _moved(labels: np.ndarray, shift: tuple[float, float], scale: float, roll: float) -> np.ndarray:
    """The map moved by a known 2D similarity (nearest): canonicalise by its inverse."""
    k = Framing(shift, scale, roll, "landmarks", labels.shape[0])
    inverse = Framing.from_matrix(invert_affine(k.matrix()), "landmarks", labels.shape[0])
    return canonicalise(labels, inverse)


def _relative(after: Framing, before: Framing) -> Framing:
    """The similarity between two estimates (after o before^-1): what was done to the map."""
    m = np.vstack([after.matrix(), [0, 0, 1]]) @ np.vstack([invert_affine(before.matrix()), [0, 0, 1]])
    return Framing.from_matrix(m[:2], after.cue, after.size)


@pytest.mark.parametrize("shift, scale, roll", [((8.0, -6.0), 1.08, 3.0), ((-10.0, 7.0), 0.92, -4.0),
                                                ((5.0, 0.0), 1.0, 0.0)])
def test_a_known_similarity_of_an_engine_map_is_found(engine, shift, scale, roll) -> None:
    _, maps = engine
    for labels in maps[:2]:
        before = estimate_framing(labels)
        after = estimate_framing(_moved(labels, shift, scale, roll))
        assert before.cue == after.cue == "landmarks"
        assert off_framing(after), "a map moved this far is off the engine's framing"
        got = _relative(after, before)
        assert abs(got.shift_px[0] - shift[0]) < 1.0 and abs(got.shift_px[1] - shift[1]) < 1.0, got
        assert abs(got.scale / scale - 1) < 0.02, got
        assert abs(got.roll_deg - roll) < 1.0, got


@pytest.mark.parametrize("index", [0, 1, 2, 3])  # shapes, rough, missing, celebamask: drawn in place
def test_drawings_too_low_high_or_big_are_reframed_and_in_place_ones_are_not(index) -> None:
    """A head drawn 20 px low or high, or x1.25, is a re-framing candidate (the decode that follows the painting
    better then decides, tests/test_pipeline_framing.py); the drawing as it was made is not one."""
    from models.evaluation.drawn_maps import drawn_map, similarity

    labels = drawn_map(index).labels
    assert plan_framing(labels) is None
    for shift, scale in (((0.0, 20.0), 1.0), ((0.0, -20.0), 1.0), ((0.0, 0.0), 1.25)):
        plan = plan_framing(similarity(labels, shift, scale, 0.0))
        assert plan is not None, (shift, scale)
        assert abs(plan.scale / scale - 1) < 0.15 and abs(plan.shift_px[1] - shift[1]) < 6.0, plan


def test_engine_maps_are_left_as_they_are(engine) -> None:
    _, maps = engine
    plans = [plan_framing(m) for m in maps]
    framed = frame_maps(maps, plans)
    assert plans == [None] * len(maps)
    np.testing.assert_array_equal(framed, maps)
    off_plans = [plan_framing(_moved(maps[0], (9.0, 4.0), 1.0, 0.0), mode="off")]
    assert off_plans == [None]  # "off": nothing is estimated or moved


def test_without_eyes_or_lips_the_face_region_places_the_map(engine) -> None:
    _, maps = engine
    pal = palette()
    labels = maps[0].copy()
    labels[np.isin(labels, [pal.id_of(n) for n in ("eyes", "upper_lip", "lower_lip", "mouth")])] = pal.id_of("skin")
    before = estimate_framing(labels)
    moved = _moved(labels, (-9.0, 6.0), 1.06, 0.0)
    after = estimate_framing(moved)
    assert before.cue == after.cue == "face"
    assert plan_framing(moved) is not None
    got = _relative(after, before)
    assert abs(got.shift_px[0] + 9.0) < 1.0 and abs(got.shift_px[1] - 6.0) < 1.0 and abs(got.scale / 1.06 - 1) < 0.02
    hair_only = np.where(maps[0] == pal.id_of("hair"), maps[0], 0).astype(np.uint8)
    assert estimate_framing(hair_only) is None and plan_framing(hair_only) is None  # no face: decoded as drawn


def test_stray_fringe_pixels_do_not_move_the_eyes(engine) -> None:
    _, maps = engine
    pal = palette()
    labels = maps[1].copy()
    clean = estimate_framing(labels)
    # one-pixel specks of the eyes class along the clothes' top edge, as an anti-aliased brush read back leaves them
    clothes = labels == pal.id_of("clothes")
    edge = clothes & ~np.roll(clothes, 1, axis=0)
    ys, xs = np.nonzero(edge)
    labels[ys[::4], xs[::4]] = pal.id_of("eyes")
    noisy = estimate_framing(labels)
    assert noisy.cue == "landmarks"
    assert max(abs(a - b) for a, b in zip(noisy.shift_px, clean.shift_px)) < 0.5 and abs(noisy.scale / clean.scale - 1) < 0.01


def test_the_head_moves_by_exactly_the_similarity() -> None:
    cam = canonical_view().camera(SIZE)
    f = Framing((7.0, -5.0), 1.08, 4.0, "landmarks", SIZE)
    g = torch.Generator().manual_seed(3)
    n = 32
    depth = float(cam.world_to_cam[2, 3])
    cam_pts = torch.cat([(torch.rand(n, 2, generator=g) - 0.5) * 0.3, torch.full((n, 1), depth)], 1)
    inv = torch.linalg.inv(cam.world_to_cam)
    means = cam_pts @ inv[:3, :3].T + inv[:3, 3]  # [N, 3] on the plane through the look-at point
    quats = torch.nn.functional.normalize(torch.randn(n, 4, generator=g), dim=-1)
    head = Gaussians(means, quats, torch.randn(n, 3, generator=g) - 4, torch.zeros(n), torch.zeros(n, 1, 3),
                     torch.ones(n, dtype=torch.long))
    moved = place_head(head, f)
    expected = torch.from_numpy(project_points(means, cam).double().numpy() @ f.matrix()[:, :2].T + f.matrix()[:, 2])
    torch.testing.assert_close(project_points(moved.means, cam).double(), expected, atol=1e-3, rtol=0)
    # each splat is the moved one: covariance s^2 Q C Q^T with (s Q) the transform's linear part
    t = frame_transform(cam.world_to_cam, float(cam.K[0, 0]), f.shift_px, f.scale, f.roll_deg)[:3, :3].float()
    torch.testing.assert_close(moved.covariances(), t @ head.covariances() @ t.T, atol=1e-9, rtol=1e-4)
    back = move_gaussians(moved, torch.linalg.inv(frame_transform(cam.world_to_cam, float(cam.K[0, 0]), f.shift_px,
                                                                  f.scale, f.roll_deg)))
    torch.testing.assert_close(back.means, head.means, atol=1e-6, rtol=0)


def test_a_canonical_head_placed_by_the_normaliser_lines_up_with_the_moved_map(engine) -> None:
    """End to end with an ideal decoder: the engine head, put into the engine's mean framing, stands
    for what the network decodes from the canonicalised map; placed back, its render is the map."""
    heads, maps = engine
    cam = canonical_view().camera(SIZE)
    own = estimate_framing(maps[0])  # this head's framing against the engine mean (within the engine's spread)
    assert own.cue == "landmarks"  # its eyes are open (benchmark head 2 blinks: no eye cue, see the next test)
    canonical_head = place_head(heads[0], Framing.from_matrix(invert_affine(own.matrix()), own.cue, SIZE))
    moved = _moved(maps[0], (10.0, -7.0), 0.93, -3.0)
    plan = plan_framing(moved)
    assert plan is not None
    placed = render(place_head(canonical_head, plan), cam, classes=True).class_map
    unplaced = render(canonical_head, cam, classes=True).class_map
    target = torch.from_numpy(moved.astype(np.int64))
    iou_placed, iou_unplaced = foreground_weighted_iou(placed, target), foreground_weighted_iou(unplaced, target)
    assert iou_placed > 0.93 and iou_placed > iou_unplaced + 0.15, (iou_placed, iou_unplaced)


def test_closed_eyes_are_no_eye_cue(engine) -> None:
    """Benchmark head 2 blinks: a few pixels of eyeball show at its lid seams, which must not be read as eyes (they
    read as a framing 2 px aside and x1.07); its face region places it instead, within what engine maps show."""
    from models.fitting.framing import landmarks

    _, maps = engine
    eyes = int((maps[2] == palette().id_of("eyes")).sum())
    assert 0 < eyes < 24  # measured 10
    assert landmarks(maps[2]) is None
    assert estimate_framing(maps[2]).cue == "face" and plan_framing(maps[2]) is None


def test_unknown_mode_is_refused() -> None:
    from models.errors import PercheadError

    with pytest.raises(PercheadError, match="framing mode"):
        plan_framing(np.zeros((SIZE, SIZE), np.uint8), mode="on")  # type: ignore[arg-type]


def test_moving_keeps_colours_so_it_refuses_view_dependent_ones() -> None:
    g = Gaussians(torch.zeros(2, 3), torch.tensor([[1.0, 0, 0, 0]] * 2), torch.zeros(2, 3), torch.zeros(2),
                  torch.zeros(2, 4, 3), torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="degree-0"):
        move_gaussians(g, torch.eye(4, dtype=torch.float64))


def test_a_lip_coloured_mark_off_the_face_is_not_a_mouth() -> None:
    """Eyes and mouth count only near the face: a mark on the shirt moved the 'mouth' 27 px down."""
    from perchead_gui.gallery import load_gallery

    sample = load_gallery()[0].labels
    marked = sample.copy()
    marked[215:235, 60:90] = palette().id_of("upper_lip")  # on the shirt / hair, far from the face
    a, b = estimate_framing(sample), estimate_framing(marked)
    assert a is not None and b is not None
    assert b.shift_px == a.shift_px and b.scale == a.scale and b.roll_deg == a.roll_deg  # before: 14 px, x1.56
