"""What the File menu, the gallery, the style and export panels do: ``FileActions``, mixed into App.

Every action comes in two parts: ``ask_*`` opens a file dialog (it needs the window), and
the method it calls with the chosen path does the work. Tests and automation call the second
part directly, so the same code runs whether a person clicks or a test drives it. A bad file
never takes work away: errors go to the status bar and a dialog (``App._guard``), and an action
that would replace unsaved work asks first.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from models.errors import PercheadError
from perchead_gui.app import dialogs
from perchead_gui.app.turntable import TurntableJob
from perchead_gui.engine import DEFAULT_PROMPT
from perchead_gui.gallery import SampleMap
from perchead_gui.orbit import OrbitController
from perchead_gui.project import SUFFIX, Project, load_project, save_project

if TYPE_CHECKING:
    from perchead_gui.app.window import App

log = logging.getLogger(__name__)

PNG_EXPORT_PX = 512   # "Save view as PNG" renders the current view at this size


class FileActions:
    """Projects, maps, photos, style images and exports. Mixed into App (``self`` is the App)."""

    # ----- the project as a value ------------------------------------------------------------

    def project(self: "App") -> Project:
        """Everything a save holds, taken from the editor now."""
        image = None
        if self.style_image is not None:
            image = (np.clip(self.style_image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # [H, W, 4]
        return Project(labels=np.array(self.canvas.labels), prompt=self.prompt, style_mode=self.style_mode,
                       style_image=image, camera=self.orbit.to_dict(), settings=self.state.to_settings())

    def apply_project(self: "App", project: Project, path: Path | None) -> None:
        """Make a loaded project the editor's content (no undo history: it is a fresh start)."""
        labels = _fit_canvas(project.labels, self.canvas.size)
        self.canvas.reset(labels)
        self.prompt = project.prompt or DEFAULT_PROMPT
        self.style_image = None if project.style_image is None else project.style_image.astype(np.float32) / 255.0
        self.style_image_name = "" if project.style_image is None else "from the project"
        self.style_mode = "image" if project.style_mode == "image" and self.style_image is not None else "text"
        self.orbit = OrbitController.from_dict(project.camera) if project.camera else OrbitController()
        self.state.apply_settings(project.settings)
        self.project_path = path
        self._send_style()
        self.tools.sync()
        self.style.sync()
        self.view.sync()
        for warning in project.warnings:
            self.status.message(warning)

    def _send_style(self: "App") -> None:
        if self.style_mode == "image" and self.style_image is not None:
            self.engine.set_style_image(self.style_image)
        else:
            self.engine.set_style_text(self.prompt)

    # ----- open, new, save -------------------------------------------------------------------

    def open_project(self: "App", path: str | Path) -> bool:
        """Open a .perchead file now (no question asked); False with a message when it cannot."""
        p = Path(path)

        def load() -> Project:
            return load_project(p)

        project = self._guard(load)
        if project is None:
            if not p.exists():
                self.settings.remove_recent(p)
                self.menus.sync_recent()
            return False
        self.apply_project(project, p)
        self._mark_saved()
        self.settings.add_recent(p)
        self.menus.sync_recent()
        self.status.message(f"opened {p.name}")
        return True

    def open_project_checked(self: "App", path: str | Path) -> None:
        """Open a project, first asking what to do with unsaved changes."""
        self.confirm_discard(lambda: self.open_project(path), "opening another project")

    def ask_open_project(self: "App") -> None:
        self.confirm_discard(lambda: self.files.ask("project", self.open_project), "opening another project")

    def new_project(self: "App") -> None:
        """Start over from the default head (the first sample) and the default prompt."""
        self.confirm_discard(self._new_now, "starting a new project")

    def _new_now(self: "App") -> None:
        labels = self.samples[0].labels if self.samples else np.zeros((self.canvas.size,) * 2, np.uint8)
        self.apply_project(Project(labels=labels, prompt=DEFAULT_PROMPT), path=None)
        self._mark_saved()
        self.status.message("new project")

    def save(self: "App", then: Callable[[], None] | None = None) -> None:
        """Ctrl+S: save to the project's file, or ask for a name the first time."""
        if self.project_path is None:
            self.ask_save_as(then)
            return
        if self.save_project_as(self.project_path) and then is not None:
            then()

    def ask_save_as(self: "App", then: Callable[[], None] | None = None) -> None:
        name = self.project_path.name if self.project_path else f"head{SUFFIX}"

        def chosen(path: Path) -> None:
            if self.save_project_as(path) and then is not None:
                then()

        self.files.ask("project", chosen, save=True, default_name=name)

    def save_project_as(self: "App", path: str | Path) -> bool:
        """Write the project to ``path`` (atomic); True when saved."""
        p = Path(path)
        if p.suffix.lower() != SUFFIX:
            p = p.with_name(p.name + SUFFIX)
        project = self.project()
        if self._guard(lambda: save_project(p, project)) is None:
            return False
        self.project_path = p
        self._mark_saved()
        if self.autosaver is not None:  # the saved file is newer than any autosave: nothing to offer after a crash
            self.autosaver.mark_clean_exit()
        self.settings.add_recent(p)
        self.menus.sync_recent()
        self.status.message(f"saved {p}")
        return True

    def confirm_discard(self: "App", then: Callable[[], None], doing: str) -> None:
        """Run ``then`` now when nothing is unsaved, else ask: Save (then go on), Discard, Cancel."""
        if not self.dirty or self.options.automated:
            then()
            return
        dialogs.show_choice("Unsaved changes",
                            f"Save the changes to {self._title_name()} before {doing}?",
                            [("Save", lambda: self.save(then=then)), ("Discard", then), ("Cancel", lambda: None)])

    # ----- maps ------------------------------------------------------------------------------

    def load_sample(self: "App", sample: SampleMap, undoable: bool = True) -> None:
        """A gallery map becomes the canvas (one undo step), with its prompt as the style."""
        labels = _fit_canvas(sample.labels, self.canvas.size)
        if undoable:
            self.canvas.set_labels(labels)
        else:
            self.canvas.reset(labels)
        self.apply_prompt(sample.prompt)
        self.tools.sync()
        self.status.message(f"sample: {sample.title}")

    def find_sample(self: "App", name: str) -> SampleMap | None:
        """A gallery sample by title or file name (case-insensitive), for --sample."""
        key = name.strip().lower()
        for s in self.samples:
            if key in (s.title.lower(), s.path.name.lower(), s.path.stem.lower()):
                return s
        self.status.message(f"no sample called {name!r}; samples: {', '.join(s.title for s in self.samples)}",
                            error=True)
        return None

    def ask_segmap(self: "App") -> None:
        self.files.ask("map", self.load_segmap_file)

    def load_segmap_file(self: "App", path: str | Path, labels: str | None = None) -> bool:
        """A seg map file (palette PNG, label index, CelebAMask-HQ) becomes the canvas, one undo step."""
        from models.segmap import load_segmap

        mode = labels or self.gallery.labels_mode()
        seg = self._guard(lambda: load_segmap(Path(path), labels=mode, size=self.canvas.size))  # type: ignore[arg-type]
        if seg is None:
            return False
        self.canvas.set_labels(seg.labels)
        self.tools.sync()
        note = f" ({'; '.join(seg.warnings)})" if seg.warnings else ""
        self.status.message(f"loaded {Path(path).name}{note}")
        return True

    def ask_save_segmap(self: "App") -> None:
        self.files.ask("export_map", self.save_segmap_file, save=True, default_name="segmap.png")

    def save_segmap_file(self: "App", path: str | Path) -> bool:
        from models.segmap import save_segmap

        labels = np.array(self.canvas.labels)
        if self._guard(lambda: save_segmap(Path(path), labels)) is None:
            return False
        self.status.message(f"saved the seg map to {path}")
        return True

    # ----- photo and style image -------------------------------------------------------------

    def ask_photo(self: "App") -> None:
        self.files.ask("photo", self.open_photo)

    def open_photo(self: "App", path: str | Path) -> bool:
        """A photo: aligned and cut out, reconstructed by the base model; its parsed map becomes the
        canvas (a first guess to paint on) and the photo the style image."""
        from models.image_input import load_rgba
        from models.photo import SEGMAP_NOTE, prepare_photo

        p = Path(path)
        rgba = self._guard(lambda: load_rgba(p, "photo"))
        if rgba is None:
            return False
        prepared = self._guard(lambda: prepare_photo(rgba, self.canvas.size, name=p.name))
        if prepared is None:
            return False
        photo = prepared.rgba_float()  # [S, S, 4]
        try:
            self.engine.reconstruct(photo, labels=prepared.labels, style_rgba=photo)
        except PercheadError as e:
            self.report_error(str(e))
            return False
        self.style_image, self.style_image_name = photo, p.name  # only once the engine took it
        self.style_mode = "image"
        self.style.sync()
        notes = "; ".join(prepared.notes[:2])
        self.status.message(f"reconstructing {p.name}: {SEGMAP_NOTE}" + (f" ({notes})" if notes else ""))
        return True

    def ask_style_image(self: "App") -> None:
        self.files.ask("style", self.load_style_image_file)

    def load_style_image_file(self: "App", path: str | Path) -> bool:
        """A reference image becomes the style (image mode)."""
        from models.image_input import load_rgba

        p = Path(path)
        rgba = self._guard(lambda: load_rgba(p, "style image"))
        if rgba is None:
            return False
        if float(rgba[..., 3].max()) == 0.0:
            self.report_error(f"style image {p.name} is fully transparent; nothing to read the style from")
            return False
        self.style_image, self.style_image_name = rgba, p.name
        self.style_mode = "image"
        self.engine.set_style_image(rgba)
        self.style.sync()
        self.status.message(f"style from {p.name}")
        return True

    # ----- exports ---------------------------------------------------------------------------

    def ask_export_ply(self: "App") -> None:
        name = (self.project_path.stem if self.project_path else "head") + ".ply"
        self.files.ask("export_ply", self.export_ply, save=True, default_name=name)

    def export_ply(self: "App", path: str | Path) -> bool:
        """The current head as a standard 3DGS .ply with labels (atomic)."""
        from models.pipeline import visible

        head, pending = self.engine.head, self.engine.busy
        if head is None:
            self.report_error("there is no head to export yet; paint a map or pick a sample first")
            return False
        out = self._guard(lambda: self.engine.export_ply(path, head))
        if out is None:
            return False
        note = " (a newer head was still decoding: export again for it)" if pending else ""
        self.status.message(f"exported {len(visible(head)):,} Gaussians to {out}{note}")
        return True

    def ask_export_png(self: "App") -> None:
        self.files.ask("export_png", self.export_png, save=True, default_name="view.png")

    def export_png(self: "App", path: str | Path, size: int = PNG_EXPORT_PX) -> bool:
        """The 3D view as it is now (mode, background, camera) at ``size`` px."""
        from models.atomic_io import check_output_path
        from models.image_io import save_png

        if self._guard(lambda: check_output_path(path)) is None:
            return False
        frame = self.engine.render(self.orbit.camera(size), mode=self.state.view_mode,
                                   background=self.state.background)
        if frame.error is not None:
            self.report_error(f"cannot save the view: {frame.error}")
            return False
        if self._guard(lambda: save_png(path, frame.image)) is None:
            return False
        self.status.message(f"saved the view to {path}")
        return True

    def ask_export_turntable(self: "App") -> None:
        self.files.ask("export_turntable", self.start_turntable, save=True, default_name="turntable.gif")

    def start_turntable(self: "App", path: str | Path) -> bool:
        """Start a turntable export; the frame loop renders one frame per UI frame (progress bar)."""
        if self.export_job is not None:
            self.report_error("a turntable export is already running; wait for it or cancel it")
            return False
        frames, size, fps = self.exports.turntable_options()
        head = self.engine.head
        if head is None:
            self.report_error("there is no head to export yet; paint a map or pick a sample first")
            return False
        job = self._guard(lambda: TurntableJob(Path(path), self.orbit.to_dict(), frames=frames, size=size, fps=fps,
                                               mode=self.state.view_mode, background=self.state.background,
                                               head=head))
        if job is None:
            return False
        self.export_job = job
        self.exports.show_progress(0.0, f"0/{job.frames}")
        return True

    def cancel_export(self: "App") -> None:
        if self.export_job is not None:
            self.export_job = None
            self.exports.show_progress(None)
            self.status.message("turntable export cancelled; nothing was written")

    def _advance_export(self: "App") -> None:
        """One turntable frame per UI frame; the file is written once every frame is in."""
        job = self.export_job
        if job is None:
            return
        try:
            job.step(self.engine)
            self.exports.show_progress(job.progress, f"{len(job.images)}/{job.frames}")
            if job.done:
                self.export_job = None
                self.exports.show_progress(None)
                out = job.write()
                self.status.message(f"wrote the turntable ({job.frames} frames) to {out}")
        except PercheadError as e:
            self.export_job = None
            self.exports.show_progress(None)
            self.report_error(str(e))


def _fit_canvas(labels: np.ndarray, size: int) -> np.ndarray:
    """A map of another size (a project from a model with another input size) -> [size, size], nearest."""
    labels = np.asarray(labels, dtype=np.uint8)
    if labels.shape == (size, size):
        return labels
    h, w = labels.shape
    ys = np.minimum(((np.arange(size) + 0.5) * h / size).astype(np.intp), h - 1)
    xs = np.minimum(((np.arange(size) + 0.5) * w / size).astype(np.intp), w - 1)
    log.warning("map of %dx%d resampled to the canvas size %d", w, h, size)
    return labels[ys[:, None], xs[None, :]]
