"""Network checkpoint files: what they hold and how a network is rebuilt from one (reading and writing:
models/io/checkpoints.py).

A file alone rebuilds its model: the NetConfig travels in the safetensors metadata and the template lives in the
state dict as buffers. fp16 weights; writes are atomic.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from models.io.checkpoints import ModelFile, load_model, model_bytes, read_metadata as _read_metadata, save_model
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import Template

FORMAT = "perchead-net-v1"
_TEMPLATE_KEYS = ("head.points", "head.base_log_scale")


def _build(cfg: NetConfig, tensors: Mapping[str, torch.Tensor]) -> PercHeadNet:
    points = tensors[_TEMPLATE_KEYS[0]]
    quats = shapes = None
    if cfg.shaped_template:  # placeholders of the right shape; the file's values arrive with the state dict
        quats, shapes = points.new_zeros(points.shape[0], 4), points.new_zeros(points.shape[0], 3)
    return PercHeadNet(cfg, Template(points, tensors[_TEMPLATE_KEYS[1]], cfg.points_per_token, quats, shapes))


NETWORK_FILE = ModelFile(
    format=FORMAT, label="checkpoint", title="network checkpoint",
    other_format="pass --checkpoint DIR with the shipped files",
    parse=NetConfig.from_dict, counts=lambda cfg: {"enc_depth": cfg.enc_depth, "dec_depth": cfg.dec_depth},
    build=_build, required=dict.fromkeys(_TEMPLATE_KEYS, "the head template"))


def checkpoint_bytes(model: PercHeadNet, extra: dict[str, Any] | None = None,
                     dtype: torch.dtype = torch.float16) -> bytes:
    return model_bytes(model, FORMAT, model.cfg.to_dict(), extra, dtype=dtype)


def save_checkpoint(path: str | Path, model: PercHeadNet, extra: dict[str, Any] | None = None,
                    dtype: torch.dtype = torch.float16) -> Path:
    return save_model(path, model, FORMAT, model.cfg.to_dict(), extra, dtype=dtype)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The checkpoint's metadata from its header alone (cheap): refuses missing, corrupt, pickled
    and foreign files."""
    return _read_metadata(path, NETWORK_FILE)


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PercHeadNet, dict[str, Any]]:
    """Rebuild the network from a file; returns (model in eval mode, float32, on device; extra metadata)."""
    return load_model(path, NETWORK_FILE, device)  # type: ignore[return-value]
