"""Reading our safetensors checkpoints defensively: a missing, cut, tampered or foreign file is one
PercheadError line, and nothing is allocated for a model the file cannot fill.

Order of checks (each before the next costs anything): the header alone (safetensors' own parser:
lengths, offsets, JSON); the config in the metadata (valid values, and no more layers than the file
has tensors); the model built on PyTorch's ``meta`` device (shapes only, no memory) compared
tensor by tensor with the header's shapes; only then the real weights are read, and every float
weight must be finite. Pickles and ``torch.save`` zips renamed ``.safetensors`` are named as such:
they are never loaded, since unpickling can run code.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from models.errors import PercheadError
from models.input_files import input_kind, special_file_error

RESTORE = "restore it from the repository (or retrain it)"
_PICKLE_PROTOCOL = b"\x80"       # pickle protocols 2-5 start with PROTO
_ZIP_MAGIC = b"PK\x03\x04"       # torch.save's default container is a zip of pickles


def read_header(path: Path, name: str) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(metadata, tensor shapes) from the header alone; refuses anything that is not safetensors."""
    kind = input_kind(path, name)
    if kind == "folder":
        raise PercheadError(f"{name} is a folder, not a checkpoint file; pass --checkpoint DIR with the shipped files")
    if kind == "missing":
        raise PercheadError(f"{name} is missing; pass --checkpoint DIR with the shipped files or retrain")
    if kind == "special":
        raise special_file_error(name, "a .safetensors file")
    try:
        with open(path, "rb") as f:
            start = f.read(9)
    except OSError as e:
        raise PercheadError(f"cannot read {name}: {e.strerror or e}; check the file's permissions") from e
    # safetensors: an 8-byte little-endian header length, then the JSON header's "{". A length whose
    # low byte is 0x80 looks like a pickle's PROTO opcode, so the "{" decides (1 file in 256 was refused).
    safetensors_like = len(start) == 9 and start[8:9] == b"{"
    if start.startswith(_ZIP_MAGIC) or (start[:1] == _PICKLE_PROTOCOL and not safetensors_like):
        raise PercheadError(f"{name} is a pickle / torch.save file, not safetensors; it is never loaded, "
                            f"because unpickling can run code; {RESTORE}")
    try:
        with safe_open(str(path), "pt") as f:
            meta = dict(f.metadata() or {})
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise PercheadError(f"{name} is unreadable or corrupt ({one_line(e)}); {RESTORE}") from e
    return meta, shapes


def json_field(meta: dict[str, str], key: str, name: str, default: Any = None) -> Any:
    """A JSON value stored in the metadata under ``key`` (``default`` when absent)."""
    if key not in meta:
        if default is None:
            raise PercheadError(f"{name} has no '{key}' in its metadata, so it cannot rebuild its network; {RESTORE}")
        return default
    try:
        return json.loads(meta[key])
    except (ValueError, RecursionError) as e:
        raise PercheadError(f"{name}: its '{key}' metadata is not valid JSON ({one_line(e)}); {RESTORE}") from e


def check_config_counts(config: dict[str, Any], counts: dict[str, Any], tensors: int, name: str) -> None:
    """Layer counts from the config may not exceed the tensors present: a tampered depth of 10^6
    would otherwise build a million modules before any shape could be compared."""
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise PercheadError(f"{name}: its config has {key} = {str(value)[:40]!r}, not a whole number; {RESTORE}")
        if value < 0 or value > tensors:
            raise PercheadError(f"{name}: its config asks for {key} = {value}, but the file holds only {tensors} "
                                f"tensors; the metadata is tampered or corrupt; {RESTORE}")
    for key, value in config.items():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 1 << 24:
            raise PercheadError(f"{name}: its config has {key} = {value}, outside any real network; {RESTORE}")


def check_shapes(build: Callable[[], torch.nn.Module], shapes: dict[str, tuple[int, ...]], name: str) -> None:
    """Build the model on the meta device (no memory) and compare its state with the file's shapes."""
    try:
        with torch.device("meta"):
            model = build()
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    except PercheadError as e:
        raise PercheadError(f"{name}: {e}; {RESTORE}") from e
    except Exception as e:  # an untrusted config can fail a constructor in any way; nothing was allocated
        raise PercheadError(f"{name}: the config in its metadata does not build a network ({one_line(e)}); "
                            f"{RESTORE}") from e
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    wrong = sorted(k for k in set(expected) & set(shapes) if expected[k] != shapes[k])
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append(f"{_count(wrong, 'tensor has', 'tensors have')} the wrong shape (e.g. {wrong[0]}: "
                         f"{list(shapes[wrong[0]])} in the file, {list(expected[wrong[0]])} in the network)")
        if missing:
            parts.append(f"{_count(missing, 'tensor is', 'tensors are')} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{_count(unexpected, 'tensor is', 'tensors are')} unknown (e.g. {unexpected[0]})")
        raise PercheadError(f"{name} does not match the network its config describes: {'; '.join(parts)}; {RESTORE}")


def load_tensors(path: Path, name: str) -> dict[str, torch.Tensor]:
    """All tensors, on the CPU; every floating-point weight must be finite (NaN/Inf decode garbage)."""
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise PercheadError(f"{name} is unreadable or corrupt ({one_line(e)}); {RESTORE}") from e
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise PercheadError(f"{name} holds NaN or infinite weights in {_count(bad, 'tensor', 'tensors')} "
                            f"(e.g. {bad[0]}); "
                            f"the file is corrupt or training diverged; {RESTORE}")
    return state


def one_line(e: BaseException, limit: int = 200) -> str:
    """An exception as one short line (state-dict and JSON errors span several)."""
    text = " ".join(str(e).split())
    text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _count(items: list, one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"
