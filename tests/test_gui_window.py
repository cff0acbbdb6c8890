"""The real window under Xvfb: paint, shortcuts, orbit, style, projects, exports, errors, crash recovery.

One App per process (Dear PyGui's viewport cannot be created twice in a process), shared by
the tests of this module and driven through the methods the mouse, keys and buttons call.
It runs the shipped checkpoints on the CPU. Scenarios that need a fresh process (SIGKILL and
restore) run ``tests/gui_driver.py`` in child processes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.palette import palette
from models.io.ply import read_ply
from perchead_gui.app.shortcuts import Mods
from perchead_gui.project import Project, load_project, save_project
from tests.gui_driver import BOX, HAIR, paint_box, settle

REPO = Path(__file__).resolve().parents[1]
SKIN, EYES, EARS = 1, 3, 5

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def app(x_display, tmp_path_factory):
    from perchead_gui.app.options import GuiOptions
    from perchead_gui.app.window import App

    state = tmp_path_factory.mktemp("state")
    window = App(GuiOptions(state_dir=state, restore_offer=False, device="cpu"))
    window.start()
    settle(window)
    yield window
    window.shutdown()


@pytest.fixture
def fresh(app):
    """Each test starts from the first sample with nothing unsaved and no dialog open."""
    from perchead_gui.app import dialogs

    if dialogs.modal_open():
        dialogs.choose(dialogs.modal_choices()[-1])
    app.exports.job = None
    app.files._new_now()
    app.editor.set_view_mode("rgb")
    app.editor.reset_view()
    settle(app)
    return app


def close_modal(app) -> str:
    """Press the last button of an open modal (OK / Cancel); returns the modal's first choice."""
    from perchead_gui.app import dialogs

    choices = dialogs.modal_choices()
    if choices:
        dialogs.choose(choices[-1])
        app.step()
    return choices[0] if choices else ""


# ----- first start --------------------------------------------------------------------------

def test_the_window_shows_a_decoded_head(fresh, tmp_path) -> None:
    app = fresh
    assert app.engine.head is not None and app.engine.last_error is None
    status = app.status.text()
    assert f"{len(app.engine.head):,} Gaussians" in status and "decode" in status
    shown = app.view.shown_pixels()[..., :3]
    background = np.array(app.doc.state.background, np.float32)
    covered = np.abs(shown - background).max(-1) > 0.05
    assert 0.1 < covered.mean() < 0.9, "a head fills part of the viewport"
    shot = app.take_screenshot(tmp_path / "window.png")
    assert Image.open(shot).size[0] >= 800


def test_the_gallery_has_varied_samples(fresh) -> None:
    samples = fresh.samples
    assert len(samples) >= 8
    classes = set().union(*(np.unique(s.labels).tolist() for s in samples))
    pal = palette()
    for name in ("hair", "facial_hair", "eyeglasses", "hat"):
        assert pal.id_of(name) in classes


# ----- painting and shortcuts ---------------------------------------------------------------

def test_a_stroke_paints_the_canvas_and_the_head_follows(fresh) -> None:
    app = fresh
    version = app.engine.head_version
    before = app.view.shown_pixels()
    paint_box(app, HAIR)
    top, bottom, left, right = BOX
    assert (app.doc.canvas.labels[top + 4:bottom - 4, left + 4:right - 4] == HAIR).mean() > 0.95
    settle(app)
    assert app.engine.head_version > version, "the painted map was decoded"
    assert np.abs(app.view.shown_pixels() - before).max() > 0.1, "the viewport shows the new head"
    assert app.doc.dirty


def test_undo_redo_keys(fresh) -> None:
    app = fresh
    before = app.doc.canvas.labels.copy()
    paint_box(app, EYES)
    after = app.doc.canvas.labels.copy()
    assert app.gestures.key("Z", Mods(ctrl=True)) == "undo"
    assert (app.doc.canvas.labels != after).any()
    while app.doc.canvas.can_undo:
        app.gestures.key("Z", Mods(ctrl=True))
    np.testing.assert_array_equal(app.doc.canvas.labels, before)
    assert app.gestures.key("Y", Mods(ctrl=True)) == "redo"
    while app.doc.canvas.can_redo:
        app.gestures.key("Z", Mods(ctrl=True, shift=True))
    np.testing.assert_array_equal(app.doc.canvas.labels, after)


