"""A PNG of the whole window, taken from the next drawn frame and written atomically."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import dearpygui.dearpygui as dpg

from models.io.atomic import check_output_path
from models.errors import PercheadError


def save_window_png(path: Path, step: Callable[[], None], max_frames: int = 30) -> Path:
    """Run frames (``step``) until Dear PyGui has written the window to ``path``.

    Dear PyGui writes the frame buffer to a file itself (its Python-callback form crashed the
    interpreter now and then: the callback ran without the GIL), so it writes a temp file beside
    ``path`` that becomes ``path`` once it decodes whole.
    """
    from PIL import Image

    path = check_output_path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.shot.png")
    tmp.unlink(missing_ok=True)
    dpg.output_frame_buffer(file=str(tmp))
    try:
        for _ in range(max_frames):
            step()
            if tmp.is_file():
                try:
                    with Image.open(tmp) as im:
                        im.load()
                    break
                except (OSError, SyntaxError):
                    continue  # still being written
        else:
            raise PercheadError("the window did not deliver a screenshot; is the display working?")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
