"""Keep a decoded head inside the silhouette the artist painted.

The seg map is the head seen by the canonical camera, so nothing of the head can lie outside the
painted foreground when seen from there: a Gaussian whose centre projects onto a background pixel
contradicts the map. The edit network's shape prior puts some there anyway (a fuller hair blob, the
engine's shoulders where a drawing has a narrow ellipse); removing them makes the head follow what
was painted, in every view (the silhouette cone of the front view bounds the whole head).
Only the centre is tested: a Gaussian centred inside may still spill a little over the edge, and a
region painted larger than the network made it stays too small (nothing is grown here).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import Camera, canonical_view, project_points
from models.errors import PercheadError
from models.gaussians import Gaussians

CarveMode = Literal["on", "off"]
CARVE_MODES: tuple[CarveMode, ...] = ("on", "off")


@lru_cache(maxsize=8)
def _canonical_camera(size: int, device: str) -> Camera:
    return canonical_view().camera(size).to(device)


def inside_silhouette(means: Tensor, labels: Tensor) -> Tensor:
    """[N] bool: Gaussian centres ``means`` [N, 3] whose canonical-view pixel is painted foreground in
    ``labels`` [S, S] (class ids; 0 = background). Centres off the image count as inside: the map says
    nothing there (clothes run off its bottom edge). No host sync."""
    size = labels.shape[-1]
    cam = _canonical_camera(size, str(means.device))
    uv = project_points(means.float(), cam)  # [N, 2] pixels, centres at +0.5
    off_image = (uv < 0).any(-1) | (uv >= size).any(-1)
    xy = uv.floor().long().clamp(0, size - 1)  # [N, 2]
    fg = closed_foreground(labels.to(means.device) > 0)  # [S, S]
    return fg[xy[:, 1], xy[:, 0]] | off_image


def closed_foreground(fg: Tensor) -> Tensor:
    """[S, S] bool: the painted foreground with background specks and cracks up to 2 px wide filled
    (a 3x3 closing). A stray background pixel inside a painted face (an eraser slip, a brush's
    anti-aliased fringe read back as black) must not carve a tunnel through the head."""
    x = fg.float()[None, None]  # [1, 1, S, S]
    grown = F.max_pool2d(x, 3, 1, 1)
    closed = -F.max_pool2d(-F.pad(grown, (1, 1, 1, 1), value=1.0), 3, 1, 0)  # erode; beyond the edge counts as painted
    return closed[0, 0] > 0


def check_carve_mode(mode: str) -> CarveMode:
    """``mode`` if it is one of CARVE_MODES, else a PercheadError saying which are."""
    if mode not in CARVE_MODES:
        raise PercheadError(f"unknown carve mode {mode!r}; use one of {', '.join(CARVE_MODES)}")
    return mode  # type: ignore[return-value]


def carve(g: Gaussians, labels: Tensor, mode: CarveMode = "on") -> Gaussians:
    """The head without its Gaussians outside the painted silhouette (``mode="off"``: unchanged).
    Selects by a mask, so it waits for a GPU; the live editor hides them instead (models.pipeline)."""
    if check_carve_mode(mode) == "off":
        return g
    return g[inside_silhouette(g.means, labels)]
