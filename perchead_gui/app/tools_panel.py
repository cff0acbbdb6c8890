"""Left column: the class palette, the tools, brush settings, undo/redo/clear and the overlay.

Widgets write EditorState (the brush sliders directly, the rest through ``EditActions``) and
never touch the engine; ``sync`` copies the state back into the widgets after a shortcut, a
project load or an eyedropper pick.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from models.palette import palette
from perchead_gui.app.actions import EditActions
from perchead_gui.app.state import MAX_BRUSH, MIN_BRUSH, OVERLAYS, TOOLS, EditorState
from perchead_gui.canvas import PaintCanvas

TOOL_LABELS = {"brush": "Brush (B)", "eraser": "Eraser (E)", "fill": "Fill (F)", "picker": "Picker (I)"}
OVERLAY_LABELS = {"off": "off", "classes": "head class map", "rgb": "head colours"}
SWATCH = 16


def class_key_hint(class_id: int) -> str:
    """The key that selects a class, as shown beside its name."""
    return str(class_id) if class_id < 10 else f"Sh+{class_id - 10}"


class ToolsPanel:
    TAG = "tools"

    def __init__(self, state: EditorState, canvas: PaintCanvas, actions: EditActions) -> None:
        self.state = state
        self.canvas = canvas
        self.actions = actions

    def build(self, width: int, height: int) -> None:
        pal = palette()
        with dpg.child_window(tag=self.TAG, width=width, height=height, border=False):
            dpg.add_text("Classes")
            for i in pal.ids:
                with dpg.group(horizontal=True):
                    dpg.add_color_button(tuple(int(c) for c in pal.colors[i]) + (255,), width=SWATCH,
                                         height=SWATCH, no_border=i != 0, no_drag_drop=True,
                                         callback=self._pick_class, user_data=i, tag=f"tools/swatch/{i}")
                    dpg.add_selectable(label=f"{class_key_hint(i):>4}  {pal.display[i]}", tag=f"tools/class/{i}",
                                       callback=self._pick_class, user_data=i, span_columns=True)
            dpg.add_separator()
            dpg.add_radio_button([TOOL_LABELS[t] for t in TOOLS], tag="tools/tool", horizontal=False,
                                 callback=self._pick_tool)
            dpg.add_slider_int(label="size", tag="tools/size", min_value=MIN_BRUSH, max_value=MAX_BRUSH,
                               clamped=True, width=width - 80, callback=self._brush_changed)
            dpg.add_slider_float(label="hardness", tag="tools/hardness", min_value=0.0, max_value=1.0,
                                 clamped=True, width=width - 80, format="%.2f", callback=self._brush_changed)
            dpg.add_slider_float(label="smoothing", tag="tools/smoothing", min_value=0.0, max_value=1.0,
                                 clamped=True, width=width - 80, format="%.2f", callback=self._brush_changed)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Undo", tag="tools/undo", callback=lambda: self.actions.undo())
                dpg.add_button(label="Redo", tag="tools/redo", callback=lambda: self.actions.redo())
                dpg.add_button(label="Clear", tag="tools/clear", callback=lambda: self.actions.clear_canvas())
            dpg.add_separator()
            dpg.add_text("Overlay on the canvas")
            dpg.add_combo([OVERLAY_LABELS[o] for o in OVERLAYS], tag="tools/overlay", width=width - 16,
                          callback=self._overlay_changed)
            dpg.add_slider_float(label="opacity", tag="tools/overlay_opacity", min_value=0.0, max_value=1.0,
                                 clamped=True, width=width - 80, format="%.2f", callback=self._overlay_changed)
        self.sync()

    def sync(self) -> None:
        """State -> widgets."""
        s = self.state
        for i in palette().ids:
            dpg.set_value(f"tools/class/{i}", i == s.label)
        dpg.set_value("tools/tool", TOOL_LABELS[s.tool])
        dpg.set_value("tools/size", s.brush_size)
        dpg.set_value("tools/hardness", s.hardness)
        dpg.set_value("tools/smoothing", s.smoothing)
        dpg.set_value("tools/overlay", OVERLAY_LABELS[s.overlay])
        dpg.set_value("tools/overlay_opacity", s.overlay_opacity)
        dpg.configure_item("tools/undo", enabled=self.canvas.can_undo)
        dpg.configure_item("tools/redo", enabled=self.canvas.can_redo)

    # ----- callbacks (sender, app_data, user_data) --------------------------------------------

    def _pick_class(self, sender, app_data, class_id: int) -> None:
        self.actions.select_class(class_id)

    def _pick_tool(self, sender, app_data: str, user_data) -> None:
        tool = next(t for t, label in TOOL_LABELS.items() if label == app_data)
        self.actions.select_tool(tool)

    def _brush_changed(self, sender, app_data, user_data) -> None:
        s = self.state
        s.brush_size = int(dpg.get_value("tools/size"))
        s.hardness = float(dpg.get_value("tools/hardness"))
        s.smoothing = float(dpg.get_value("tools/smoothing"))

    def _overlay_changed(self, sender, app_data, user_data) -> None:
        label = dpg.get_value("tools/overlay")
        overlay = next(o for o, text in OVERLAY_LABELS.items() if text == label)
        self.actions.set_overlay(overlay, float(dpg.get_value("tools/overlay_opacity")))
