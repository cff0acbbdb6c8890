"""The 3D view: the engine's frames in a raw texture, the view controls, and the error overlay.

Two textures: one at full render size and one at the interactive size used while the user
drags or the turntable spins (the GPU scales either to the same square on screen). A failed
render or decode writes its message over the view and leaves the last good frame in place.
"""
from __future__ import annotations

import textwrap
import dearpygui.dearpygui as dpg
import numpy as np

from perchead_gui.app.actions import ViewActions
from perchead_gui.app.compose import rgba
from perchead_gui.app.state import VIEW_MODES, EditorState

DRAWLIST = "view/drawlist"
IMAGE = "view/image"
ERROR_BOX, ERROR_TEXT, BUSY_TEXT = "view/error_box", "view/error_text", "view/busy"
MODE_LABELS = {"rgb": "RGB", "classes": "Classes", "depth": "Depth"}
ERROR_WRAP_CHARS = 62
# one line over the 480 px view (a double-click resets too: the Reset button, F1 and docs/app.md say so)
VIEW_TITLE = "3D head (drag: orbit, right-drag: pan, wheel: zoom, R: reset)"


def texture_tag(size: int) -> str:
    return f"view/texture/{size}"


class ViewportPanel:
    def __init__(self, state: EditorState, actions: ViewActions, display_px: int, sizes: tuple[int, ...]) -> None:
        self.state = state
        self.actions = actions
        self.display_px = display_px
        self.sizes = tuple(sorted(set(sizes)))
        # One buffer per texture, written in place (the raw texture reads it every frame).
        self.buffers = {s: np.zeros((s, s, 4), np.float32) for s in self.sizes}  # [S, S, RGBA]
        self.shown_size = self.sizes[-1]
        self.error: str | None = None

    def build(self) -> None:
        with dpg.texture_registry():
            for s, buf in self.buffers.items():
                dpg.add_raw_texture(s, s, buf.ravel(), format=dpg.mvFormat_Float_rgba, tag=texture_tag(s))
        d = self.display_px
        with dpg.group(tag="view"):
            dpg.add_text(VIEW_TITLE, tag="view/title")
            with dpg.drawlist(d, d, tag=DRAWLIST):
                dpg.draw_image(texture_tag(self.shown_size), (0, 0), (d, d), tag=IMAGE)
                dpg.draw_text((8, d - 22), "", tag=BUSY_TEXT, color=(255, 220, 120, 255), size=15)
                dpg.draw_rectangle((0, 0), (d, 64), tag=ERROR_BOX, fill=(110, 0, 0, 200),
                                   color=(255, 80, 80, 255), show=False)
                dpg.draw_text((8, 6), "", tag=ERROR_TEXT, color=(255, 255, 255, 255), size=15, show=False)
            with dpg.group(horizontal=True):
                dpg.add_radio_button([MODE_LABELS[m] for m in VIEW_MODES], tag="view/mode", horizontal=True,
                                     callback=self._mode_changed)
                dpg.add_color_edit(tag="view/background", no_inputs=True, no_alpha=True, no_label=True,
                                   width=24, callback=self._background_changed)
                dpg.add_text("background")
            with dpg.group(horizontal=True):
                dpg.add_checkbox(label="turntable (T)", tag="view/turntable",
                                 callback=lambda s, v: self.actions.set_turntable(bool(v)))
                dpg.add_button(label="Reset view (R)", tag="view/reset", callback=lambda: self.actions.reset_view())
        self.sync()

    def sync(self) -> None:
        s = self.state
        dpg.set_value("view/mode", MODE_LABELS[s.view_mode])
        dpg.set_value("view/background", [int(round(c * 255)) for c in s.background] + [255])
        dpg.set_value("view/turntable", s.turntable)

    # ----- coordinates -----------------------------------------------------------------------

    def contains(self, pos: tuple[float, float]) -> bool:
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        return x0 <= pos[0] < x0 + self.display_px and y0 <= pos[1] < y0 + self.display_px

    def hovered(self) -> bool:
        """The mouse is over the view and no other window lies on top."""
        return bool(dpg.is_item_hovered(DRAWLIST))

    def centre(self) -> tuple[float, float]:
        x0, y0 = dpg.get_item_rect_min(DRAWLIST)
        return x0 + self.display_px / 2, y0 + self.display_px / 2

    # ----- results ---------------------------------------------------------------------------

    def show_frame(self, image: np.ndarray) -> None:
        """A rendered frame [S, S, 3] into the texture of its size, and that texture on screen."""
        size = image.shape[0]
        if size not in self.buffers or image.shape[:2] != (size, size):
            raise ValueError(f"no viewport texture for a {image.shape[:2]} frame; sizes are {self.sizes}")
        self.buffers[size][...] = rgba(np.clip(image, 0.0, 1.0))
        if size != self.shown_size:
            dpg.configure_item(IMAGE, texture_tag=texture_tag(size))
            self.shown_size = size

    def shown_pixels(self) -> np.ndarray:
        """What the view shows now: [S, S, 4] float32 (a copy)."""
        return self.buffers[self.shown_size].copy()

    def show_error(self, message: str | None) -> None:
        """Write ``message`` over the view (None hides it); the frame underneath stays."""
        self.error = message
        if not message:
            dpg.configure_item(ERROR_BOX, show=False)
            dpg.configure_item(ERROR_TEXT, show=False)
            return
        lines = textwrap.wrap(message, ERROR_WRAP_CHARS)[:5]
        dpg.configure_item(ERROR_TEXT, text="\n".join(lines), show=True)
        dpg.configure_item(ERROR_BOX, pmax=(self.display_px, 14 + 18 * len(lines)), show=True)

    def show_busy(self, text: str) -> None:
        dpg.configure_item(BUSY_TEXT, text=text)

    # ----- callbacks -------------------------------------------------------------------------

    def _mode_changed(self, sender, label: str, user_data) -> None:
        self.actions.set_view_mode(next(m for m, text in MODE_LABELS.items() if text == label))

    def _background_changed(self, sender, value, user_data) -> None:
        rgb = [float(c) for c in value[:3]]
        if max(rgb) > 1.0:  # the colour edit reports 0-255 or 0-1 depending on the Dear PyGui version
            rgb = [c / 255.0 for c in rgb]
        self.actions.set_background((rgb[0], rgb[1], rgb[2]))
