"""How actions tell the artist what happened: the status bar, and a dialog for what went wrong.

A ``PercheadError`` from a user action (a bad file, a full disk) is a message, never a crash:
``guard`` runs the action and turns the error into the status line and an OK dialog.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import dearpygui.dearpygui as dpg

from models.errors import PercheadError
from perchead_gui.app import dialogs
from perchead_gui.app.status_bar import StatusBar

T = TypeVar("T")


class Reporter:
    def __init__(self, status: StatusBar, dialogs_shown: bool) -> None:
        self.status = status
        self.dialogs_shown = dialogs_shown  # False for --screenshot runs: nobody is there to press OK

    def message(self, text: str, error: bool = False) -> None:
        """A line in the status bar (red when ``error``)."""
        self.status.message(text, error=error)

    def error(self, message: str) -> None:
        """What went wrong: the status bar, and a dialog while the window runs."""
        self.status.message(message, error=True)
        if dpg.is_dearpygui_running() and self.dialogs_shown:
            dialogs.show_choice("Something went wrong", message, [("OK", lambda: None)])

    def guard(self, fn: Callable[[], T]) -> T | None:
        """Run a user action; a PercheadError is reported, never raised, and gives None."""
        try:
            return fn()
        except PercheadError as e:
            self.error(str(e))
            return None
