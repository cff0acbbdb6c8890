"""Atomic file writes: an existing file is replaced whole or left untouched, never half-written.

How: the bytes go to a temp file in the target's folder (same file system, so the rename is
atomic), which is flushed and fsynced before ``os.replace`` puts it under the target's name; then
the folder itself is fsynced where the OS allows, so the rename survives a power cut too. A
process killed at any moment leaves the old file or the new one, never a mix. A kill can leave
a temp file (``.NAME.PID.RANDOM.tmp``, never under the target's name); the next write to the
same target removes those whose process is gone.
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO, Callable

from models.errors import PercheadError

# A dead writer's temp file is swept only once it is this old, so a writer on another machine
# sharing the folder (whose pid means nothing here) is never disturbed mid-write.
STALE_TEMP_S = 600.0


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, while no file is being made
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an output path that cannot be written, before any work is done."""
    p = Path(path)
    try:
        return _check_output_path(p)
    except OSError as e:  # a name too long, a loop of symlinks, an unreadable folder on the way
        raise PercheadError(f"cannot write {p}: {e.strerror or e}; choose another file name or folder") from e


def _check_output_path(p: Path) -> Path:
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise PercheadError(f"cannot write {p}: folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise PercheadError(f"cannot write {p}: {parent} is a file, not a folder; choose a path inside a folder")
    if p.is_dir():
        raise PercheadError(f"cannot write {p}: it is a folder; give a file name")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PercheadError(f"cannot write {p}: folder {parent} is read-only for you; choose another folder")
    return p


def check_outputs(inputs: list[Path], outputs: list[Path]) -> None:
    """Refuse outputs that cannot be written, that would overwrite an input, or that name one
    file twice, before any work."""
    for i, out in enumerate(outputs):
        check_output_path(out)
        for src in inputs:
            if out.exists() and _exists(src) and os.path.samefile(out, src):
                raise PercheadError(f"output {out} is the input file {src}; choose another name")
        for other in outputs[:i]:
            if str(out) == str(other):
                raise PercheadError(f"{out} is given as two outputs; give each output its own name")
            if _same_target(out, other):
                raise PercheadError(f"outputs {other} and {out} are the same file; give each output its own name")


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write through ``write(fileobj)`` to a temp file beside ``path``, fsync, then rename over it.

    A symlink at ``path`` is kept and the file it points to is replaced. Every OS failure
    (disk full, read-only, permission) is one PercheadError line; the old file stays as it was.
    """
    def fill(tmp: str, target: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        _set_mode(fd, target)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())

    return _replace_through_temp(path, fill)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically write a bytes payload."""
    return write_atomic(path, lambda f: f.write(data))


def write_path_atomic(path: str | os.PathLike, produce: Callable[[Path], None], suffix: str = "") -> Path:
    """Atomic write for encoders that insist on writing to a path themselves (ffmpeg):
    ``produce(tmp_path)`` writes a temp file beside ``path`` (ending in ``suffix``, so the encoder
    picks its format from it); that file is then fsynced and renamed over ``path``."""
    def fill(tmp: str, target: Path) -> None:
        produce(Path(tmp))
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            _set_mode(fd, target)
            os.fsync(fd)
        finally:
            os.close(fd)

    return _replace_through_temp(path, fill, suffix)


def _replace_through_temp(path: str | os.PathLike, fill: Callable[[str, Path], None], suffix: str = "") -> Path:
    """The one atomic-replace sequence: ``fill(tmp, target)`` leaves a complete, fsynced temp file
    beside the target; it is renamed over the target and the folder is fsynced. On any failure the
    temp file goes and the target stays as it was."""
    p = check_output_path(path)
    target = Path(os.path.realpath(p)) if p.is_symlink() else p
    folder = target.parent if str(target.parent) else Path(".")
    tmp: str | None = None
    try:
        _sweep_stale_temps(folder, target.name)
        tmp = str(folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")
        fill(tmp, target)
        os.replace(tmp, target)
        tmp = None
        _fsync_folder(folder)
    except OSError as e:
        raise PercheadError(f"cannot write {p}: {e.strerror or e}; check the folder is writable and has space") from e
    finally:
        if tmp is not None:
            _remove_quietly(tmp)
    return p


# ----- helpers -------------------------------------------------------------------------------

def _exists(p: Path) -> bool:
    """Path.exists, but False for a path the OS cannot even look up (its loader says why later)."""
    try:
        return p.exists()
    except OSError:
        return False


def _same_target(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _set_mode(fd: int, target: Path) -> None:
    """The temp file starts 0600; give it the replaced file's mode, or the usual 0666 - umask."""
    if not hasattr(os, "fchmod"):  # Windows: modes are not POSIX bits
        return
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_UMASK
    os.fchmod(fd, mode)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; a no-op where folders cannot be opened (Windows)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the file itself is synced
        pass
    finally:
        os.close(fd)


def _sweep_stale_temps(folder: Path, name: str) -> None:
    """Remove temp files of earlier writes to ``name`` whose writer died (killed mid-write)."""
    prefix = f".{name}."
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix) and ".tmp" in e.name]
    except OSError:
        return
    now = time.time()
    for entry in entries:
        pid = entry.name[len(prefix):].split(".", 1)[0]
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_S
        except OSError:
            continue
        if pid.isdigit() and old and not _alive(int(pid)):
            _remove_quietly(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill terminates: never probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
