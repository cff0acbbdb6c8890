"""Real pointer and keyboard input for window tests: X events through the XTEST extension (libXtst, which Xvfb
serves), so a key press reaches the window the way a person's does, through GLFW and Dear PyGui's text fields.

    keys = XInput()            # $DISPLAY
    keys.click(x, y)           # screen pixels
    keys.press("ctrl+a"); keys.type("short black hair"); keys.press("Return")

Each call flushes its events; the window sees them on its next frames (the test steps the app in between).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

# characters that are not their own X keysym name
_KEYSYMS = {" ": "space", ",": "comma", ".": "period", "-": "minus", "'": "apostrophe"}


class XInput:
    def __init__(self, display: str | None = None) -> None:
        x11, xtst = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
        if x11 is None or xtst is None:
            raise RuntimeError("libX11 / libXtst not found")
        self.x = ctypes.CDLL(x11)
        self.t = ctypes.CDLL(xtst)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XStringToKeysym.restype = ctypes.c_ulong
        self.x.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x.XFlush.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.t.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.t.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.t.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                ctypes.c_ulong]
        name = display or os.environ.get("DISPLAY", "")
        self.dpy = self.x.XOpenDisplay(name.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {name!r}")

    def close(self) -> None:
        if self.dpy:
            self.x.XCloseDisplay(self.dpy)
            self.dpy = None

    def _code(self, name: str) -> int:
        sym = self.x.XStringToKeysym(_KEYSYMS.get(name, name).encode())
        code = self.x.XKeysymToKeycode(self.dpy, sym) if sym else 0
        if not code:
            raise ValueError(f"no key for {name!r}")
        return code

    def move(self, x: int, y: int) -> None:
        self.t.XTestFakeMotionEvent(self.dpy, -1, int(x), int(y), 0)
        self.x.XFlush(self.dpy)

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.move(x, y)
        self.t.XTestFakeButtonEvent(self.dpy, button, 1, 0)
        self.t.XTestFakeButtonEvent(self.dpy, button, 0, 0)
        self.x.XFlush(self.dpy)

    def key(self, name: str, down: bool) -> None:
        self.t.XTestFakeKeyEvent(self.dpy, self._code(name), 1 if down else 0, 0)
        self.x.XFlush(self.dpy)

    def press(self, combo: str) -> None:
        """"ctrl+a", "Return", "BackSpace": modifiers down, the key down and up, modifiers up."""
        names = [{"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L"}.get(n, n) for n in combo.split("+")]
        for n in names:
            self.key(n, True)
        for n in reversed(names):
            self.key(n, False)

    def type(self, text: str) -> None:
        """Lower-case letters, digits, space and , . - ' (what the tests type)."""
        for ch in text:
            self.press(ch)
