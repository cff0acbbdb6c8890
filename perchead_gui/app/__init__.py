"""The Dear PyGui window of ``perchead gui``: the only package that imports dearpygui.

One panel per module (canvas_panel, viewport_panel, style_panel, gallery_panel, export_panel,
status_bar, menus, dialogs). Panels call the narrow interfaces of ``actions``; the objects
behind them (editing, styling, files, exports; gestures for the mouse and keys, recovery for
autosave) change the ``document`` and flag the panels to redraw; ``window.App`` makes them all
and wires them to the engine. Modules without a window (display, options, shortcuts, compose,
turntable, state, document) hold the logic tests drive directly.
Nothing here is imported eagerly, so ``perchead gui`` can check the display before loading
Dear PyGui.
"""
import sys

# Triton ships its own LLVM. Loaded after Mesa's software GL (llvmpipe, as under Xvfb and on
# many Linux desktops) has loaded the system LLVM, it crashes the process (seen: a segfault
# when torch._dynamo imports it lazily on a worker thread). The window never needs Triton, so
# it is kept out of this process: `import triton` fails and torch treats it as absent.
if "triton" not in sys.modules:
    sys.modules["triton"] = None  # type: ignore[assignment]
