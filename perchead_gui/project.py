"""`.perchead` project files: the painted map, the style (prompt or image), camera and settings.

A project is a zip of plain members (docs/project_format.md): project.json, map.png (palette
colours, readable by any image tool and by ``perchead edit``), and optionally style.png.
Nothing is pickled, so opening a file never runs code. Reading is strict and bounded: sizes
are checked from the zip directory before anything is decompressed, images from their
headers before decoding, and every problem ends in one PercheadError line.
"""
from __future__ import annotations

import io
import json
import logging
import lzma
import os
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.io.atomic import write_atomic
from models.errors import PercheadError
from models.palette import NUM_CLASSES
from models.io.segmap import load_segmap, segmap_png_bytes
from perchead_gui.orbit import OrbitController

log = logging.getLogger(__name__)

FORMAT_NAME = "perchead-project"
FORMAT_VERSION = 1
SUFFIX = ".perchead"
JSON_MEMBER, MAP_MEMBER, STYLE_MEMBER = "project.json", "map.png", "style.png"
StyleMode = Literal["text", "image"]
STYLE_MODES: tuple[str, ...] = ("text", "image")

# Limits on what a project may hold; the app's own files are far below them.
MAX_FILE_BYTES = 256 * 2**20      # the whole .perchead file
MAX_MEMBERS = 64                  # zip entries (only three are read)
MAX_JSON_BYTES = 2**20            # project.json, uncompressed
MAX_IMAGE_BYTES = 64 * 2**20      # map.png / style.png, uncompressed member size
MAX_MAP_SIDE = 2048               # the canvas is 256-512 px; a larger map is not ours
MAX_STYLE_SIDE = 4096             # style images are shrunk to 1024 px when loaded
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, OSError,
               EOFError, ValueError, OverflowError, struct.error, zlib.error, lzma.LZMAError)
_PIL_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, MemoryError,
               Image.DecompressionBombError, UnidentifiedImageError)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # same project -> same bytes


@dataclass
class Project:
    """Everything a saved session holds."""

    labels: np.ndarray                              # [S, S] uint8 class ids
    prompt: str = ""
    style_mode: str = "text"                        # "text" (prompt) or "image" (style_image)
    style_image: np.ndarray | None = None           # [H, W, 4] uint8 RGBA
    camera: dict = field(default_factory=dict)      # OrbitController.to_dict()
    settings: dict = field(default_factory=dict)    # app view settings, plain JSON values
    warnings: list[str] = field(default_factory=list)  # set by loading: what was repaired, for the user


# ----- writing -------------------------------------------------------------------------------

def save_project(path: str | os.PathLike, project: Project) -> Path:
    """Write a project atomically (an existing file is replaced whole or kept)."""
    data = project_bytes(project)
    return write_atomic(path, lambda f: f.write(data))


def project_bytes(project: Project) -> bytes:
    """The .perchead file in memory. Invalid content is a bug in the caller (ValueError)."""
    labels = _checked_labels(project.labels)
    if not isinstance(project.prompt, str):
        raise ValueError(f"prompt must be a str, got {type(project.prompt).__name__}")
    if project.style_mode not in STYLE_MODES:
        raise ValueError(f"style_mode must be one of {STYLE_MODES}, got {project.style_mode!r}")
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "prompt": project.prompt,
        "style_mode": project.style_mode,
        "camera": _json_safe(project.camera, "camera"),
        "settings": _json_safe(project.settings, "settings"),
        "created_by": f"perchead {_app_version()}",
    }
    meta_bytes = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=False).encode()
    if len(meta_bytes) > MAX_JSON_BYTES:  # loading refuses it, so saving must too (nothing unopenable)
        raise PercheadError(f"the project's prompt and settings take {len(meta_bytes) / 2**20:.1f} MiB, more than a "
                            f"project holds ({MAX_JSON_BYTES // 2**20} MiB); shorten the prompt")
    members = [(JSON_MEMBER, meta_bytes, zipfile.ZIP_DEFLATED),
               (MAP_MEMBER, segmap_png_bytes(labels), zipfile.ZIP_STORED)]  # PNGs are compressed already
    if project.style_image is not None:
        members.append((STYLE_MEMBER, _rgba_png_bytes(project.style_image), zipfile.ZIP_STORED))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, payload, method in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload)
    return buf.getvalue()


# ----- reading -------------------------------------------------------------------------------

