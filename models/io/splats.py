"""Splat files by extension: ``.ply`` (models/io/ply.py, the full 3DGS layout plus our class label), ``.spz``
(models/io/spz.py, Niantic's compressed format) and ``.splat`` (models/io/splat.py, 32 bytes a splat). Every
command and the app read and write heads through here."""
from __future__ import annotations

import os
from pathlib import Path

from models.errors import PercheadError
from models.gaussians import Gaussians

FORMATS = (".ply", ".spz", ".splat")


def splat_format(path: str | os.PathLike) -> str:
    """The format a path names by its extension, or one PercheadError line listing the known ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise PercheadError(f"{path}: unknown splat file type {suffix or '(no extension)'!r}; "
                            f"use {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    return suffix


def read_splats(path: str | os.PathLike) -> Gaussians:
    """Gaussians from a .ply, .spz or .splat file (float32, CPU)."""
    kind = splat_format(path)
    if kind == ".spz":
        from models.io.spz import read_spz  # noqa: PLC0415

        return read_spz(path)
    if kind == ".splat":
        from models.io.splat import read_splat  # noqa: PLC0415

        return read_splat(path)
    from models.io.ply import read_ply  # noqa: PLC0415

    return read_ply(path)


def write_splats(path: str | os.PathLike, g: Gaussians) -> tuple[Path, str | None]:
    """Write ``g`` in the format the extension names, atomically. Returns (path, note): the note says what the
    format could not hold (class labels; higher SH bands in .splat), or None."""
    kind = splat_format(path)
    if kind == ".ply":
        from models.io.ply import write_ply  # noqa: PLC0415

        return write_ply(path, g), None
    dropped = ["class labels"] if bool((g.labels != 0).any()) else []
    if kind == ".spz":
        from models.io.spz import write_spz  # noqa: PLC0415

        out = write_spz(path, g)
    else:
        from models.io.splat import write_splat  # noqa: PLC0415

        out = write_splat(path, g)
        if g.sh.shape[1] > 1:
            dropped.append("view-dependent colour (SH bands above 0)")
    note = f"{kind} holds no {' or '.join(dropped)}: dropped (write a .ply to keep them)" if dropped else None
    return out, note
