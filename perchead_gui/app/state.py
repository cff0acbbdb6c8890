"""The editor's settings the panels write and the window reads (no window code).

Panels only change this state and call actions (actions.py); the window turns it into engine
requests once per frame. ``to_settings``/``apply_settings`` are what a project file stores under
"settings", so reopening a project restores the tools and the view as they were.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from models.palette import NUM_CLASSES

Tool = Literal["brush", "eraser", "fill", "picker"]
Overlay = Literal["off", "classes", "rgb"]
ViewMode = Literal["rgb", "classes", "depth"]
TOOLS: tuple[str, ...] = ("brush", "eraser", "fill", "picker")
OVERLAYS: tuple[str, ...] = ("off", "classes", "rgb")
VIEW_MODES: tuple[str, ...] = ("rgb", "classes", "depth")

MIN_BRUSH, MAX_BRUSH = 1, 96   # brush diameter in canvas pixels
BRUSH_STEP = 1.25              # [ and ] scale the brush by this factor (at least 1 px)
DEFAULT_BRUSH = 12
DEFAULT_BACKGROUND = (0.12, 0.12, 0.14)  # a dark grey: black hair stays visible against it


@dataclass
class EditorState:
    tool: Tool = "brush"
    label: int = 1                          # class painted by the brush (skin)
    brush_size: int = DEFAULT_BRUSH
    hardness: float = 1.0
    smoothing: float = 0.0
    overlay: Overlay = "off"
    overlay_opacity: float = 0.4
    view_mode: ViewMode = "rgb"
    background: tuple[float, float, float] = DEFAULT_BACKGROUND
    turntable: bool = False

    @property
    def paint_label(self) -> int:
        """What a stroke paints: the eraser paints background (class 0)."""
        return 0 if self.tool == "eraser" else self.label

    def resize_brush(self, up: bool) -> None:
        """[ and ]: a multiplicative step, so small brushes change by a pixel and large ones faster."""
        size = self.brush_size * BRUSH_STEP if up else self.brush_size / BRUSH_STEP
        step = max(1, abs(round(size) - self.brush_size))
        self.brush_size = int(min(MAX_BRUSH, max(MIN_BRUSH, self.brush_size + (step if up else -step))))

    def to_settings(self) -> dict[str, Any]:
        return {"tool": self.tool, "label": self.label, "brush_size": self.brush_size,
                "hardness": self.hardness, "smoothing": self.smoothing, "overlay": self.overlay,
                "overlay_opacity": self.overlay_opacity, "view_mode": self.view_mode,
                "background": list(self.background), "turntable": self.turntable}

    def apply_settings(self, d: dict[str, Any]) -> None:
        """Take what is valid from a project's settings; anything unknown or out of range is skipped."""
        if d.get("tool") in TOOLS:
            self.tool = d["tool"]
        if _is_int(d.get("label")) and 0 <= d["label"] < NUM_CLASSES:
            self.label = int(d["label"])
        if _is_int(d.get("brush_size")):
            self.brush_size = int(min(MAX_BRUSH, max(MIN_BRUSH, d["brush_size"])))
        for key in ("hardness", "smoothing", "overlay_opacity"):
            if _is_unit(d.get(key)):
                setattr(self, key, float(d[key]))
        if d.get("overlay") in OVERLAYS:
            self.overlay = d["overlay"]
        if d.get("view_mode") in VIEW_MODES:
            self.view_mode = d["view_mode"]
        bg = d.get("background")
        if isinstance(bg, (list, tuple)) and len(bg) == 3 and all(_is_unit(c) for c in bg):
            self.background = (float(bg[0]), float(bg[1]), float(bg[2]))
        if isinstance(d.get("turntable"), bool):
            self.turntable = d["turntable"]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_unit(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0.0 <= v <= 1.0
