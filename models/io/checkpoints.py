"""Checkpoints: every model file we write and read (safetensors: loading never runs code), and training state.

Writing: the module's state dict (wrapper prefixes stripped), floating tensors in fp16, with the format, the
config that builds the model and free-form extras (metrics, commands) in the metadata, atomically.

Reading defensively: a missing, cut, tampered or foreign file is one PercheadError line, and nothing is
allocated for a model the file cannot fill. Order of checks (each before the next costs anything): the header
alone (safetensors' own parser: lengths, offsets, JSON); the format and the config in the metadata (valid
values, and no more layers than the file has tensors); the model built on PyTorch's ``meta`` device (shapes
only, no memory) compared tensor by tensor with the header's shapes; only then the real weights are read, and
every float weight must be finite. Pickles and ``torch.save`` zips renamed ``.safetensors`` are named as such:
they are never loaded, since unpickling can run code. What differs between model kinds (their config class,
how the model is built) is a ``ModelFile`` beside the model (models/networks/checkpoint.py,
models/style/checkpoint.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, TypeVar

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from models.errors import PercheadError
from models.io.atomic import write_bytes_atomic
from models.io.paths import require_file

V = TypeVar("V")
WRAPPER_PREFIXES = ("_orig_mod.", "module.")  # torch.compile, DistributedDataParallel
RESTORE = "restore it from the repository (or retrain it)"
_PICKLE_PROTOCOL = b"\x80"       # pickle protocols 2-5 start with PROTO
_ZIP_MAGIC = b"PK\x03\x04"       # torch.save's default container is a zip of pickles


def read_header(path: Path, name: str) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(metadata, tensor shapes) from the header alone; refuses anything that is not safetensors."""
    require_file(path, name, "a .safetensors file",
                 missing="is missing; pass --checkpoint DIR with the shipped files or retrain",
                 folder="is a folder, not a checkpoint file; pass --checkpoint DIR with the shipped files")
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


def clean_key(key: str) -> str:
    """A state-dict key as the bare module has it: the one place wrapper prefixes are stripped."""
    for prefix in WRAPPER_PREFIXES:
        key = key.replace(prefix, "")
    return key


def clean_state_dict(state: Mapping[str, V]) -> dict[str, V]:
    """Strip torch.compile / DDP prefixes so keys match the bare module."""
    return {clean_key(k): v for k, v in state.items()}


# ---- model files ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFile:
    """One kind of model file: its format tag and how its model is rebuilt from the config in its metadata."""

    format: str                                           # the metadata's "format"
    label: str                                            # names a file in messages: "checkpoint {path}"
    title: str                                            # names the kind: "not a PercHead {title}"
    other_format: str                                     # the mend for a file of another format
    parse: Callable[[dict[str, Any]], Any]                # config JSON -> config (TypeError / ValueError: invalid)
    counts: Callable[[Any], dict[str, Any]]               # layer counts the config asks for (bounded by the tensors)
    build: Callable[[Any, Mapping[str, torch.Tensor]], torch.nn.Module]  # config + the required tensors -> model
    required: Mapping[str, str] | None = None             # tensors build reads -> what they are (for the message)
    attach: Callable[[torch.nn.Module, dict[str, str]], None] | None = None  # metadata the model keeps (dictionaries)
    # tensors the file leaves to another file its extra metadata names (the network's template: an asset), as
    # (extra, the file's name for messages) -> tensors; their shapes are checked as the file's own
    supply: Callable[[dict[str, Any], str], Mapping[str, torch.Tensor]] | None = None


def model_bytes(model: torch.nn.Module, fmt: str, config: dict[str, Any], extra: dict[str, Any] | None = None,
                metadata: dict[str, str] | None = None, dtype: torch.dtype = torch.float16,
                leave_out: Collection[str] = ()) -> bytes:
    """``model``'s weights (floats as ``dtype``) with the format, the config that builds it and ``extra`` (metrics,
    commands) in the metadata, plus ``metadata`` (strings the model keeps beside its weights); ``leave_out``: tensors
    another file holds (ModelFile.supply reads them back)."""
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in clean_state_dict(model.state_dict()).items() if k not in leave_out}
    meta = {"format": fmt, "config": json.dumps(config), "extra": json.dumps(extra or {}), **(metadata or {})}
    return save(state, metadata=meta)


def save_model(path: str | Path, model: torch.nn.Module, fmt: str, config: dict[str, Any],
               extra: dict[str, Any] | None = None, metadata: dict[str, str] | None = None,
               dtype: torch.dtype = torch.float16, leave_out: Collection[str] = ()) -> Path:
    """``model_bytes`` written atomically (an existing file is replaced whole or not at all)."""
    return write_bytes_atomic(path, model_bytes(model, fmt, config, extra, metadata, dtype, leave_out))


