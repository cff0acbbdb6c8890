"""Keyboard shortcuts as data: one table drives the key handler, the F1 window and docs/app.md.

Keys are named as printed ("Z", "[", "F1"); the window maps names to Dear PyGui key codes.
Digits select classes 0-9 and Shift+digit classes 10-14, so every class has a key.
"""
from __future__ import annotations

from dataclasses import dataclass

NUM_CLASS_KEYS = 15  # classes 0-14 (assets/classes.yaml)


@dataclass(frozen=True)
class Mods:
    """Modifier keys held during a key press or a click."""

    ctrl: bool = False
    shift: bool = False
    alt: bool = False


@dataclass(frozen=True)
class Shortcut:
    key: str
    action: str
    help: str
    ctrl: bool = False
    shift: bool = False

    @property
    def label(self) -> str:
        return "+".join([*(["Ctrl"] if self.ctrl else []), *(["Shift"] if self.shift else []), self.key])


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("Z", "undo", "undo the last paint step", ctrl=True),
    Shortcut("Z", "redo", "redo", ctrl=True, shift=True),
    Shortcut("Y", "redo", "redo", ctrl=True),
    Shortcut("S", "save", "save the project", ctrl=True),
    Shortcut("S", "save_as", "save the project under a new name", ctrl=True, shift=True),
    Shortcut("O", "open", "open a project", ctrl=True),
    Shortcut("E", "export_head", "export the head (.ply, .spz, .splat)", ctrl=True),
    Shortcut("B", "tool_brush", "brush"),
    Shortcut("E", "tool_eraser", "eraser (paints background)"),
    Shortcut("F", "tool_fill", "flood fill"),
    Shortcut("G", "tool_fill", "flood fill"),
    Shortcut("I", "tool_picker", "eyedropper (also Alt+click)"),
    Shortcut("[", "size_down", "smaller brush"),
    Shortcut("]", "size_up", "bigger brush"),
    Shortcut("O", "overlay", "show/hide the head overlay on the canvas"),
    Shortcut("M", "view_mode", "next view mode: RGB, classes, depth"),
    Shortcut("T", "turntable", "turntable on/off"),
    Shortcut("R", "reset_view", "reset the 3D view (also double-click)"),
    Shortcut("F1", "help", "this help"),
    *(Shortcut(str(d), f"class_{d}", f"paint class {d}") for d in range(10)),
    *(Shortcut(str(d), f"class_{10 + d}", f"paint class {10 + d}", shift=True)
      for d in range(NUM_CLASS_KEYS - 10)),
)

MOUSE_HELP: tuple[tuple[str, str], ...] = (
    ("canvas: drag", "paint with the current tool"),
    ("canvas: Shift+click", "straight line from the last point"),
    ("canvas: Alt+click", "pick the class under the cursor"),
    ("canvas: right-drag", "paint background (a quick eraser)"),
    ("canvas: wheel", "brush size"),
    ("3D view: drag", "orbit"),
    ("3D view: right-drag or Shift+drag", "pan"),
    ("3D view: wheel", "zoom"),
    ("3D view: double-click", "reset the view"),
)


def action_for(key: str, ctrl: bool = False, shift: bool = False) -> str | None:
    """The action bound to a key with these modifiers, or None."""
    for s in SHORTCUTS:
        if s.key == key and s.ctrl == ctrl and s.shift == shift:
            return s.action
    return None


def help_rows() -> list[tuple[str, str]]:
    """(keys, what) rows for the F1 window and the docs; digit rows folded into two lines."""
    rows = [(s.label, s.help) for s in SHORTCUTS if not s.action.startswith("class_")]
    rows.append(("0-9", "paint class 0-9 (0 = background)"))
    rows.append(("Shift+0-4", "paint class 10-14"))
    return rows + list(MOUSE_HELP)
