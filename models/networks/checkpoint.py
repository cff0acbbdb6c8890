"""Network checkpoints: safetensors (loading never runs code), fp16, with the building config.

A file alone rebuilds its model: the NetConfig travels in the safetensors metadata and the
template lives in the state dict as buffers. Writes are atomic (temp + fsync + rename).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from models.atomic_io import write_bytes_atomic
from models.errors import PercheadError
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import Template
from models.state_dict import clean_state_dict

FORMAT = "perchead-net-v1"
def checkpoint_bytes(model: PercHeadNet, extra: dict[str, Any] | None = None,
                     dtype: torch.dtype = torch.float16) -> bytes:
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in clean_state_dict(model.state_dict()).items()}
    meta = {"format": FORMAT, "config": json.dumps(model.cfg.to_dict()), "extra": json.dumps(extra or {})}
    return save(state, metadata=meta)


def save_checkpoint(path: str | Path, model: PercHeadNet, extra: dict[str, Any] | None = None,
                    dtype: torch.dtype = torch.float16) -> Path:
    return write_bytes_atomic(path, checkpoint_bytes(model, extra, dtype))


def read_metadata(path: str | Path) -> dict[str, str]:
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"checkpoint {p} is missing; pass --checkpoint DIR with the shipped files or retrain")
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise PercheadError(f"checkpoint {p} is unreadable or corrupt ({e}); restore it from the repository") from e
    if meta.get("format") != FORMAT:
        raise PercheadError(f"{p} is not a PercHead network checkpoint (format {meta.get('format')!r})")
    return meta


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PercHeadNet, dict[str, Any]]:
    """Rebuild the model from a file; returns (model in eval mode, float32, on device; extra metadata)."""
    p = Path(path)
    meta = read_metadata(p)
    try:
        cfg = NetConfig.from_dict(json.loads(meta["config"]))
        state = load_file(str(p))
        template = Template(state["head.points"].float(), state["head.base_log_scale"].float(), cfg.points_per_token)
        model = PercHeadNet(cfg, template)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (SafetensorError, KeyError, RuntimeError, ValueError, json.JSONDecodeError) as e:
        raise PercheadError(f"checkpoint {p} does not match its network ({type(e).__name__}: {str(e)[:160]}); "
                            "restore it from the repository") from e
    return model.to(device).eval(), json.loads(meta.get("extra", "{}"))
