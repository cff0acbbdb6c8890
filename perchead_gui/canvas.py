"""The paint canvas on class ids: brush strokes, lines, flood fill, eyedropper, bounded undo.

Pure logic, no window: the app forwards mouse events here and shows ``labels``. Coordinates
are canvas pixels as floats (x right, y down, pixel (i, j) covers [j, j+1) x [i, i+1), so its
centre is (j + 0.5, i + 0.5)); points off the canvas are clipped, never an error.

``labels`` is copy-on-write: every edit makes a new read-only array, so a snapshot handed to
the inference thread never changes under it, and ``version`` says whether it is stale.
Undo keeps, per step, only the changed bounding box (before and after), within a byte budget.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from models.palette import NUM_CLASSES

DEFAULT_UNDO_BUDGET = 64 * 2**20
MIN_BRUSH_SIZE = 1.0       # a brush always paints at least the pixel under it
MAX_SMOOTHING_LAG = 0.9    # smoothing 1.0 still moves the brush 10% of the way per event
DITHER_SEED = 0            # soft-brush dither is seeded, so the same strokes give the same map
MAX_COORD = 1e9            # coordinates are clamped to +-this: no mouse is that far, and overflow never starts


@dataclass
class _UndoStep:
    """One edit as the patch it changed: labels[top:top+h, left:left+w] before and after."""

    top: int
    left: int
    before: np.ndarray  # [h, w] uint8
    after: np.ndarray   # [h, w] uint8

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


@dataclass
class _Stroke:
    """A stroke in progress: the map before it, the brush and where the (smoothed) brush is."""

    start: np.ndarray          # [S, S] uint8, labels when the stroke began
    label: int
    radius: float
    hardness: float
    follow: float              # share of the way the brush moves to the cursor per event
    brush: tuple[float, float]
    cursor: tuple[float, float]
    dither: np.ndarray | None  # [S, S] float32 thresholds in [0, 1) for the soft rim


class PaintCanvas:
    """A square class-id map with painting tools and undo/redo."""

    def __init__(self, labels: np.ndarray, undo_budget_bytes: int = DEFAULT_UNDO_BUDGET) -> None:
        self._labels = _frozen(_checked_map(labels))  # [S, S] uint8
        self.version = 0
        self._undo_budget = int(undo_budget_bytes)
        self._undo: deque[_UndoStep] = deque()
        self._redo: list[_UndoStep] = []
        self._undo_bytes = 0
        self._stroke: _Stroke | None = None
        self._rng = np.random.default_rng(DITHER_SEED)

    # ----- state -----------------------------------------------------------------------------

    @property
    def labels(self) -> np.ndarray:
        """The current map [S, S] uint8, read-only; an edit replaces it with a new array."""
        return self._labels

    @property
    def size(self) -> int:
        return self._labels.shape[0]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) or self._stroke_changed()

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and self._stroke is None

    @property
    def in_stroke(self) -> bool:
        return self._stroke is not None

    @property
    def brush_position(self) -> tuple[float, float] | None:
        """Where the smoothed brush is during a stroke (it lags the cursor), for drawing it."""
        return None if self._stroke is None else self._stroke.brush

    @property
    def undo_bytes(self) -> int:
        """Memory held by the undo and redo history."""
        return self._undo_bytes + sum(s.nbytes for s in self._redo)

    # ----- brush -----------------------------------------------------------------------------

    def begin_stroke(self, x: float, y: float, label: int, size: float, hardness: float = 1.0,
                     smoothing: float = 0.0) -> None:
        """Start a stroke with a dab at (x, y). ``size`` is the brush diameter in pixels."""
        self.end_stroke()
        label = _checked_label(label)
        radius, hardness = _brush(size, hardness)
        smoothing = _unit(smoothing, "smoothing")
        x, y = _point(x, y)
        dither = self._rng.random(self._labels.shape, dtype=np.float32) if hardness < 1.0 else None
        self._stroke = _Stroke(self._labels, label, radius, hardness, 1.0 - MAX_SMOOTHING_LAG * smoothing,
                               (x, y), (x, y), dither)
        self._paint_segment((x, y), (x, y))

    def extend_stroke(self, x: float, y: float) -> None:
        """Move the cursor: the brush follows (lagging when smoothed), painting the whole path."""
        s = self._stroke
        if s is None:
            return
        x, y = _point(x, y)
        s.cursor = (x, y)
        bx, by = s.brush
        new = (x, y) if s.follow == 1.0 else (bx + s.follow * (x - bx), by + s.follow * (y - by))
        self._paint_segment(s.brush, new)
        s.brush = new

    def end_stroke(self) -> None:
        """Finish the stroke: the brush catches up with the cursor, and the stroke becomes one undo step."""
        s = self._stroke
        if s is None:
            return
        if s.brush != s.cursor:
            self._paint_segment(s.brush, s.cursor)
        self._stroke = None
        self._record(s.start, self._labels)

    def line(self, x0: float, y0: float, x1: float, y1: float, label: int, size: float,
             hardness: float = 1.0) -> None:
        """A straight line (Shift+click from the last point), one undo step."""
        _point(x1, y1)  # a bad end point fails before anything is painted
        self.end_stroke()
        self.begin_stroke(x0, y0, label, size, hardness)
        self.extend_stroke(x1, y1)
        self.end_stroke()

    # ----- whole-region tools ----------------------------------------------------------------

    def fill(self, x: int, y: int, label: int) -> None:
        """4-connected flood fill of the region under (x, y) with ``label``; one undo step."""
        self.end_stroke()
        label = _checked_label(label)
        pos = self._pixel(x, y)
        if pos is None:
            return
        region = flood_region(self._labels == self._labels[pos], pos)  # [S, S] bool
        self._apply(np.where(region, np.uint8(label), self._labels))

    def pick(self, x: int, y: int) -> int:
        """Eyedropper: the class id under (x, y), clamped to the nearest canvas pixel."""
        s = self.size - 1
        fx = float(x) if math.isfinite(x) else 0.0
        fy = float(y) if math.isfinite(y) else 0.0
        col = min(max(int(math.floor(fx)), 0), s)
        row = min(max(int(math.floor(fy)), 0), s)
        return int(self._labels[row, col])

    def clear(self, label: int = 0) -> None:
        """Fill the whole map with ``label`` (background by default); one undo step."""
        self.end_stroke()
        label = _checked_label(label)
        self._apply(np.full_like(self._labels, label))

    def set_labels(self, labels: np.ndarray) -> None:
        """Replace the whole map (open, load, gallery), same size; one undo step."""
        self.end_stroke()
        labels = _checked_map(labels)
        if labels.shape != self._labels.shape:
            raise ValueError(f"map shape {labels.shape} differs from the canvas {self._labels.shape}")
        self._apply(labels)

    def reset(self, labels: np.ndarray) -> None:
        """Start over from this map with no history (a project opened, New); same size.

        The version still moves on, so everything keyed on it (the engine request, the
        texture) sees a new map even when the old one had the same version number.
        """
        labels = _checked_map(labels)
        if labels.shape != self._labels.shape:
            raise ValueError(f"map shape {labels.shape} differs from the canvas {self._labels.shape}")
        self._stroke = None
        self._labels = _frozen(labels.copy())
        self._undo.clear()
        self._redo.clear()
        self._undo_bytes = 0
        self.version += 1

    # ----- undo ------------------------------------------------------------------------------

    def undo(self) -> bool:
        """Step back one edit (a stroke in progress is finished first); False when nothing to undo."""
        self.end_stroke()
        if not self._undo:
            return False
        step = self._undo.pop()
        self._undo_bytes -= step.nbytes
        self._redo.append(step)
        self._put_patch(step, step.before)
        return True

    def redo(self) -> bool:
        """Re-apply the last undone edit; False when there is none."""
        self.end_stroke()
        if not self._redo:
            return False
        step = self._redo.pop()
        self._push_undo(step)
        self._put_patch(step, step.after)
        return True

    # ----- internals -------------------------------------------------------------------------

    def _paint_segment(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Paint the capsule of the brush swept from a to b onto the current map."""
        s = self._stroke
        assert s is not None
        painted = capsule_mask(self.size, a, b, s.radius, s.hardness, s.dither)
        if painted is None:
            return
        (top, left), mask = painted  # mask [h, w] bool
        patch = self._labels[top:top + mask.shape[0], left:left + mask.shape[1]]
        if not (mask & (patch != s.label)).any():
            return
        new = self._labels.copy()
        new[top:top + mask.shape[0], left:left + mask.shape[1]][mask] = s.label
        self._labels = _frozen(new)
        self.version += 1

    def _apply(self, new: np.ndarray) -> None:
        """Make ``new`` [S, S] the map as one undo step (nothing happens if it changes nothing)."""
        old = self._labels
        if np.array_equal(old, new):
            return
        self._labels = _frozen(new)
        self.version += 1
        self._record(old, new)

    def _record(self, old: np.ndarray, new: np.ndarray) -> None:
        """Store the changed bounding box between two maps as an undo step; drops the redo branch."""
        box = changed_box(old, new)
        if box is None:
            return
        top, bottom, left, right = box
        self._redo.clear()
        self._push_undo(_UndoStep(top, left, old[top:bottom, left:right].copy(),
                                  new[top:bottom, left:right].copy()))

    def _push_undo(self, step: _UndoStep) -> None:
        self._undo.append(step)
        self._undo_bytes += step.nbytes
        while self._undo and self._undo_bytes > self._undo_budget:
            self._undo_bytes -= self._undo.popleft().nbytes

    def _put_patch(self, step: _UndoStep, patch: np.ndarray) -> None:
        new = self._labels.copy()
        new[step.top:step.top + patch.shape[0], step.left:step.left + patch.shape[1]] = patch
        self._labels = _frozen(new)
        self.version += 1

    def _stroke_changed(self) -> bool:
        return self._stroke is not None and self._stroke.start is not self._labels

    def _pixel(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, col) of the pixel holding (x, y), or None off the canvas."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        col, row = math.floor(x), math.floor(y)
        if 0 <= row < self.size and 0 <= col < self.size:
            return int(row), int(col)
        return None


