"""From painted maps to heads that sit on them: the one way maps are decoded and fitted.

``MapFitter.decode`` is the step between the edit network and the screen, for the app (models/pipeline.py, its
start-up warm-up included) and ``perchead eval`` (models/evaluation/benchmark.py) alike:
1. framing (models/fitting/framing.py): a map framed outside what the engine's maps show (moved, scaled,
   tilted) is decoded in the engine's framing; where its eyes and mouth say so, the framing is chosen by
   decoding candidates (models/fitting/candidates.py);
2. the decode: the caller's network, given as a function;
3. the head moved back into the map's framing (``place_head``);
4. the fit to the painted map (models/fitting/painted.py): outline, then, as the caller asks, region following.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from models.errors import PercheadError
from models.fitting.candidates import choose_framing
from models.fitting.framing import (FRAMING_MODES, Framing, FramingMode, estimate_framing, frame_maps, off_framing,
                                    place_head, plan_framing)
from models.fitting.painted import PaintedFit, SilhouetteMode, check_silhouette_mode, fit_outline
from models.gaussians import Gaussians

# decode(maps [B, S, S] int64, styles [B, D]) -> decoded heads with ``.head(i) -> Gaussians`` (PredictedHeads)
Decode = Callable[[Tensor, Tensor], object]

# A map that differs from the previous one in fewer than this share of pixels is an edit of it (the
# strokes or fills painted between two decodes) and keeps the previous map's framing; a larger change
# is a new map. One dab of the app's largest brush (96 px) covers 11% of a 256² map.
STROKE_SHARE = 0.10


class MapFitter:
    """Decodes painted maps and fits each head to its map, as ``framing`` and ``silhouette`` say.

    ``remember``: the maps are one document painted stroke by stroke (the app): its framing is kept for strokes
    once settled, and a candidate framing is chosen once per settled plan. Without it every map is framed afresh
    (the benchmark)."""

    def __init__(self, framing: FramingMode = "auto", silhouette: SilhouetteMode = "fit",
                 remember: bool = False) -> None:
        if framing not in FRAMING_MODES:
            raise PercheadError(f"unknown framing mode {framing!r}; use one of {', '.join(FRAMING_MODES)}")
        # "auto": a seg map framed outside what the engine's maps show is decoded in the engine's framing and the
        # head moved back onto it; "off": as drawn
        self.framing: FramingMode = framing
        self.silhouette: SilhouetteMode = check_silhouette_mode(silhouette)
        self.remember = remember
        self.last_framing: Framing | None = None  # what the last decode undid (None: decoded as drawn)
        # the last map seen and its framing, kept for strokes once settled (one thread's: the app's worker)
        self._framed: tuple[str, np.ndarray, Framing | None, bool] | None = None  # (mode, last map, plan, settled)
        self._agreed: tuple[Framing, Framing | None] | None = None  # a settled plan and the framing its choice kept

    def decode(self, decode: Decode, maps: np.ndarray, style: Tensor, *, candidates: Decode | None = None,
               graphed: bool = False) -> list[PaintedFit]:
        """Maps [B, S, S] of class ids (host) + styles [B, D] -> one head per map, decoded in the framing the
        network knows, moved back onto its map and stretched to its painted outline (``PaintedFit``: region
        following is its next step). ``candidates`` decodes a map's candidate framings (default
        ``decode``; the app's CUDA-graph decode takes one map only); ``graphed``: the outline fill from a CUDA
        graph on a GPU (heads with the network's Gaussian count)."""
        device = style.device
        plans = [self.framing_for(m) for m in maps]
        chosen: dict[int, Gaussians] = {}
        for b, plan in enumerate(plans):
            if plan is not None and plan.cue == "landmarks":
                plans[b] = self._agreed_framing(maps[b], plan, style[b:b + 1], candidates or decode, chosen, b)
        self.last_framing = plans[-1] if len(plans) else None
        # every copy to the device before the decode is queued (a host-to-GPU copy waits for the work queued ahead
        # of it); a map decoded as drawn is its own painted map
        framed = torch.as_tensor(frame_maps(maps, plans).astype(np.int64), device=device)  # [B, S, S]
        painted = [framed[b] if f is None else torch.as_tensor(m.astype(np.int64), device=device)
                   for b, (m, f) in enumerate(zip(maps, plans))]  # B x [S, S], the maps as drawn
        decoded = None
        if len(chosen) < len(maps):  # the whole batch, so that no head depends on which maps needed a choice
            decoded = decode(framed, style)
        heads = [chosen[b] if b in chosen else decoded.head(b) if f is None else place_head(decoded.head(b), f)
                 for b, f in enumerate(plans)]
        return [fit_outline(h, p, self.silhouette, graphed=graphed, framing=f)
                for h, p, f in zip(heads, painted, plans)]

    def framing_for(self, labels: np.ndarray) -> Framing | None:
        """The framing to undo for ``labels`` [S, S] (None: decode as drawn). Remembering (the app): estimated afresh
        for a new map, kept for a brush stroke on the last one (fewer than ``STROKE_SHARE`` of its pixels
        changed) once it is settled.

        Why: framing belongs to the document, not to each stroke. Re-estimated per stroke, painting
        the eyes lower would move the head instead of its eyes, and the estimate cost ~1 ms a stroke
        on a GPU host. Settled means read from the eyes and the mouth: until a map has both (a head
        drawn from scratch), each stroke is estimated again, so the framing follows the drawing up
        to that point and then stays.
        """
        if self.framing not in FRAMING_MODES:
            raise PercheadError(f"unknown framing mode {self.framing!r}; use one of {', '.join(FRAMING_MODES)}")
        if not self.remember:
            return plan_framing(labels, self.framing)
        memo = self._framed
        if (memo is not None and memo[0] == self.framing and memo[3] and memo[1].shape == labels.shape
                and np.count_nonzero(memo[1] != labels) < STROKE_SHARE * labels.size):
            plan, settled = memo[2], True
        elif self.framing == "off":
            plan, settled = None, True
        else:  # may raise: then nothing is remembered
            estimate = estimate_framing(labels)
            plan = estimate if estimate is not None and off_framing(estimate) else None
            settled = estimate is not None and estimate.cue == "landmarks"
        self._framed = (self.framing, labels.copy(), plan, settled)
        return plan

    def _agreed_framing(self, labels: np.ndarray, plan: Framing, style: Tensor, decode: Decode,
                        chosen: dict[int, Gaussians], b: int) -> Framing | None:
        """Of decoding ``labels`` [S, S] as drawn, re-framed by ``plan`` or by part of it, the framing whose head
        follows the painted map best (models/fitting/candidates.py); that head goes to ``chosen[b]``. Remembering,
        it is decided once per settled plan: strokes that keep the plan keep the answer (and are decoded with it)."""
        if self.remember and self._agreed is not None and self._agreed[0] is plan:
            return self._agreed[1]
        chosen[b], framing = choose_framing(decode, labels, plan, style, self.silhouette)
        if self.remember:
            self._agreed = (plan, framing)
        return framing

    def forget_framing(self) -> None:
        """Estimate the next map's framing afresh (a new document, or a benchmark of the estimate)."""
        self._framed = None
        self._agreed = None
        self.last_framing = None
