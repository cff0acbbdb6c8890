"""``Styling``: the style that drives the head, from a prompt or a reference image file.

It implements ``actions.StyleActions``. The text/image toggle says which of the two the engine
uses; both are kept, so switching back and forth compares them.
"""
from __future__ import annotations

from pathlib import Path

from perchead_gui.app.dialogs import FileDialogs
from perchead_gui.app.document import Changes, Document
from perchead_gui.app.report import Reporter
from perchead_gui.engine import InferenceEngine
from perchead_gui.settings import UserSettings

MAX_PROMPT_CHARS = 10_000


class Styling:
    def __init__(self, doc: Document, changes: Changes, engine: InferenceEngine, settings: UserSettings,
                 file_dialogs: FileDialogs, report: Reporter) -> None:
        self.doc = doc
        self.changes = changes
        self.engine = engine
        self.settings = settings
        self.file_dialogs = file_dialogs
        self.report = report

    def apply_prompt(self, text: str) -> None:
        """The prompt field's Enter: the prompt becomes the style (and goes into the history)."""
        text = " ".join(str(text).split())
        if not text:
            self.report.message("the prompt is empty; type a few words, e.g. 'long red hair, green eyes'", error=True)
            return
        if len(text) > MAX_PROMPT_CHARS:  # the text model reads ~512 tokens; the project keeps a bounded prompt
            text = text[:MAX_PROMPT_CHARS]
            self.report.message(f"the prompt was cut to {MAX_PROMPT_CHARS:,} characters")
        self.doc.prompt = text
        self.doc.style_mode = "text"
        self.engine.set_style_text(text)
        self.settings.add_prompt(text)
        self.changes.style = True

    def set_style_mode(self, mode: str) -> None:
        """The text/image toggle; image mode without an image asks for one."""
        if mode == "image" and self.doc.style_image is None:
            self.changes.style = True  # the toggle goes back to what drives the head
            self.ask_style_image()
            return
        self.doc.style_mode = mode  # type: ignore[assignment]
        self.send_style()
        self.changes.style = True

    def send_style(self) -> None:
        """The engine takes the document's style: the reference image in image mode, else the prompt."""
        doc = self.doc
        if doc.style_mode == "image" and doc.style_image is not None:
            self.engine.set_style_image(doc.style_image)
        else:
            self.engine.set_style_text(doc.prompt)

    def ask_style_image(self) -> None:
        self.file_dialogs.ask("style", self.load_style_image_file)

    def load_style_image_file(self, path: str | Path) -> bool:
        """A reference image becomes the style (image mode)."""
        from models.style.image_input import read_style_image

        p = Path(path)
        rgba = self.report.guard(lambda: read_style_image(p))  # refuses unreadable and fully transparent images
        if rgba is None:
            return False
        self.doc.set_style_image(rgba, p.name)
        self.engine.set_style_image(rgba)
        self.changes.style = True
        self.report.message(f"style from {p.name}")
        return True
