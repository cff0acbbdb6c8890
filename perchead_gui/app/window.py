"""``App``: the PercHead Studio window. Wires the panels to the canvas, the orbit and the engine.

Each frame (``step``): engine events are taken in, a changed canvas is sent to the engine
(it coalesces while a stroke goes on), the view is re-rendered only when the camera, mode,
background or head changed, a running export advances by one frame, autosave gets its
chance, and Dear PyGui draws. Panels only write state and call the actions below, so tests
drive the same methods the buttons, keys and mouse handlers call.
"""
from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from typing import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from models.cameras import canonical_view
from models.errors import PercheadError
from perchead_gui.app import dialogs
from perchead_gui.app.canvas_panel import CanvasPanel
from perchead_gui.app.export_panel import ExportPanel
from perchead_gui.app.files import FileActions
from perchead_gui.app.gallery_panel import GalleryPanel
from perchead_gui.app.menus import MenuBar
from perchead_gui.app.options import GuiOptions
from perchead_gui.app.shortcuts import Mods, action_for
from perchead_gui.app.state import OVERLAYS, VIEW_MODES, EditorState
from perchead_gui.app.status_bar import StatusBar
from perchead_gui.app.style_panel import PROMPT, StylePanel
from perchead_gui.app.tools_panel import ToolsPanel
from perchead_gui.app.viewport_panel import ViewportPanel
from perchead_gui.autosave import Autosaver, RestoreOffer
from perchead_gui.canvas import PaintCanvas
from perchead_gui.engine import DEFAULT_PROMPT, InferenceEngine
from perchead_gui.gallery import SampleMap, load_gallery
from perchead_gui.orbit import OrbitController
from perchead_gui.settings import UserSettings
from perchead_gui.view_renderer import ViewRenderer

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 900)          # fits the default 1280x1024 screen of xvfb-run
TOOLS_WIDTH = 250
CANVAS_DISPLAY_PX = 512            # the 256 px canvas at 2x
VIEW_DISPLAY_PX = 480
VIEW_SIZES_CPU = (160, 256)        # (while moving, at rest): CPU renders cost ~ pixels; 256 is what `perchead bench` times
VIEW_SIZES_ACCELERATOR = (512, 512)  # the GPU size `perchead bench` times
BOTTOM_HEIGHT = 250
TOP_HEIGHT = CANVAS_DISPLAY_PX + 76  # canvas + its title + the view's controls under it
MENU_BAR_HEIGHT = 14
FPS_WINDOW_S = 1.0
OVERLAY_BACKGROUND = (0.0, 0.0, 0.0)  # class 0's colour, so the overlay's background reads as background
SCREENSHOT_IDLE_TIMEOUT_S = 300.0
MAX_PROMPT_CHARS = 10_000
SCREENSHOT_SETTLE_FRAMES = 4       # frames after the engine is idle: take the head in, render, draw

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


