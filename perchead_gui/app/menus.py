"""The menu bar: File (projects, recent files, maps, photo, style, exports), Edit, View, Help."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from perchead_gui.app import dialogs
from perchead_gui.app.actions import Actions
from perchead_gui.settings import UserSettings

RECENT = "menu/recent"


class MenuBar:
    def __init__(self, actions: Actions, settings: UserSettings) -> None:
        self.actions = actions
        self.settings = settings  # the recent files

    def build(self) -> None:
        a = self.actions
        files, exports, edit, view = a.files, a.exports, a.edit, a.view
        with dpg.viewport_menu_bar(tag="menu"):
            with dpg.menu(label="File"):
                dpg.add_menu_item(label="New", callback=lambda: files.new_project())
                dpg.add_menu_item(label="Open project...", shortcut="Ctrl+O", callback=lambda: files.ask_open_project())
                dpg.add_menu(label="Open recent", tag=RECENT)
                dpg.add_menu_item(label="Save", shortcut="Ctrl+S", callback=lambda: files.save())
                dpg.add_menu_item(label="Save as...", shortcut="Ctrl+Shift+S", callback=lambda: files.ask_save_as())
                dpg.add_separator()
                dpg.add_menu_item(label="Load seg map...", callback=lambda: files.ask_segmap())
                dpg.add_menu_item(label="Save seg map...", callback=lambda: files.ask_save_segmap())
                dpg.add_menu_item(label="Open photo...", callback=lambda: files.ask_photo())
                dpg.add_menu_item(label="Load style image...", callback=lambda: a.style.ask_style_image())
                dpg.add_separator()
                dpg.add_menu_item(label="Export head...", shortcut="Ctrl+E", callback=lambda: exports.ask_export_head())
                dpg.add_menu_item(label="Save view as PNG...", callback=lambda: exports.ask_export_png())
                dpg.add_menu_item(label="Export turntable...", callback=lambda: exports.ask_export_turntable())
                dpg.add_separator()
                dpg.add_menu_item(label="Quit", callback=lambda: a.close())
            with dpg.menu(label="Edit"):
                dpg.add_menu_item(label="Undo", shortcut="Ctrl+Z", callback=lambda: edit.undo())
                dpg.add_menu_item(label="Redo", shortcut="Ctrl+Shift+Z", callback=lambda: edit.redo())
                dpg.add_menu_item(label="Clear canvas", callback=lambda: edit.clear_canvas())
            with dpg.menu(label="View"):
                dpg.add_menu_item(label="Reset view", shortcut="R", callback=lambda: view.reset_view())
                dpg.add_menu_item(label="RGB", callback=lambda: view.set_view_mode("rgb"))
                dpg.add_menu_item(label="Class map", callback=lambda: view.set_view_mode("classes"))
                dpg.add_menu_item(label="Depth", callback=lambda: view.set_view_mode("depth"))
                dpg.add_menu_item(label="Turntable", shortcut="T", callback=lambda: view.toggle_turntable())
            with dpg.menu(label="Help"):
                dpg.add_menu_item(label="Shortcuts", shortcut="F1", callback=dialogs.toggle_help)
        self.sync_recent()

    def sync_recent(self) -> None:
        """Rebuild Open recent from the settings' list (newest first)."""
        dpg.delete_item(RECENT, children_only=True)
        recent = [Path(p) for p in self.settings.recent_files]
        if not recent:
            dpg.add_menu_item(label="(none yet)", parent=RECENT, enabled=False)
        for path in recent:
            dpg.add_menu_item(label=f"{path.name}  ({path.parent})", parent=RECENT,
                              callback=lambda s, a, p: self.actions.files.open_project_checked(p), user_data=path)