def test_class_tool_and_brush_keys(fresh) -> None:
    app = fresh
    app.gestures.key("9")
    assert app.doc.state.label == HAIR
    app.gestures.key("3", Mods(shift=True))
    assert app.doc.state.label == palette().id_of("eyeglasses")
    app.gestures.key("E")
    assert app.doc.state.tool == "eraser" and app.doc.state.paint_label == 0
    app.gestures.key("B")
    size = app.doc.state.brush_size
    app.gestures.key("]")
    assert app.doc.state.brush_size > size
    app.gestures.key("[")
    app.gestures.key("[")
    assert app.doc.state.brush_size < size


def test_fill_and_eyedropper(fresh) -> None:
    app = fresh
    labels = app.doc.canvas.labels
    row, col = np.argwhere(labels == SKIN)[len(np.argwhere(labels == SKIN)) // 2]
    app.editor.select_tool("picker")
    app.gestures.pointer_down(app.canvas_panel.to_window(col + 0.5, row + 0.5), 0)
    app.gestures.pointer_up(0)
    assert app.doc.state.label == SKIN and app.doc.state.tool == "brush"
    app.editor.select_class(EARS)
    app.editor.select_tool("fill")
    app.gestures.pointer_down(app.canvas_panel.to_window(col + 0.5, row + 0.5), 0)
    app.gestures.pointer_up(0)
    assert app.doc.canvas.labels[row, col] == EARS
    assert not (app.doc.canvas.labels == SKIN).any() or (labels == SKIN).sum() > (app.doc.canvas.labels == SKIN).sum()


# ----- the 3D view ----------------------------------------------------------------------------

def test_drag_orbits_wheel_zooms_double_click_resets(fresh) -> None:
    app = fresh
    first = app.view.shown_pixels()
    cx, cy = app.view.centre()
    yaw, radius = app.doc.orbit.yaw, app.doc.orbit.radius
    app.gestures.pointer_down((cx, cy), 0)
    for i in range(1, 11):
        app.gestures.pointer_move((cx + 15 * i, cy))
        app.step()
    app.gestures.pointer_up(0)
    settle(app)
    assert app.doc.orbit.yaw != yaw
    turned = app.view.shown_pixels()
    assert np.abs(turned - first).mean() > 0.01, "the view re-rendered from the new angle"
    app.gestures.wheel((cx, cy), 2)
    assert app.doc.orbit.radius < radius
    app.gestures.pointer_down((cx, cy), 1)  # right-drag pans
    app.gestures.pointer_move((cx + 40, cy + 10))
    app.gestures.pointer_up(1)
    assert app.doc.orbit.pan != (0.0, 0.0)
    app.gestures.double_click((cx, cy), 0)
    assert app.doc.orbit.yaw == yaw and app.doc.orbit.radius == radius and app.doc.orbit.pan == (0.0, 0.0)


def test_view_modes_and_background(fresh) -> None:
    app = fresh
    app.editor.set_view_mode("classes")
    settle(app)
    shown = app.view.shown_pixels()[..., :3]
    colours = {tuple(c) for c in (palette().colors.astype(np.float32) / 255.0).round(3).tolist()}
    pixels = {tuple(p) for p in shown.reshape(-1, 3).round(3).tolist()}
    assert len(pixels & colours) >= 4, "class view shows palette colours"
    app.editor.set_view_mode("depth")
    app.editor.set_background((1.0, 1.0, 1.0))
    settle(app)
    corner = app.view.shown_pixels()[0, 0, :3]
    np.testing.assert_allclose(corner, 1.0, atol=1e-3)
    app.editor.set_background((0.12, 0.12, 0.14))
    app.gestures.key("T")
    assert app.doc.state.turntable
    yaw = app.doc.orbit.yaw
    time.sleep(0.05)
    app.step()
    assert app.doc.orbit.yaw != yaw
    app.gestures.key("T")


# ----- style ----------------------------------------------------------------------------------

def test_prompt_history_and_style_image(fresh, tmp_path) -> None:
    app = fresh
    version = app.engine.head_version
    app.styling.apply_prompt("long red hair, green eyes")
    settle(app)
    assert app.engine.head_version > version
    assert app.settings.prompt_history[0] == "long red hair, green eyes"
    app.step()  # the frame that takes the engine's events
    assert app.style.reading == "reads as: red hair, green eyes", app.style.reading  # what the style model read
    app.styling.apply_prompt("   ")
    assert "empty" in app.status.text()
    image = np.zeros((64, 64, 4), np.uint8)
    image[..., 0], image[..., 3] = 200, 255
    Image.fromarray(image, "RGBA").save(tmp_path / "red.png")
    assert app.styling.load_style_image_file(tmp_path / "red.png")
    assert app.doc.style_mode == "image"
    settle(app)
    clear = np.zeros((64, 64, 4), np.uint8)
    Image.fromarray(clear, "RGBA").save(tmp_path / "clear.png")
    assert not app.styling.load_style_image_file(tmp_path / "clear.png")
    assert "transparent" in app.status.text()
    close_modal(app)
    app.styling.set_style_mode("text")
    assert app.doc.style_mode == "text"


# ----- files ----------------------------------------------------------------------------------

def _frames(app, n: int) -> None:
    for _ in range(n):
        app.step()
        time.sleep(0.01)


def test_typing_a_new_prompt_over_the_old_one_with_real_keys(fresh) -> None:
    """Keys through X (XTEST), GLFW and the text field, as a person types: click, Ctrl+A, type, Enter replaces the
    old prompt; a click alone selects it too, so typing replaces it."""
    import dearpygui.dearpygui as dpg

    from perchead_gui.app.style_panel import PROMPT
    from tests.x_input import XInput

    app = fresh
    app.styling.apply_prompt("long wavy auburn hair, green eyes")
    settle(app)
    _frames(app, 3)
    keys = XInput()
    try:
        vx, vy = dpg.get_viewport_pos()
        (x0, y0), (x1, y1) = dpg.get_item_rect_min(PROMPT), dpg.get_item_rect_max(PROMPT)
        field = (int(vx + (x0 + x1) / 2), int(vy + (y0 + y1) / 2))
        for text, select in (("short black hair", "ctrl+a"), ("grey hair, a grey beard", None)):
            keys.click(*field)
            if select:
                keys.press(select)
            keys.type(text)
            keys.press("Return")
            for _ in range(600):  # key events trickle in about one a frame; the X server may be slow to pass them
                if app.doc.prompt == text:
                    break
                _frames(app, 1)
            assert dpg.get_value(PROMPT) == text and app.doc.prompt == text, (dpg.get_value(PROMPT), app.doc.prompt)
        keys.move(field[0], field[1] + 200)  # leave the pointer off the field
    finally:
        keys.close()
    settle(app)


def _cut_off() -> list[str]:
    """Every visible label, text, button, field and slider that reaches past the inner edge of its panel (a child
    window, or the main window), with the panel's scroll bar counted; the main window must not need scrolling."""
    import dearpygui.dearpygui as dpg

    padding, scrollbar = 8, 14  # Dear PyGui's default WindowPadding.x and ScrollbarSize
    kinds = ("mvText", "mvButton", "mvCheckbox", "mvRadioButton", "mvInputText", "mvCombo", "mvSliderFloat",
             "mvSliderInt", "mvInputInt", "mvImageButton", "mvProgressBar")
    bad = [f"main window scrolls by {dpg.get_item_state('main')['scroll_max']}"] \
        if any(v > 0 for v in dpg.get_item_state("main")["scroll_max"]) else []
    for item in dpg.get_all_items():
        kind = dpg.get_item_type(item).split("::")[-1]
        if kind not in kinds or not dpg.get_item_state(item).get("visible", False):
            continue
        panel = dpg.get_item_parent(item)
        while dpg.get_item_type(panel).split("::")[-1] not in ("mvChildWindow", "mvWindowAppItem"):
            panel = dpg.get_item_parent(panel)
        state = dpg.get_item_state(panel)
        if not state.get("visible", True):
            continue
        right = state["pos"][0] + state["rect_size"][0] - padding - (scrollbar if state["scroll_max"][1] > 0 else 0)
        x1, y1 = dpg.get_item_rect_max(item)
        bottom = state["pos"][1] + state["rect_size"][1]
        text = dpg.get_value(item) if kind == "mvText" else dpg.get_item_label(item)
        if x1 > right or (dpg.get_item_alias(panel) == "main" and y1 > bottom):
            bad.append(f"{kind} {dpg.get_item_alias(item) or item} {str(text)[:50]!r}: right {x1:.0f} > {right:.0f} "
                       f"or bottom {y1:.0f} > {bottom:.0f} of {dpg.get_item_alias(panel) or panel}")
    return bad


def test_no_label_is_cut_off_at_the_default_size_or_larger(fresh) -> None:
    import dearpygui.dearpygui as dpg

    from perchead_gui.app.window import WINDOW_SIZE

    app = fresh
    app.styling.apply_prompt("long wavy auburn hair, green eyes, pale skin, black turtleneck")  # a long reading line
    settle(app)
    assert (dpg.get_viewport_client_width(), dpg.get_viewport_client_height()) == WINDOW_SIZE
    _frames(app, 3)
    assert _cut_off() == []
    dpg.set_viewport_width(WINDOW_SIZE[0] + 320)
    dpg.set_viewport_height(WINDOW_SIZE[1] + 100)
    try:
        _frames(app, 4)
        assert _cut_off() == []
    finally:
        dpg.set_viewport_width(WINDOW_SIZE[0])
        dpg.set_viewport_height(WINDOW_SIZE[1])
        _frames(app, 4)


@pytest.mark.parametrize("screen, geometry", [((1280, 900), (1280, 900, 0, 0)), ((1280, 1024), (1280, 900, 0, 100)),
                                              ((1920, 1080), (1280, 900, 100, 100)), ((1366, 768), (1280, 768, 86, 0)),
                                              (None, (1280, 900, 100, 100))])
def test_the_window_fits_the_screen_it_opens_on(screen, geometry) -> None:
    from perchead_gui.app.window import window_geometry

    assert window_geometry(screen) == geometry


def test_on_a_1280x900_screen_the_window_opens_whole_on_it(tmp_path) -> None:
    """A real window on a 1280x900 X screen of its own: all of it on the screen."""
    from tests.conftest import start_xvfb

    proc, display = start_xvfb("1280x900x24")
    try:
        out = subprocess.run([sys.executable, "-m", "tests.gui_driver", "geometry", "--state-dir", str(tmp_path)],
                             cwd=REPO, env=_env(display), capture_output=True, text=True, timeout=300)
    finally:
        proc.terminate()
        proc.wait(10)
    assert out.returncode == 0, out.stderr
    g = json.loads(out.stdout.strip().splitlines()[-1])
    assert g["screen"] == [1280, 900]
    assert g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["width"] <= 1280 and g["y"] + g["height"] <= 900, g
    assert (g["width"], g["height"]) == (1280, 900)


def test_save_and_open_a_project(fresh, tmp_path) -> None:
    app = fresh
    paint_box(app, HAIR)
    app.styling.apply_prompt("short black hair")
    app.doc.orbit.yaw = 40.0
    assert app.files.save_project_as(tmp_path / "mine")
    path = tmp_path / "mine.perchead"
    assert path.is_file() and not app.doc.dirty and app.doc.project_path == path
    assert str(path) in app.settings.recent_files[0]
    saved = load_project(path)
    np.testing.assert_array_equal(saved.labels, app.doc.canvas.labels)
    assert saved.prompt == "short black hair" and saved.camera["yaw_deg"] == 40.0
    app.files._new_now()
    assert app.files.open_project(path)
    np.testing.assert_array_equal(app.doc.canvas.labels, saved.labels)
    assert app.doc.prompt == "short black hair" and app.doc.orbit.yaw == 40.0 and not app.doc.dirty
    assert not app.doc.canvas.can_undo, "an opened project starts a fresh history"


def test_a_damaged_project_is_reported_and_the_work_stays(fresh, tmp_path) -> None:
    app = fresh
    paint_box(app, HAIR)
    labels = app.doc.canvas.labels.copy()
    bad = tmp_path / "bad.perchead"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert not app.files.open_project(bad)
    assert close_modal(app) == "OK"
    np.testing.assert_array_equal(app.doc.canvas.labels, labels)
    assert app.doc.dirty


def test_opening_with_unsaved_changes_asks_first(fresh, tmp_path) -> None:
    from perchead_gui.app import dialogs

    app = fresh
    other = tmp_path / "other.perchead"
    save_project(other, Project(labels=np.zeros_like(app.doc.canvas.labels), prompt="bald"))
    paint_box(app, HAIR)
    app.files.open_project_checked(other)
    assert dialogs.modal_choices() == ["Save", "Discard", "Cancel"]
    dialogs.choose("Cancel")
    assert app.doc.dirty and app.doc.project_path is None
    app.files.open_project_checked(other)
    dialogs.choose("Discard")
    assert app.doc.project_path == other and app.doc.prompt == "bald"


def test_close_with_unsaved_changes_asks(fresh) -> None:
    from perchead_gui.app import dialogs

    app = fresh
    paint_box(app, HAIR)
    app.request_close()
    assert dialogs.modal_choices() == ["Save", "Discard", "Cancel"]
    dialogs.choose("Cancel")
    assert app.running


def test_load_and_save_seg_maps(fresh, tmp_path) -> None:
    app = fresh
    labels = np.zeros((300, 200), np.uint8)  # non-square label-index map: padded, resampled
    labels[60:240, 40:160] = SKIN
    labels[20:80, 40:160] = HAIR
    Image.fromarray(labels, "L").save(tmp_path / "index.png")
    assert app.files.load_segmap_file(tmp_path / "index.png", labels="index")
    assert (app.doc.canvas.labels == HAIR).any() and (app.doc.canvas.labels == SKIN).any()
    assert app.doc.canvas.can_undo
    assert app.files.save_segmap_file(tmp_path / "out.png")
    rgb = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert rgb.shape[:2] == app.doc.canvas.labels.shape
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert not app.files.load_segmap_file(tmp_path / "broken.png")
    close_modal(app)


def test_exports(fresh, tmp_path) -> None:
    app = fresh
    assert app.exports.export_head(tmp_path / "head.ply")
    head = read_ply(tmp_path / "head.ply")
    assert len(head) == len(app.engine.head) and int(head.labels.max()) > 0
    assert app.exports.export_head(tmp_path / "head.spz")  # the compressed web format, by its extension
    from models.io.spz import read_spz

    assert len(read_spz(tmp_path / "head.spz")) == len(head)
    assert app.exports.export_png(tmp_path / "view.png", size=128)
    assert Image.open(tmp_path / "view.png").size == (128, 128)
    assert not app.exports.export_head(tmp_path / "missing" / "head.ply")
    close_modal(app)
    dpg_set = __import__("dearpygui.dearpygui", fromlist=["set_value"]).set_value
    dpg_set("export/frames", 4)
    dpg_set("export/size", 64)
    assert app.exports.start_turntable(tmp_path / "turn.gif")
    for _ in range(10):
        app.step()
    assert app.exports.job is None
    gif = Image.open(tmp_path / "turn.gif")
    assert gif.n_frames == 4 and gif.size == (64, 64)
    assert app.exports.start_turntable(tmp_path / "turn.mp4")
    for _ in range(10):
        app.step()
    import imageio.v3 as iio

    frames = iio.imread(tmp_path / "turn.mp4", index=None)  # [T, H, W, 3]
    assert frames.shape[0] == 4 and frames.shape[1:3] == (64, 64)


def test_open_photo_reconstructs_and_offers_its_parsed_map(fresh, tmp_path) -> None:
    from models.photo import mediapipe_available

    if not mediapipe_available():
        pytest.skip("MediaPipe is not installed here (it is a default dependency where wheels exist)")
    from skimage import data

    app = fresh
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.png")
    version = app.engine.head_version
    assert app.files.open_photo(tmp_path / "astronaut.png"), app.status.text()
    assert app.doc.style_mode == "image" and app.doc.style_image_name == "astronaut.png"
    settle(app)
    assert app.engine.head_version > version and app.engine.last_error is None
    labels = app.doc.canvas.labels
    pal = palette()
    for name in ("skin", "eyes", "nose", "hair"):
        assert (labels == pal.id_of(name)).any(), f"the parsed map has {name}"
    assert app.doc.canvas.can_undo, "the photo's map is one undo step"
    settle(app)
    assert app.engine.head_version == version + 1, "taking the photo's map does not decode it again"
    Image.fromarray(np.full((300, 300, 3), 120, np.uint8)).save(tmp_path / "wall.png")
    assert not app.files.open_photo(tmp_path / "wall.png")
    assert "face" in app.status.text()
    assert close_modal(app) == "OK"


# ----- failures -------------------------------------------------------------------------------

def test_a_failing_decode_shows_its_error_and_keeps_the_last_frame(fresh, monkeypatch) -> None:
    app = fresh
    before = app.view.shown_pixels()
    version = app.engine.head_version

    def broken(labels, style):
        raise RuntimeError("the decoder blew up")

    monkeypatch.setattr(app.engine._pipe, "edit", broken)
    monkeypatch.setattr(app.engine._pipe, "edit_stages", broken)  # the live editor decodes in two steps
    paint_box(app, HAIR)
    settle(app)
    assert app.view.error is not None and "blew up" in app.view.error
    assert app.engine.head_version == version
    np.testing.assert_array_equal(app.view.shown_pixels(), before)
    monkeypatch.undo()
    paint_box(app, EYES)
    settle(app)
    assert app.view.error is None and app.engine.head_version > version


def test_a_failing_render_shows_its_error_and_keeps_the_last_frame(fresh, monkeypatch) -> None:
    import perchead_gui.engine as engine_module

    app = fresh
    before = app.view.shown_pixels()

    def broken(*args, **kwargs):
        raise RuntimeError("the rasteriser blew up")

    monkeypatch.setattr(engine_module, "render_gaussians", broken)
    app.doc.orbit.yaw = 30.0
    settle(app)
    assert app.view.error is not None and "render failed" in app.view.error and "blew up" in app.view.error
    np.testing.assert_array_equal(app.view.shown_pixels(), before)
    assert app.running
    monkeypatch.undo()
    app.doc.orbit.yaw = 35.0
    settle(app)
    assert app.view.error is None


# ----- processes ------------------------------------------------------------------------------

def _env(display: str) -> dict[str, str]:
    return {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}


def test_gui_without_a_display_says_how_to_run_headless() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = subprocess.run([sys.executable, "-m", "perchead_gui.cli", "gui"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "xvfb-run" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_screenshot_command_opens_a_project_and_exits_zero(x_display, tmp_path) -> None:
    from perchead_gui.gallery import load_gallery

    project = tmp_path / "p.perchead"
    save_project(project, Project(labels=load_gallery()[3].labels, prompt="long red hair"))
    shot = tmp_path / "shot.png"
    out = subprocess.run([sys.executable, "-m", "perchead_gui.cli", "gui", "--device", "cpu", "--project", str(project),
                          "--screenshot", str(shot), "--frames", "5", "--state-dir", str(tmp_path / "state")],
                         cwd=REPO, env=_env(x_display), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[1] >= 800 and image.std() > 10, "a picture of the window, not a blank"
    assert not (tmp_path / "state" / "autosave").exists() or not any((tmp_path / "state" / "autosave").iterdir())


def test_sigkill_after_autosave_offers_the_edit_on_restart(x_display, tmp_path) -> None:
    from perchead_gui.gallery import load_gallery

    project = tmp_path / "start.perchead"
    labels = load_gallery()[0].labels
    assert not (labels[BOX[0]:BOX[1], BOX[2]:BOX[3]] == HAIR).any()
    save_project(project, Project(labels=labels, prompt="bald man"))
    state = tmp_path / "state"
    child = subprocess.Popen([sys.executable, "-m", "tests.gui_driver", "edit", "--project", str(project),
                              "--state-dir", str(state)], cwd=REPO, env=_env(x_display),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("AUTOSAVED"), line + child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    out = subprocess.run([sys.executable, "-m", "tests.gui_driver", "restore", "--state-dir", str(state)],
                         cwd=REPO, env=_env(x_display), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["offered"][:2] == ["Restore", "Discard"]
    assert report["box_hair_share"] > 0.95, "the painted hair came back"
    assert report["dirty"], "restored work is unsaved until the artist saves it"


def test_exit_process_leaves_without_teardown_while_a_worker_computes() -> None:
    """A decode thread still inside torch at exit (shutdown's wait ran out on a loaded machine): the process ends
    with the app's status and its output flushed, not with torch's abort during interpreter teardown."""
    script = (
        "import threading, types, torch\n"
        "from perchead_gui.app.window import exit_process\n"
        "started = threading.Event()\n"
        "def work():\n"
        "    a = torch.randn(256, 256)\n"
        "    started.set()\n"
        "    while True:\n"
        "        a = (a @ a).tanh()\n"
        "threading.Thread(target=work, daemon=True).start()\n"
        "started.wait(30)\n"
        "print('saved', flush=False)\n"
        "exit_process(types.SimpleNamespace(workers_stopped=False), 3)\n"
        "print('not reached')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    assert out.stdout.splitlines() == ["saved"]


def test_exit_process_returns_the_status_when_every_worker_stopped() -> None:
    import types

    from perchead_gui.app.window import exit_process

    assert exit_process(types.SimpleNamespace(workers_stopped=True), 0) == 0
