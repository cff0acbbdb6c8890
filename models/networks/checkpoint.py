"""Network checkpoint files: what they hold and how a network is rebuilt from one (reading and writing:
models/io/checkpoints.py).

The NetConfig travels in the safetensors metadata. The template's points travel in the state dict as buffers, or,
where the network was trained on a template asset (``assets/template*.safetensors``) and still holds its points
unchanged, the file names that asset and its sha256 instead (extra metadata "template_asset"): 51,200 points'
buffers are 1.1 MB of an 18 MB edit checkpoint, and the asset is in the repository anyway. Loading refuses an asset
that has changed since. fp16 weights; writes are atomic.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from models.assets import ASSETS_DIR
from models.errors import PercheadError
from models.io.checkpoints import (RESTORE, ModelFile, json_field, load_model, model_bytes,
                                   read_metadata as _read_metadata, save_model)
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import Template, load_template

FORMAT = "perchead-net-v1"
TEMPLATE_ASSET = "template_asset"  # the extra metadata's key: {"file": name under assets/, "sha256": hex}
_TEMPLATE_KEYS = ("head.points", "head.base_log_scale")
# the template's tensors as a network names them, and as a template file does
_TEMPLATE_TENSORS = {"head.points": "points", "head.base_log_scale": "base_log_scale",
                     "head.base_quats": "base_quats", "head.shape_log_scales": "shape_log_scales"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _template_tensors(template: Template) -> dict[str, torch.Tensor]:
    fields = {"points": template.points, "base_log_scale": template.base_log_scale,
              "base_quats": template.base_quats, "shape_log_scales": template.shape_log_scales}
    return {key: fields[f] for key, f in _TEMPLATE_TENSORS.items() if fields[f] is not None}


def _template_reference(model: PercHeadNet, template: str | Path | None,
                        dtype: torch.dtype) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(extra metadata, tensors left out): the asset ``template`` where the model's template is that file's points
    as saved (in ``dtype``); otherwise nothing, and the buffers stay in the file."""
    if template is None:
        return {}, ()
    path = Path(template).resolve()
    if not path.is_file() or not path.is_relative_to(ASSETS_DIR.resolve()):
        return {}, ()
    asset = load_template(path)
    own, theirs = _template_tensors(model.template()), _template_tensors(asset)
    same = (asset.points_per_token == model.cfg.points_per_token and own.keys() == theirs.keys()
            and all(torch.equal(own[k].detach().cpu().to(dtype), theirs[k].to(dtype)) for k in own))
    if not same:
        return {}, ()
    ref = {"file": path.relative_to(ASSETS_DIR.resolve()).as_posix(), "sha256": _sha256(path)}
    return {TEMPLATE_ASSET: ref}, tuple(own)


def _supply(extra: dict[str, Any], name: str) -> dict[str, torch.Tensor]:
    """The template tensors of a file that names its template asset (none for a file that holds them)."""
    path = _template_path(extra, name)
    # a config that groups the points otherwise (points_per_token) changes the shapes of the token table and the
    # Gaussian head's rows, which load_model compares with the file's before building anything
    return {} if path is None else _template_tensors(load_template(path))


def check_template(path: str | Path) -> None:
    """Refuse, from the header alone, a checkpoint whose named template asset is missing or has changed (the app's
    start-up check: otherwise the first decode would say so)."""
    path = Path(path)
    name = f"{NETWORK_FILE.label} {path}"
    extra = json_field(read_metadata(path), "extra", name, default={})
    if not isinstance(extra, dict):
        raise PercheadError(f"{name}: its extra metadata is not a JSON object; {RESTORE}")
    _template_path(extra, name)


def _template_path(extra: dict[str, Any], name: str) -> Path | None:
    """The template asset a file names, checked (present, inside assets/, its sha256 as trained); None for a file
    that holds its points."""
    ref = extra.get(TEMPLATE_ASSET)
    if ref is None:
        return None
    if not (isinstance(ref, dict) and isinstance(ref.get("file"), str) and isinstance(ref.get("sha256"), str)):
        raise PercheadError(f"{name}: its template entry is not a file and a sha256; restore it from the repository")
    try:
        path = (ASSETS_DIR / ref["file"]).resolve()
        is_file = path.is_file()
    except (OSError, ValueError) as e:  # a NUL byte, a name too long, or a path the system cannot take
        raise PercheadError(f"{name} names a template that is no file name; restore it from the repository") from e
    if not path.is_relative_to(ASSETS_DIR.resolve()):
        raise PercheadError(f"{name} names a template outside assets/ ({ref['file'][:80]!r}); restore it from the "
                            "repository")
    if not is_file:
        raise PercheadError(f"{name} needs the template assets/{ref['file']}, which is missing; restore assets/ "
                            "from the repository")
    if _sha256(path) != ref["sha256"]:
        raise PercheadError(f"{name} was trained on assets/{ref['file']} as it was (sha256 {ref['sha256'][:12]}), "
                            "and that file has changed since; restore it from the repository (or retrain)")
    return path


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
    build=_build, required=dict.fromkeys(_TEMPLATE_KEYS, "the head template"), supply=_supply)


def checkpoint_bytes(model: PercHeadNet, extra: dict[str, Any] | None = None,
                     dtype: torch.dtype = torch.float16, template: str | Path | None = None) -> bytes:
    """``template``: the template asset the model was built on (its points left to that file where they match)."""
    ref, leave_out = _template_reference(model, template, dtype)
    return model_bytes(model, FORMAT, model.cfg.to_dict(), _with_reference(extra, ref), dtype=dtype,
                       leave_out=leave_out)


def save_checkpoint(path: str | Path, model: PercHeadNet, extra: dict[str, Any] | None = None,
                    dtype: torch.dtype = torch.float16, template: str | Path | None = None) -> Path:
    """``template``: the template asset the model was built on (its points left to that file where they match)."""
    ref, leave_out = _template_reference(model, template, dtype)
    return save_model(path, model, FORMAT, model.cfg.to_dict(), _with_reference(extra, ref), dtype=dtype,
                      leave_out=leave_out)


def _with_reference(extra: dict[str, Any] | None, ref: dict[str, Any]) -> dict[str, Any]:
    """``extra`` with this save's template reference: one copied from a loaded file's extra (whose points may have
    moved since, as scripts/mute_gaussians.py moves them) never survives."""
    return {**{k: v for k, v in (extra or {}).items() if k != TEMPLATE_ASSET}, **ref}


def read_metadata(path: str | Path) -> dict[str, str]:
    """The checkpoint's metadata from its header alone (cheap): refuses missing, corrupt, pickled
    and foreign files."""
    return _read_metadata(path, NETWORK_FILE)


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[PercHeadNet, dict[str, Any]]:
    """Rebuild the network from a file; returns (model in eval mode, float32, on device; extra metadata)."""
    return load_model(path, NETWORK_FILE, device)  # type: ignore[return-value]
