"""File dialogs that remember the last folder, the yes/no modals, and the F1 help window.

Each file dialog is created when asked for and deleted when closed, so it opens in the
folder of its kind last used (UserSettings.last_folder) rather than wherever it was left.
Modals carry their choices as (label, callback) pairs; the actions' logic sits in the callbacks,
so tests call the same functions the buttons call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import dearpygui.dearpygui as dpg

from perchead_gui.app.shortcuts import help_rows

DIALOG_SIZE = (760, 460)
MODAL_TAG = "dialog/modal"
_choices: list[str] = []  # labels of the modal's buttons, in order
HELP_TAG = "dialog/help"

# kind -> (title, extensions); the first extension is the default suffix when saving
FILE_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "map": ("Load a seg map", (".png", ".jpg", ".bmp", ".tif", ".webp")),
    "photo": ("Open a photo", (".png", ".jpg", ".jpeg", ".webp", ".bmp")),
    "style": ("Load a style image", (".png", ".jpg", ".jpeg", ".webp", ".bmp")),
    "project": ("Project", (".perchead",)),
    "export_head": ("Export the head (.ply keeps class labels; .spz, .splat for web viewers)", (".ply", ".spz", ".splat")),
    "export_png": ("Save the view as PNG", (".png",)),
    "export_turntable": ("Export a turntable", (".gif", ".mp4")),
    "export_map": ("Save the seg map", (".png",)),
}


def normalised_save_path(raw: str, extensions: Sequence[str]) -> Path:
    """What the user typed in a save dialog -> a path with a known suffix.

    Dear PyGui appends the filter's pattern (".*" for all files) to a typed name; that is
    removed, and a name without one of ``extensions`` gets the first one.
    """
    text = raw[:-2] if raw.endswith(".*") else raw
    path = Path(text)
    if path.suffix.lower() not in extensions:
        path = path.with_name(path.name + extensions[0])
    return path


class FileDialogs:
    """Open/save dialogs per kind. ``last_folder(kind)``/``remember(kind, folder)`` wrap UserSettings."""

    def __init__(self, last_folder: Callable[[str], Path | None], remember: Callable[[str, Path], None]) -> None:
        self._last_folder = last_folder
        self._remember = remember
        self._open: set[str] = set()

    def is_open(self) -> bool:
        """A file dialog is showing (its name field has the keyboard, not the shortcuts)."""
        self._open = {t for t in self._open if dpg.does_item_exist(t) and dpg.is_item_shown(t)}
        return bool(self._open)

    def ask(self, kind: str, on_path: Callable[[Path], None], save: bool = False, default_name: str = "") -> None:
        """Show the dialog for ``kind``; ``on_path`` gets the chosen path (never called on cancel)."""
        title, extensions = FILE_KINDS[kind]
        tag = f"dialog/file/{kind}"
        if dpg.does_item_exist(tag):
            dpg.delete_item(tag)
        folder = self._last_folder(_folder_kind(kind))
        with dpg.file_dialog(label=title, tag=tag, modal=True, show=True, width=DIALOG_SIZE[0],
                             height=DIALOG_SIZE[1], default_path=str(folder) if folder else "",
                             default_filename=default_name if save else "",
                             callback=self._chosen, cancel_callback=self._cancelled,
                             user_data=(kind, on_path, save)):
            self._open.add(tag)
            if len(extensions) > 1 and not save:
                dpg.add_file_extension("{" + ",".join(extensions) + "}", color=(150, 255, 150, 255))
            for ext in extensions:
                dpg.add_file_extension(ext, color=(150, 255, 150, 255))
            if not save:
                dpg.add_file_extension(".*")

    def _chosen(self, sender, app_data: dict, user_data) -> None:
        kind, on_path, save = user_data
        raw = app_data.get("file_path_name", "")
        if not save:
            selections = list((app_data.get("selections") or {}).values())
            raw = selections[0] if selections else raw
        _delete_later(sender)
        if not raw:
            return
        path = normalised_save_path(raw, FILE_KINDS[kind][1]) if save else Path(raw)
        self._remember(_folder_kind(kind), path.parent)
        on_path(path)

    def _cancelled(self, sender, app_data, user_data) -> None:
        _delete_later(sender)


def _folder_kind(kind: str) -> str:
    """UserSettings keeps folders per kind: map, photo, style, project, export."""
    return "export" if kind.startswith("export") else kind


def _delete_later(item) -> None:
    """A dialog must not delete itself inside its own callback; hide it, delete on the next frame."""
    if dpg.does_item_exist(item):
        dpg.hide_item(item)
        dpg.set_frame_callback(dpg.get_frame_count() + 2, lambda: dpg.does_item_exist(item) and dpg.delete_item(item))


def show_choice(title: str, message: str, choices: Sequence[tuple[str, Callable[[], None]]]) -> None:
    """A modal with one button per choice; any button closes it, then runs its callback."""
    if dpg.does_item_exist(MODAL_TAG):
        dpg.delete_item(MODAL_TAG)
    _choices[:] = [label for label, _ in choices]
    width = 460
    vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    with dpg.window(label=title, tag=MODAL_TAG, modal=True, no_close=True, no_resize=True,
                    width=width, pos=(max(0, (vw - width) // 2), max(0, vh // 3))):
        dpg.add_text(message, wrap=width - 20)
        dpg.add_spacer(height=6)
        with dpg.group(horizontal=True):
            for label, action in choices:
                dpg.add_button(label=label, width=110, tag=f"{MODAL_TAG}/{label.lower()}",
                               callback=_choose, user_data=action)


def modal_open() -> bool:
    return dpg.does_item_exist(MODAL_TAG) and dpg.is_item_shown(MODAL_TAG)


def modal_choices() -> list[str]:
    """Button labels of the open modal (tests and automation check what is offered)."""
    return list(_choices) if modal_open() else []


def choose(label: str) -> None:
    """Press a button of the open modal by its label, as a click would."""
    tag = f"{MODAL_TAG}/{label.lower()}"
    _choose(tag, None, dpg.get_item_user_data(tag))


def _choose(sender, app_data, action: Callable[[], None]) -> None:
    dpg.hide_item(MODAL_TAG)
    action()


def build_help_window() -> None:
    """The F1 window: every shortcut from the one table in shortcuts.py."""
    with dpg.window(label="Shortcuts (F1)", tag=HELP_TAG, show=False, width=520, height=560, pos=(380, 80)):
        with dpg.table(header_row=True, borders_innerH=True, row_background=True):
            dpg.add_table_column(label="keys", width_fixed=True, init_width_or_weight=210)
            dpg.add_table_column(label="does")
            for keys, what in help_rows():
                with dpg.table_row():
                    dpg.add_text(keys)
                    dpg.add_text(what)


def toggle_help() -> None:
    dpg.configure_item(HELP_TAG, show=not dpg.is_item_shown(HELP_TAG))
    if dpg.is_item_shown(HELP_TAG):
        dpg.focus_item(HELP_TAG)
