"""Resumable training state: model + optimiser + step in safetensors, written atomically.

The optimiser's tensors are flattened to ``opt.<param index>.<name>`` keys; its hyper-parameters
and the step go to the metadata as JSON, so resuming needs no pickle.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from models.atomic_io import write_bytes_atomic
from models.errors import PercheadError
from models.state_dict import clean_state_dict


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
    from safetensors import safe_open

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
    optimizer.load_state_dict({"state": opt_state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), json.loads(meta.get("extra", "{}"))
