"""Re-frame a drawing or not: the decode that follows the painted map better decides.

The framing normaliser (models/segmap_framing.py) reads where a drawn face sits from its eyes and mouth. A map
that was moved and a face drawn in place with its own proportions can read alike, and re-framing helps the
first and hurts the second (a hand-drawn face whose mouth sits low lost 0.16 IoU; docs/quality.md). So where
the estimate is a candidate (beyond ``segmap_framing.DRAWN_MARGINS`` on the eyes-and-mouth cue) both heads are
decoded, each fitted to the painted silhouette as the app shows it, rendered at the canonical camera, and the
one whose classes agree better with the painted map is kept (foreground-weighted IoU, the measure
``edit_front_iou`` uses; a tie keeps the map as drawn). Only the map as painted is consulted.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from models.cameras import Camera, canonical_view, orbit_camera
from models.evaluation.metrics import foreground_weighted_iou
from models.gaussians import Gaussians
from models.render import render_views
from models.silhouette import SilhouetteMode, fit_silhouette


@lru_cache(maxsize=4)
def _front_camera(size: int) -> Camera:
    return orbit_camera(canonical_view().orbit_at(0.0, 0.0), size)


def front_agreement(head: Gaussians, painted: Tensor, silhouette: SilhouetteMode) -> float:
    """How well ``head``, fitted to the painted silhouette, follows the painted map [S, S] from the front."""
    fitted = fit_silhouette(head, painted, silhouette)
    out = render_views(fitted, [_front_camera(painted.shape[-1])], background=torch.zeros(3, device=painted.device))
    return foreground_weighted_iou(out.class_map[0], painted)


def prefer_reframed(painted: Tensor, as_drawn: Gaussians, reframed: Gaussians, silhouette: SilhouetteMode) -> bool:
    """painted [S, S] class ids; the head decoded from the map as drawn and the one decoded re-framed and put
    back (``place_head``): True when the re-framed head agrees better with the painting."""
    return front_agreement(reframed, painted, silhouette) > front_agreement(as_drawn, painted, silhouette)
