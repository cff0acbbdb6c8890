"""Never lose work: periodic autosave of the project, and an offer to restore after a crash.

Each running app is a *session* with its own files in the autosave folder:
``session-<id>.json`` (pid, host, boot and process start, so a reused pid is not mistaken for
the old process) and ``autosave-<id>.perchead``. A clean exit removes both. A session killed
any other way (crash, SIGKILL, power loss) leaves them, and the next start offers the newest
such autosave. Sessions whose process is still alive are never offered or touched, so two
windows open at once keep their own autosaves.
"""
from __future__ import annotations

import json
import logging
import math
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from models.io.atomic import write_bytes_atomic
from models.errors import PercheadError
from perchead_gui.project import SUFFIX, Project, load_project, save_project

log = logging.getLogger(__name__)

STATE_DIR_ENV = "PERCHEAD_STATE_DIR"
AUTOSAVE_INTERVAL_S = 30.0
_MARKER_PREFIX, _AUTOSAVE_PREFIX = "session-", "autosave-"
_BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


def user_state_dir() -> Path:
    """The per-user state folder, created on demand: $PERCHEAD_STATE_DIR, else
    $XDG_STATE_HOME/perchead, else ~/.local/state/perchead."""
    env = os.environ.get(STATE_DIR_ENV)
    xdg = os.environ.get("XDG_STATE_HOME")
    try:
        if env:
            folder = Path(env).expanduser()
        elif xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative paths
            folder = Path(xdg) / "perchead"
        else:
            folder = Path.home() / ".local" / "state" / "perchead"
    except RuntimeError as e:  # no home directory to expand
        raise PercheadError(f"cannot find a home folder for app state ({e}); set {STATE_DIR_ENV}") from e
    return _ensure_folder(folder)


@dataclass(frozen=True)
class RestoreOffer:
    """An autosave left by a session that did not exit cleanly."""

    path: Path        # the autosaved .perchead file
    saved_at: float   # wall-clock time of the autosave (time.time())
    pid: int          # the process that wrote it

    def load(self) -> Project:
        return load_project(self.path)


