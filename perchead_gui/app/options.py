"""What ``perchead gui`` was asked to do: the command line, as one value the App reads."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from perchead_gui.autosave import AUTOSAVE_INTERVAL_S

ViewMode = Literal["rgb", "classes", "depth"]


@dataclass
class GuiOptions:
    checkpoint: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    project: Path | None = None
    screenshot: Path | None = None     # save a PNG of the whole window after ``frames`` and exit
    frames: int = 30
    view_yaw: float | None = None      # degrees; None keeps the canonical front view
    view_mode: ViewMode = "rgb"
    prompt: str | None = None          # applied after the project/sample, so it wins
    sample: str | None = None          # gallery sample by title or file name
    state_dir: Path | None = None      # autosave + settings folder; None = the per-user folder
    restore_offer: bool = True         # offer an unsaved session on start (off for --screenshot)
    autosave_s: float = AUTOSAVE_INTERVAL_S  # seconds between autosaves of unsaved work

    @property
    def automated(self) -> bool:
        """A --screenshot run: no restore prompt, no autosave, no user settings written."""
        return self.screenshot is not None
