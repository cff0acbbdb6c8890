"""What an input path is, asked once, so every loader answers odd paths with one line.

``Path.exists()`` raises for a name too long for the file system, and opening a pipe or a device
(``/dev/zero``) hangs or reads forever; loaders call ``input_kind`` first and refuse anything that
is not a regular file with their own wording.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Literal

from models.errors import PercheadError

InputKind = Literal["file", "folder", "missing", "special"]
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)  # ELOOP: a symlink loop resolves to nothing


def input_kind(path: str | os.PathLike, name: str) -> InputKind:
    """'file' (regular), 'folder', 'missing', or 'special' (a device, pipe or socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        if e.errno in _MISSING:
            return "missing"
        raise PercheadError(f"cannot read {name}: {e.strerror or e}; check the path") from e
    if stat.S_ISREG(mode):
        return "file"
    return "folder" if stat.S_ISDIR(mode) else "special"


def special_file_error(name: str, want: str) -> PercheadError:
    return PercheadError(f"{name} is not a regular file (a device, pipe or socket); give {want}")


def require_file(path: str | os.PathLike, name: str, want: str, missing: str, folder: str) -> None:
    """Refuse anything but a regular file, each loader in its own words: ``{name} {missing}`` when it is absent,
    ``{name} {folder}`` for a folder, and a device, pipe or socket as not ``want``."""
    kind = input_kind(path, name)
    if kind == "missing":
        raise PercheadError(f"{name} {missing}")
    if kind == "folder":
        raise PercheadError(f"{name} {folder}")
    if kind == "special":
        raise special_file_error(name, want)


def read_bytes_of(source: str | os.PathLike | bytes | bytearray | memoryview,
                  kind: str) -> tuple[bytes | bytearray | memoryview, str]:
    """(bytes, name) of a file format reader's input: bytes as given (named "<KIND> data"), or a file's bytes, with
    one PercheadError line for a missing path, a folder or an unreadable file. ``kind``: the extension, e.g. ".spz"."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source, f"{kind.lstrip('.').upper()} data"
    p = Path(source)
    require_file(p, str(p), f"a {kind} file", missing="does not exist; check the path",
                 folder=f"is a folder, not a {kind} file; give the file itself")
    try:
        return p.read_bytes(), str(p)
    except OSError as e:
        raise PercheadError(f"cannot read {p}: {e.strerror or e}; check that it is a readable file") from e
