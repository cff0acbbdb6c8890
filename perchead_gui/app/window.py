"""``App``: the PercHead Studio window. Makes the panels and the action objects, joins them to the
document and the engine, lays the window out and runs its frames.

Each frame (``step``): the queued mouse, key and widget callbacks run (they call actions, which
change the document), engine events are taken in, a changed canvas is sent to the engine (it
coalesces while a stroke goes on), the view is re-rendered only when the camera, mode,
background or head changed, a running export advances by one frame, autosave gets its chance,
the panels whose content changed are brought up to date, and Dear PyGui draws.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import dearpygui.dearpygui as dpg
import numpy as np

from models.cameras import canonical_view
from perchead_gui.app import dialogs, export_panel, gallery_panel
from perchead_gui.app.actions import Actions
from perchead_gui.app.canvas_panel import CanvasPanel
from perchead_gui.app.dialogs import FileDialogs
from perchead_gui.app.display import screen_size
from perchead_gui.app.document import Changes, Document
from perchead_gui.app.editing import Editor
from perchead_gui.app.export_panel import ExportPanel
from perchead_gui.app.exports import Exports
from perchead_gui.app.files import FileActions
from perchead_gui.app.gallery_panel import GalleryPanel
from perchead_gui.app.gestures import Gestures
from perchead_gui.app.menus import MenuBar
from perchead_gui.app.options import GuiOptions
from perchead_gui.app.recovery import Recovery
from perchead_gui.app.report import Reporter
from perchead_gui.app.screenshot import save_window_png
from perchead_gui.app.status_bar import StatusBar
from perchead_gui.app.style_panel import StylePanel
from perchead_gui.app.styling import Styling
from perchead_gui.app.tools_panel import ToolsPanel
from perchead_gui.app.viewport_panel import ViewportPanel
from perchead_gui.autosave import Autosaver
from perchead_gui.engine import InferenceEngine
from perchead_gui.gallery import SampleMap, load_gallery
from perchead_gui.settings import UserSettings
from perchead_gui.view_renderer import ViewRenderer

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 900)          # the layout's size: fits the default 1280x1024 screen of xvfb-run
WINDOW_PLACE = 100                 # px from the screen's left and top edges, where the screen has room
TOOLS_WIDTH = 250
CANVAS_DISPLAY_PX = 512            # the 256 px canvas at 2x
VIEW_DISPLAY_PX = 480
VIEW_SIZES_CPU = (160, 256)        # (while moving, at rest): CPU renders cost ~ pixels; 256 is what `perchead bench` times
VIEW_SIZES_ACCELERATOR = (512, 512)  # the GPU size `perchead bench` times
BOTTOM_HEIGHT = 246
TOP_HEIGHT = CANVAS_DISPLAY_PX + 76  # canvas + its title + the view's controls under it
MENU_BAR_HEIGHT = 14
FPS_WINDOW_S = 1.0
OVERLAY_BACKGROUND = (0.0, 0.0, 0.0)  # class 0's colour, so the overlay's background reads as background
SCREENSHOT_IDLE_TIMEOUT_S = 300.0
SCREENSHOT_SETTLE_FRAMES = 4       # frames after the engine is idle: take the head in, render, draw


def window_geometry(screen: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """(width, height, x, y) of the window on a screen of ``screen`` px (None: unknown): the layout's size, no larger
    than the screen, placed ``WINDOW_PLACE`` px in where that leaves all of it on the screen, nearer the edge where not
    (a 1280x900 screen: the whole screen)."""
    width, height = WINDOW_SIZE
    if screen is None:
        return width, height, WINDOW_PLACE, WINDOW_PLACE
    width, height = min(width, screen[0]), min(height, screen[1])
    return (width, height, max(0, min(WINDOW_PLACE, screen[0] - width)),
            max(0, min(WINDOW_PLACE, screen[1] - height)))


def exit_process(app: "App", status: int) -> int:
    """End a process that ran the window (after ``app.shutdown()``): the status back as usual, or, when a worker
    thread is still inside a decode, straight out (streams flushed) without the interpreter's teardown, during
    which torch aborts ("terminate called without an active exception") under a running daemon thread. Every
    piece of the user's work was saved by shutdown(). Process entry points only: never from inside tests."""
    if app.workers_stopped:
        return status
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class App:
    """The window. ``start`` opens it, ``step`` runs one frame, ``shutdown`` closes.

    What the artist does goes through the action objects (``editor``, ``styling``, ``files``,
    ``exports``) and ``gestures``; what is being edited is ``doc``.
    """

    def __init__(self, options: GuiOptions, engine: InferenceEngine | None = None,
                 samples: list[SampleMap] | None = None) -> None:
        self.options = options
        self.settings = UserSettings.load(options.state_dir)
        autosave_dir = None if options.state_dir is None else Path(options.state_dir) / "autosave"
        self.autosaver = None if options.automated else Autosaver(folder=autosave_dir, interval_s=options.autosave_s)
        self.engine = engine or InferenceEngine(options.checkpoint, options.device)
        self.viewer = ViewRenderer(self.engine.render)  # the 3D view renders off the UI thread
        self.samples = load_gallery() if samples is None else samples
        accelerated = self.engine.stats.device != "cpu"
        self.view_sizes = VIEW_SIZES_ACCELERATOR if accelerated else VIEW_SIZES_CPU
        self.running = False
        self.closed = False
        self.workers_stopped = True  # False after shutdown() if a decode or render thread outlived its wait
        self._discard_on_exit = False
        self._sent_version = -1
        self._view_key: tuple | None = None
        self._overlay: np.ndarray | None = None     # [S, S, 3] the head seen from the canonical view
        self._overlay_rev = 0                        # bumped with each new overlay image
        self._overlay_key: tuple | None = None
        self._decode_error: str | None = None
        self._render_error: str | None = None
        self._title = ""
        self._frame_times: list[float] = []
        self._last_step = time.monotonic()

        # what is edited, and who tells the artist what happened
        self.doc = Document(self.engine.image_size)
        self.changes = Changes()
        self.status = StatusBar()
        self.report = Reporter(self.status, dialogs_shown=not options.automated)
        self.file_dialogs = FileDialogs(self.settings.last_folder, self.settings.set_last_folder)

        # the actions
        doc, changes, engine = self.doc, self.changes, self.engine
        self.editor = Editor(doc, changes)
        self.styling = Styling(doc, changes, engine, self.settings, self.file_dialogs, self.report)
        self.files = FileActions(doc, changes, engine, self.styling, self.settings, self.file_dialogs, self.report,
                                 self.samples, labels_mode=gallery_panel.labels_mode, autosaver=self.autosaver,
                                 ask_first=not options.automated)
        self.exports = Exports(doc, engine, self.file_dialogs, self.report,
                               turntable_options=export_panel.turntable_options)
        self.recovery = Recovery(self.autosaver, doc, self.report, self.files.apply_project,
                                 offer_restore=options.restore_offer)
        self.actions = Actions(edit=self.editor, view=self.editor, style=self.styling, files=self.files,
                               exports=self.exports, close=self.request_close)

        # the panels, each with the actions it calls
        self.tools = ToolsPanel(doc.state, doc.canvas, self.editor)
        self.canvas_panel = CanvasPanel(doc.canvas, doc.state, CANVAS_DISPLAY_PX)
        self.view = ViewportPanel(doc.state, self.editor, VIEW_DISPLAY_PX, self.view_sizes)
        self.style = StylePanel(doc, self.settings, self.styling)
        self.gallery = GalleryPanel(self.samples, self.files)
        self.export_panel = ExportPanel(self.exports)
        self.menus = MenuBar(self.actions, self.settings)
        self.gestures = Gestures(doc, changes, self.actions, self.canvas_panel, self.view, self.file_dialogs,
                                 typing=lambda: self.style.typing() or self.export_panel.typing())

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Create the window, then the first content: a project, a sample, or the first sample."""
        dpg.create_context()
        # Dear PyGui would run mouse, key and widget callbacks on a thread of its own, at the same
        # time as step() reads the canvas; queued instead, they run at the start of each frame.
        dpg.configure_app(manual_callback_management=True)
        width, height, x, y = window_geometry(screen_size())
        self._build()
        dpg.create_viewport(title="PercHead Studio", width=width, height=height, x_pos=x, y_pos=y,
                            min_width=800, min_height=600, disable_close=True)
        log.info("window %dx%d at %d,%d", width, height, x, y)
        dpg.set_exit_callback(lambda: self.request_close())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("main", True)
        self.running = True
        self._initial_content()
        self.recovery.ask_restore()

    def _build(self) -> None:
        self.menus.build()
        # scroll bars only where the window is smaller than the layout (a screen under 1280x900)
        with dpg.window(tag="main", horizontal_scrollbar=True):
            dpg.add_spacer(height=MENU_BAR_HEIGHT)  # the viewport menu bar covers the window's first line
            with dpg.group(horizontal=True):
                self.tools.build(TOOLS_WIDTH, TOP_HEIGHT)
                self.canvas_panel.build()
                self.view.build()
            with dpg.group(horizontal=True, height=BOTTOM_HEIGHT):
                # the three together are as wide as the top row (tools, canvas, view: 1,242 px)
                self.gallery.build(TOOLS_WIDTH + 110)
                self.style.build(CANVAS_DISPLAY_PX - 102)
                self.export_panel.build(VIEW_DISPLAY_PX - 8)
            dpg.add_separator()
            self.status.build()
        dialogs.build_help_window()
        self.gestures.build()

    def _initial_content(self) -> None:
        o, files = self.options, self.files
        if o.project is not None:
            files.open_project(o.project)
        else:
            sample = files.find_sample(o.sample) if o.sample else (self.samples[0] if self.samples else None)
            if sample is not None:
                files.load_sample(sample, undoable=False)
        if o.prompt is not None:
            self.styling.apply_prompt(o.prompt)
        if o.view_yaw is not None:
            self.doc.orbit.yaw = float(o.view_yaw)
        if o.view_mode:
            self.editor.set_view_mode(o.view_mode)
        self.doc.mark_saved()

    def run(self) -> int:
        """The interactive loop (or the --screenshot run); returns the exit status."""
        previous = signal.signal(signal.SIGTERM, lambda *_: self._stop(interrupted=True))
        try:
            if self.options.screenshot is not None:
                self.run_screenshot(self.options.screenshot, self.options.frames)
            else:
                while self.running and dpg.is_dearpygui_running():
                    self.step()
        except BaseException:
            self.recovery.save_now()
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.shutdown()
        return 0

    def step(self) -> None:
        """One frame: callbacks and engine results in, requests out, maybe a render, maybe an
        autosave, the changed panels brought up to date, draw."""
        now = time.monotonic()
        dt, self._last_step = now - self._last_step, now
        self._frame_times = [t for t in self._frame_times if now - t < FPS_WINDOW_S] + [now]
        try:
            dpg.run_callbacks(dpg.get_callback_queue())  # the mouse, keys and widgets, on this thread
            self._take_events()
            self._send_requests()
            if self.doc.state.turntable and not self.gestures.dragging("view"):
                self.doc.orbit.advance_turntable(dt)
            self._refresh_overlay()
            self.canvas_panel.refresh(self._overlay, self._overlay_rev)
            self._refresh_view()
            self.exports.advance()
            self.export_panel.show_progress(*self.exports.progress())
            self.recovery.track()
            self._show_changes()
            self._update_status()
        except Exception as e:  # a bug must not take unsaved work down with it
            log.exception("frame failed")
            self.status.message(f"internal error: {type(e).__name__}: {e}", error=True)
        dpg.render_dearpygui_frame()

    def shutdown(self) -> None:
        """Close for good: autosave or clean-exit mark, settings, engine, window."""
        if self.closed:
            return
        self.closed = True
        self.running = False
        self.recovery.close(discard=self._discard_on_exit)
        if not self.options.automated:
            self.report.guard(self.settings.save)
        viewer_stopped = self.viewer.close()
        engine_stopped = self.engine.close()
        self.workers_stopped = viewer_stopped and engine_stopped
        if not self.workers_stopped:
            log.warning("a decode or render was still running at exit; your work is saved")
        dpg.destroy_context()

    def request_close(self) -> None:
        """The window's close button, File > Quit: ask first when there are unsaved changes."""
        self.files.confirm_discard(self._stop, "closing", discard=lambda: self._stop(discard=True))

    def _stop(self, discard: bool = False, interrupted: bool = False) -> None:
        """End the loop; ``discard`` drops the unsaved changes on purpose (no restore offer)."""
        self._discard_on_exit = discard
        if interrupted:
            log.warning("terminated; unsaved changes go to the autosave")
        self.running = False

    # ----- the frame's work: engine results to panels, panels' requests to the engine ----------

    def _take_events(self) -> None:
        for event in self.engine.poll():
            if event.kind == "head":
                self._decode_error = None
                self.status.message(event.message)
            elif event.kind == "error":
                self._decode_error = event.message
                self.status.message(event.message, error=True)
            elif event.kind == "info":
                self.status.message(event.message)
            elif event.kind == "style":
                self.style.show_reading(event.message)
            elif event.kind == "map" and event.labels is not None:
                self.doc.canvas.set_labels(event.labels)
                self.status.message(event.message)
                self.changes.tools = True
        self.view.show_error(self._render_error or self._decode_error)

    def _send_requests(self) -> None:
        """A changed map goes to the engine at once, mid-stroke too: the engine keeps only the newest."""
        canvas = self.doc.canvas
        if canvas.version != self._sent_version:
            self.engine.set_segmentation(canvas.labels)
            self._sent_version = canvas.version

    def _refresh_overlay(self) -> None:
        """The head seen from the canonical view, for the canvas overlay; rendered once per head."""
        mode = self.doc.state.overlay
        if mode == "off":
            return
        key = (mode, self.engine.head_version)
        if key == self._overlay_key:
            return
        frame = self.engine.render(canonical_view().camera(self.doc.canvas.size), mode=mode,
                                   background=OVERLAY_BACKGROUND)
        if frame.error is None:  # a failed render is tried again next frame
            self._overlay_key = key
            self._overlay = frame.image
            self._overlay_rev += 1

    def _view_size(self) -> int:
        moving = self.gestures.dragging("view") or self.doc.state.turntable
        return self.view_sizes[0] if moving else self.view_sizes[1]

    def _refresh_view(self) -> None:
        """Ask for a render only when something the picture depends on changed; show each new
        frame once the render thread has it; keep the last frame on error."""
        size = self._view_size()
        s, orbit = self.doc.state, self.doc.orbit
        key = (tuple(orbit.to_dict()["pan"]), orbit.yaw, orbit.pitch, orbit.radius,
               size, s.view_mode, s.background, self.engine.head_version)
        if key != self._view_key:
            self._view_key = key
            self.viewer.request(orbit.camera(size), s.view_mode, s.background)
        frame = self.viewer.take()
        if frame is None:
            return
        self._render_error = frame.error
        if frame.error is None:
            self.view.show_frame(frame.image)
        self.view.show_error(self._render_error or self._decode_error)

    def _show_changes(self) -> None:
        """Panels whose content an action changed show it anew; the title says unsaved or not."""
        c = self.changes
        if c.tools:
            self.tools.sync()
        if c.style:
            self.style.sync()
        if c.view:
            self.view.sync()
        if c.recent:
            self.menus.sync_recent()
        c.clear()
        title = f"PercHead Studio - {self.doc.title_name()}" + (" *" if self.doc.dirty else "")
        if self.running and title != self._title:
            dpg.set_viewport_title(title)
            self._title = title

    def _update_status(self) -> None:
        busy = self.engine.busy or self.viewer.busy
        self.status.update(self.engine.stats, self.fps, busy)
        no_head = self.engine.head_version == 0
        self.view.show_busy("loading the model..." if busy and no_head else "updating..." if busy else "")

    @property
    def fps(self) -> float:
        times = self._frame_times
        return 0.0 if len(times) < 2 else (len(times) - 1) / max(times[-1] - times[0], 1e-6)

    def wait_idle(self, timeout_s: float = SCREENSHOT_IDLE_TIMEOUT_S, frames: int = SCREENSHOT_SETTLE_FRAMES) -> bool:
        """Run frames until the engine and the view renderer have nothing left to do (tests,
        screenshots): the newest head is decoded, rendered and on screen. False on timeout."""
        deadline = time.monotonic() + timeout_s
        for _ in range(frames):
            ok = self.engine.wait_idle(max(0.0, deadline - time.monotonic()))
            self.step()  # takes the head in and asks for its view
            ok = self.viewer.wait_idle(max(0.0, deadline - time.monotonic())) and ok
            self.step()  # shows the frame
            if not ok:
                return False
        return True

    # ----- screenshots -----------------------------------------------------------------------

    def take_screenshot(self, path: Path, max_frames: int = 30) -> Path:
        """Save the whole window as a PNG (the next drawn frame), atomically."""
        return save_window_png(path, self.step, max_frames)

    def run_screenshot(self, path: Path, frames: int) -> Path:
        """--screenshot: N frames, the engine idle before the last few (the head in the shot), a PNG."""
        for _ in range(max(0, frames - SCREENSHOT_SETTLE_FRAMES)):
            self.step()
        if not self.wait_idle(SCREENSHOT_IDLE_TIMEOUT_S):
            log.warning("the engine was still busy after %.0f s; taking the screenshot anyway",
                        SCREENSHOT_IDLE_TIMEOUT_S)
        return self.take_screenshot(path)