def read_metadata(path: str | Path, kind: ModelFile) -> dict[str, str]:
    """A model file's metadata from its header alone (cheap): refuses missing, corrupt, pickled and foreign files."""
    p = Path(path)
    meta, _ = read_header(p, f"{kind.label} {p}")
    _check_format(meta, p, kind)
    return meta


def load_model(path: str | Path, kind: ModelFile,
               device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a model from its file alone: (model in eval mode, float32, on ``device``; the extra metadata).
    Every check runs before the weights are read: a tampered config or shape allocates nothing."""
    p = Path(path)
    name = f"{kind.label} {p}"
    meta, shapes = read_header(p, name)
    _check_format(meta, p, kind)
    raw = json_field(meta, "config", name)
    extra = json_field(meta, "extra", name, default={})
    if not isinstance(raw, dict) or not isinstance(extra, dict):
        raise PercheadError(f"{name}: its config or extra metadata is not a JSON object; {RESTORE}")
    try:
        cfg = kind.parse(raw)
    except PercheadError as e:
        raise PercheadError(f"{name}: {e}; {RESTORE}") from e
    except (TypeError, ValueError) as e:
        raise PercheadError(f"{name}: the config in its metadata is invalid ({one_line(e)}); {RESTORE}") from e
    supplied = dict(kind.supply(extra, name)) if kind.supply is not None else {}
    supplied = {k: v for k, v in supplied.items() if k not in shapes}  # the file's own tensors come first
    shapes = {**{k: tuple(v.shape) for k, v in supplied.items()}, **shapes}
    check_config_counts(raw, kind.counts(cfg), len(shapes), name)
    required = kind.required or {}
    for key, what in required.items():
        if key not in shapes:
            raise PercheadError(f"{name} has no {key} tensor ({what}); {RESTORE}")
    check_shapes(lambda: kind.build(cfg, {k: torch.empty(shapes[k]) for k in required}), shapes, name)
    state = {**supplied, **load_tensors(p, name)}
    try:
        model = kind.build(cfg, {k: state[k].float() for k in required})
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        if kind.attach is not None:
            kind.attach(model, meta)
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise PercheadError(f"{name} does not match its network ({one_line(e)}); {RESTORE}") from e
    return model.to(device).eval(), extra


def _check_format(meta: dict[str, str], p: Path, kind: ModelFile) -> None:
    if meta.get("format") != kind.format:
        raise PercheadError(f"{p} is not a PercHead {kind.title} (format {str(meta.get('format'))[:40]!r}); "
                            f"{kind.other_format}")


# ---- training state ---------------------------------------------------------------------------
# Model + optimiser + step, to resume a run. The optimiser's tensors are flattened to ``opt.<param index>.<name>``
# keys; its hyper-parameters and the step go to the metadata as JSON, so resuming needs no pickle.
def state_bytes(model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int, extra: dict[str, Any]) -> bytes:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in clean_state_dict(model.state_dict()).items()}
    opt = optimizer.state_dict()
    for pid, st in opt["state"].items():
        for name, value in st.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"opt.{pid}.{name}"] = t.detach().cpu().contiguous()
    meta = {"step": str(step), "param_groups": json.dumps(opt["param_groups"]), "extra": json.dumps(extra)}
    return save(tensors, metadata=meta)


def save_state(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int,
               extra: dict[str, Any] | None = None) -> Path:
    return write_bytes_atomic(path, state_bytes(model, optimizer, step, extra or {}))


def load_state(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, dict]:
    """Restore model and optimiser in place; returns (step, extra)."""
    p = Path(path)
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(p))
    except Exception as e:  # corrupt file: say which and what to do
        raise PercheadError(f"training state {p} is unreadable ({e}); delete it to start over") from e
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    target = model.module if hasattr(model, "module") else model
    target = getattr(target, "_orig_mod", target)
    target.load_state_dict(model_state)
    opt_state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, pid, name = k.split(".", 2)
            opt_state.setdefault(int(pid), {})[name] = v
    groups = json.loads(meta["param_groups"])
    if len(groups) != len(optimizer.param_groups):
        raise PercheadError(f"training state {p} holds {len(groups)} parameter groups where this recipe makes "
                            f"{len(optimizer.param_groups)} (its lr_scale or net.point_bias changed); resume with "
                            "the recipe it was saved with, or delete it to start over")
    optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
    return int(meta["step"]), json.loads(meta.get("extra", "{}"))
