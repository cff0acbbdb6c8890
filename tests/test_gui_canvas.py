"""Paint canvas logic without a window: brush, line, fill, eyedropper, undo/redo and its bounds."""
from __future__ import annotations

import numpy as np
import pytest

from perchead_gui.canvas import PaintCanvas, capsule_mask, clip_segment, flood_region

S = 64
SKIN, HAIR, EYES = 1, 9, 3


def blank(size: int = S, label: int = 0) -> PaintCanvas:
    return PaintCanvas(np.full((size, size), label, dtype=np.uint8))


def reference_flood(mask: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    """Plain BFS, the reference for the vectorised fill."""
    out = np.zeros_like(mask)
    stack = [seed]
    while stack:
        r, c = stack.pop()
        if not (0 <= r < mask.shape[0] and 0 <= c < mask.shape[1]) or out[r, c] or not mask[r, c]:
            continue
        out[r, c] = True
        stack += [(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)]
    return out


# ----- brush ---------------------------------------------------------------------------------

def test_dab_paints_a_disc_of_the_brush_diameter() -> None:
    c = blank()
    c.begin_stroke(32.0, 32.0, SKIN, size=10)
    c.end_stroke()
    ys, xs = np.nonzero(c.labels == SKIN)
    dist = np.hypot(xs + 0.5 - 32.0, ys + 0.5 - 32.0)
    assert dist.max() <= 5.0
    # every pixel centre within the radius is painted, and the area is that of the disc
    yy, xx = np.mgrid[:S, :S]
    inside = np.hypot(xx + 0.5 - 32.0, yy + 0.5 - 32.0) <= 5.0
    np.testing.assert_array_equal(c.labels == SKIN, inside)
    assert abs(inside.sum() - np.pi * 25) < 10


def test_one_pixel_brush_always_paints_the_pixel_under_the_cursor() -> None:
    c = blank()
    c.begin_stroke(10.0, 20.0, HAIR, size=0.2)  # exactly on a pixel corner, tiny brush
    c.end_stroke()
    assert c.labels[20, 10] == HAIR


def test_fast_mouse_move_leaves_no_gaps() -> None:
    c = blank()
    c.begin_stroke(2.5, 2.5, SKIN, size=1)
    c.extend_stroke(60.5, 40.5)  # one event, 58 px away
    c.end_stroke()
    painted = c.labels == SKIN
    # 8-connected path from start to end: every column between has a painted pixel
    for col in range(2, 61):
        assert painted[:, col].any(), col
    assert painted[2, 2] and painted[40, 60]
    assert flood_region_8(painted, (2, 2))[40, 60]


def flood_region_8(mask: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    out = np.zeros_like(mask)
    stack = [seed]
    while stack:
        r, c = stack.pop()
        if not (0 <= r < mask.shape[0] and 0 <= c < mask.shape[1]) or out[r, c] or not mask[r, c]:
            continue
        out[r, c] = True
        stack += [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    return out


def test_stroke_is_one_undo_step_and_bumps_version_while_painting() -> None:
    c = blank()
    v0 = c.version
    c.begin_stroke(5, 5, SKIN, size=3)
    v1 = c.version
    c.extend_stroke(30, 5)
    v2 = c.version
    c.extend_stroke(30, 30)
    c.end_stroke()
    assert v0 < v1 < v2 < c.version
    assert c.can_undo and not c.can_redo
    assert c.undo()
    assert (c.labels == 0).all()
    assert not c.can_undo and c.can_redo
    assert c.redo()
    assert c.labels[5, 30] == SKIN and c.labels[30, 30] == SKIN


def test_painting_the_same_label_changes_nothing_and_adds_no_step() -> None:
    c = blank(label=SKIN)
    c.begin_stroke(5, 5, SKIN, size=8)
    c.extend_stroke(40, 40)
    c.end_stroke()
    assert c.version == 0 and not c.can_undo


def test_eraser_paints_background() -> None:
    c = blank(label=SKIN)
    c.begin_stroke(32, 32, 0, size=6)
    c.end_stroke()
    assert c.labels[32, 32] == 0 and c.labels[0, 0] == SKIN


def test_points_off_the_canvas_are_clipped_not_errors() -> None:
    c = blank()
    c.begin_stroke(-100.0, 32.0, HAIR, size=4)
    c.extend_stroke(1e12, 32.0)   # far beyond: clamped and clipped, direction kept
    c.extend_stroke(1e12, -1e12)
    c.end_stroke()
    row = c.labels[31:34]
    assert (row == HAIR).any(axis=0).all()  # the horizontal pass crossed the whole canvas
    c.begin_stroke(-50, -50, EYES, size=4)  # entirely outside: nothing painted
    c.extend_stroke(-10, -80)
    c.end_stroke()
    assert not (c.labels == EYES).any()
    # a brush centred just outside still paints its part that overlaps the canvas
    c.begin_stroke(-1.0, 10.0, EYES, size=6)
    c.end_stroke()
    assert c.labels[10, 0] == EYES


def test_smoothing_makes_the_brush_lag_then_catch_up_at_the_end() -> None:
    c = blank()
    c.begin_stroke(10, 10, SKIN, size=1, smoothing=1.0)
    c.extend_stroke(50, 10)
    bx, by = c.brush_position
    assert 10 < bx < 50 and by == 10  # moved only part of the way
    assert c.labels[10, 45] == 0
    c.end_stroke()
    assert c.labels[10, 50] == SKIN  # the stroke ends where the cursor was released
    assert c.brush_position is None


def test_smoothing_reduces_jitter() -> None:
    rng = np.random.default_rng(3)
    xs = np.linspace(5, 58, 60)
    ys = 32 + rng.normal(0, 4, xs.size)

    def spread(smoothing: float) -> float:
        c = blank()
        c.begin_stroke(xs[0], ys[0], SKIN, size=1, smoothing=smoothing)
        for x, y in zip(xs[1:], ys[1:]):
            c.extend_stroke(x, y)
        c.end_stroke()
        rows = np.nonzero(c.labels == SKIN)[0]
        return float(rows.std())

    assert spread(0.8) < 0.6 * spread(0.0)


def test_soft_brush_dithers_the_rim_reproducibly() -> None:
    def dab(hardness: float) -> np.ndarray:
        c = blank()
        c.begin_stroke(32, 32, SKIN, size=30, hardness=hardness)
        c.end_stroke()
        return c.labels == SKIN

    hard, soft, soft_again = dab(1.0), dab(0.3), dab(0.3)
    np.testing.assert_array_equal(soft, soft_again)  # seeded
    yy, xx = np.mgrid[:S, :S]
    d = np.hypot(xx + 0.5 - 32, yy + 0.5 - 32)
    assert soft[d <= 15 * 0.3].all()                 # solid core
    assert not soft[d > 15].any()                    # nothing past the rim
    rim_in, rim_out = soft[(d > 5) & (d <= 8)].mean(), soft[(d > 12) & (d <= 15)].mean()
    assert 0.05 < rim_out < rim_in < 1.0             # probability falls towards the edge
    assert soft.sum() < hard.sum()


def test_soft_stroke_does_not_darken_where_segments_overlap() -> None:
    # the dither threshold is fixed per stroke, so repainting the same place adds nothing
    c = blank()
    c.begin_stroke(32, 32, SKIN, size=30, hardness=0.2)
    once = c.labels.copy()
    for _ in range(5):
        c.extend_stroke(32.2, 32)
        c.extend_stroke(32, 32)
    c.end_stroke()
    assert abs(int((c.labels == SKIN).sum()) - int((once == SKIN).sum())) < 15


def test_line_is_straight_and_one_undo_step() -> None:
    c = blank()
    c.line(4, 4, 60, 60, EYES, size=1)
    for i in range(4, 60):
        assert c.labels[i, i] == EYES
    assert c.labels[4, 60] == 0 and c.labels[60, 4] == 0
    assert c.undo() and (c.labels == 0).all() and not c.can_undo


def test_bad_arguments_are_value_errors() -> None:
    c = blank()
    for bad in (-1, 15, 255, 2.0, True, "1"):
        with pytest.raises(ValueError):
            c.begin_stroke(1, 1, bad, size=3)
        with pytest.raises(ValueError):
            c.fill(1, 1, bad)
    with pytest.raises(ValueError):
        c.begin_stroke(float("nan"), 1, SKIN, size=3)
    with pytest.raises(ValueError):
        c.begin_stroke(1, 1, SKIN, size=float("inf"))
    with pytest.raises(ValueError):
        c.set_labels(np.zeros((S + 1, S + 1), np.uint8))
    with pytest.raises(ValueError):
        c.set_labels(np.full((S, S), 15, np.uint8))
    with pytest.raises(ValueError):
        PaintCanvas(np.zeros((4, 5), np.uint8))
    assert (c.labels == 0).all() and not c.can_undo


# ----- labels are snapshots ------------------------------------------------------------------

def test_labels_are_read_only_snapshots_that_never_change_after_an_edit() -> None:
    c = blank()
    snap = c.labels
    with pytest.raises(ValueError):
        snap[0, 0] = 3
    c.fill(0, 0, HAIR)
    assert (snap == 0).all() and (c.labels == HAIR).all()


def test_the_callers_array_is_copied() -> None:
    src = np.zeros((S, S), np.uint8)
    c = PaintCanvas(src)
    src[:] = 5
    assert (c.labels == 0).all()
    c.set_labels(src)
    src[:] = 7
    assert (c.labels == 5).all()


# ----- fill, pick, clear, set ----------------------------------------------------------------

def test_fill_is_four_connected() -> None:
    m = np.zeros((8, 8), np.uint8)
    m[2, :] = SKIN          # a wall
    m[5, 5] = SKIN          # diagonal-only neighbours must not leak
    m[4, 4] = SKIN
    c = PaintCanvas(m)
    c.fill(0, 0, HAIR)      # (x, y) = (col, row): the strip above the wall
    assert (c.labels[:2] == HAIR).all() and (c.labels[3:] != HAIR).all()
    c.fill(4, 4, EYES)
    assert c.labels[4, 4] == EYES and c.labels[5, 5] == SKIN and c.labels[2, 0] == SKIN


@pytest.mark.parametrize("seed", range(6))
def test_fill_matches_a_plain_bfs_on_random_maps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = (rng.random((40, 40)) < 0.45).astype(np.uint8) * SKIN
    for r, col in [(0, 0), (20, 20), (39, 39), (5, 30)]:
        mask = m == m[r, col]
        np.testing.assert_array_equal(flood_region(mask, (r, col)), reference_flood(mask, (r, col)))


def test_fill_follows_a_maze_corridor_to_its_end() -> None:
    # a serpentine 1 px corridor: worst case for a frontier walk, one region for the fill
    n = 255
    m = np.full((n, n), SKIN, np.uint8)
    m[::2, :] = 0
    for i, r in enumerate(range(1, n, 2)):
        m[r, (n - 1) if i % 2 == 0 else 0] = 0
    c = PaintCanvas(m)
    c.fill(0, 0, HAIR)
    assert (c.labels[m == 0] == HAIR).all() and (c.labels[m == SKIN] == SKIN).all()


def test_fill_on_512_px_map_is_one_step() -> None:
    c = blank(512)
    c.begin_stroke(256, 256, SKIN, size=100)
    c.end_stroke()
    c.fill(0, 0, HAIR)
    assert c.labels[0, 0] == HAIR and c.labels[256, 256] == SKIN and c.labels[511, 511] == HAIR
    assert c.undo() and c.labels[0, 0] == 0


def test_fill_with_same_label_or_off_canvas_does_nothing() -> None:
    c = blank()
    c.fill(3, 3, 0)
    c.fill(-1, 3, SKIN)
    c.fill(3, S, SKIN)
    assert c.version == 0 and not c.can_undo


def test_pick_reads_the_class_and_clamps_off_canvas() -> None:
    m = np.zeros((S, S), np.uint8)
    m[10, 20] = EYES
    m[S - 1, S - 1] = HAIR
    c = PaintCanvas(m)
    assert c.pick(20, 10) == EYES and c.pick(20.7, 10.2) == EYES
    assert c.pick(0, 0) == 0
    assert c.pick(10_000, 10_000) == HAIR
    assert isinstance(c.pick(20, 10), int)


def test_clear_and_set_labels_are_one_step_each() -> None:
    c = blank()
    new = np.random.default_rng(0).integers(0, 15, (S, S), dtype=np.uint8)
    c.set_labels(new)
    np.testing.assert_array_equal(c.labels, new)
    c.clear()
    assert (c.labels == 0).all()
    c.clear(SKIN)
    assert (c.labels == SKIN).all()
    assert c.undo() and (c.labels == 0).all()
    assert c.undo()
    np.testing.assert_array_equal(c.labels, new)
    assert c.undo() and (c.labels == 0).all()
    assert not c.undo()


def test_reset_replaces_the_map_drops_history_and_moves_the_version_on() -> None:
    c = blank()
    c.begin_stroke(10, 10, SKIN, 6)
    c.end_stroke()
    version = c.version
    new = np.full((S, S), HAIR, dtype=np.uint8)
    c.reset(new)
    np.testing.assert_array_equal(c.labels, new)
    assert c.version > version
    assert not c.can_undo and not c.can_redo and c.undo_bytes == 0
    assert not c.undo()
    with pytest.raises(ValueError):
        c.reset(np.zeros((S + 1, S + 1), np.uint8))


# ----- undo bounds ---------------------------------------------------------------------------

def test_undo_stores_only_the_changed_box() -> None:
    c = blank(256)
    c.begin_stroke(100, 100, SKIN, size=5)
    c.end_stroke()
    assert c.undo_bytes <= 2 * 6 * 6  # before + after of a ~5x5 box, not 2 x 256 x 256


def test_new_edit_after_undo_drops_the_redo_branch() -> None:
    c = blank()
    c.fill(0, 0, SKIN)
    c.fill(0, 0, HAIR)
    assert c.undo() and c.can_redo
    c.line(0, 0, 10, 0, EYES, size=1)
    assert not c.can_redo and not c.redo()
    assert c.undo() and (c.labels == SKIN).all()


def test_undo_history_is_bounded_by_the_budget_dropping_oldest() -> None:
    full_step = 2 * S * S
    c = PaintCanvas(np.zeros((S, S), np.uint8), undo_budget_bytes=3 * full_step)
    for label in (1, 2, 3, 4, 5):
        c.clear(label)
    assert c.undo_bytes <= 3 * full_step
    assert c.undo() and c.undo() and c.undo()
    assert (c.labels == 2).all()       # the two oldest steps were dropped
    assert not c.undo() and not c.can_undo
    assert c.redo() and c.redo() and c.redo() and (c.labels == 5).all()


def test_undo_during_a_stroke_finishes_it_first() -> None:
    c = blank()
    c.begin_stroke(10, 10, SKIN, size=3)
    c.extend_stroke(20, 10)
    assert c.can_undo and c.in_stroke
    assert c.undo()
    assert (c.labels == 0).all() and not c.in_stroke


def test_many_strokes_stay_within_budget() -> None:
    budget = 20_000
    c = PaintCanvas(np.zeros((128, 128), np.uint8), undo_budget_bytes=budget)
    rng = np.random.default_rng(1)
    for i in range(60):
        x, y = rng.uniform(0, 128, 2)
        c.begin_stroke(x, y, 1 + i % 14, size=rng.uniform(2, 20))
        c.extend_stroke(*rng.uniform(0, 128, 2))
        c.end_stroke()
        assert c.undo_bytes <= budget
    while c.undo():
        pass
    assert c.undo_bytes <= budget


# ----- geometry helpers ----------------------------------------------------------------------

def test_clip_segment_keeps_direction() -> None:
    seg = clip_segment((-10.0, 0.0), (30.0, 20.0), 0.0, 10.0)
    assert seg is not None
    (ax, ay), (bx, by) = seg
    assert (ax, ay) == pytest.approx((0.0, 5.0)) and (bx, by) == pytest.approx((10.0, 10.0))
    assert clip_segment((-5.0, -5.0), (-1.0, 20.0), 0.0, 10.0) is None


def test_capsule_mask_none_when_off_canvas() -> None:
    assert capsule_mask(16, (-10.0, -10.0), (-9.0, -3.0), 2.0) is None