class Autosaver:
    """Autosave for one app session; call ``maybe_save`` every frame, it is cheap when idle."""

    def __init__(self, folder: Path | None = None, interval_s: float = AUTOSAVE_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = _ensure_folder(Path(folder)) if folder is not None else _ensure_folder(user_state_dir() / "autosave")
        self.interval_s = float(interval_s)
        self.last_error: str | None = None   # why the last periodic autosave failed, for the status bar
        self._clock = clock
        self._last_save = clock()
        self._dirty = False
        self._saved_at: float | None = None
        self._exited = False
        self._identity = _this_process()
        self.session_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._sweep()
        self._write_marker()

    @property
    def autosave_path(self) -> Path:
        return self.folder / f"{_AUTOSAVE_PREFIX}{self.session_id}{SUFFIX}"

    @property
    def marker_path(self) -> Path:
        return self.folder / f"{_MARKER_PREFIX}{self.session_id}.json"

    # ----- saving ----------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """Changes made since the last autosave (what a crash now would lose)."""
        return self._dirty

    def mark_dirty(self) -> None:
        """The project changed since the last autosave."""
        self._dirty = True
        if self._exited:  # closing was cancelled after mark_clean_exit: the session goes on
            self._exited = False
            self._write_marker()

    def maybe_save(self, project_fn: Callable[[], Project]) -> bool:
        """Autosave if dirty and ``interval_s`` has passed since the last save; True if it saved.

        ``project_fn`` is called only when a save is due. A failed write (disk full, folder
        gone) is logged and kept in ``last_error``, retried after another interval, never raised.
        """
        if not self._dirty or self._clock() - self._last_save < self.interval_s:
            return False
        try:
            self.save_now(project_fn())
        except PercheadError as e:
            self.last_error = str(e)
            self._last_save = self._clock()
            log.warning("autosave failed: %s", e)
            return False
        return True

    def save_now(self, project: Project) -> Path:
        """Autosave immediately (on exit, after restoring); raises PercheadError if it cannot."""
        path = save_project(self.autosave_path, project)
        self._dirty = False
        self._exited = False
        self._last_save = self._clock()
        self._saved_at = time.time()
        self.last_error = None
        self._write_marker()
        return path

    # ----- crash recovery --------------------------------------------------------------------

    def pending_restore(self) -> RestoreOffer | None:
        """The newest autosave of a session that ended without ``mark_clean_exit``, or None."""
        offers = [offer for marker, offer in self._crashed_sessions() if offer is not None]
        return max(offers, key=lambda o: o.saved_at, default=None)

    def discard(self) -> None:
        """Remove what crashed sessions left, once the offer is answered. To accept it:
        ``project = offer.load()``, then ``save_now(project)`` so this session owns it, then discard."""
        for marker, offer in self._crashed_sessions():
            if offer is not None:
                _remove(offer.path)
            _remove(marker)

    def mark_clean_exit(self) -> None:
        """The app is closing normally: nothing of this session needs restoring."""
        _remove(self.autosave_path)
        _remove(self.marker_path)
        self._dirty = False
        self._exited = True

    # ----- session files ---------------------------------------------------------------------

    def _write_marker(self) -> None:
        record = {**self._identity, "saved_at": self._saved_at}
        try:
            write_bytes_atomic(self.marker_path, json.dumps(record).encode())
        except PercheadError as e:
            # Without a marker a crash is not offered for restore; the app still runs.
            self.last_error = str(e)
            log.warning("cannot write the autosave session marker: %s", e)

    def _crashed_sessions(self) -> list[tuple[Path, RestoreOffer | None]]:
        """(marker, offer or None when it never autosaved) for every other session that is dead."""
        out = []
        for marker in sorted(self.folder.glob(f"{_MARKER_PREFIX}*.json")):
            session = marker.name[len(_MARKER_PREFIX):-len(".json")]
            if session == self.session_id:
                continue
            record = _read_marker(marker)
            if record is None or _session_alive(record, self._identity):
                continue
            out.append((marker, _offer(self.folder / f"{_AUTOSAVE_PREFIX}{session}{SUFFIX}", record)))
        return out

    def _sweep(self) -> None:
        """Drop markers of dead sessions that never autosaved: nothing to offer."""
        for marker, offer in self._crashed_sessions():
            if offer is None:
                _remove(marker)


def _offer(autosave: Path, record: dict[str, Any]) -> RestoreOffer | None:
    """The restore offer for a dead session's autosave file, or None if it never autosaved."""
    saved_at = record.get("saved_at")
    try:
        if not autosave.is_file():
            return None
        if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)) \
                or not math.isfinite(float(saved_at)):
            saved_at = autosave.stat().st_mtime
    except (OSError, OverflowError):
        return None
    return RestoreOffer(autosave, float(saved_at), int(record["pid"]))


# ----- process identity ----------------------------------------------------------------------

def _this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "boot_id": _boot_id(),
            "start_ticks": _start_ticks(pid), "started_at": time.time()}


def _session_alive(record: dict[str, Any], me: dict[str, Any]) -> bool:
    """Whether the process that wrote a marker may still be running.

    Another host's session cannot be checked, so it counts as alive (never offered, never
    deleted). A different boot, a missing pid, or a pid now owned by a process that started
    at another time means the session is over.
    """
    if record.get("host") != me["host"]:
        return True
    if record.get("boot_id") and me["boot_id"] and record["boot_id"] != me["boot_id"]:
        return False
    pid = record["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except (OSError, OverflowError):
        return False
    ticks = record.get("start_ticks")
    now = _start_ticks(pid)
    return ticks is None or now is None or ticks == now


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        log.debug("ignoring unreadable session marker %s: %s", path, e)
        return None
    pid = record.get("pid") if isinstance(record, dict) else None
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    return record


def _boot_id() -> str | None:
    try:
        return _BOOT_ID_PATH.read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot (Linux /proc), or None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[19])  # field 22; the name may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def _ensure_folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PercheadError(f"cannot create the app state folder {folder}: {e.strerror or e}; "
                            f"set {STATE_DIR_ENV} to a writable folder") from e
    if not folder.is_dir():
        raise PercheadError(f"app state folder {folder} is not a folder; set {STATE_DIR_ENV} to a writable folder")
    return folder


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("cannot remove %s: %s", path, e)
