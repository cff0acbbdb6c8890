"""The paint canvas: the class map (with the head overlay) in one raw texture, and the brush cursor.

The texture is the canvas scaled up by nearest neighbour in numpy, so class edges stay crisp;
it is rewritten in place only when the map or the overlay changed. Mouse positions are
mapped to canvas pixels here; what a press does (stroke, line, fill, pick) is gestures.py's.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from perchead_gui.app.compose import canvas_rgb, resize_nearest, rgba
from perchead_gui.app.state import EditorState
from perchead_gui.canvas import PaintCanvas

TEXTURE = "canvas/texture"
DRAWLIST = "canvas/drawlist"
CURSOR = "canvas/cursor"


class CanvasPanel:
    def __init__(self, canvas: PaintCanvas, state: EditorState, display_px: int) -> None:
        self.canvas = canvas
        self.state = state
        self.display_px = display_px
        self._shown: tuple | None = None  # what the texture holds: (canvas version, overlay id, opacity)
        # The raw texture reads this buffer every frame: it is written in place, never replaced.
        self.pixels = np.zeros((display_px, display_px, 4), np.float32)  # [D, D, RGBA]

    def build(self) -> None:
        with dpg.texture_registry():
            dpg.add_raw_texture(self.display_px, self.display_px, self.pixels.ravel(),
                                format=dpg.mvFormat_Float_rgba, tag=TEXTURE)
        with dpg.group(tag="canvas"):
            dpg.add_text("Seg map (paint here)", tag="canvas/title")
            with dpg.drawlist(self.display_px, self.display_px, tag=DRAWLIST):
                dpg.draw_image(TEXTURE, (0, 0), (self.display_px, self.display_px))
                dpg.draw_circle((0, 0), 1, tag=CURSOR, color=(255, 255, 255, 200), thickness=1.5, show=False)

    # ----- coordinates -----------------------------------------------------------------------

    def contains(self, pos: tuple[float, float]) -> bool:
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        return x0 <= pos[0] < x0 + self.display_px and y0 <= pos[1] < y0 + self.display_px

    def hovered(self) -> bool:
        """The mouse is over the canvas and no other window lies on top."""
        return bool(dpg.is_item_hovered(DRAWLIST))

    def to_canvas(self, pos: tuple[float, float]) -> tuple[float, float]:
        """Window position -> canvas pixel coordinates (floats, x right, y down)."""
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        scale = self.canvas.size / self.display_px
        return (pos[0] - x0) * scale, (pos[1] - y0) * scale

    def to_window(self, x: float, y: float) -> tuple[float, float]:
        """Canvas pixel coordinates -> window position (tests aim strokes with it)."""
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        scale = self.display_px / self.canvas.size
        return x0 + x * scale, y0 + y * scale

    # ----- drawing ---------------------------------------------------------------------------

    def refresh(self, overlay: np.ndarray | None, overlay_id: int) -> bool:
        """Rewrite the texture when the map or overlay changed; True when it did."""
        s = self.state
        opacity = s.overlay_opacity if s.overlay != "off" and overlay is not None else 0.0
        key = (self.canvas.version, overlay_id if opacity > 0 else -1, opacity)
        if key == self._shown:
            return False
        rgb = canvas_rgb(self.canvas.labels, overlay, opacity)
        self.pixels[...] = rgba(resize_nearest(rgb, self.display_px, self.display_px))
        self._shown = key
        return True

    def show_cursor(self, pos: tuple[float, float] | None) -> None:
        """The brush outline at the mouse (sized to the brush), hidden off the canvas."""
        if pos is None or not self.contains(pos):
            dpg.configure_item(CURSOR, show=False)
            return
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        radius = max(1.0, self.state.brush_size * self.display_px / self.canvas.size / 2.0)
        dpg.configure_item(CURSOR, center=(pos[0] - x0, pos[1] - y0), radius=radius,
                           show=self.state.tool in ("brush", "eraser"))
