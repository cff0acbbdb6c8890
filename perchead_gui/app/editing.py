"""``Editor``: what the tools and the view controls change (the EditorState, the canvas, the camera).

It implements ``actions.EditActions`` and ``actions.ViewActions``: every change lands in the
document, and the panel that shows it is flagged in ``Changes`` for the window to redraw.
"""
from __future__ import annotations

from perchead_gui.app.document import Changes, Document
from perchead_gui.app.state import OVERLAYS, VIEW_MODES


class Editor:
    def __init__(self, doc: Document, changes: Changes) -> None:
        self.doc = doc
        self.changes = changes

    # ----- the canvas and its tools ----------------------------------------------------------

    def select_class(self, class_id: int) -> None:
        state = self.doc.state
        state.label = int(class_id)
        if state.tool in ("eraser", "picker"):
            state.tool = "brush"
        self.changes.tools = True

    def select_tool(self, tool: str) -> None:
        self.doc.state.tool = tool  # type: ignore[assignment]
        self.changes.tools = True

    def set_overlay(self, overlay: str, opacity: float | None = None) -> None:
        if overlay not in OVERLAYS:
            raise ValueError(f"overlay must be one of {OVERLAYS}")
        state = self.doc.state
        state.overlay = overlay  # type: ignore[assignment]
        if opacity is not None:
            state.overlay_opacity = min(1.0, max(0.0, float(opacity)))
        self.changes.tools = True

    def resize_brush(self, up: bool) -> None:
        self.doc.state.resize_brush(up=up)
        self.changes.tools = True

    def undo(self) -> None:
        self.doc.canvas.undo()
        self.changes.tools = True

    def redo(self) -> None:
        self.doc.canvas.redo()
        self.changes.tools = True

    def clear_canvas(self) -> None:
        self.doc.canvas.clear(0)
        self.changes.tools = True

    # ----- the 3D view -----------------------------------------------------------------------

    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode must be one of {VIEW_MODES}")
        self.doc.state.view_mode = mode  # type: ignore[assignment]
        self.changes.view = True

    def set_background(self, rgb: tuple[float, float, float]) -> None:
        self.doc.state.background = tuple(min(1.0, max(0.0, float(c))) for c in rgb)  # type: ignore[assignment]
        self.changes.view = True

    def set_turntable(self, on: bool) -> None:
        self.doc.state.turntable = bool(on)
        self.changes.view = True

    def toggle_turntable(self) -> None:
        self.set_turntable(not self.doc.state.turntable)

    def reset_view(self) -> None:
        self.doc.orbit.reset()
