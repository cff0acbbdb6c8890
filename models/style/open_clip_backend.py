"""Optional style backend: an ``open_clip`` CLIP model from weights the user has on disk.

When an artist has CLIP weights locally (e.g. ViT-B-32 as ``open_clip_model.safetensors``), text
prompts and reference images can go through CLIP instead of our small encoders. Nothing is ever
downloaded: the architecture is built with ``open_clip.create_model(name, pretrained=None)`` and
the weights come from the given file, which must be safetensors (we never unpickle a ``.bin`` /
``.pt``: loading a pickle can run code). The tokenizer is open_clip's BPE tokenizer whose
vocabulary ships inside the wheel (``bpe_simple_vocab_16e6.txt.gz``); models that would need a
Hugging Face tokenizer or text tower are refused.

``adapter`` is one trainable Linear from CLIP's embedding space into our style space. It must be
trained (``train_open_clip_adapter`` is not shipped yet: it needs the CLIP weights present, which
our training machines do not have); until then this backend's output is only meaningful to a
decoder fine-tuned on it. docs/style.md says the same.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.errors import PercheadError
from models.style.text_backbone import clean_prompt

log = logging.getLogger(__name__)

DEFAULT_MODEL = "ViT-B-32"
_MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's image normalisation (OpenAI)
_STD = (0.26862954, 0.26130258, 0.27577711)


def _import_open_clip() -> Any:
    try:
        import open_clip  # noqa: PLC0415 - optional dependency, only for users with CLIP weights
    except ImportError as e:
        raise PercheadError("the CLIP style backend needs open_clip; install it with: pip install 'open_clip_torch>=3,<4'") from e
    return open_clip


def check_model_name(name: str) -> dict[str, Any]:
    """The built-in open_clip config of ``name``; refuses names that would reach a hub."""
    open_clip = _import_open_clip()
    if ":" in name:
        raise PercheadError(f"CLIP model {name!r} names a hub or folder; use a built-in architecture name such as {DEFAULT_MODEL}")
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise PercheadError(f"unknown CLIP architecture {name!r}; e.g. {DEFAULT_MODEL}, ViT-B-16, ViT-L-14")
    text_cfg = cfg.get("text_cfg", {})
    if text_cfg.get("hf_model_name") or text_cfg.get("hf_tokenizer_name"):
        raise PercheadError(f"CLIP model {name!r} needs a Hugging Face text tower or tokenizer (a download); "
                            f"use one with open_clip's own tokenizer such as {DEFAULT_MODEL}")
    return cfg


def load_clip_state(path: str | Path) -> dict[str, Tensor]:
    """Read CLIP weights from a local safetensors file (pickles are refused)."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"CLIP weights {p} not found; give the path of a local .safetensors file")
    if p.suffix != ".safetensors":
        raise PercheadError(f"CLIP weights {p} are not safetensors; we do not load pickled checkpoints (they can run code). "
                            "Convert once with safetensors.torch.save_file(torch.load(path, weights_only=True), 'clip.safetensors')")
    from safetensors import SafetensorError  # noqa: PLC0415
    from safetensors.torch import load_file  # noqa: PLC0415
    try:
        state = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as e:
        raise PercheadError(f"CLIP weights {p} are unreadable or corrupt ({e}); download them again") from e
    return {k.removeprefix("module."): v for k, v in state.items()}


class OpenClipStyle(nn.Module):
    """Frozen open_clip model + trainable adapter: prompts / images -> style [B, D], unit length."""

    def __init__(self, model_name: str = DEFAULT_MODEL, weights: str | Path | None = None, style_dim: int = 256,
                 random_init: bool = False) -> None:
        """``weights``: local safetensors file. ``random_init=True`` (tests only) skips it."""
        super().__init__()
        if weights is None and not random_init:
            raise PercheadError("the CLIP style backend needs local weights: pass the path of an open_clip .safetensors file")
        open_clip = _import_open_clip()
        check_model_name(model_name)
        self.model_name = model_name
        clip = open_clip.create_model(model_name, pretrained=None)  # architecture only: never downloads
        if weights is not None:
            try:
                clip.load_state_dict(load_clip_state(weights), strict=True)
            except RuntimeError as e:
                raise PercheadError(f"CLIP weights {weights} do not fit architecture {model_name} ({str(e)[:160]}); "
                                    "pass the matching --clip-model name") from e
        self.clip = clip.eval().requires_grad_(False)
        self.tokenizer = open_clip.get_tokenizer(model_name)
        self.context_length = int(getattr(self.tokenizer, "context_length", 77))
        size = clip.visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        embed_dim = int(clip.text_projection.shape[1] if isinstance(clip.text_projection, Tensor)
                        else clip.text_projection.out_features)
        self.adapter = nn.Linear(embed_dim, style_dim)
        # Near-identity start when widths allow: CLIP's own geometry is a good first style space.
        with torch.no_grad():
            nn.init.zeros_(self.adapter.bias)
            w = torch.zeros(style_dim, embed_dim)
            n = min(style_dim, embed_dim)
            w[:n, :n] = torch.eye(n)
            self.adapter.weight.copy_(w + 0.01 * torch.randn(style_dim, embed_dim))
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> "OpenClipStyle":
        super().train(mode)
        self.clip.eval()  # frozen: dropout/BN stay in inference mode
        return self

    def tokenize(self, prompts: str | Sequence[str]) -> Tensor:
        """Clean prompts (PercheadError when empty) and tokenise; warns when one is cut. [B, L] long"""
        items = [prompts] if isinstance(prompts, str) else list(prompts)
        texts = [clean_prompt(p) for p in items]
        tokens = self.tokenizer(texts)
        for t, row in zip(texts, tokens):
            if int(row[-1]) != 0:  # the last slot is only filled when the prompt ran past the context
                log.warning("style prompt is longer than CLIP's %d tokens; the rest is ignored", self.context_length)
        return tokens

    def encode_text(self, prompts: str | Sequence[str]) -> Tensor:  # -> [B, D]
        dev = self.adapter.weight.device
        with torch.no_grad():
            feats = self.clip.encode_text(self.tokenize(prompts).to(dev), normalize=True)
        return F.normalize(self.adapter(feats.float()), dim=-1)

    def preprocess(self, img: Tensor, alpha: Tensor | None = None) -> Tensor:
        """[B, 3, H, W] 0..1 (+ alpha [B, 1, H, W]) -> CLIP input [B, 3, S, S]: composite on white, pad square, resize."""
        from models.style.encoders import preprocess_images  # noqa: PLC0415 - shared padding/compositing rule
        x = preprocess_images(img, alpha, self.image_size, background=1.0) * 0.25 + 0.5  # back to 0..1
        return (x - self.mean) / self.std

    def encode_images(self, img: Tensor, alpha: Tensor | None = None) -> Tensor:  # [B,3,H,W] -> [B, D]
        dev = self.adapter.weight.device
        with torch.no_grad():
            x = self.preprocess(img.to(dev), None if alpha is None else alpha.to(dev))
            feats = self.clip.encode_image(x, normalize=True)
        return F.normalize(self.adapter(feats.float()), dim=-1)

    def adapter_state(self) -> dict[str, Tensor]:
        """Only the adapter is ours to save (the CLIP weights stay the user's file)."""
        return {f"adapter.{k}": v for k, v in self.adapter.state_dict().items()}
