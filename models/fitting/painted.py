"""A decoded head fitted to the map the artist painted: outline filled, regions followed.

The seg map is the head seen by the canonical camera. The edit network's shape prior disagrees with it in
places (a fuller hair blob than painted, its own face outline and hairline), so after the decode, in this
order (models/fitting/fitter.py starts it for the app, ``perchead eval`` and the framing choice alike):
1. ``fill_outline`` (models/fitting/outline.py): hair / hat / clothes stretched to the painted outline;
2. ``follow_painted_regions`` (models/fitting/regions.py): the regions inside it moved onto the painted ones.
The modes say how much of it runs: "fit" both; "outline" no region following (the fit before region
following, kept to measure it against); "off" the network's head as decoded.

A third step, carving (Gaussians whose centre projects onto painted background left out), went in the
fourteenth session: inside the fit it gained 0.0025 front IoU on drawn maps 40-79 and 0.0001 on engine heads, at
the same detail (experiments/region_follow_sweep.py, "+nocarve"), under issue 24's bar of 0.02 for a fitting step
to stay (docs/quality.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

from torch import Tensor

from models.errors import PercheadError
from models.fitting.framing import Framing
from models.fitting.outline import fill_outline
from models.fitting.regions import DEFAULT_FOLLOW, FollowSettings, follow_painted_regions
from models.gaussians import Gaussians

SilhouetteMode = Literal["fit", "outline", "off"]
SILHOUETTE_MODES: tuple[SilhouetteMode, ...] = get_args(SilhouetteMode)


def check_silhouette_mode(mode: str) -> SilhouetteMode:
    """``mode`` if it is one of SILHOUETTE_MODES, else a PercheadError saying which are."""
    if mode not in SILHOUETTE_MODES:
        raise PercheadError(f"unknown silhouette mode {mode!r}; use one of {', '.join(SILHOUETTE_MODES)}")
    return mode  # type: ignore[return-value]


@dataclass(frozen=True)
class PaintedFit:
    """A head on its way onto the painted map: step 1 done (``fit_outline``); ``followed`` runs step 2. The steps
    are apart because the live editor shows the head before region following (~300 ms a stroke on a 2-core CPU)."""

    head: Gaussians
    painted: Tensor                   # [S, S] class ids, on the head's device
    mode: SilhouetteMode
    framing: Framing | None = None    # the framing the head was decoded in and moved back from (None: as drawn)

    @property
    def follows(self) -> bool:
        """Whether step 2 (region following) belongs to this mode."""
        return self.mode == "fit"

    def followed(self, settings: FollowSettings = DEFAULT_FOLLOW) -> PaintedFit:
        """Step 2: the head's regions moved onto the painted ones (unchanged where the mode has no step 2).
        ``settings``: how hard (the shipped ones unless a sweep tries others)."""
        if not self.follows:
            return self
        return replace(self, head=follow_painted_regions(self.head, self.painted, settings))

    def settled(self) -> Gaussians:
        """Step 2 done: the head as the app settles on it."""
        return self.followed().head


def fit_outline(head: Gaussians, painted: Tensor, mode: SilhouetteMode = "fit", graphed: bool = False,
                framing: Framing | None = None) -> PaintedFit:
    """Step 1: ``head`` stretched to the outline of ``painted`` [S, S] where ``mode`` asks ("fit", "outline").
    ``graphed``: on a GPU, from a CUDA graph (heads with the network's Gaussian count: the live editor)."""
    mode = check_silhouette_mode(mode)
    if mode in ("fit", "outline"):
        head = fill_outline(head, painted, graphed=graphed)
    return PaintedFit(head, painted, mode, framing)


def fit_silhouette(head: Gaussians, painted: Tensor, mode: SilhouetteMode = "fit") -> Gaussians:
    """Both steps at once ("off": ``head`` unchanged)."""
    return fit_outline(head, painted, mode).settled()
