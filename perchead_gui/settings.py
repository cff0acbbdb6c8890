"""Per-user app settings that outlive a session: recent projects, recent prompts, last folders.

Stored as ``settings.json`` in the per-user state folder (the autosave's parent). A missing,
unreadable or hand-edited file never stops the app: whatever is valid is kept, the rest
falls back to defaults with one warning. Writes are atomic, so a crash never leaves half a file.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.io.atomic import write_bytes_atomic
from models.errors import PercheadError
from perchead_gui.autosave import user_state_dir

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
FORMAT = "perchead-settings"
VERSION = 1
MAX_RECENT_FILES = 10
MAX_PROMPTS = 20
MAX_PROMPT_CHARS = 500       # longer prompts still work; the history keeps them short
MAX_FILE_BYTES = 1 << 20     # a settings file larger than this is not ours
FOLDER_KINDS = ("map", "photo", "style", "project", "export")


@dataclass
class UserSettings:
    """What the app remembers between sessions. ``path`` None keeps everything in memory."""

    path: Path | None = None
    recent_files: list[str] = field(default_factory=list)   # newest first, absolute paths
    prompt_history: list[str] = field(default_factory=list)  # newest first
    folders: dict[str, str] = field(default_factory=dict)    # kind -> last folder used

    @classmethod
    def load(cls, state_dir: str | os.PathLike | None = None) -> "UserSettings":
        """Settings from ``state_dir`` (default: the per-user state folder); defaults when absent or bad."""
        try:
            folder = Path(state_dir) if state_dir is not None else user_state_dir()
        except PercheadError as e:
            log.warning("settings are not kept between sessions: %s", e)
            return cls()
        settings = cls(path=folder / FILE_NAME)
        try:
            if settings.path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError("file too large")
            data = json.loads(settings.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return settings
        except (OSError, ValueError, UnicodeDecodeError) as e:
            log.warning("ignoring unreadable settings %s (%s); starting from defaults", settings.path, e)
            return settings
        settings._take(data)
        return settings

    def _take(self, data: Any) -> None:
        """Keep the valid parts of a loaded JSON value."""
        if not isinstance(data, dict):
            log.warning("ignoring settings %s: not a JSON object", self.path)
            return
        self.recent_files = _strings(data.get("recent_files"))[:MAX_RECENT_FILES]
        self.prompt_history = [p[:MAX_PROMPT_CHARS] for p in _strings(data.get("prompt_history"))][:MAX_PROMPTS]
        folders = data.get("folders")
        if isinstance(folders, dict):
            self.folders = {k: v for k, v in folders.items() if k in FOLDER_KINDS and isinstance(v, str) and v}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "recent_files": self.recent_files,
                "prompt_history": self.prompt_history, "folders": self.folders}

    def save(self) -> None:
        """Write the settings (atomic); raises PercheadError when the folder is not writable."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.path, json.dumps(self.to_json(), indent=1).encode("utf-8"))

    # ----- changes ---------------------------------------------------------------------------

    def add_prompt(self, text: str) -> None:
        """A prompt the artist applied goes to the top of the history (once)."""
        text = " ".join(str(text).split())[:MAX_PROMPT_CHARS]
        if text:
            self.prompt_history = [text] + [p for p in self.prompt_history if p != text]
            del self.prompt_history[MAX_PROMPTS:]

    def add_recent(self, path: str | os.PathLike) -> None:
        """A project opened or saved goes to the top of the recent files."""
        p = str(Path(path).expanduser().absolute())
        self.recent_files = [p] + [f for f in self.recent_files if f != p]
        del self.recent_files[MAX_RECENT_FILES:]

    def remove_recent(self, path: str | os.PathLike) -> None:
        p = str(Path(path).expanduser().absolute())
        self.recent_files = [f for f in self.recent_files if f != p]

    def last_folder(self, kind: str) -> Path | None:
        """The folder the last dialog of this kind used, if it still exists."""
        folder = self.folders.get(kind)
        return Path(folder) if folder and Path(folder).is_dir() else None

    def set_last_folder(self, kind: str, folder: str | os.PathLike) -> None:
        if kind in FOLDER_KINDS:
            self.folders[kind] = str(Path(folder).expanduser().absolute())


def _strings(value: Any) -> list[str]:
    """The non-empty strings of a JSON list, in order, without repeats."""
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for v in value:
        if isinstance(v, str) and v.strip() and v not in out:
            out.append(v)
    return out