# ----- geometry (module level so tests and other tools can use them) -------------------------

def capsule_mask(size: int, a: tuple[float, float], b: tuple[float, float], radius: float,
                 hardness: float = 1.0, dither: np.ndarray | None = None,
                 ) -> tuple[tuple[int, int], np.ndarray] | None:
    """Pixels whose centres lie within ``radius`` of segment a-b, on a [size, size] canvas.

    Returns ((top, left), mask [h, w] bool) for the clipped bounding box, or None when nothing
    on the canvas is touched. With hardness < 1, pixels between radius * hardness and radius
    are kept where ``dither`` [size, size] (thresholds in [0, 1)) is below a probability that
    falls linearly from 1 to 0 at the rim. The pixel holding each end point is always painted,
    so a 1 px brush never skips the pixel under the cursor.
    """
    seg = clip_segment(a, b, -radius - 1.0, size + radius + 1.0)
    if seg is None:
        return None
    (ax, ay), (bx, by) = seg
    left = max(int(math.floor(min(ax, bx) - radius)), 0)
    right = min(int(math.ceil(max(ax, bx) + radius)) + 1, size)
    top = max(int(math.floor(min(ay, by) - radius)), 0)
    bottom = min(int(math.ceil(max(ay, by) + radius)) + 1, size)
    if left >= right or top >= bottom:
        return None
    px = np.arange(left, right, dtype=np.float64)[None, :] + 0.5  # [1, w] pixel centres
    py = np.arange(top, bottom, dtype=np.float64)[:, None] + 0.5  # [h, 1]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.zeros((1, 1)) if length2 == 0.0 else np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
    dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))  # [h, w]
    inner = radius * hardness
    mask = dist <= inner
    if hardness < 1.0 and dither is not None:
        prob = np.clip((radius - dist) / (radius - inner), 0.0, 1.0)
        mask |= dither[top:bottom, left:right] < prob
    for ex, ey in seg:
        col, row = math.floor(ex), math.floor(ey)
        if left <= col < right and top <= row < bottom:
            mask[row - top, col - left] = True
    if not mask.any():
        return None
    return (top, left), mask


