"""Style checkpoints: one safetensors file (fp16, no pickle) with the StyleConfig in its metadata."""
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
from models.state_dict import clean_state_dict
from models.style.encoders import StyleConfig, StyleModel
from models.style.hair_words import HairLexicon
from models.style.lexicon import ColourLexicon

FORMAT = "perchead-style-v1"


def style_checkpoint_bytes(model: StyleModel, extra: dict[str, Any] | None = None,
                           dtype: torch.dtype = torch.float16) -> bytes:
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in clean_state_dict(model.state_dict()).items()}
    # the temperature is a log-scale: fp16 keeps it to ~3 decimals, plenty for a softmax scale
    meta = {"format": FORMAT, "config": json.dumps(model.cfg.to_dict()), "extra": json.dumps(extra or {})}
    if model.lexicon is not None:  # the colour dictionary travels with the text head that reads it
        meta["lexicon"] = model.lexicon.to_json()
    if model.hair_lexicon is not None:  # likewise the hairstyle / facial-hair / glasses / hat words
        meta["hair_lexicon"] = model.hair_lexicon.to_json()
    return save(state, metadata=meta)


def save_style_model(path: str | Path, model: StyleModel, extra: dict[str, Any] | None = None) -> Path:
    """Atomic fp16 write; ``extra`` (metrics, bank, steps) goes into the metadata."""
    return write_bytes_atomic(path, style_checkpoint_bytes(model, extra))


def load_style_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[StyleModel, dict[str, Any]]:
    """Rebuild a StyleModel (eval mode, float32) from its file alone; (model, extra metadata).

    Checked before the weights are read (models.checkpoint_io): header, config, and every tensor
    shape against the model the config builds on the meta device.
    """
    p = Path(path)
    name = f"style checkpoint {p}"
    meta, shapes = read_header(p, name)
    if meta.get("format") != FORMAT:
        raise PercheadError(f"{p} is not a PercHead style checkpoint (format {str(meta.get('format'))[:40]!r}); "
                            f"{RESTORE}")
    raw = json_field(meta, "config", name)
    extra = json_field(meta, "extra", name, default={})
    if not isinstance(raw, dict) or not isinstance(extra, dict):
        raise PercheadError(f"{name}: its config or extra metadata is not a JSON object; {RESTORE}")
    try:
        cfg = StyleConfig.from_dict(raw)
    except (TypeError, ValueError) as e:
        raise PercheadError(f"{name}: the config in its metadata is invalid ({one_line(e)}); {RESTORE}") from e
    counts = {"text_layers": cfg.text_layers,
              "image_widths": len(cfg.image_widths) if isinstance(cfg.image_widths, tuple) else cfg.image_widths,
              "attributes": len(cfg.attributes) if isinstance(cfg.attributes, dict) else cfg.attributes}
    check_config_counts(raw, counts, len(shapes), name)
    check_shapes(lambda: StyleModel(cfg), shapes, name)
    state = load_tensors(p, name)
    try:
        model = StyleModel(cfg)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        if "lexicon" in meta:
            model.lexicon = ColourLexicon.from_json(meta["lexicon"])
        elif cfg.text_features:
            raise KeyError("lexicon")
        if "hair_lexicon" in meta:
            model.hair_lexicon = HairLexicon.from_json(meta["hair_lexicon"])
        elif cfg.text_word_features:
            raise KeyError("hair_lexicon")
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise PercheadError(f"{name} does not match its network ({one_line(e)}); {RESTORE}") from e
    return model.to(device).eval(), extra
