"""Style checkpoint files: what they hold and how a StyleModel is rebuilt from one (reading and writing:
models/io/checkpoints.py). fp16 weights, the StyleConfig and the dictionaries the text head reads in the metadata."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from models.io.checkpoints import ModelFile, RESTORE, load_model, model_bytes, save_model
from models.style.encoders import StyleConfig, StyleModel
from models.style.hair_words import HairLexicon
from models.style.lexicon import ColourLexicon

FORMAT = "perchead-style-v1"


def _counts(cfg: StyleConfig) -> dict[str, Any]:
    return {"text_layers": cfg.text_layers,
            "image_widths": len(cfg.image_widths) if isinstance(cfg.image_widths, tuple) else cfg.image_widths,
            "attributes": len(cfg.attributes) if isinstance(cfg.attributes, dict) else cfg.attributes}


def _build(cfg: StyleConfig, tensors: Mapping[str, torch.Tensor]) -> StyleModel:
    return StyleModel(cfg)


def _attach_dictionaries(model: StyleModel, meta: dict[str, str]) -> None:
    """The dictionaries the text head was trained to read (a missing one it needs: KeyError)."""
    if "lexicon" in meta:
        model.lexicon = ColourLexicon.from_json(meta["lexicon"])
    elif model.cfg.text_features:
        raise KeyError("lexicon")
    if "hair_lexicon" in meta:
        model.hair_lexicon = HairLexicon.from_json(meta["hair_lexicon"])
    elif model.cfg.text_word_features:
        raise KeyError("hair_lexicon")


STYLE_FILE = ModelFile(format=FORMAT, label="style checkpoint", title="style checkpoint", other_format=RESTORE,
                       parse=StyleConfig.from_dict, counts=_counts, build=_build, attach=_attach_dictionaries)


def _dictionaries(model: StyleModel) -> dict[str, str]:
    """The dictionaries travel with the text head that reads them: colours, and hairstyle / facial-hair /
    glasses / hat words."""
    meta = {}
    if model.lexicon is not None:
        meta["lexicon"] = model.lexicon.to_json()
    if model.hair_lexicon is not None:
        meta["hair_lexicon"] = model.hair_lexicon.to_json()
    return meta


def style_checkpoint_bytes(model: StyleModel, extra: dict[str, Any] | None = None,
                           dtype: torch.dtype = torch.float16) -> bytes:
    # the temperature is a log-scale: fp16 keeps it to ~3 decimals, plenty for a softmax scale
    return model_bytes(model, FORMAT, model.cfg.to_dict(), extra, _dictionaries(model), dtype)


def save_style_model(path: str | Path, model: StyleModel, extra: dict[str, Any] | None = None) -> Path:
    """Atomic fp16 write; ``extra`` (metrics, bank, steps) goes into the metadata."""
    return save_model(path, model, FORMAT, model.cfg.to_dict(), extra, _dictionaries(model))


def load_style_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[StyleModel, dict[str, Any]]:
    """Rebuild a StyleModel (eval mode, float32) from its file alone; (model, extra metadata)."""
    return load_model(path, STYLE_FILE, device)  # type: ignore[return-value]
