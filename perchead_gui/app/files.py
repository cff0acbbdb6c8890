"""``FileActions``: projects, seg maps, photos and gallery samples (``actions.ProjectActions``).

Every action comes in two parts: ``ask_*`` opens a file dialog, and the method it calls with
the chosen path does the work. Tests and automation call the second part directly, so the same
code runs whether a person clicks or a test drives it. A bad file never takes work away: errors
go to the status bar and a dialog (``Reporter.guard``), and an action that would replace unsaved
work asks first (``confirm_discard``).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from models.errors import PercheadError
from perchead_gui.app import dialogs
from perchead_gui.app.dialogs import FileDialogs
from perchead_gui.app.document import Changes, Document, fit_labels
from perchead_gui.app.report import Reporter
from perchead_gui.app.styling import Styling
from perchead_gui.autosave import Autosaver
from perchead_gui.engine import DEFAULT_PROMPT, InferenceEngine
from perchead_gui.gallery import SampleMap
from perchead_gui.project import SUFFIX, Project, load_project, save_project
from perchead_gui.settings import UserSettings

log = logging.getLogger(__name__)


class FileActions:
    """What the File menu and the gallery open and save. ``ask_first`` is off for --screenshot runs."""

    def __init__(self, doc: Document, changes: Changes, engine: InferenceEngine, styling: Styling,
                 settings: UserSettings, file_dialogs: FileDialogs, report: Reporter, samples: list[SampleMap],
                 labels_mode: Callable[[], str], autosaver: Autosaver | None, ask_first: bool) -> None:
        self.doc = doc
        self.changes = changes
        self.engine = engine
        self.styling = styling
        self.settings = settings
        self.file_dialogs = file_dialogs
        self.report = report
        self.samples = samples
        self.labels_mode = labels_mode  # how to read a seg map's values when the caller does not say
        self.autosaver = autosaver
        self.ask_first = ask_first

    def apply_project(self, project: Project, path: Path | None) -> None:
        """Make a loaded project the editor's content and the engine's style."""
        self.doc.apply(project, path)
        self.styling.send_style()
        self.changes.tools = self.changes.style = self.changes.view = True
        for warning in project.warnings:
            self.report.message(warning)

    # ----- open, new, save -------------------------------------------------------------------

    def open_project(self, path: str | Path) -> bool:
        """Open a .perchead file now (no question asked); False with a message when it cannot."""
        p = Path(path)
        project = self.report.guard(lambda: load_project(p))
        if project is None:
            if not p.exists():
                self.settings.remove_recent(p)
                self.changes.recent = True
            return False
        self.apply_project(project, p)
        self.doc.mark_saved()
        self.settings.add_recent(p)
        self.changes.recent = True
        self.report.message(f"opened {p.name}")
        return True

    def open_project_checked(self, path: str | Path) -> None:
        """Open a project, first asking what to do with unsaved changes."""
        self.confirm_discard(lambda: self.open_project(path), "opening another project")

    def ask_open_project(self) -> None:
        self.confirm_discard(lambda: self.file_dialogs.ask("project", self.open_project), "opening another project")

    def new_project(self) -> None:
        """Start over from the default head (the first sample) and the default prompt."""
        self.confirm_discard(self._new_now, "starting a new project")

    def _new_now(self) -> None:
        size = self.doc.canvas.size
        labels = self.samples[0].labels if self.samples else np.zeros((size, size), np.uint8)
        self.apply_project(Project(labels=labels, prompt=DEFAULT_PROMPT), path=None)
        self.doc.mark_saved()
        self.report.message("new project")

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Ctrl+S: save to the project's file, or ask for a name the first time."""
        if self.doc.project_path is None:
            self.ask_save_as(then)
            return
        if self.save_project_as(self.doc.project_path) and then is not None:
            then()

    def ask_save_as(self, then: Callable[[], None] | None = None) -> None:
        name = self.doc.project_path.name if self.doc.project_path else f"head{SUFFIX}"

        def chosen(path: Path) -> None:
            if self.save_project_as(path) and then is not None:
                then()

        self.file_dialogs.ask("project", chosen, save=True, default_name=name)

    def save_project_as(self, path: str | Path) -> bool:
        """Write the project to ``path`` (atomic); True when saved."""
        p = Path(path)
        if p.suffix.lower() != SUFFIX:
            p = p.with_name(p.name + SUFFIX)
        project = self.doc.project()
        if self.report.guard(lambda: save_project(p, project)) is None:
            return False
        self.doc.project_path = p
        self.doc.mark_saved()
        if self.autosaver is not None:  # the saved file is newer than any autosave: nothing to offer after a crash
            self.autosaver.mark_clean_exit()
        self.settings.add_recent(p)
        self.changes.recent = True
        self.report.message(f"saved {p}")
        return True

    def confirm_discard(self, then: Callable[[], None], doing: str,
                        discard: Callable[[], None] | None = None) -> None:
        """Run ``then`` now when nothing is unsaved, else ask: Save (then go on), Discard, Cancel.

        ``discard`` replaces ``then`` for the Discard button (closing drops the autosave too)."""
        if not self.doc.dirty or not self.ask_first:
            then()
            return
        dialogs.show_choice("Unsaved changes",
                            f"Save the changes to {self.doc.title_name()} before {doing}?",
                            [("Save", lambda: self.save(then=then)), ("Discard", discard or then),
                             ("Cancel", lambda: None)])

    # ----- maps ------------------------------------------------------------------------------

    def load_sample(self, sample: SampleMap, undoable: bool = True) -> None:
        """A gallery map becomes the canvas (one undo step), with its prompt as the style."""
        canvas = self.doc.canvas
        labels = fit_labels(sample.labels, canvas.size)
        if undoable:
            canvas.set_labels(labels)
        else:
            canvas.reset(labels)
        self.styling.apply_prompt(sample.prompt)
        self.changes.tools = True
        self.report.message(f"sample: {sample.title}")

    def find_sample(self, name: str) -> SampleMap | None:
        """A gallery sample by title or file name (case-insensitive), for --sample."""
        key = name.strip().lower()
        for s in self.samples:
            if key in (s.title.lower(), s.path.name.lower(), s.path.stem.lower()):
                return s
        self.report.message(f"no sample called {name!r}; samples: {', '.join(s.title for s in self.samples)}",
                            error=True)
        return None

    def ask_segmap(self) -> None:
        self.file_dialogs.ask("map", self.load_segmap_file)

    def load_segmap_file(self, path: str | Path, labels: str | None = None) -> bool:
        """A seg map file (palette PNG, label index, CelebAMask-HQ) becomes the canvas, one undo step."""
        from models.io.segmap import load_segmap

        mode = labels or self.labels_mode()
        canvas = self.doc.canvas
        seg = self.report.guard(
            lambda: load_segmap(Path(path), labels=mode, size=canvas.size))  # type: ignore[arg-type]
        if seg is None:
            return False
        canvas.set_labels(seg.labels)
        self.changes.tools = True
        note = f" ({'; '.join(seg.warnings)})" if seg.warnings else ""
        self.report.message(f"loaded {Path(path).name}{note}")
        return True

    def ask_save_segmap(self) -> None:
        self.file_dialogs.ask("export_map", self.save_segmap_file, save=True, default_name="segmap.png")

    def save_segmap_file(self, path: str | Path) -> bool:
        from models.io.segmap import save_segmap

        labels = np.array(self.doc.canvas.labels)
        if self.report.guard(lambda: save_segmap(Path(path), labels)) is None:
            return False
        self.report.message(f"saved the seg map to {path}")
        return True

    # ----- photo -----------------------------------------------------------------------------

    def ask_photo(self) -> None:
        self.file_dialogs.ask("photo", self.open_photo)

    def open_photo(self, path: str | Path) -> bool:
        """A photo: aligned and cut out, reconstructed by the base model; its parsed map becomes the
        canvas (a first guess to paint on) and the photo the style image."""
        from models.io.images import load_rgba
        from models.photo import SEGMAP_NOTE, prepare_photo

        p = Path(path)
        rgba = self.report.guard(lambda: load_rgba(p, "photo"))
        if rgba is None:
            return False
        prepared = self.report.guard(lambda: prepare_photo(rgba, self.doc.canvas.size, name=p.name))
        if prepared is None:
            return False
        photo = prepared.rgba_float()  # [S, S, 4]
        try:
            self.engine.reconstruct(photo, labels=prepared.labels, style_rgba=photo)
        except PercheadError as e:
            self.report.error(str(e))
            return False
        self.doc.set_style_image(photo, p.name)  # only once the engine took it
        self.changes.style = True
        notes = "; ".join(prepared.notes[:2])
        self.report.message(f"reconstructing {p.name}: {SEGMAP_NOTE}" + (f" ({notes})" if notes else ""))
        return True