def load_project(path: str | os.PathLike) -> Project:
    """Open a .perchead file; every problem is one PercheadError line saying what to do."""
    from models.io.paths import require_file

    p = Path(path)
    name = f"project {p}"
    # before any read: a pipe or /dev/zero would never end
    require_file(p, name, f"a {SUFFIX} file", missing="not found; check the path",
                 folder=f"is a folder; give a {SUFFIX} file")
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PercheadError(f"{name} is {size / 2**20:.0f} MiB, more than a project can be "
                                f"({MAX_FILE_BYTES // 2**20} MiB); it is not a PercHead project")
        data = p.read_bytes()
    except PermissionError as e:
        raise PercheadError(f"cannot read {name}: permission denied; check the file's permissions") from e
    except OSError as e:
        raise PercheadError(f"cannot read {name}: {e.strerror or e}; check the file is readable") from e
    return project_from_bytes(data, name)


def project_from_bytes(data: bytes, name: str) -> Project:
    """Parse project file bytes; ``name`` says in messages which file it was."""
    if not isinstance(data, (bytes, bytearray)):
        raise PercheadError(f"{name}: expected file bytes, got {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise PercheadError(f"{name} is larger than a project can be ({MAX_FILE_BYTES // 2**20} MiB); "
                            "it is not a PercHead project")
    if not data:
        raise PercheadError(f"{name} is empty (0 bytes); it is not a PercHead project")
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
            return _read_members(zf, name)
    except PercheadError:
        raise
    except zipfile.BadZipFile as e:
        raise PercheadError(f"{name} is not a PercHead project (not a valid zip archive: {_one_line(e)}); "
                            f"open a {SUFFIX} file saved by PercHead") from e
    except _ZIP_ERRORS as e:
        raise PercheadError(f"{name} is damaged ({type(e).__name__}: {_one_line(e)}); "
                            "open another copy or an autosave") from e


def _read_members(zf: zipfile.ZipFile, name: str) -> Project:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise PercheadError(f"{name} holds {len(infos)} entries; a project holds at most {MAX_MEMBERS}; "
                            "it is not a PercHead project")
    by_name = {i.filename: i for i in infos}
    if JSON_MEMBER not in by_name:
        raise PercheadError(f"{name} has no {JSON_MEMBER}; it is not a PercHead project "
                            f"(open a {SUFFIX} file saved by PercHead)")
    meta = _parse_meta(_member(zf, by_name[JSON_MEMBER], MAX_JSON_BYTES, name), name)
    if MAP_MEMBER not in by_name:
        raise PercheadError(f"{name} has no {MAP_MEMBER} (the painted map); the file is incomplete")
    notes: list[str] = []
    labels = _decode_map(_member(zf, by_name[MAP_MEMBER], MAX_IMAGE_BYTES, name), name, notes)
    style = None
    if STYLE_MEMBER in by_name:
        style = _decode_style(_member(zf, by_name[STYLE_MEMBER], MAX_IMAGE_BYTES, name), name)
    for note in notes:
        log.warning("%s: %s", name, note)
    return Project(labels, meta["prompt"], meta["style_mode"], style, meta["camera"], meta["settings"], notes)


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    """A member's bytes, refused from the directory's size before decompressing (zip bombs),
    and read with a bound in case the directory lies."""
    if info.file_size > limit:
        raise PercheadError(f"{name}: {info.filename} claims {info.file_size:,} bytes, more than the "
                            f"{limit:,} a project member may hold; the file is damaged or not a project")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise PercheadError(f"{name}: {info.filename} is larger than {limit:,} bytes; the file is damaged")
    return data


def _parse_meta(raw: bytes, name: str) -> dict[str, Any]:
    """project.json -> checked fields (prompt, style_mode, camera, settings)."""
    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise PercheadError(f"{name}: {JSON_MEMBER} is not valid JSON ({_one_line(e)}); the file is damaged") from e
    if not isinstance(meta, dict):
        raise PercheadError(f"{name}: {JSON_MEMBER} must hold a JSON object; the file is damaged")
    if meta.get("format") != FORMAT_NAME:
        raise PercheadError(f"{name} is not a PercHead project ({JSON_MEMBER} format is "
                            f"{_short(meta.get('format'))}, expected {FORMAT_NAME!r})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PercheadError(f"{name}: format version {_short(version)} is not a whole number >= 1; "
                            "the file is damaged")
    if version > FORMAT_VERSION:
        raise PercheadError(f"{name} was saved by a newer PercHead (project format version {version}; "
                            f"this version reads up to {FORMAT_VERSION}); update PercHead to open it")
    prompt = meta.get("prompt", "")
    if not isinstance(prompt, str):
        raise PercheadError(f"{name}: 'prompt' must be text, got {_json_type(prompt)}; the file is damaged")
    mode = meta.get("style_mode", "text")
    if mode not in STYLE_MODES:
        raise PercheadError(f"{name}: 'style_mode' is {_short(mode)}; expected \"text\" or \"image\"; "
                            "the file is damaged")
    camera = meta.get("camera", {})
    try:
        OrbitController.from_dict(camera)
    except PercheadError as e:
        raise PercheadError(f"{name}: {e}") from None
    settings = meta.get("settings", {})
    if not isinstance(settings, dict):
        raise PercheadError(f"{name}: 'settings' must be a JSON object, got {_json_type(settings)}; "
                            "the file is damaged")
    for key, value in (("camera", camera), ("settings", settings)):
        _check_finite(value, key, name)
    return {"prompt": prompt, "style_mode": mode, "camera": camera, "settings": settings}


def _decode_map(png: bytes, name: str, notes: list[str]) -> np.ndarray:
    """map.png -> class ids [S, S] at the stored size (seg map rules: palette or index PNG)."""
    what = f"{name}: {MAP_MEMBER}"
    width, height = _image_size(png, what, MAX_MAP_SIDE)
    try:
        segmap = load_segmap(png, labels="auto", size=max(width, height))
    except PercheadError as e:
        raise PercheadError(f"{what}: {e}") from None
    notes.extend(f"{MAP_MEMBER}: {w}" for w in segmap.warnings)
    return segmap.labels


def _decode_style(png: bytes, name: str) -> np.ndarray:
    """style.png -> RGBA [H, W, 4] uint8."""
    what = f"{name}: {STYLE_MEMBER}"
    _image_size(png, what, MAX_STYLE_SIDE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # sides checked above
            with Image.open(io.BytesIO(png), formats=["PNG"]) as img:
                img.load()
                return np.array(img.convert("RGBA"), dtype=np.uint8)
    except _PIL_ERRORS as e:
        raise PercheadError(f"{what} is not a readable image ({type(e).__name__}); the file is damaged") from e


def _image_size(data: bytes, what: str, max_side: int) -> tuple[int, int]:
    """(width, height) from the image header, refusing oversized images before decoding."""
    if not data:
        raise PercheadError(f"{what} is empty; the file is damaged")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
                width, height = img.size
    except _PIL_ERRORS as e:
        raise PercheadError(f"{what} is not a readable PNG image ({type(e).__name__}); the file is damaged") from e
    if not (1 <= width <= max_side and 1 <= height <= max_side):
        raise PercheadError(f"{what} is {width}x{height} px; a project image is at most {max_side} px "
                            "a side; the file is damaged or not a project")
    return width, height


# ----- helpers -------------------------------------------------------------------------------

def _checked_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != labels.shape[1] or labels.dtype.kind not in "ui":
        raise ValueError(f"project labels must be square integer class ids [S, S], got {labels.dtype} {labels.shape}")
    if not 1 <= labels.shape[0] <= MAX_MAP_SIDE:
        raise ValueError(f"project map side must be 1-{MAX_MAP_SIDE} px, got {labels.shape[0]}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"project labels hold values outside class ids 0-{NUM_CLASSES - 1}")
    return labels


def _rgba_png_bytes(image: np.ndarray) -> bytes:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise ValueError(f"style_image must be RGBA [H, W, 4] uint8, got {image.dtype} {image.shape}")
    if not (1 <= image.shape[0] <= MAX_STYLE_SIDE and 1 <= image.shape[1] <= MAX_STYLE_SIDE):
        raise ValueError(f"style_image sides must be 1-{MAX_STYLE_SIDE} px, got {image.shape[:2]}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image), "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _json_safe(value: Any, what: str) -> Any:
    """A JSON round trip of a dict, turning numpy scalars/arrays into plain values (they creep
    in from widgets and arrays); anything else non-JSON is a caller bug (ValueError)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict, got {type(value).__name__}")

    def plain(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON")

    try:
        return json.loads(json.dumps(value, default=plain, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must hold plain JSON values (finite numbers): {e}") from e


def _check_finite(value: Any, key: str, name: str) -> None:
    """Loaded JSON must save again: no infinities (from huge literals such as 1e999)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise PercheadError(f"{name}: {key!r} holds a number too large to store; the file is damaged") from None
    except RecursionError:
        raise PercheadError(f"{name}: {key!r} is nested too deeply; the file is damaged") from None


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed in a project")


def _app_version() -> str:
    try:
        return metadata.version("perchead")
    except metadata.PackageNotFoundError:
        return "unknown"


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
