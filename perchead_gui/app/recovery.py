"""``Recovery``: unsaved work outlives a crash. Autosaves while the document is dirty, a last
save when the window goes down uncleanly, and the offer to restore what a crashed session left.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from perchead_gui.app import dialogs
from perchead_gui.app.document import Document
from perchead_gui.app.report import Reporter
from perchead_gui.autosave import Autosaver, RestoreOffer
from perchead_gui.project import Project

log = logging.getLogger(__name__)


class Recovery:
    """``autosaver`` None (a --screenshot run) turns all of this off."""

    def __init__(self, autosaver: Autosaver | None, doc: Document, report: Reporter,
                 apply_project: Callable[[Project, Path | None], None], offer_restore: bool) -> None:
        self.autosaver = autosaver
        self.doc = doc
        self.report = report
        self.apply_project = apply_project  # makes a restored project the editor's content
        self.offer = autosaver.pending_restore() if autosaver is not None and offer_restore else None
        self._content_seen: tuple = ()

    def track(self) -> None:
        """Each frame: a change makes the autosave pending; a pending autosave is written when due."""
        autosaver, doc = self.autosaver, self.doc
        if autosaver is None:
            return
        key = doc.content_key()
        if key != self._content_seen:
            self._content_seen = key
            if doc.dirty:
                autosaver.mark_dirty()
        if doc.dirty and self.report.guard(lambda: autosaver.maybe_save(doc.project)):
            log.info("autosaved")

    def save_now(self) -> None:
        """Last chance to keep unsaved work (SIGTERM, a crash in the loop, a scripted close)."""
        if self.autosaver is None or not self.doc.dirty:
            return
        try:
            self.autosaver.save_now(self.doc.project())
        except Exception:
            log.exception("autosave on exit failed")

    def close(self, discard: bool) -> None:
        """The window closes: unsaved work goes to the autosave, unless ``discard``ed on purpose."""
        if self.autosaver is None:
            return
        if self.doc.dirty and not discard:
            self.save_now()
        else:
            self.autosaver.mark_clean_exit()

    # ----- the restore offer -----------------------------------------------------------------

    def ask_restore(self) -> None:
        """At start: offer the crashed session's work, if there is any."""
        offer = self.offer
        if offer is None:
            return
        dialogs.show_choice("Restore unsaved work?",
                            f"PercHead Studio closed without saving (last autosave {_clock_time(offer.saved_at)}). "
                            "Restore that session?",
                            [("Restore", lambda: self.restore(offer)), ("Discard", self.discard)])

    def restore(self, offer: RestoreOffer) -> None:
        """Take the crashed session's work: it becomes this session's (unsaved) work and autosave."""
        project = self.report.guard(offer.load)
        if project is None:
            return
        self.apply_project(project, None)
        self.doc.mark_unsaved()
        if self.autosaver is not None:
            autosaver = self.autosaver
            self.report.guard(lambda: autosaver.save_now(project))
            autosaver.discard()
        self.report.message(f"restored the session autosaved at {_clock_time(offer.saved_at)}")

    def discard(self) -> None:
        if self.autosaver is not None:
            self.autosaver.discard()


def _clock_time(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch_s))
