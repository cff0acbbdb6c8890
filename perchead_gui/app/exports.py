"""``Exports``: the head as .ply / .spz / .splat, the view as PNG, and turntable GIF/MP4 jobs (``actions.ExportActions``).

A turntable renders one frame per UI frame (``advance``, called by the window's frame loop),
so the progress bar moves and the window never freezes; ``progress`` is what the bar shows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from models.errors import PercheadError
from perchead_gui.app.dialogs import FileDialogs
from perchead_gui.app.document import Document
from perchead_gui.app.report import Reporter
from perchead_gui.app.turntable import TurntableJob
from perchead_gui.engine import InferenceEngine

PNG_EXPORT_PX = 512   # "Save view as PNG" renders the current view at this size
NO_HEAD = "there is no head to export yet; paint a map or pick a sample first"


class Exports:
    def __init__(self, doc: Document, engine: InferenceEngine, file_dialogs: FileDialogs, report: Reporter,
                 turntable_options: Callable[[], tuple[int, int, int]]) -> None:
        self.doc = doc
        self.engine = engine
        self.file_dialogs = file_dialogs
        self.report = report
        self.turntable_options = turntable_options  # (frames, size px, fps) as the export panel has them
        self.job: TurntableJob | None = None

    def ask_export_head(self) -> None:
        name = (self.doc.project_path.stem if self.doc.project_path else "head") + ".ply"  # .spz, .splat by typing
        self.file_dialogs.ask("export_head", self.export_head, save=True, default_name=name)

    def export_head(self, path: str | Path) -> bool:
        """The current head as a standard 3DGS .ply with labels, or .spz / .splat by the extension (atomic)."""
        from models.pipeline import visible

        head, pending = self.engine.head, self.engine.busy
        if head is None:
            self.report.error(NO_HEAD)
            return False
        done = self.report.guard(lambda: self.engine.export_head(path, head))
        if done is None:
            return False
        out, dropped = done
        note = " (a newer head was still decoding: export again for it)" if pending else ""
        note += f"; {dropped}" if dropped else ""
        self.report.message(f"exported {len(visible(head)):,} Gaussians to {out}{note}")
        return True

    def ask_export_png(self) -> None:
        self.file_dialogs.ask("export_png", self.export_png, save=True, default_name="view.png")

    def export_png(self, path: str | Path, size: int = PNG_EXPORT_PX) -> bool:
        """The 3D view as it is now (mode, background, camera) at ``size`` px."""
        from models.io.atomic import check_output_path
        from models.io.images import save_png

        if self.report.guard(lambda: check_output_path(path)) is None:
            return False
        state = self.doc.state
        frame = self.engine.render(self.doc.orbit.camera(size), mode=state.view_mode, background=state.background)
        if frame.error is not None:
            self.report.error(f"cannot save the view: {frame.error}")
            return False
        if self.report.guard(lambda: save_png(path, frame.image)) is None:
            return False
        self.report.message(f"saved the view to {path}")
        return True

    def ask_export_turntable(self) -> None:
        self.file_dialogs.ask("export_turntable", self.start_turntable, save=True, default_name="turntable.gif")

    def start_turntable(self, path: str | Path) -> bool:
        """Start a turntable export; the frame loop renders one frame per UI frame (progress bar)."""
        if self.job is not None:
            self.report.error("a turntable export is already running; wait for it or cancel it")
            return False
        frames, size, fps = self.turntable_options()
        head = self.engine.head
        if head is None:
            self.report.error(NO_HEAD)
            return False
        state = self.doc.state
        job = self.report.guard(lambda: TurntableJob(Path(path), self.doc.orbit.to_dict(), frames=frames, size=size,
                                                     fps=fps, mode=state.view_mode, background=state.background,
                                                     head=head))
        if job is None:
            return False
        self.job = job
        return True

    def cancel_export(self) -> None:
        if self.job is not None:
            self.job = None
            self.report.message("turntable export cancelled; nothing was written")

    def advance(self) -> None:
        """One turntable frame per UI frame; the file is written once every frame is in."""
        job = self.job
        if job is None:
            return
        try:
            job.step(self.engine)
            if job.done:
                self.job = None
                out = job.write()
                self.report.message(f"wrote the turntable ({job.frames} frames) to {out}")
        except PercheadError as e:
            self.job = None
            self.report.error(str(e))

    def progress(self) -> tuple[float | None, str]:
        """What the progress bar shows: (fraction, "k/N") while a job runs, (None, "") otherwise."""
        job = self.job
        if job is None:
            return None, ""
        return job.progress, f"{len(job.images)}/{job.frames}"