def clip_segment(a: tuple[float, float], b: tuple[float, float], lo: float, hi: float,
                 ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang-Barsky: the part of segment a-b inside the square [lo, hi]^2, or None.

    Clipping (rather than clamping the end points) keeps the direction of a stroke that
    leaves the canvas far away, and keeps huge coordinates from costing time or overflowing.
    """
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, ax - lo), (dx, hi - ax), (-dy, ay - lo), (dy, hi - ay)):
        if p == 0.0:
            if q < 0.0:
                return None
            continue
        r = q / p
        if p < 0.0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    start = (ax + t0 * dx, ay + t0 * dy)
    end = (ax + t1 * dx, ay + t1 * dy)
    return start, end


def flood_region(mask: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    """The 4-connected component of ``mask`` [H, W] bool holding ``seed`` (row, col). -> [H, W] bool

    Vectorised on runs: each row's runs of True are nodes, runs overlapping in adjacent rows
    are joined, and components come from min-label hooking with pointer jumping, which
    needs O(log runs) numpy passes even for a spiral or maze that a frontier BFS would walk
    one pixel at a time.
    """
    h, w = mask.shape
    if not mask[seed]:
        return np.zeros_like(mask)
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    starts = np.diff(padded, axis=1)[:, :-1] == 1  # [H, W] True where a run begins
    run_id = np.cumsum(starts.ravel()).reshape(h, w) - 1  # [H, W] run index (valid inside mask)
    both = mask[:-1] & mask[1:]  # [H-1, W] vertical neighbours inside the mask
    parent = _components(int(starts.sum()), run_id[:-1][both], run_id[1:][both])  # [R]
    in_seed = parent == parent[run_id[seed]]  # [R]
    return mask & in_seed[np.where(mask, run_id, 0)]


def _components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Component representative (its smallest node) of each of n nodes, given edges u-v. [n]"""
    parent = np.arange(n)
    if u.size == 0:
        return parent
    while True:
        pu, pv = parent[u], parent[v]
        hi, lo = np.maximum(pu, pv), np.minimum(pu, pv)
        cross = hi != lo
        if not cross.any():
            return parent
        # Hook each root to the smallest root it touches, then flatten every tree to its root.
        np.minimum.at(parent, hi[cross], lo[cross])
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def changed_box(old: np.ndarray, new: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) bounding the pixels that differ, or None when none do."""
    diff = old != new  # [S, S]
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


# ----- argument checks (bad values here are bugs in the caller: ValueError) ------------------

def _checked_label(label: int) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) \
            or not 0 <= int(label) < NUM_CLASSES:
        raise ValueError(f"label must be a class id 0-{NUM_CLASSES - 1}, got {label!r}")
    return int(label)


def _checked_map(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != labels.shape[1] or labels.shape[0] == 0:
        raise ValueError(f"canvas map must be square [S, S], got shape {labels.shape}")
    if labels.dtype.kind not in "ui":
        raise ValueError(f"canvas map must hold integer class ids, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"canvas map holds values outside class ids 0-{NUM_CLASSES - 1}")
    return labels.astype(np.uint8)


def _brush(size: float, hardness: float) -> tuple[float, float]:
    """(radius, hardness) from a brush diameter and a hardness in 0..1."""
    if not math.isfinite(size):
        raise ValueError(f"brush size must be a finite number of pixels, got {size!r}")
    return max(float(size), MIN_BRUSH_SIZE) / 2.0, _unit(hardness, "hardness")


def _unit(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a number in 0..1, got {value!r}")
    return min(max(float(value), 0.0), 1.0)


def _point(x: float, y: float) -> tuple[float, float]:
    """A finite point, clamped to +-MAX_COORD; NaN or infinity is a bug upstream."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"point ({x}, {y}) is not finite")
    return min(max(float(x), -MAX_COORD), MAX_COORD), min(max(float(y), -MAX_COORD), MAX_COORD)


def _frozen(labels: np.ndarray) -> np.ndarray:
    labels.flags.writeable = False
    return labels
