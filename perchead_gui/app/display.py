"""Is there a display to open the window on? Asked before Dear PyGui is touched.

Without an X display GLFW aborts the whole process (an assertion in C, no Python exception),
so ``perchead gui`` checks first and answers with one line saying how to run headless.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

HEADLESS_HINT = ("on a machine without a screen run it under a virtual display: "
                 "xvfb-run -a perchead gui (add --screenshot OUT.png to save a picture of the window)")


def display_problem() -> str | None:
    """None when a window can open here, else one line saying why not and what to do."""
    if sys.platform != "linux":
        return None  # Windows and macOS always have a window server for a logged-in user
    name = os.environ.get("DISPLAY", "")
    if not name:
        return f"no display to open the window on ($DISPLAY is not set); {HEADLESS_HINT}"
    if not _x_display_opens(name):
        return f"cannot connect to the X display {name!r}; {HEADLESS_HINT}"
    return None


def _x_display_opens(name: str) -> bool:
    """Open and close a connection with Xlib, which Dear PyGui links anyway."""
    path = ctypes.util.find_library("X11")
    if path is None:
        return True  # cannot probe; let the window try and report
    try:
        xlib = ctypes.CDLL(path)
    except OSError:
        return True
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True
