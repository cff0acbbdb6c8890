"""Fitting: what runs between the edit network's output and the head on screen (docs/quality.md).

- ``fitter``: ``MapFitter.decode``, the entry point: framing, decode, the head put back, its outline fitted;
- ``painted``: ``PaintedFit``, the fit's steps (outline, region following) and their modes;
- ``framing`` (estimate a map's framing, re-frame it, move a head back), ``candidates`` (choose among framings
  by decoding them), ``similarity`` (a 2D similarity of the canonical image as a 3D one, shared with training);
- ``outline``, ``regions`` (the steps), ``front_view`` (the canonical camera and class render they compare
  with the paint), ``graphs`` (their CUDA graphs).
"""
from models.fitting.fitter import MapFitter
from models.fitting.framing import FRAMING_MODES, FramingMode
from models.fitting.painted import SILHOUETTE_MODES, PaintedFit, SilhouetteMode, fit_silhouette

__all__ = ["FRAMING_MODES", "SILHOUETTE_MODES", "FramingMode", "MapFitter", "PaintedFit", "SilhouetteMode",
           "fit_silhouette"]
