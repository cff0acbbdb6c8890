"""Batches of rendered synthetic heads for training, and the fixed benchmark split.

Seeds: a head is a pure function of its integer seed (``sample_attributes`` + noise offset).
- Benchmark: ``BENCHMARK_SEEDS`` = BENCHMARK_SEED_BASE .. +BENCHMARK_SEED_COUNT-1, views at yaw
  0, +-45, +-90, 180 (pitch 0, canonical radius/fov/target).
- Training: ``training_seed(stream, i)`` hashes (stream, i) into [0, 2^31) and then skips the
  benchmark block, so no training stream can ever produce a benchmark seed (tested).
Views: view 0 is always the canonical input camera; the others have yaw uniform over the full
circle and pitch uniform in +-30 degrees, at the canonical radius, fov and target.
Background: black by default (class 0 is black, so RGB and class renders agree and the alpha
channel lets a trainer composite any other colour); "white" and "random" (a uniform grey per
view) are offered for robustness training.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Literal, Sequence

import torch
from torch import Tensor

from models.cameras import Camera, canonical_view, orbit_camera
from models.device import resolve_device, synchronize
from models.errors import PercheadError
from models.gaussians import Gaussians
from models.render import Backend, render_batch
from models.synthetic.attributes import (BENCHMARK_SEED_BASE, BENCHMARK_SEED_COUNT, HeadAttributes, is_benchmark_seed,
                                         sample_attributes, with_own_shape)
from models.synthetic.captions import caption
from models.synthetic.head import EngineConfig, build_heads

Split = Literal["train", "bench"]
BackgroundMode = Literal["black", "white", "random"]

BENCHMARK_SEEDS = range(BENCHMARK_SEED_BASE, BENCHMARK_SEED_BASE + BENCHMARK_SEED_COUNT)
BENCHMARK_YAWS = (0.0, 45.0, -45.0, 90.0, -90.0, 180.0)
MAX_SEED = (1 << 31) - 1
MAX_RANDOM_PITCH = 30.0
_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def training_seed(stream: int, index: int) -> int:
    """The index-th head seed of a training stream: uniform over [0, 2^31) minus the benchmark block."""
    h = _splitmix64(_splitmix64(int(stream) & _MASK64) ^ (int(index) & _MASK64)) % (MAX_SEED + 1 - BENCHMARK_SEED_COUNT)
    return h + BENCHMARK_SEED_COUNT if h >= BENCHMARK_SEED_BASE else h


def benchmark_cameras(size: int = 256) -> list[Camera]:
    """The benchmark views (canonical framing at BENCHMARK_YAWS, pitch 0)."""
    cv = canonical_view()
    return [orbit_camera(cv.orbit_at(y, 0.0), size) for y in BENCHMARK_YAWS]


@dataclass
class Batch:
    """B heads x V views. Images are float32 on the sampler's device."""

    seeds: list[int]
    rgb: Tensor          # [B, V, H, W, 3] in 0..1, background composited
    alpha: Tensor        # [B, V, H, W]
    class_map: Tensor    # [B, V, H, W] int64 palette ids (0 = background)
    depth: Tensor        # [B, V, H, W] camera depth, 0 where empty
    world_to_cam: Tensor  # [B, V, 4, 4]
    K: Tensor            # [B, V, 3, 3]
    yaw_pitch: Tensor    # [B, V, 2] degrees
    background: Tensor   # [B, V, 3]
    captions: list[str]
    attributes: list[HeadAttributes]
    gaussians: list[Gaussians] = field(repr=False, default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: generate, render

    def cameras(self, b: int) -> list[Camera]:
        """The V cameras head b was rendered from."""
        size = self.rgb.shape[-2]
        return [Camera(self.world_to_cam[b, v], self.K[b, v], size, size) for v in range(self.rgb.shape[1])]


class HeadSampler:
    """Makes batches of synthetic heads and their renders, on any device, with no data on disk."""

    def __init__(self, split: Split = "train", *, stream: int = 0, config: EngineConfig = EngineConfig(),
                 device: str | torch.device = "auto", backend: Backend = "auto",
                 background: BackgroundMode = "black", paraphrase: bool = True, own_shapes: float = 0.0) -> None:
        if split not in ("train", "bench"):
            raise PercheadError(f"unknown split {split!r}; use train or bench")
        if not 0.0 <= own_shapes <= 1.0:
            raise PercheadError(f"own_shapes is a share of the training heads, 0..1 (got {own_shapes})")
        if background not in ("black", "white", "random"):
            raise PercheadError(f"unknown background {background!r}; use black, white or random")
        self.split = split
        self.stream = int(stream)
        self.config = config
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.backend = backend
        self.background = background
        self.paraphrase = paraphrase and split == "train"
        # training heads whose face shape is drawn without regard to the skin tone (attributes.with_own_shape)
        self.own_shapes = own_shapes if split == "train" else 0.0
        self._next = 0
        self._views_rng = torch.Generator().manual_seed(_splitmix64(self.stream) & ((1 << 62) - 1))
        self._text_rng = random.Random(self.stream)

    def next_seeds(self, count: int) -> list[int]:
        """The next ``count`` seeds: the training stream, or the benchmark list in order (cycling)."""
        if self.split == "bench":
            out = [BENCHMARK_SEED_BASE + (self._next + i) % BENCHMARK_SEED_COUNT for i in range(count)]
        else:
            out = [training_seed(self.stream, self._next + i) for i in range(count)]
        self._next += count
        return out

    def view_angles(self, heads: int, views: int) -> Tensor:
        """[heads, views, 2] yaw/pitch degrees: view 0 canonical, the rest random (bench: fixed)."""
        if self.split == "bench":
            yp = torch.tensor([[y, 0.0] for y in BENCHMARK_YAWS])
            return yp[None].expand(heads, -1, -1).clone()
        yp = torch.zeros(heads, views, 2)
        if views > 1:
            r = torch.rand(heads, views - 1, 2, generator=self._views_rng)
            yp[:, 1:, 0] = r[..., 0] * 360.0 - 180.0
            yp[:, 1:, 1] = (r[..., 1] * 2 - 1) * MAX_RANDOM_PITCH
        cv = canonical_view().orbit
        yp[:, 0] = torch.tensor([cv.yaw_deg, cv.pitch_deg])
        return yp

    def _maybe_cropped(self, cam: Camera, zoom: float, prob: float) -> Camera:
        """``cam`` or, with probability ``prob``, a window of it at ``zoom`` x the resolution, anywhere inside (on
        whole pixels of the larger image)."""
        draw = torch.rand(3, generator=self._views_rng)
        if float(draw[0]) >= prob:
            return cam
        span = math.floor(cam.width * (zoom - 1))
        return cam.cropped(zoom, round(float(draw[1]) * span), round(float(draw[2]) * span))

    def _backgrounds(self, heads: int, views: int) -> Tensor:
        if self.background == "black":
            return torch.zeros(heads, views, 3)
        if self.background == "white":
            return torch.ones(heads, views, 3)
        return torch.rand(heads, views, 1, generator=self._views_rng).expand(-1, -1, 3).clone()

    def make_batch(self, seeds: Sequence[int] | int = 8, *, views: int = 4, size: int = 256, zoom: float = 1.0,
                   zoom_prob: float = 0.0) -> Batch:
        """Render ``seeds`` (or that many next seeds) at ``views`` views of ``size`` px.

        For the bench split the views are the benchmark views and ``views`` is ignored. ``zoom`` > 1: each view but
        the canonical one (the model's input) is, with probability ``zoom_prob``, a ``size`` px window at a random
        place of that view rendered at ``zoom`` x ``size`` px (``Camera.cropped``): supervision at the higher
        resolution for the price of the lower (the batch's K says which window each view is).
        """
        seeds = self.next_seeds(seeds) if isinstance(seeds, int) else [int(s) for s in seeds]
        if not seeds:
            raise PercheadError("make_batch needs at least one seed")
        if views < 1 or size < 8:
            raise PercheadError("make_batch needs views >= 1 and size >= 8")
        if zoom < 1 or not 0 <= zoom_prob <= 1:
            raise PercheadError(f"zoom must be >= 1 and zoom_prob in 0..1 (got {zoom}, {zoom_prob})")
        if any(s < 0 or s > MAX_SEED for s in seeds):
            raise PercheadError(f"seeds must lie in 0..{MAX_SEED}")
        t0 = time.perf_counter()
        attrs = [with_own_shape(sample_attributes(s), self.own_shapes) for s in seeds]
        heads = build_heads(attrs, self.device, self.config)
        synchronize(self.device)
        t1 = time.perf_counter()
        yp = self.view_angles(len(seeds), views)
        bgs = self._backgrounds(*yp.shape[:2])
        cv = canonical_view()
        cams = [[orbit_camera(cv.orbit_at(float(y), float(p)), size) for y, p in row] for row in yp.tolist()]
        if zoom > 1 and zoom_prob > 0 and self.split == "train":
            cams = [[c if v == 0 else self._maybe_cropped(c, zoom, zoom_prob) for v, c in enumerate(row)] for row in cams]
        out = render_batch(heads, cams, backend=self.backend, backgrounds=bgs)  # [B, V, ...], one launch on gsplat
        w2c = torch.stack([torch.stack([c.world_to_cam for c in row]) for row in cams])  # [B, V, 4, 4]
        ks = torch.stack([torch.stack([c.K for c in row]) for row in cams])  # [B, V, 3, 3]
        synchronize(self.device)
        t2 = time.perf_counter()
        rng = self._text_rng if self.paraphrase else None
        return Batch(
            seeds=list(seeds),
            rgb=out.rgb, alpha=out.alpha, class_map=out.class_map, depth=out.depth,
            world_to_cam=w2c.to(self.device), K=ks.to(self.device), yaw_pitch=yp,
            background=bgs, captions=[caption(a, rng) for a in attrs], attributes=attrs, gaussians=heads,
            timings={"generate": t1 - t0, "render": t2 - t1},
        )
