"""The Dear PyGui window of ``perchead gui``: the only package that imports dearpygui.

One panel per module (canvas_panel, viewport_panel, style_panel, gallery_panel, export_panel,
status_bar, menus, dialogs); ``window.App`` wires them to the engine. Modules without a
window (display, options, shortcuts, compose, turntable) hold the logic tests drive directly.
Nothing here is imported eagerly, so ``perchead gui`` can check the display before loading
Dear PyGui.
"""
