"""Atomic file writes: an existing file is replaced whole or left untouched, never half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, BinaryIO

from models.errors import PercheadError


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an output path whose folder is missing, before any work is done."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise PercheadError(f"cannot write {p}: folder {parent} does not exist; create it first")
    if p.is_dir():
        raise PercheadError(f"cannot write {p}: it is a folder; give a file name")
    return p


def check_outputs(inputs: list[Path], outputs: list[Path]) -> None:
    """Refuse outputs in missing folders and outputs that would overwrite an input, before any work."""
    for out in outputs:
        check_output_path(out)
        for src in inputs:
            if out.exists() and src.exists() and os.path.samefile(out, src):
                raise PercheadError(f"output {out} is the input file {src}; choose another name")


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write through ``write(fileobj)`` to a temp file beside ``path``, fsync, then rename over it."""
    p = check_output_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a saved file gets the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as e:
        _remove_quietly(tmp)
        raise PercheadError(f"cannot write {p}: {e.strerror or e}; check the folder is writable and has space") from e
    except BaseException:
        _remove_quietly(tmp)
        raise
    return p


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically write a bytes payload."""
    return write_atomic(path, lambda f: f.write(data))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
