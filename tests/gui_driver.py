"""Drive the real PercHead Studio window in a child process (a process holds one window only).

``python -m tests.gui_driver edit --project P --state-dir D``: open P, paint hair in a known
box through the same pointer methods the mouse handlers call, wait for the autosave, print
``AUTOSAVED``, then keep running until killed (the crash test SIGKILLs it).

``python -m tests.gui_driver geometry --state-dir D``: open the window, print one JSON line with the screen's size
and the window's place and size as the window system has them.

``python -m tests.gui_driver restore --state-dir D``: start as a user would, print one JSON
line with the offered choices, press Restore, print the restored map's class in the box.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from perchead_gui.app import dialogs
from perchead_gui.app.options import GuiOptions
from perchead_gui.app.window import App, exit_process

BOX = (100, 180, 120, 200)  # canvas rows/cols painted by ``edit``: (top, bottom, left, right)
HAIR = 9


def settle(app: App, timeout_s: float = 120.0) -> None:
    """Frames until the newest head is decoded, rendered and shown."""
    app.step()
    assert app.wait_idle(timeout_s), "the app did not settle"


def paint_box(app: App, label: int) -> None:
    """Horizontal strokes over BOX with a 4 px brush, as a mouse drag would make them."""
    top, bottom, left, right = BOX
    app.editor.select_class(label)
    app.doc.state.brush_size = 4
    for row in range(top + 2, bottom, 3):
        app.gestures.pointer_down(app.canvas_panel.to_window(left + 2, row), 0)
        for col in range(left + 2, right - 1, 2):
            app.gestures.pointer_move(app.canvas_panel.to_window(col, row))
        app.gestures.pointer_up(0)
        app.step()


def edit(args: argparse.Namespace) -> int:
    app = App(GuiOptions(project=args.project, state_dir=args.state_dir, restore_offer=False, autosave_s=0.5,
                         device="cpu"))
    app.start()
    settle(app)
    paint_box(app, HAIR)
    deadline = time.monotonic() + 120
    path = app.autosaver.autosave_path
    # an autosave of the whole edit: written, and nothing painted since (a file time compared with
    # the end of painting missed an autosave made by paint_box's own last step on a loaded machine)
    while not (path.exists() and not app.autosaver.pending):
        if time.monotonic() > deadline:
            print("NO AUTOSAVE", flush=True)
            return 1
        app.step()
        time.sleep(0.05)
    print("AUTOSAVED", app.autosaver.autosave_path, flush=True)
    while True:  # an artist still at work: only SIGKILL ends this
        app.step()
        time.sleep(0.02)


def geometry(args: argparse.Namespace) -> int:
    import dearpygui.dearpygui as dpg

    from perchead_gui.app.display import screen_size

    app = App(GuiOptions(state_dir=args.state_dir, restore_offer=False, device="cpu"))
    app.start()
    for _ in range(5):
        app.step()
    x, y = dpg.get_viewport_pos()
    print(json.dumps({"screen": list(screen_size() or ()), "x": x, "y": y, "width": dpg.get_viewport_width(),
                      "height": dpg.get_viewport_height()}), flush=True)
    app.shutdown()
    return exit_process(app, 0)


def restore(args: argparse.Namespace) -> int:
    app = App(GuiOptions(state_dir=args.state_dir, device="cpu"))
    app.start()
    for _ in range(3):
        app.step()
    offered = dialogs.modal_choices()
    if "Restore" in offered:
        dialogs.choose("Restore")
    settle(app)
    top, bottom, left, right = BOX
    box = app.doc.canvas.labels[top + 4:bottom - 4, left + 4:right - 4]
    print(json.dumps({"offered": offered, "box_hair_share": float((box == HAIR).mean()), "dirty": app.doc.dirty}),
          flush=True)
    app.shutdown()
    return exit_process(app, 0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("edit", "restore", "geometry"))
    p.add_argument("--project", type=Path)
    p.add_argument("--state-dir", type=Path, required=True)
    args = p.parse_args(argv)
    return {"edit": edit, "restore": restore, "geometry": geometry}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
