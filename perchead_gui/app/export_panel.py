"""Export: the head as .ply / .spz / .splat, the current view as PNG, a turntable GIF/MP4 with a progress bar."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from perchead_gui.app.actions import ExportActions
from perchead_gui.app.turntable import mp4_available

PROGRESS = "export/progress"
INPUTS = ("export/frames", "export/size", "export/fps")


def turntable_options() -> tuple[int, int, int]:
    """(frames, size px, fps) as typed."""
    return (int(dpg.get_value("export/frames")), int(dpg.get_value("export/size")),
            int(dpg.get_value("export/fps")))


class ExportPanel:
    def __init__(self, actions: ExportActions) -> None:
        self.actions = actions
        self._progress: tuple[float | None, str] = (None, "")  # what the bar shows

    def build(self, width: int) -> None:
        with dpg.child_window(tag="export", width=width, height=-1):
            dpg.add_text("Export")
            dpg.add_button(label="Head (.ply/.spz/.splat)...", width=-1, callback=lambda: self.actions.ask_export_head())
            dpg.add_button(label="View as PNG...", width=-1, callback=lambda: self.actions.ask_export_png())
            dpg.add_separator()
            dpg.add_text("Turntable")
            dpg.add_input_int(label="frames", tag="export/frames", default_value=36, min_value=2, max_value=720,
                              min_clamped=True, max_clamped=True, width=90)
            dpg.add_input_int(label="px", tag="export/size", default_value=384, min_value=16, max_value=2048,
                              min_clamped=True, max_clamped=True, width=90)
            dpg.add_input_int(label="fps", tag="export/fps", default_value=12, min_value=1, max_value=60,
                              min_clamped=True, max_clamped=True, width=90)
            with dpg.group(horizontal=True):
                dpg.add_button(label="GIF / MP4...", tag="export/turntable",
                               callback=lambda: self.actions.ask_export_turntable())
                dpg.add_button(label="Cancel", tag="export/cancel", show=False,
                               callback=lambda: self.actions.cancel_export())
            dpg.add_progress_bar(tag=PROGRESS, width=-1, default_value=0.0, overlay="", show=False)
            if not mp4_available():
                dpg.add_text("MP4 needs: pip install imageio-ffmpeg", color=(200, 200, 140, 255), wrap=width - 10)

    def typing(self) -> bool:
        """True while a turntable field has the keyboard (shortcuts must not fire)."""
        return any(dpg.is_item_active(t) for t in INPUTS)

    def show_progress(self, fraction: float | None, text: str = "") -> None:
        """A fraction shows the bar and the Cancel button; None hides both."""
        if (fraction, text) == self._progress:
            return
        self._progress = (fraction, text)
        running = fraction is not None
        dpg.configure_item(PROGRESS, show=running, overlay=text)
        dpg.configure_item("export/cancel", show=running)
        dpg.configure_item("export/turntable", enabled=not running)
        if running:
            dpg.set_value(PROGRESS, float(fraction))
