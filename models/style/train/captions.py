"""Training captions for the style space: the head engine's captions, with seeded wording variants.

The engine (``models.synthetic.captions.caption``) owns the templates and synonym tables. Variant
0 of a seed is the head's own fixed caption; variant v > 0 draws another paraphrase from an rng
seeded by (seed, v), so a bank is reproducible: the same seeds and variants give the same text.
Seeds come from the engine's training stream (``training_seed``), which never yields a
benchmark seed.
"""
from __future__ import annotations

import random
from typing import Callable, Sequence

from models.synthetic.attributes import HeadAttributes, sample_attributes
from models.synthetic.captions import caption, short_caption
from models.synthetic.sampler import is_benchmark_seed, training_seed

CaptionFn = Callable[[HeadAttributes, int], str]  # (attributes, variant index) -> caption
CAPTION_SOURCE = "models.synthetic.captions.caption"


def engine_caption(attrs: HeadAttributes, variant: int = 0) -> str:
    """The engine's caption of a head; variant 0 is its fixed caption, others seeded paraphrases."""
    if variant == 0:
        return caption(attrs)
    return caption(attrs, random.Random(attrs.seed * 1_000_003 + variant * 7_919 + 11))


def short_engine_caption(attrs: HeadAttributes, variant: int = 0) -> str:
    """Variant 0: the head's fixed caption; variant v > 0: a short prompt of one to three of its parts
    (``models.synthetic.captions.short_caption``), from an rng seeded by (seed, v)."""
    if variant == 0:
        return caption(attrs)
    return short_caption(attrs, random.Random(attrs.seed * 1_000_003 + variant * 7_919 + 17))


def training_seeds(count: int, stream: int = 0, start: int = 0) -> list[int]:
    """Seeds ``start .. start+count-1`` of an engine training stream (never benchmark seeds)."""
    return [training_seed(stream, i) for i in range(start, start + count)]


def captions_for_seeds(seeds: Sequence[int], per_seed: int = 1,
                       fn: CaptionFn = engine_caption, first_variant: int = 0) -> list[tuple[int, int, str]]:
    """(seed, variant, caption) for each seed and variant first_variant..first_variant+per_seed-1.
    Refuses benchmark seeds."""
    out = []
    for s in seeds:
        if is_benchmark_seed(s):
            raise ValueError(f"seed {s} belongs to the benchmark; captions for training must come from training_seeds()")
        a = sample_attributes(s)
        for v in range(first_variant, first_variant + per_seed):
            out.append((int(s), v, fn(a, v)))
    return out
