"""Style checkpoints: one safetensors file (fp16, no pickle) with the StyleConfig in its metadata."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from models.state_dict import clean_state_dict
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from models.atomic_io import write_bytes_atomic
from models.errors import PercheadError
from models.style.encoders import StyleConfig, StyleModel

FORMAT = "perchead-style-v1"


def style_checkpoint_bytes(model: StyleModel, extra: dict[str, Any] | None = None,
                           dtype: torch.dtype = torch.float16) -> bytes:
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in clean_state_dict(model.state_dict()).items()}
    # the temperature is a log-scale: fp16 keeps it to ~3 decimals, plenty for a softmax scale
    meta = {"format": FORMAT, "config": json.dumps(model.cfg.to_dict()), "extra": json.dumps(extra or {})}
    return save(state, metadata=meta)


def save_style_model(path: str | Path, model: StyleModel, extra: dict[str, Any] | None = None) -> Path:
    """Atomic fp16 write; ``extra`` (metrics, bank, steps) goes into the metadata."""
    return write_bytes_atomic(path, style_checkpoint_bytes(model, extra))


def load_style_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[StyleModel, dict[str, Any]]:
    """Rebuild a StyleModel (eval mode, float32) from its file alone; (model, extra metadata)."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"style checkpoint {p} is missing; pass --checkpoint DIR with the shipped files or retrain the style model")
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise PercheadError(f"{p} is not a PercHead style checkpoint (format {meta.get('format')!r}); restore it from the repository")
        cfg = StyleConfig.from_dict(json.loads(meta["config"]))
        model = StyleModel(cfg)
        state = load_file(str(p))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except PercheadError:
        raise
    except (SafetensorError, OSError, KeyError, RuntimeError, ValueError, TypeError, json.JSONDecodeError) as e:
        raise PercheadError(f"style checkpoint {p} is unreadable or corrupt ({type(e).__name__}: {str(e)[:160]}); "
                            "restore it from the repository") from e
    return model.to(device).eval(), json.loads(meta.get("extra", "{}"))
