"""The status bar: device, Gaussian count, decode and render ms, FPS, busy, the last message."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from perchead_gui.engine import EngineStats

ERROR_COLOUR = (255, 110, 110, 255)
INFO_COLOUR = (200, 220, 255, 255)


class StatusBar:
    TAG = "status"

    def build(self) -> None:
        with dpg.group(tag=self.TAG, horizontal=True):
            dpg.add_loading_indicator(tag="status/busy", style=1, radius=1.4, show=False)
            dpg.add_text("", tag="status/numbers")
            dpg.add_text("|")
            dpg.add_text("", tag="status/message", color=INFO_COLOUR)

    def update(self, stats: EngineStats, fps: float, busy: bool) -> None:
        dpg.configure_item("status/busy", show=busy)
        dpg.set_value("status/numbers", numbers_text(stats, fps, busy))

    def message(self, text: str, error: bool = False) -> None:
        dpg.set_value("status/message", text)
        dpg.configure_item("status/message", color=ERROR_COLOUR if error else INFO_COLOUR)

    def text(self) -> str:
        return f"{dpg.get_value('status/numbers')} | {dpg.get_value('status/message')}"


def numbers_text(stats: EngineStats, fps: float, busy: bool) -> str:
    return (f"{stats.device}  |  {stats.gaussians:,} Gaussians  |  decode {stats.decode_ms:.0f} ms  |  "
            f"render {stats.render_ms:.0f} ms  |  {fps:.0f} FPS" + ("  |  updating..." if busy else ""))