class App(FileActions):
    """The window and its logic. ``start`` opens it, ``step`` runs one frame, ``shutdown`` closes."""

    def __init__(self, options: GuiOptions, engine: InferenceEngine | None = None,
                 samples: list[SampleMap] | None = None) -> None:
        self.options = options
        self.settings = UserSettings.load(options.state_dir)
        autosave_dir = None if options.state_dir is None else Path(options.state_dir) / "autosave"
        self.autosaver = None if options.automated else Autosaver(folder=autosave_dir, interval_s=options.autosave_s)
        self._restore_offer = self.autosaver.pending_restore() if self.autosaver and options.restore_offer else None
        self.engine = engine or InferenceEngine(options.checkpoint, options.device)
        self.viewer = ViewRenderer(self.engine.render)  # the 3D view renders off the UI thread
        self.samples = load_gallery() if samples is None else samples
        size = self.engine.image_size
        self.canvas = PaintCanvas(np.zeros((size, size), np.uint8))
        self.orbit = OrbitController()
        self.state = EditorState()
        self.prompt = DEFAULT_PROMPT  # what the engine uses until the artist sets a style
        self.style_mode = "text"
        self._style_rev = 0                          # bumped by every new style image (dirty tracking)
        self._style_image: np.ndarray | None = None  # [H, W, 4] float32 0..1, behind the style_image property
        self.style_image_name = ""
        self.project_path: Path | None = None
        accelerated = self.engine.stats.device != "cpu"
        self.view_sizes = VIEW_SIZES_ACCELERATOR if accelerated else VIEW_SIZES_CPU
        self.running = False
        self.closed = False
        self._discard_on_exit = False
        self._saved_key: tuple = ()
        self._content_seen: tuple = ()
        self._sent_version = -1
        self._view_key: tuple | None = None
        self._overlay: np.ndarray | None = None     # [S, S, 3] the head seen from the canonical view
        self._overlay_rev = 0                        # bumped with each new overlay image
        self._overlay_key: tuple | None = None
        self._decode_error: str | None = None
        self._render_error: str | None = None
        self._drag: dict | None = None               # the gesture in progress: target, button, last position
        self._pointer: tuple[float, float] | None = None  # window position of the last mouse event
        self._keys_down: set[int] = set()            # modifier keys pressed and not yet released
        self._last_paint: tuple[float, float] | None = None
        self._frame_times: list[float] = []
        self._last_step = time.monotonic()
        self.export_job = None
        self.tools = ToolsPanel(self)
        self.canvas_panel = CanvasPanel(self, CANVAS_DISPLAY_PX)
        self.view = ViewportPanel(self, VIEW_DISPLAY_PX, self.view_sizes)
        self.style = StylePanel(self)
        self.gallery = GalleryPanel(self, self.samples)
        self.exports = ExportPanel(self)
        self.status = StatusBar()
        self.menus = MenuBar(self)
        self.files = dialogs.FileDialogs(self.settings.last_folder, self.settings.set_last_folder)

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Create the window, then the first content: a project, a sample, or the first sample."""
        dpg.create_context()
        # Dear PyGui would run mouse, key and widget callbacks on a thread of its own, at the same
        # time as step() reads the canvas; queued instead, they run at the start of each frame.
        dpg.configure_app(manual_callback_management=True)
        self._build()
        dpg.create_viewport(title="PercHead Studio", width=WINDOW_SIZE[0], height=WINDOW_SIZE[1],
                            min_width=800, min_height=600, disable_close=True)
        dpg.set_exit_callback(lambda: self.request_close())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("main", True)
        self.running = True
        self._initial_content()
        if self._restore_offer is not None:
            offer = self._restore_offer
            dialogs.show_choice("Restore unsaved work?",
                                f"PercHead Studio closed without saving (last autosave {_clock_time(offer.saved_at)}). "
                                "Restore that session?",
                                [("Restore", lambda: self._restore(offer)), ("Discard", self._discard_restore)])

    def _build(self) -> None:
        self.menus.build()
        with dpg.window(tag="main", no_scrollbar=True):
            dpg.add_spacer(height=MENU_BAR_HEIGHT)  # the viewport menu bar covers the window's first line
            with dpg.group(horizontal=True):
                self.tools.build(TOOLS_WIDTH, TOP_HEIGHT)
                self.canvas_panel.build()
                self.view.build()
            with dpg.group(horizontal=True, height=BOTTOM_HEIGHT):
                self.gallery.build(TOOLS_WIDTH + 110)
                self.style.build(CANVAS_DISPLAY_PX - 102)
                self.exports.build(VIEW_DISPLAY_PX)
            dpg.add_separator()
            self.status.build()
        dialogs.build_help_window()
        with dpg.handler_registry(tag="input"):
            dpg.add_mouse_click_handler(callback=self._on_click)
            dpg.add_mouse_release_handler(callback=self._on_release)
            dpg.add_mouse_move_handler(callback=self._on_move)
            dpg.add_mouse_wheel_handler(callback=self._on_wheel)
            dpg.add_mouse_double_click_handler(callback=self._on_double_click)
            dpg.add_key_press_handler(callback=self._on_key)
            dpg.add_key_release_handler(callback=self._on_key_release)

    def _initial_content(self) -> None:
        o = self.options
        if o.project is not None:
            self.open_project(o.project)
        else:
            sample = self.find_sample(o.sample) if o.sample else (self.samples[0] if self.samples else None)
            if sample is not None:
                self.load_sample(sample, undoable=False)
        if o.prompt is not None:
            self.apply_prompt(o.prompt)
        if o.view_yaw is not None:
            self.orbit.yaw = float(o.view_yaw)
        if o.view_mode:
            self.state.view_mode = o.view_mode
            self.view.sync()
        self._mark_saved()

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
            self._emergency_autosave()
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.shutdown()
        return 0

    def step(self) -> None:
        """One frame: engine results in, requests out, maybe a render, maybe an autosave, draw."""
        now = time.monotonic()
        dt, self._last_step = now - self._last_step, now
        self._frame_times = [t for t in self._frame_times if now - t < FPS_WINDOW_S] + [now]
        try:
            dpg.run_callbacks(dpg.get_callback_queue())  # the mouse, keys and widgets, on this thread
            self._take_events()
            self._send_requests()
            if self.state.turntable and not self._dragging("view"):
                self.orbit.advance_turntable(dt)
            self._refresh_overlay()
            self.canvas_panel.refresh(self._overlay, self._overlay_rev)
            self._refresh_view()
            self._advance_export()
            self._track_changes()
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
        if self.autosaver is not None:
            if self.dirty and not self._discard_on_exit:
                self._emergency_autosave()
            else:
                self.autosaver.mark_clean_exit()
        if not self.options.automated:
            self._guard(self.settings.save)
        self.viewer.close()
        self.engine.close()
        dpg.destroy_context()

    # ----- what the artist changes -----------------------------------------------------------

    def select_class(self, class_id: int) -> None:
        self.state.label = int(class_id)
        if self.state.tool in ("eraser", "picker"):
            self.state.tool = "brush"
        self.tools.sync()

    def select_tool(self, tool: str) -> None:
        self.state.tool = tool  # type: ignore[assignment]
        self.tools.sync()

    def set_overlay(self, overlay: str, opacity: float | None = None) -> None:
        if overlay not in OVERLAYS:
            raise ValueError(f"overlay must be one of {OVERLAYS}")
        self.state.overlay = overlay  # type: ignore[assignment]
        if opacity is not None:
            self.state.overlay_opacity = min(1.0, max(0.0, float(opacity)))
        self.tools.sync()

    def undo(self) -> None:
        self.canvas.undo()
        self.tools.sync()

    def redo(self) -> None:
        self.canvas.redo()
        self.tools.sync()

    def clear_canvas(self) -> None:
        self.canvas.clear(0)
        self.tools.sync()

    def apply_prompt(self, text: str) -> None:
        """The prompt field's Enter: the prompt becomes the style (and goes into the history)."""
        text = " ".join(str(text).split())
        if not text:
            self.status.message("the prompt is empty; type a few words, e.g. 'long red hair, green eyes'", error=True)
            return
        if len(text) > MAX_PROMPT_CHARS:  # the text model reads ~512 tokens; the project keeps a bounded prompt
            text = text[:MAX_PROMPT_CHARS]
            self.status.message(f"the prompt was cut to {MAX_PROMPT_CHARS:,} characters")
        self.prompt = text
        self.style_mode = "text"
        self.engine.set_style_text(text)
        self.settings.add_prompt(text)
        self.style.sync()

    def set_style_mode(self, mode: str) -> None:
        """The text/image toggle; image mode without an image asks for one."""
        if mode == "image" and self.style_image is None:
            self.style.sync()
            self.ask_style_image()
            return
        self.style_mode = mode
        if mode == "image":
            self.engine.set_style_image(self.style_image)
        else:
            self.engine.set_style_text(self.prompt)
        self.style.sync()

    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode must be one of {VIEW_MODES}")
        self.state.view_mode = mode  # type: ignore[assignment]
        self.view.sync()

    def set_background(self, rgb: tuple[float, float, float]) -> None:
        self.state.background = tuple(min(1.0, max(0.0, float(c))) for c in rgb)  # type: ignore[assignment]
        self.view.sync()

    def set_turntable(self, on: bool) -> None:
        self.state.turntable = bool(on)
        self.view.sync()

    def reset_view(self) -> None:
        self.orbit.reset()

    # ----- mouse and keys (the Dear PyGui handlers read the device, these do the work) --------

    def pointer_down(self, pos: tuple[float, float], button: int, mods: Mods = Mods()) -> None:
        """A press at a window position: paint on the canvas, or start orbit/pan on the view."""
        if self._blocked():
            return
        if self.canvas_panel.contains(pos):
            self._drag = {"target": "canvas", "button": button, "pos": pos}
            self._paint_press(self.canvas_panel.to_canvas(pos), button, mods)
        elif self.view.contains(pos):
            pan = button in (1, 2) or mods.shift
            self._drag = {"target": "view", "button": button, "pos": pos, "pan": pan}

    def pointer_move(self, pos: tuple[float, float]) -> None:
        self.canvas_panel.show_cursor(pos)
        drag = self._drag
        if drag is None:
            return
        dx, dy = pos[0] - drag["pos"][0], pos[1] - drag["pos"][1]
        drag["pos"] = pos
        if drag["target"] == "canvas":
            if self.canvas.in_stroke:
                self.canvas.extend_stroke(*self.canvas_panel.to_canvas(pos))
        elif drag["pan"]:
            self.orbit.pan_by(dx, dy, VIEW_DISPLAY_PX)
        else:
            self.orbit.drag(dx, dy)

    def pointer_up(self, button: int) -> None:
        drag = self._drag
        if drag is None or drag["button"] != button:
            return
        self._drag = None
        if drag["target"] == "canvas" and self.canvas.in_stroke:
            self.canvas.end_stroke()
            self._last_paint = self.canvas_panel.to_canvas(drag["pos"])
            self.tools.sync()

    def wheel(self, pos: tuple[float, float], steps: float) -> None:
        """Wheel over the view zooms; over the canvas it sizes the brush."""
        if self._blocked():
            return
        if self.view.contains(pos):
            self.orbit.zoom(steps)
        elif self.canvas_panel.contains(pos) and steps:
            self.state.resize_brush(up=steps > 0)
            self.tools.sync()

    def double_click(self, pos: tuple[float, float], button: int) -> None:
        if button == 0 and self.view.contains(pos) and not self._blocked():
            self.reset_view()

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
        s = self.state
        if action.startswith("class_"):
            self.select_class(int(action.split("_")[1]))
        elif action.startswith("tool_"):
            self.select_tool(action[len("tool_"):])
        elif action in ("size_up", "size_down"):
            s.resize_brush(up=action == "size_up")
            self.tools.sync()
        elif action == "overlay":
            self.set_overlay("off" if s.overlay != "off" else "classes")
        elif action == "view_mode":
            self.set_view_mode(VIEW_MODES[(VIEW_MODES.index(s.view_mode) + 1) % len(VIEW_MODES)])
        elif action == "turntable":
            self.set_turntable(not s.turntable)
        elif action == "help":
            dialogs.toggle_help()
        else:
            handlers: dict[str, Callable[[], None]] = {
                "undo": self.undo, "redo": self.redo, "reset_view": self.reset_view, "save": self.save,
                "save_as": self.ask_save_as, "open": self.ask_open_project, "export_ply": self.ask_export_ply}
            handlers[action]()

    def _paint_press(self, point: tuple[float, float], button: int, mods: Mods) -> None:
        """What a canvas press does: pick (Alt or picker), fill, a Shift line, or a stroke."""
        s, x, y = self.state, point[0], point[1]
        if mods.alt or s.tool == "picker":
            s.label = self.canvas.pick(x, y)
            if s.tool in ("picker", "eraser"):
                s.tool = "brush"
        elif s.tool == "fill":
            self.canvas.fill(int(x), int(y), 0 if button == 1 else s.label)
        elif mods.shift and self._last_paint is not None:
            self.canvas.line(*self._last_paint, x, y, s.paint_label, s.brush_size, s.hardness)
            self._last_paint = (x, y)
        else:  # the right button paints background, like a quick eraser
            label = 0 if button == 1 else s.paint_label
            self.canvas.begin_stroke(x, y, label, s.brush_size, s.hardness, s.smoothing)
        self.tools.sync()

    def _dragging(self, target: str) -> bool:
        return self._drag is not None and self._drag["target"] == target

    def _blocked(self) -> bool:
        """A modal or file dialog owns the mouse and keys."""
        return dialogs.modal_open() or self.files.is_open()

    # Dear PyGui handlers: (sender, app_data, user_data). They run queued, in event order, at the
    # start of step() (manual callback management), so the pointer position comes from the move
    # events themselves and the modifiers from the press/release events seen so far, not from the
    # device's state when the queue is run (a fast Ctrl+Z may be over by then).
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
        over = ((self.canvas_panel.contains(pos) and dpg.is_item_hovered("canvas/drawlist"))
                or (self.view.contains(pos) and dpg.is_item_hovered("view/drawlist")))
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
        if dpg.is_item_hovered("view/drawlist") or dpg.is_item_hovered("canvas/drawlist"):
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
        if name is None or self.style.typing() or any(dpg.is_item_active(t) for t in self.exports.INPUTS):
            return
        self.key(name, self._mods())

    # ----- the frame's work ------------------------------------------------------------------

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
                self.canvas.set_labels(event.labels)
                self.status.message(event.message)
                self.tools.sync()
        self.view.show_error(self._render_error or self._decode_error)

    def _send_requests(self) -> None:
        """A changed map goes to the engine at once, mid-stroke too: the engine keeps only the newest."""
        if self.canvas.version != self._sent_version:
            self.engine.set_segmentation(self.canvas.labels)
            self._sent_version = self.canvas.version

    def _refresh_overlay(self) -> None:
        """The head seen from the canonical view, for the canvas overlay; rendered once per head."""
        mode = self.state.overlay
        if mode == "off":
            return
        key = (mode, self.engine.head_version)
        if key == self._overlay_key:
            return
        frame = self.engine.render(canonical_view().camera(self.canvas.size), mode=mode,
                                   background=OVERLAY_BACKGROUND)
        if frame.error is None:  # a failed render is tried again next frame
            self._overlay_key = key
            self._overlay = frame.image
            self._overlay_rev += 1

    def _view_size(self) -> int:
        moving = self._dragging("view") or self.state.turntable
        return self.view_sizes[0] if moving else self.view_sizes[1]

    def _refresh_view(self) -> None:
        """Ask for a render only when something the picture depends on changed; show each new
        frame once the render thread has it; keep the last frame on error."""
        size = self._view_size()
        s = self.state
        key = (tuple(self.orbit.to_dict()["pan"]), self.orbit.yaw, self.orbit.pitch, self.orbit.radius,
               size, s.view_mode, s.background, self.engine.head_version)
        if key != self._view_key:
            self._view_key = key
            self.viewer.request(self.orbit.camera(size), s.view_mode, s.background)
        frame = self.viewer.take()
        if frame is None:
            return
        self._render_error = frame.error
        if frame.error is None:
            self.view.show_frame(frame.image)
        self.view.show_error(self._render_error or self._decode_error)

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

    def _update_status(self) -> None:
        busy = self.engine.busy or self.viewer.busy
        self.status.update(self.engine.stats, self.fps, busy)
        no_head = self.engine.head_version == 0
        self.view.show_busy("loading the model..." if busy and no_head else "updating..." if busy else "")

    @property
    def fps(self) -> float:
        times = self._frame_times
        return 0.0 if len(times) < 2 else (len(times) - 1) / max(times[-1] - times[0], 1e-6)

    # ----- unsaved work ----------------------------------------------------------------------

    @property
    def style_image(self) -> np.ndarray | None:
        """The reference image [H, W, 4] float32 0..1, or None; every assignment is a new revision."""
        return self._style_image

    @style_image.setter
    def style_image(self, image: np.ndarray | None) -> None:
        self._style_image = image
        self._style_rev += 1

    def _content_key(self) -> tuple:
        image_key = None if self.style_image is None else self._style_rev
        return (self.canvas.version, self.prompt, self.style_mode, image_key)

    def _mark_saved(self) -> None:
        self._saved_key = self._content_seen = self._content_key()
        self._show_title()

    def _show_title(self) -> None:
        if self.running:
            dpg.set_viewport_title(f"PercHead Studio - {self._title_name()}" + (" *" if self.dirty else ""))

    @property
    def dirty(self) -> bool:
        """Changes since the last save or open (camera moves do not count)."""
        return self._content_key() != self._saved_key

    def _track_changes(self) -> None:
        key = self._content_key()
        if key != self._content_seen:
            self._content_seen = key
            self._show_title()
            if self.autosaver is not None and self.dirty:
                self.autosaver.mark_dirty()
        if self.autosaver is not None and self.dirty:
            if self._guard(lambda: self.autosaver.maybe_save(self.project)):
                log.info("autosaved")

    def _title_name(self) -> str:
        return self.project_path.name if self.project_path else "untitled"

    def _emergency_autosave(self) -> None:
        """Last chance to keep unsaved work (SIGTERM, a crash in the loop, a scripted close)."""
        if self.autosaver is None or not self.dirty:
            return
        try:
            self.autosaver.save_now(self.project())
        except Exception:
            log.exception("autosave on exit failed")

    def request_close(self) -> None:
        """The window's close button, File > Quit: ask first when there are unsaved changes."""
        if not self.dirty or self.options.automated:
            self._stop()
            return
        dialogs.show_choice("Unsaved changes", f"Save the changes to {self._title_name()} before closing?",
                            [("Save", lambda: self.save(then=self._stop)),
                             ("Discard", lambda: self._stop(discard=True)),
                             ("Cancel", lambda: None)])

    def _stop(self, discard: bool = False, interrupted: bool = False) -> None:
        """End the loop; ``discard`` drops the unsaved changes on purpose (no restore offer)."""
        self._discard_on_exit = discard
        if interrupted:
            log.warning("terminated; unsaved changes go to the autosave")
        self.running = False

    def _restore(self, offer: RestoreOffer) -> None:
        """Take the crashed session's work: it becomes this session's (unsaved) work and autosave."""
        project = self._guard(offer.load)
        if project is None:
            return
        self.apply_project(project, path=None)
        self._saved_key = ()  # restored work is unsaved until the artist saves it
        if self.autosaver is not None:
            self._guard(lambda: self.autosaver.save_now(project))
            self.autosaver.discard()
        self.status.message(f"restored the session autosaved at {_clock_time(offer.saved_at)}")

    def _discard_restore(self) -> None:
        if self.autosaver is not None:
            self.autosaver.discard()

    # ----- errors ----------------------------------------------------------------------------

    def _guard(self, fn: Callable[[], object]):
        """Run a user action; a PercheadError goes to the status bar and a dialog, never up."""
        try:
            return fn()
        except PercheadError as e:
            self.report_error(str(e))
            return None

    def report_error(self, message: str) -> None:
        self.status.message(message, error=True)
        if dpg.is_dearpygui_running() and not self.options.automated:
            dialogs.show_choice("Something went wrong", message, [("OK", lambda: None)])

    # ----- screenshots -----------------------------------------------------------------------

    def take_screenshot(self, path: Path, max_frames: int = 30) -> Path:
        """Save the whole window as a PNG (the next drawn frame), atomically.

        Dear PyGui writes the frame buffer to a file itself (its Python-callback form crashed
        the interpreter now and then: the callback ran without the GIL), so it writes a temp
        file beside ``path`` that becomes ``path`` once it decodes whole.
        """
        import os

        from PIL import Image

        from models.atomic_io import check_output_path

        path = check_output_path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.shot.png")
        tmp.unlink(missing_ok=True)
        dpg.output_frame_buffer(file=str(tmp))
        try:
            for _ in range(max_frames):
                self.step()
                if tmp.is_file():
                    try:
                        with Image.open(tmp) as im:
                            im.load()
                        break
                    except (OSError, SyntaxError):
                        continue  # still being written
            else:
                raise PercheadError("the window did not deliver a screenshot; is the display working?")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def run_screenshot(self, path: Path, frames: int) -> Path:
        """--screenshot: N frames, the engine idle before the last few (the head in the shot), a PNG."""
        for _ in range(max(0, frames - SCREENSHOT_SETTLE_FRAMES)):
            self.step()
        if not self.wait_idle(SCREENSHOT_IDLE_TIMEOUT_S):
            log.warning("the engine was still busy after %.0f s; taking the screenshot anyway",
                        SCREENSHOT_IDLE_TIMEOUT_S)
        return self.take_screenshot(path)


def _clock_time(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch_s))
