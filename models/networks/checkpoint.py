"""Network checkpoints: safetensors (loading never runs code), fp16, with the building config.

A file alone rebuilds its model: the NetConfig travels in the safetensors metadata and the
template lives in the state dict as buffers. Writes are atomic (temp + fsync + rename).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save

from models.atomic_io import write_bytes_atomic
from models.checkpoint_io import (RESTORE, check_config_counts, check_shapes, json_field, load_tensors, one_line,
                                  read_header)
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
    """The checkpoint's metadata from its header alone (cheap): refuses missing, corrupt, pickled
    and foreign files."""
    p = Path(path)
    meta, _ = read_header(p, f"checkpoint {p}")
    _check_format(meta, p)
    return meta


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PercHeadNet, dict[str, Any]]:
    """Rebuild the model from a file; returns (model in eval mode, float32, on device; extra metadata).

    Every check runs before the weights are read (models.checkpoint_io): a tampered config or
    shape is refused without allocating the network it describes.
    """
    p = Path(path)
    name = f"checkpoint {p}"
    meta, shapes = read_header(p, name)
    _check_format(meta, p)
    raw = json_field(meta, "config", name)
    extra = json_field(meta, "extra", name, default={})
    if not isinstance(raw, dict) or not isinstance(extra, dict):
        raise PercheadError(f"{name}: its config or extra metadata is not a JSON object; {RESTORE}")
    try:
        cfg = NetConfig.from_dict(raw)
    except PercheadError as e:
        raise PercheadError(f"{name}: {e}; {RESTORE}") from e
    except (TypeError, ValueError) as e:
        raise PercheadError(f"{name}: the config in its metadata is invalid ({one_line(e)}); {RESTORE}") from e
    check_config_counts(raw, {k: getattr(cfg, k) for k in _DEPTHS}, len(shapes), name)
    for key in _TEMPLATE_KEYS:
        if key not in shapes:
            raise PercheadError(f"{name} has no {key} tensor (the head template); {RESTORE}")

    def build(points: torch.Tensor, log_scale: torch.Tensor) -> PercHeadNet:
        return PercHeadNet(cfg, Template(points, log_scale, cfg.points_per_token))

    check_shapes(lambda: build(torch.empty(shapes[_TEMPLATE_KEYS[0]]), torch.empty(shapes[_TEMPLATE_KEYS[1]])),
                 shapes, name)
    state = load_tensors(p, name)
    try:
        model = build(state[_TEMPLATE_KEYS[0]].float(), state[_TEMPLATE_KEYS[1]].float())
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise PercheadError(f"{name} does not match its network ({one_line(e)}); {RESTORE}") from e
    return model.to(device).eval(), extra


_TEMPLATE_KEYS = ("head.points", "head.base_log_scale")
_DEPTHS = ("enc_depth", "dec_depth")


def _check_format(meta: dict[str, str], p: Path) -> None:
    if meta.get("format") != FORMAT:
        raise PercheadError(f"{p} is not a PercHead network checkpoint (format {str(meta.get('format'))[:40]!r}); "
                            "pass --checkpoint DIR with the shipped files")
