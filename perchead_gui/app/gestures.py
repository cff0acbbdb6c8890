"""``Gestures``: what the mouse and the keys do. Paint and pick on the canvas, orbit, pan and
zoom the view, and the shortcuts of ``shortcuts.py``.

Two layers. The Dear PyGui handlers (``build`` registers them) read the device: they run
queued, in event order, at the start of each frame (manual callback management), so the
pointer position comes from the move events themselves and the modifiers from the
press/release events seen so far, not from the device's state when the queue is run (a fast
Ctrl+Z may be over by then). The gesture methods (``pointer_down``, ``key``, ...) do the work;
tests call them with window positions and key names, as the handlers do.
"""
from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from perchead_gui.app import dialogs
from perchead_gui.app.actions import Actions
from perchead_gui.app.canvas_panel import CanvasPanel
from perchead_gui.app.dialogs import FileDialogs
from perchead_gui.app.document import Changes, Document
from perchead_gui.app.shortcuts import Mods, action_for
from perchead_gui.app.state import VIEW_MODES
from perchead_gui.app.viewport_panel import ViewportPanel

_KEY_NAMES: dict[int, str] = {}
_CTRL_KEYS = {dpg.mvKey_LControl, dpg.mvKey_RControl, getattr(dpg, "mvKey_ModCtrl", dpg.mvKey_LControl)}
_SHIFT_KEYS = {dpg.mvKey_LShift, dpg.mvKey_RShift, getattr(dpg, "mvKey_ModShift", dpg.mvKey_LShift)}
_ALT_KEYS = {dpg.mvKey_LAlt, dpg.mvKey_RAlt, getattr(dpg, "mvKey_ModAlt", dpg.mvKey_LAlt)}
_MODIFIER_KEYS = _CTRL_KEYS | _SHIFT_KEYS | _ALT_KEYS


def key_names() -> dict[int, str]:
    """Dear PyGui key code -> the names shortcuts.py uses."""
    if not _KEY_NAMES:
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
            _KEY_NAMES[getattr(dpg, f"mvKey_{c}")] = c
        _KEY_NAMES[dpg.mvKey_Open_Brace] = "["
        _KEY_NAMES[dpg.mvKey_Close_Brace] = "]"
        _KEY_NAMES[dpg.mvKey_F1] = "F1"
    return _KEY_NAMES


