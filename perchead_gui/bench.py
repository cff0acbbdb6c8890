"""Speed measurements behind ``perchead bench``: scripts that report what they measured.

Speed targets live here and in docs/, never in timed unit tests.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch

from models.cameras import canonical_view, orbit_camera
from models.device import synchronize
from models.gaussians import Gaussians
from models.render import Backend, render


@dataclass
class Timing:
    """p50/p95 of one measured operation."""

    name: str
    backend: str
    size: int
    gaussians: int
    frames: int
    p50_ms: float
    p95_ms: float


def time_frames(fn: Callable[[], object], device: torch.device, frames: int, warmup: int) -> np.ndarray:
    """Wall time per call in ms, synchronised so GPU work is counted, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - t0) * 1000.0)
    return np.asarray(times)


def head_sized_scene(n: int = 32_000, seed: int = 0, device: torch.device | str = "cpu") -> Gaussians:
    """A head-sized stand-in: n surface Gaussians on a head ellipsoid, sized to their spacing.

    Used until benchmarks run on engine heads; its pair count per pixel is close to a real head's.
    """
    g = torch.Generator().manual_seed(seed)
    dirs = torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=1)
    radii = torch.tensor([0.08, 0.11, 0.095])
    means = dirs * radii
    spacing = math.sqrt(4 * math.pi * 0.095**2 / n)
    scales = spacing * 0.6 * (0.7 + 0.6 * torch.rand(n, 3, generator=g))
    scales[:, 2] *= 0.3  # flat discs, like surface splats
    gauss = Gaussians.from_activated(
        means, torch.randn(n, 4, generator=g), scales, 0.7 + 0.3 * torch.rand(n, generator=g),
        torch.rand(n, 3, generator=g), torch.randint(1, 15, (n,), generator=g))
    return gauss.to(device)


def bench_render(device: torch.device, sizes: tuple[int, ...] = (256, 512), frames: int = 30,
                 warmup: int = 3, n: int = 32_000) -> list[Timing]:
    """Render time of a head-sized scene per backend available on ``device`` and image size."""
    scene = head_sized_scene(n, device=device)
    backends: list[Backend] = ["cpu", "gsplat"] if device.type != "cpu" else ["cpu"]
    rows = []
    for backend in backends:
        for size in sizes:
            cam = orbit_camera(canonical_view().orbit_at(30.0, 10.0), size).to(device)
            times = time_frames(lambda: render(scene, cam, backend=backend), device, frames, warmup)
            rows.append(Timing("render", backend, size, n, frames,
                               float(np.percentile(times, 50)), float(np.percentile(times, 95))))
    return rows


def rows_as_dicts(rows: list[Timing]) -> list[dict]:
    return [asdict(r) for r in rows]


def sample_segmap(device: torch.device) -> torch.Tensor:
    """The canonical-view class map of the sample head (assets/sample_head.ply). [S, S] long"""
    from models.assets import ASSETS_DIR
    from models.ply import read_ply

    view = canonical_view()
    head = read_ply(ASSETS_DIR / "sample_head.ply")
    return render(head, view.camera(), backend="cpu").class_map.to(device)


def bench_decode(device: torch.device, frames: int = 30, warmup: int = 3,
                 checkpoint_dir: str | None = None) -> list[Timing]:
    """Time of one edit decode (seg map + style vector -> Gaussians) with the shipped edit model."""
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline(checkpoint_dir, str(device.type))
    net = pipe.net("edit")
    labels = sample_segmap(device)[None]
    style = torch.nn.functional.normalize(torch.randn(1, net.cfg.style_dim, generator=torch.Generator().manual_seed(0)),
                                          dim=-1).to(device)

    def decode() -> None:
        with torch.inference_mode():
            net(labels, style)

    times = time_frames(decode, device, frames, warmup)
    return [Timing("decode", "edit-net", net.cfg.image_size, net.cfg.num_gaussians, frames,
                   float(np.percentile(times, 50)), float(np.percentile(times, 95)))]
