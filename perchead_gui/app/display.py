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


def _xlib() -> ctypes.CDLL | None:
    """Xlib (which Dear PyGui links anyway) with the calls used here typed; None where it cannot be loaded."""
    path = ctypes.util.find_library("X11")
    if path is None:
        return None
    try:
        xlib = ctypes.CDLL(path)
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XDisplayWidth.argtypes = xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return xlib


def _x_display_opens(name: str) -> bool:
    """Open and close a connection to the display."""
    xlib = _xlib()
    if xlib is None:
        return True  # cannot probe; let the window try and report
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True


def screen_size() -> tuple[int, int] | None:
    """The size in pixels of the screen the window opens on, or None where it cannot be asked (then the window
    keeps its default place). X11: the default screen of $DISPLAY; Windows: the work area (without the taskbar)."""
    if sys.platform == "win32":
        return _windows_work_area()
    name = os.environ.get("DISPLAY", "")
    xlib = _xlib() if sys.platform == "linux" and name else None
    handle = xlib.XOpenDisplay(name.encode()) if xlib is not None else None
    if not handle:
        return None
    try:
        screen = xlib.XDefaultScreen(handle)
        return int(xlib.XDisplayWidth(handle, screen)), int(xlib.XDisplayHeight(handle, screen))
    finally:
        xlib.XCloseDisplay(handle)


def _windows_work_area() -> tuple[int, int] | None:
    class Rect(ctypes.Structure):
        _fields_ = [("left", ctypes.c_long), ("top", ctypes.c_long), ("right", ctypes.c_long), ("bottom", ctypes.c_long)]

    rect = Rect()
    spi_getworkarea = 0x0030
    try:
        ok = ctypes.windll.user32.SystemParametersInfoW(spi_getworkarea, 0, ctypes.byref(rect), 0)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return (rect.right - rect.left, rect.bottom - rect.top) if ok else None