class Gestures:
    """``typing`` says a text field has the keyboard (keys type there, shortcuts stay quiet)."""

    def __init__(self, doc: Document, changes: Changes, actions: Actions, canvas_panel: CanvasPanel,
                 view_panel: ViewportPanel, file_dialogs: FileDialogs, typing: Callable[[], bool]) -> None:
        self.doc = doc
        self.changes = changes
        self.actions = actions
        self.canvas_panel = canvas_panel
        self.view_panel = view_panel
        self.file_dialogs = file_dialogs
        self.typing = typing
        self._drag: dict | None = None               # the gesture in progress: target, button, last position
        self._pointer: tuple[float, float] | None = None  # window position of the last mouse event
        self._keys_down: set[int] = set()            # modifier keys pressed and not yet released
        self._last_paint: tuple[float, float] | None = None

    def build(self) -> None:
        with dpg.handler_registry(tag="input"):
            dpg.add_mouse_click_handler(callback=self._on_click)
            dpg.add_mouse_release_handler(callback=self._on_release)
            dpg.add_mouse_move_handler(callback=self._on_move)
            dpg.add_mouse_wheel_handler(callback=self._on_wheel)
            dpg.add_mouse_double_click_handler(callback=self._on_double_click)
            dpg.add_key_press_handler(callback=self._on_key)
            dpg.add_key_release_handler(callback=self._on_key_release)

    def dragging(self, target: str) -> bool:
        """A drag on ``target`` ("canvas" or "view") is going on."""
        return self._drag is not None and self._drag["target"] == target

    # ----- the gestures ----------------------------------------------------------------------

    def pointer_down(self, pos: tuple[float, float], button: int, mods: Mods = Mods()) -> None:
        """A press at a window position: paint on the canvas, or start orbit/pan on the view."""
        if self._blocked():
            return
        if self.canvas_panel.contains(pos):
            self._drag = {"target": "canvas", "button": button, "pos": pos}
            self._paint_press(self.canvas_panel.to_canvas(pos), button, mods)
        elif self.view_panel.contains(pos):
            pan = button in (1, 2) or mods.shift
            self._drag = {"target": "view", "button": button, "pos": pos, "pan": pan}

    def pointer_move(self, pos: tuple[float, float]) -> None:
        self.canvas_panel.show_cursor(pos)
        drag = self._drag
        if drag is None:
            return
        dx, dy = pos[0] - drag["pos"][0], pos[1] - drag["pos"][1]
        drag["pos"] = pos
        canvas, orbit = self.doc.canvas, self.doc.orbit
        if drag["target"] == "canvas":
            if canvas.in_stroke:
                canvas.extend_stroke(*self.canvas_panel.to_canvas(pos))
        elif drag["pan"]:
            orbit.pan_by(dx, dy, self.view_panel.display_px)
        else:
            orbit.drag(dx, dy)

    def pointer_up(self, button: int) -> None:
        drag = self._drag
        if drag is None or drag["button"] != button:
            return
        self._drag = None
        canvas = self.doc.canvas
        if drag["target"] == "canvas" and canvas.in_stroke:
            canvas.end_stroke()
            self._last_paint = self.canvas_panel.to_canvas(drag["pos"])
            self.changes.tools = True

    def wheel(self, pos: tuple[float, float], steps: float) -> None:
        """Wheel over the view zooms; over the canvas it sizes the brush."""
        if self._blocked():
            return
        if self.view_panel.contains(pos):
            self.doc.orbit.zoom(steps)
        elif self.canvas_panel.contains(pos) and steps:
            self.actions.edit.resize_brush(up=steps > 0)

    def double_click(self, pos: tuple[float, float], button: int) -> None:
        if button == 0 and self.view_panel.contains(pos) and not self._blocked():
            self.actions.view.reset_view()

    def key(self, name: str, mods: Mods = Mods()) -> str | None:
        """A key press by name ("Z", "[", "F1"); returns the action run, if any."""
        if self._blocked() and name != "F1":
            return None
        action = action_for(name, mods.ctrl, mods.shift)
        if action is None:
            return None
        self._run_action(action)
        return action

    def _run_action(self, action: str) -> None:
        a, s = self.actions, self.doc.state
        if action.startswith("class_"):
            a.edit.select_class(int(action.split("_")[1]))
        elif action.startswith("tool_"):
            a.edit.select_tool(action[len("tool_"):])
        elif action in ("size_up", "size_down"):
            a.edit.resize_brush(up=action == "size_up")
        elif action == "overlay":
            a.edit.set_overlay("off" if s.overlay != "off" else "classes")
        elif action == "view_mode":
            a.view.set_view_mode(VIEW_MODES[(VIEW_MODES.index(s.view_mode) + 1) % len(VIEW_MODES)])
        elif action == "turntable":
            a.view.toggle_turntable()
        elif action == "help":
            dialogs.toggle_help()
        else:
            handlers: dict[str, Callable[[], None]] = {
                "undo": a.edit.undo, "redo": a.edit.redo, "reset_view": a.view.reset_view, "save": a.files.save,
                "save_as": a.files.ask_save_as, "open": a.files.ask_open_project,
                "export_head": a.exports.ask_export_head}
            handlers[action]()

    def _paint_press(self, point: tuple[float, float], button: int, mods: Mods) -> None:
        """What a canvas press does: pick (Alt or picker), fill, a Shift line, or a stroke."""
        s, canvas, x, y = self.doc.state, self.doc.canvas, point[0], point[1]
        if mods.alt or s.tool == "picker":
            s.label = canvas.pick(x, y)
            if s.tool in ("picker", "eraser"):
                s.tool = "brush"
        elif s.tool == "fill":
            canvas.fill(int(x), int(y), 0 if button == 1 else s.label)
        elif mods.shift and self._last_paint is not None:
            canvas.line(*self._last_paint, x, y, s.paint_label, s.brush_size, s.hardness)
            self._last_paint = (x, y)
        else:  # the right button paints background, like a quick eraser
            label = 0 if button == 1 else s.paint_label
            canvas.begin_stroke(x, y, label, s.brush_size, s.hardness, s.smoothing)
        self.changes.tools = True

    def _blocked(self) -> bool:
        """A modal or file dialog owns the mouse and keys."""
        return dialogs.modal_open() or self.file_dialogs.is_open()

    # ----- Dear PyGui handlers: (sender, app_data, user_data) ---------------------------------

    def _mouse(self) -> tuple[float, float]:
        if self._pointer is None:
            x, y = dpg.get_mouse_pos(local=False)
            self._pointer = (float(x), float(y))
        return self._pointer

    def _mods(self) -> Mods:
        down = self._keys_down
        return Mods(ctrl=bool(down & _CTRL_KEYS), shift=bool(down & _SHIFT_KEYS), alt=bool(down & _ALT_KEYS))

    def _on_click(self, sender, button, user_data) -> None:
        pos = self._mouse()
        over = ((self.canvas_panel.contains(pos) and self.canvas_panel.hovered())
                or (self.view_panel.contains(pos) and self.view_panel.hovered()))
        if over:  # not when another window (help, a dialog) lies on top
            self.pointer_down(pos, int(button), self._mods())

    def _on_release(self, sender, button, user_data) -> None:
        self.pointer_move(self._mouse())  # a stroke ends where the button went up
        self.pointer_up(int(button))

    def _on_move(self, sender, app_data, user_data) -> None:
        try:
            self._pointer = (float(app_data[0]), float(app_data[1]))  # where the pointer was at this event
        except (TypeError, IndexError, ValueError):
            self._pointer = None
        self.pointer_move(self._mouse())

    def _on_wheel(self, sender, steps, user_data) -> None:
        pos = self._mouse()
        if self.view_panel.hovered() or self.canvas_panel.hovered():
            self.wheel(pos, float(steps))

    def _on_double_click(self, sender, button, user_data) -> None:
        self.double_click(self._mouse(), int(button))

    def _on_key_release(self, sender, code, user_data) -> None:
        self._keys_down.discard(int(code))

    def _on_key(self, sender, code, user_data) -> None:
        code = int(code)
        if code in _MODIFIER_KEYS:
            self._keys_down.add(code)
            return
        name = key_names().get(code)
        if name is None or self.typing():
            return
        self.key(name, self._mods())
