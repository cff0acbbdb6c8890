"""Render the 3D view on a thread of its own, newest request wins, so the window never waits.

On a CPU a frame of a decoded head can take longer than a UI frame. The window asks for a
view (camera, mode, background) whenever one of them or the head changes and shows whatever
frame is newest; requests made while a render runs replace each other, so an orbit drag never
builds a queue. ``render`` is any function with ``InferenceEngine.render``'s signature (it is
thread-safe and never raises); nothing here imports a GUI toolkit.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from models.cameras import Camera

RenderFn = Callable[..., Any]  # (camera, mode=..., background=...) -> Frame
CLOSE_TIMEOUT_S = 5.0


class ViewRenderer:
    """One background thread; ``request`` is non-blocking, ``take`` returns each new frame once."""

    def __init__(self, render: RenderFn) -> None:
        self._render = render
        self._cond = threading.Condition()
        self._request: tuple[Camera, str, tuple[float, float, float]] | None = None
        self._running = False
        self._closing = False
        self._frame: Any = None
        self._fresh = False
        self._thread = threading.Thread(target=self._work, name="perchead-view", daemon=True)
        self._thread.start()

    def request(self, camera: Camera, mode: str, background: tuple[float, float, float]) -> None:
        """Ask for this view; a request not yet started is replaced (latest wins)."""
        with self._cond:
            self._request = (camera, mode, tuple(float(c) for c in background))  # type: ignore[assignment]
            self._cond.notify_all()

    def take(self) -> Any:
        """The newest finished frame if it was not taken yet, else None."""
        with self._cond:
            if not self._fresh:
                return None
            self._fresh = False
            return self._frame

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running or self._request is not None

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no request is pending or rendering; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._running or self._request is not None), timeout_s)

    def close(self) -> bool:
        """Stop the thread (after its running render, up to a few seconds); returns whether it stopped."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_TIMEOUT_S)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or self._request is not None)
                if self._closing:
                    return
                camera, mode, background = self._request  # type: ignore[misc]
                self._request = None
                self._running = True
            try:
                frame = self._render(camera, mode=mode, background=background)
            except Exception as e:  # the engine's render never raises; a bug must not kill the thread
                frame = _FailedFrame(f"render failed: {type(e).__name__}: {e}")
            with self._cond:
                self._frame, self._fresh = frame, True
                self._running = False
                self._cond.notify_all()


class _FailedFrame:
    """Stands in for a Frame when the render function itself raised (it should not)."""

    def __init__(self, error: str) -> None:
        self.error = error
        self.image = None
        self.head_version = 0
        self.render_ms = 0.0
