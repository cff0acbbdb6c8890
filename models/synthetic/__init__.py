"""The procedural head engine: labelled Gaussian heads with captions, as data and benchmark.

Public API:
- ``sample_attributes(seed) -> HeadAttributes``; ``REFERENCE_COLORS`` (attribute -> sRGB);
- ``build_heads(attrs, device, config) -> list[Gaussians]`` (batched generation);
  ``make_head(seed, device) -> (Gaussians, HeadAttributes)`` for one head;
- ``caption(attrs, rng=None) -> str``;
- ``HeadSampler(split, ...).make_batch(seeds_or_count, views, size) -> Batch``;
- ``BENCHMARK_SEEDS``, ``BENCHMARK_YAWS``, ``benchmark_cameras(size)``, ``is_benchmark_seed``,
  ``training_seed``.
"""
from __future__ import annotations

import torch

from models.gaussians import Gaussians
from models.synthetic.attributes import (AGES, EYE_COLORS, FACIAL_HAIR, GARMENT_COLORS, GLASSES, HAIR_COLORS,
                                         HAIR_STYLES, HATS, NECKLINES, PRESENTATIONS, REFERENCE_COLORS, SHAPE_RANGES,
                                         SKIN_TONES, HeadAttributes, sample_attributes)
from models.synthetic.captions import caption
from models.synthetic.head import EngineConfig, build_heads
from models.synthetic.sampler import (BENCHMARK_SEEDS, BENCHMARK_YAWS, Batch, HeadSampler, benchmark_cameras,
                                      is_benchmark_seed, training_seed)


def make_head(seed: int, device: str | torch.device = "cpu",
              config: EngineConfig = EngineConfig()) -> tuple[Gaussians, HeadAttributes]:
    """One head from its seed: (Gaussians, attributes)."""
    attrs = sample_attributes(seed)
    return build_heads([attrs], device, config)[0], attrs


__all__ = [
    "AGES", "BENCHMARK_SEEDS", "BENCHMARK_YAWS", "Batch", "EYE_COLORS", "EngineConfig", "FACIAL_HAIR",
    "GARMENT_COLORS", "GLASSES", "HAIR_COLORS", "HAIR_STYLES", "HATS", "HeadAttributes", "HeadSampler", "NECKLINES",
    "PRESENTATIONS", "REFERENCE_COLORS", "SHAPE_RANGES", "SKIN_TONES", "benchmark_cameras", "build_heads", "caption",
    "is_benchmark_seed", "make_head", "sample_attributes", "training_seed",
]
