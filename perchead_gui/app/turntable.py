"""Turntable export: render a full turn frame by frame, then write a GIF or an MP4.

The window advances the job one frame per UI frame (so the progress bar moves and the UI
never freezes) through ``step``; ``write`` encodes once every frame is in. Frames go through
``engine.render_head`` on the head taken when the export started, with orbit cameras that keep
the user's pitch, zoom and pan.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.io.atomic import check_output_path, write_bytes_atomic, write_path_atomic
from models.errors import PercheadError
from perchead_gui.orbit import OrbitController

FORMATS = (".gif", ".mp4")


class Renders(Protocol):
    def render_head(self, head: Any, camera, mode: str = "rgb",
                    background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Any: ...


def mp4_available() -> bool:
    """imageio writes MP4 through its ffmpeg plugin, which needs the imageio-ffmpeg package."""
    return importlib.util.find_spec("imageio_ffmpeg") is not None


def check_turntable_path(path: str | os.PathLike) -> Path:
    """Refuse an unknown suffix, a missing folder, or MP4 without ffmpeg, before any frame is rendered."""
    p = check_output_path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise PercheadError(f"cannot write a turntable to {p.name}: use a .gif or .mp4 file name")
    if suffix == ".mp4" and not mp4_available():
        raise PercheadError("MP4 export needs imageio's ffmpeg plugin: pip install imageio-ffmpeg "
                            "(or export a .gif, which needs nothing extra)")
    return p


@dataclass
class TurntableJob:
    """One export in progress. ``orbit`` is OrbitController.to_dict() of the view to start from."""

    path: Path
    orbit: dict
    frames: int = 36
    size: int = 384
    fps: int = 12
    mode: str = "rgb"
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    head: Any = None   # the head when the export started: painting meanwhile does not mix two heads
    images: list[np.ndarray] = field(default_factory=list)  # [size, size, 3] uint8 each

    def __post_init__(self) -> None:
        self.path = check_turntable_path(self.path)
        if not 2 <= self.frames <= 720:
            raise PercheadError(f"a turntable needs 2 to 720 frames; got {self.frames}")
        if not 16 <= self.size <= 2048:
            raise PercheadError(f"turntable size must be 16 to 2048 px; got {self.size}")

    @property
    def done(self) -> bool:
        return len(self.images) >= self.frames

    @property
    def progress(self) -> float:
        return len(self.images) / self.frames

    def camera(self, index: int):
        """The orbit camera of frame ``index``: the start view turned by index/frames of a circle."""
        ctl = OrbitController.from_dict(self.orbit)
        ctl.yaw = ctl.yaw + 360.0 * index / self.frames
        return ctl.camera(self.size, self.size)

    def step(self, engine: Renders) -> None:
        """Render the next frame; a failed render ends the job with the renderer's message."""
        if self.head is None:
            raise PercheadError("there is no head to export yet; paint a map or pick a sample first")
        frame = engine.render_head(self.head, self.camera(len(self.images)), mode=self.mode, background=self.background)
        if frame.error:
            raise PercheadError(f"turntable frame {len(self.images) + 1} failed: {frame.error}")
        self.images.append((np.clip(frame.image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))

    def write(self) -> Path:
        """Encode the frames; the file appears whole or not at all."""
        if not self.done:
            raise RuntimeError("write() before every frame was rendered")
        if self.path.suffix.lower() == ".gif":
            return write_bytes_atomic(self.path, encode_gif(self.images, self.fps))
        return write_mp4(self.path, self.images, self.fps)


def encode_gif(images: list[np.ndarray], fps: int) -> bytes:
    """Frames [H, W, 3] uint8 -> a looping GIF in memory."""
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", np.stack(images), extension=".gif", duration=1000.0 / fps, loop=0)


def write_mp4(path: Path, images: list[np.ndarray], fps: int) -> Path:
    """ffmpeg writes to a path: it encodes a temp file beside the target, which then replaces it
    whole (fsync + rename); imageio's own failures become one line."""
    import imageio.v2 as iio2

    def encode(tmp: Path) -> None:
        try:
            iio2.mimwrite(tmp, images, format="FFMPEG", fps=fps, macro_block_size=1)
        except (RuntimeError, ValueError) as e:  # ffmpeg missing or refusing the frames
            raise PercheadError(f"cannot encode {path.name} as MP4 ({e}); export a .gif instead") from e

    return write_path_atomic(path, encode, suffix=".mp4")
