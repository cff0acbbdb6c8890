"""The view render thread: latest request wins, each frame is handed out once, failures are frames."""
from __future__ import annotations

import threading

from models.cameras import canonical_view
from perchead_gui.view_renderer import ViewRenderer

WAIT_S = 30.0


class SlowRender:
    """Records the modes it rendered; blocks until released, to hold a render in progress."""

    def __init__(self) -> None:
        self.rendered: list[str] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def __call__(self, camera, mode="rgb", background=(0.0, 0.0, 0.0)):
        self.started.set()
        self.gate.wait(WAIT_S)
        if mode == "boom":
            raise RuntimeError("renderer bug")
        self.rendered.append(mode)
        return type("Frame", (), {"error": None, "image": mode, "head_version": 1, "render_ms": 1.0})()


def test_requests_during_a_render_collapse_to_the_newest() -> None:
    render = SlowRender()
    viewer = ViewRenderer(render)
    cam = canonical_view().camera(16)
    try:
        viewer.request(cam, "first", (0, 0, 0))
        assert render.started.wait(WAIT_S)
        for i in range(20):
            viewer.request(cam, f"stale {i}", (0, 0, 0))
        viewer.request(cam, "newest", (0, 0, 0))
        assert viewer.busy
        render.gate.set()
        assert viewer.wait_idle(WAIT_S)
        assert render.rendered == ["first", "newest"]
        frame = viewer.take()
        assert frame.image == "newest"
        assert viewer.take() is None, "a frame is handed out once"
    finally:
        render.gate.set()
        viewer.close()


def test_a_render_that_raises_becomes_an_error_frame_and_the_thread_lives() -> None:
    render = SlowRender()
    render.gate.set()
    viewer = ViewRenderer(render)
    cam = canonical_view().camera(16)
    try:
        viewer.request(cam, "boom", (0, 0, 0))
        assert viewer.wait_idle(WAIT_S)
        assert "renderer bug" in viewer.take().error
        viewer.request(cam, "rgb", (0, 0, 0))
        assert viewer.wait_idle(WAIT_S)
        assert viewer.take().error is None
    finally:
        viewer.close()


def test_close_ends_the_thread() -> None:
    viewer = ViewRenderer(SlowRender())
    assert viewer.close() is True
    assert not viewer._thread.is_alive()
