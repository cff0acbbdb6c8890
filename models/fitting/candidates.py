"""Re-frame a drawing or not: the decode that follows the painted map better decides.

The framing normaliser (models/fitting/framing.py) reads where a drawn face sits from its eyes and mouth. A map
that was moved and a face drawn in place with its own proportions can read alike, and re-framing helps the
first and hurts the second (a hand-drawn face whose mouth sits low lost 0.16 IoU; docs/quality.md). So where
the estimate is a candidate (beyond ``framing.DRAWN_MARGINS`` on the eyes-and-mouth cue) the map is decoded
as drawn, re-framed by the estimate, by half of it, by its sideways part alone (when that part is large) and by
the framing the face's outline reads as; each head is fitted to the painted silhouette as the app shows it,
rendered at the canonical camera, and the one whose classes agree best with the painted map is kept
(foreground-weighted IoU, the measure ``edit_front_iou`` uses; a tie keeps the earlier, as drawn first). Only the
map as painted is consulted.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from models.cameras import Camera, canonical_view, orbit_camera
from models.fitting.framing import Framing, canonicalise, face_framing, framing_stats, off_framing, place_head
from models.fitting.painted import SilhouetteMode, fit_silhouette
from models.gaussians import Gaussians
from models.render import render_views


@lru_cache(maxsize=4)
def _front_camera(size: int) -> Camera:
    return orbit_camera(canonical_view().orbit_at(0.0, 0.0), size)


def foreground_weighted_iou(pred: Tensor, target: Tensor, num_classes: int = 15) -> float:
    """How well a class map ``pred`` [H, W] follows ``target`` [H, W]: pixel-weighted IoU over the foreground classes
    (sum of intersections / sum of unions). What the framing choice maximises, and ``perchead eval``'s
    ``edit_front_iou`` (models/evaluation/metrics.py)."""
    inter = union = 0
    for c in range(1, num_classes):
        p, t = pred == c, target == c
        inter += (p & t).sum().item()
        union += (p | t).sum().item()
    return inter / union if union else float("nan")


def front_agreement(head: Gaussians, painted: Tensor, silhouette: SilhouetteMode) -> float:
    """How well ``head``, fitted to the painted silhouette, follows the painted map [S, S] from the front."""
    fitted = fit_silhouette(head, painted, silhouette)
    out = render_views(fitted, [_front_camera(painted.shape[-1])], background=torch.zeros(3, device=painted.device))
    return foreground_weighted_iou(out.class_map[0], painted)


def halfway(f: Framing) -> Framing:
    """Half of a framing: half its shift and roll, the square root of its scale. A third candidate, for faces
    whose proportions account for part of what the estimate reads as framing."""
    return Framing((f.shift_px[0] / 2, f.shift_px[1] / 2), math.sqrt(f.scale), f.roll_deg / 2, f.cue, f.size)


def sideways(f: Framing) -> Framing:
    """A framing's sideways shift and roll alone. A fourth candidate, for a face drawn with its own proportions
    and then moved aside: proportions (a low mouth, wide-set eyes) read as a vertical shift and a scale, never as
    a sideways shift or a roll, since faces are left-right symmetric."""
    return Framing((f.shift_px[0], 0.0), 1.0, f.roll_deg, f.cue, f.size)


def candidates(plan: Framing, outline: Framing | None = None) -> list[Framing | None]:
    """What is decoded for a candidate framing, in order of preference on a tie: as drawn, the whole estimate,
    half of it, its sideways part alone where that part is itself beyond what engine maps show, and the framing
    read from the face's outline instead of its eyes and mouth (``outline``: ``framing.face_framing``),
    which a face's own proportions do not move."""
    options: list[Framing | None] = [None, plan, halfway(plan)]
    side = sideways(plan)
    if side != plan and off_framing(side):
        options.append(side)
    if outline is not None and outline != plan:
        options.append(outline)
    return options


def choose_framing(net, labels: np.ndarray, plan: Framing, style: Tensor,
                   silhouette: SilhouetteMode) -> tuple[Gaussians, Framing | None]:
    """The map [S, S] decoded for each of ``candidates(plan)`` in one batch (style [1, D]); the head that follows
    the painting best, put back in the map's framing, and the framing it was decoded with (None: as drawn).
    ``net(maps [K, S, S], styles [K, D])`` decodes (eagerly: K varies). Run by models/fitting/fitter.py."""
    device = style.device
    options = candidates(plan, face_framing(labels, framing_stats()))
    painted = torch.as_tensor(labels.astype(np.int64), device=device)  # [S, S]
    inputs = torch.stack([painted if f is None else torch.as_tensor(canonicalise(labels, f).astype(np.int64),
                                                                      device=device) for f in options])
    decoded = net(inputs, style.expand(len(options), -1))  # [3 to 5] heads
    heads = [decoded.head(i) if f is None else place_head(decoded.head(i), f) for i, f in enumerate(options)]
    best = best_candidate(painted, heads, silhouette)
    return heads[best], options[best]


def best_candidate(painted: Tensor, heads: Sequence[Gaussians], silhouette: SilhouetteMode) -> int:
    """painted [S, S] class ids; heads decoded for ``candidates`` and put back in the map's framing
    (``place_head``): the index of the one that agrees best with the painting (the first of equals)."""
    scores = [front_agreement(h, painted, silhouette) for h in heads]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))
