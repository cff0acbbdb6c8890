"""The CPU tile rasteriser (csrc/raster.c), compiled on first use with the system C compiler.

Same inputs, outputs and rules as ``cpu_rasterizer.rasterize`` (tests compare them), for
rendering without gradients: the app's viewport, exports, previews. It is a plain C library
loaded with ctypes (no Python headers, so it builds in about a second with any C compiler) and
cached per source version in ``$PERCHEAD_NATIVE_DIR`` or ``~/.cache/perchead/native``. Where
there is no compiler, or the build fails, ``available()`` is False (one warning says why) and
the vectorised torch rasteriser renders instead: slower, same picture.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from models.render.projection import ALPHA_THRESHOLD, MAX_ALPHA, TRANSMITTANCE_STOP, Projected

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent / "csrc" / "raster.c"
CACHE_ENV = "PERCHEAD_NATIVE_DIR"
DISABLE_ENV = "PERCHEAD_NO_NATIVE"  # set to 1 to render with the torch rasteriser only
COMPILE_TIMEOUT_S = 120
_LOG_255 = float(torch.log(torch.tensor(1.0 / ALPHA_THRESHOLD)))
_build_lock = threading.Lock()


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "perchead" / "native"


def _compiler() -> str | None:
    cc = os.environ.get("CC")
    return cc if cc and shutil.which(cc) else (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang"))


CFLAGS = ("-O3", "-shared", "-fPIC", "-pthread", "-std=c99")
MAX_TILE_ENTRIES = 200_000_000  # (Gaussian, tile) pairs the C lists may hold (~0.8 GB); beyond, the banded torch path


def _build(cc: str, target: Path) -> None:
    """Compile to a temp file beside ``target`` and rename it into place (no half-built library)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = [cc, *CFLAGS, str(SOURCE), "-o", tmp, "-lm"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    cc = _compiler()
    if cc is None:
        log.warning("no C compiler found, so the CPU view renders with the slower torch rasteriser "
                    "(install gcc to speed it up)")
        return None
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
        ident = SOURCE.read_bytes() + version.encode() + " ".join(CFLAGS).encode() + os.uname().machine.encode()
        name = f"raster-{hashlib.sha256(ident).hexdigest()[:16]}.so"
        with _build_lock:
            lib = _load_or_build(cc, name)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        log.warning("could not build the native CPU rasteriser (%s); rendering with the torch rasteriser", e)
        return None
    fn = lib.perchead_rasterize
    i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    fn.argtypes = [i64, ptr, ptr, ptr, ptr, ptr, i64, ptr, i64, i64, i64, f32, f32, f32, ptr, ptr, ptr, ctypes.c_int]
    fn.restype = ctypes.c_int
    return lib


def _load_or_build(cc: str, name: str) -> ctypes.CDLL:
    """The cached library, else a fresh build: in the cache folder, or a private temp folder where
    the cache cannot be written (a read-only home). A cached file that will not load is rebuilt."""
    folders = [_cache_dir(), Path(tempfile.gettempdir()) / f"perchead-native-{os.getuid()}"]
    last: Exception | None = None
    for folder in folders:
        target = folder / name
        try:
            if target.is_file():
                try:
                    return ctypes.CDLL(str(target))
                except OSError:  # truncated or foreign: build it again
                    target.unlink()
            _build(cc, target)
            return ctypes.CDLL(str(target))
        except (OSError, RuntimeError) as e:
            last = e
    raise OSError(f"no usable folder for the native library ({last})")


def available() -> bool:
    """True when the library is built (or builds now) and loads."""
    return _library() is not None


def rasterize_native(proj: Projected, features: Tensor, labels: Tensor | None, num_classes: int,
                     width: int, height: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """``cpu_rasterizer.rasterize`` on the C library: CPU tensors, no gradients.

    features [M, D] per projected Gaussian, labels [M] or None. Returns (accumulated features
    [H*W, D], alpha [H*W], class weights [H*W, C] or None).
    """
    lib = _library()
    if lib is None:
        raise RuntimeError("the native rasteriser is not available")
    if proj.means2d.shape[0] >= 2**31 or _tile_entries(proj, width, height) > MAX_TILE_ENTRIES:
        from models.render.cpu_rasterizer import rasterize  # bands its rows, so memory stays bounded

        with torch.no_grad():
            return rasterize(proj, features, labels, num_classes, width, height)
    order = torch.argsort(proj.depths)  # front to back, as the torch path
    means2d = proj.means2d.index_select(0, order).float().contiguous()  # [M, 2]
    conics = proj.conics.index_select(0, order).float().contiguous()  # [M, 3]
    log_opac = torch.log(proj.opacities.index_select(0, order)).float().contiguous()  # [M]
    radii = proj.radii.index_select(0, order)
    x0 = torch.floor(means2d[:, 0] - radii[:, 0]).long().clamp(0, width)
    x1 = torch.ceil(means2d[:, 0] + radii[:, 0]).long().clamp(0, width)
    y0 = torch.floor(means2d[:, 1] - radii[:, 1]).long().clamp(0, height)
    y1 = torch.ceil(means2d[:, 1] + radii[:, 1]).long().clamp(0, height)
    boxes = torch.stack([x0, x1, y0, y1], -1).to(torch.int32).contiguous()  # [M, 4]
    feats = features.index_select(0, order).float().contiguous()  # [M, D]
    dim = feats.shape[1]
    acc = torch.zeros(height * width, dim, dtype=torch.float32)
    alpha = torch.zeros(height * width, dtype=torch.float32)
    cls = None
    lab = None
    if labels is not None:
        lab = labels.index_select(0, order).clamp(0, num_classes - 1).to(torch.int32).contiguous()
        cls = torch.zeros(height * width, num_classes, dtype=torch.float32)
    status = lib.perchead_rasterize(
        means2d.shape[0], means2d.data_ptr(), conics.data_ptr(), log_opac.data_ptr(), boxes.data_ptr(),
        feats.data_ptr(), dim, lab.data_ptr() if lab is not None else None, num_classes, width, height,
        _LOG_255, MAX_ALPHA, TRANSMITTANCE_STOP, acc.data_ptr(), alpha.data_ptr(),
        cls.data_ptr() if cls is not None else None, torch.get_num_threads())
    if status != 0:
        raise MemoryError("the native rasteriser ran out of memory")
    out_dtype = features.dtype
    return acc.to(out_dtype), alpha.to(out_dtype), None if cls is None else cls.to(out_dtype)


def _tile_entries(proj: Projected, width: int, height: int, tile: int = 16) -> int:
    """How many (Gaussian, 16 px tile) pairs the C lists would hold (an upper bound)."""
    m, r = proj.means2d, proj.radii
    x0 = torch.floor(m[:, 0] - r[:, 0]).clamp(0, width)
    x1 = torch.ceil(m[:, 0] + r[:, 0]).clamp(0, width)
    y0 = torch.floor(m[:, 1] - r[:, 1]).clamp(0, height)
    y1 = torch.ceil(m[:, 1] + r[:, 1]).clamp(0, height)
    tx = ((x1 - 1) // tile - x0 // tile + 1).clamp_min(0)
    ty = ((y1 - 1) // tile - y0 // tile + 1).clamp_min(0)
    return int((tx * ty).sum())
