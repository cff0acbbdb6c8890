"""What is being edited (``Document``) and which panels must show it anew (``Changes``); no window code.

The document is the content a project file holds: the canvas, the style (prompt, mode,
reference image), the camera, the editor's settings and the file it came from. Every action
object changes it in place, so they all see one document; ``dirty`` compares it with what was
last saved or opened (camera moves do not count).

``Changes`` carries the other direction: an action that changed what a panel shows sets that
panel's flag, and the window, once per frame before drawing, brings the flagged panels up to
date. Actions never call panels.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from perchead_gui.app.state import EditorState
from perchead_gui.canvas import PaintCanvas
from perchead_gui.engine import DEFAULT_PROMPT
from perchead_gui.orbit import OrbitController
from perchead_gui.project import Project

log = logging.getLogger(__name__)

StyleMode = Literal["text", "image"]


class Document:
    """The editor's content. ``orbit`` is replaced when a project opens: read it from here each time."""

    def __init__(self, size: int) -> None:
        self.canvas = PaintCanvas(np.zeros((size, size), np.uint8))
        self.state = EditorState()
        self.orbit = OrbitController()
        self.prompt = DEFAULT_PROMPT  # what the engine uses until the artist sets a style
        self.style_mode: StyleMode = "text"
        self._style_rev = 0                          # bumped by every new style image (dirty tracking)
        self._style_image: np.ndarray | None = None  # [H, W, 4] float32 0..1, behind the style_image property
        self.style_image_name = ""
        self.project_path: Path | None = None
        self._saved_key: tuple = ()

    @property
    def style_image(self) -> np.ndarray | None:
        """The reference image [H, W, 4] float32 0..1, or None; every assignment is a new revision."""
        return self._style_image

    @style_image.setter
    def style_image(self, image: np.ndarray | None) -> None:
        self._style_image = image
        self._style_rev += 1

    def set_style_image(self, image: np.ndarray, name: str) -> None:
        """A reference image [H, W, 4] float32 0..1 becomes the style (image mode)."""
        self.style_image, self.style_image_name = image, name
        self.style_mode = "image"

    # ----- saved or not ----------------------------------------------------------------------

    def content_key(self) -> tuple:
        """Changes whenever something a save holds changes (the camera excepted)."""
        image_key = None if self.style_image is None else self._style_rev
        return (self.canvas.version, self.prompt, self.style_mode, image_key)

    def mark_saved(self) -> None:
        self._saved_key = self.content_key()

    def mark_unsaved(self) -> None:
        """Restored work is unsaved until the artist saves it."""
        self._saved_key = ()

    @property
    def dirty(self) -> bool:
        """Changes since the last save or open (camera moves do not count)."""
        return self.content_key() != self._saved_key

    def title_name(self) -> str:
        return self.project_path.name if self.project_path else "untitled"

    # ----- the project as a value ------------------------------------------------------------

    def project(self) -> Project:
        """Everything a save holds, taken from the editor now."""
        image = None
        if self.style_image is not None:
            image = (np.clip(self.style_image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # [H, W, 4]
        return Project(labels=np.array(self.canvas.labels), prompt=self.prompt, style_mode=self.style_mode,
                       style_image=image, camera=self.orbit.to_dict(), settings=self.state.to_settings())

    def apply(self, project: Project, path: Path | None) -> None:
        """A loaded project becomes the content (no undo history: it is a fresh start)."""
        self.canvas.reset(fit_labels(project.labels, self.canvas.size))
        self.prompt = project.prompt or DEFAULT_PROMPT
        self.style_image = None if project.style_image is None else project.style_image.astype(np.float32) / 255.0
        self.style_image_name = "" if project.style_image is None else "from the project"
        self.style_mode = "image" if project.style_mode == "image" and self.style_image is not None else "text"
        self.orbit = OrbitController.from_dict(project.camera) if project.camera else OrbitController()
        self.state.apply_settings(project.settings)
        self.project_path = path


@dataclass
class Changes:
    """Panels whose widgets no longer show the document: set by actions, cleared by the window."""

    tools: bool = False   # class, tool, brush, overlay, undo/redo availability
    style: bool = False   # prompt, history, mode, reference image
    view: bool = False    # view mode, background, turntable
    recent: bool = False  # the recent-files menu

    def clear(self) -> None:
        self.tools = self.style = self.view = self.recent = False


def fit_labels(labels: np.ndarray, size: int) -> np.ndarray:
    """A map of another size (a project from a model with another input size) -> [size, size], nearest."""
    labels = np.asarray(labels, dtype=np.uint8)
    if labels.shape == (size, size):
        return labels
    h, w = labels.shape
    ys = np.minimum(((np.arange(size) + 0.5) * h / size).astype(np.intp), h - 1)
    xs = np.minimum(((np.arange(size) + 0.5) * w / size).astype(np.intp), w - 1)
    log.warning("map of %dx%d resampled to the canvas size %d", w, h, size)
    return labels[ys[:, None], xs[None, :]]
