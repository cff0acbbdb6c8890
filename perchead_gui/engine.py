"""The app's inference engine: seg map + style in, a head out, rendered frames on demand. No GUI import.

Why it is shaped this way (issue 6, STYLE.md "splatviz"):
- The window must never freeze, whatever the model's speed. Decodes run on one worker thread;
  ``set_*`` calls only record the newest request and return. While a decode runs, newer
  requests REPLACE the pending one (latest wins): an artist painting fast gets the newest map
  decoded next, never a queue of stale strokes. The running decode's result is still shown,
  since it is newer than what is on screen.
- Work happens only when inputs really change: a map is compared by content, a prompt by its
  text, a style image by its bytes; setting the same map twice decodes once. Style vectors are
  cached per prompt. ``render`` re-renders only when the camera, mode, background or head changed.
- Errors are values: a failing decode becomes an "error" event and ``last_error`` (the previous
  head stays); a failing render returns the previous image with an error string. Neither raises
  into the UI nor kills the worker. A GPU out-of-memory reloads the models on the CPU and says so.
- Torch's thread count is the app's or CLI's choice (it is process-wide); the engine leaves it.
"""
from __future__ import annotations

import collections
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Protocol, Union

import numpy as np
import torch
from torch import Tensor

from models.cameras import Camera, canonical_view
from models.device import is_accelerator, to_host
from models.errors import PercheadError
from models.gaussians import Gaussians
from models.palette import NUM_CLASSES, palette
from models.pipeline import DEFAULT_STYLE_PROMPT
from models.render import RenderOutput
from models.render import render as render_gaussians
from models.render.gsplat_backend import gsplat_import_error
from models.render.prepared import PreparedHead, prepare_head, render_prepared_rgb
from perchead_gui.timing import timed

log = logging.getLogger(__name__)

EventKind = Literal["head", "error", "info", "map", "style"]  # "style": what the style model read
RenderMode = Literal["rgb", "classes", "depth"]
RENDER_MODES: tuple[str, ...] = ("rgb", "classes", "depth")

# The style used until the artist sets one, so a map alone already shows a head; any prompt or style
# image replaces it.
DEFAULT_PROMPT = DEFAULT_STYLE_PROMPT
MAX_EVENTS = 256         # events kept for a UI that has not polled (the oldest are dropped)
STYLE_CACHE_SIZE = 64    # style vectors kept (prompt history, reference images)
DEPTH_FAR_GREY = 0.2     # grey of the farthest visible point in depth view (the nearest is 1.0)
CLOSE_TIMEOUT_S = 5.0    # how long close() waits for a running decode before leaving the daemon thread
FIRST_FRAME_WAIT_S = 0.1  # how long a decode's follow-up step waits for its first head to be shown
FRAME_HANDOFF_S = 0.001  # then how long it yields, so the thread that drew the frame can pass it on

# torch >= 2.5 names it torch.OutOfMemoryError; older versions only torch.cuda.OutOfMemoryError
_OUT_OF_MEMORY: type[BaseException] = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


class HeadDecoder(Protocol):
    """What the engine needs from a model: ``models.pipeline.HeadPipeline``, or a fake in tests."""

    @property
    def image_size(self) -> int: ...

    @property
    def device(self) -> torch.device: ...

    def edit(self, labels: np.ndarray, style: Tensor) -> Gaussians: ...       # labels [S, S] uint8, style [1, D]
    # optional: edit_stages(labels, style) -> (first head, follow-up step or None), used when present;
    # describe_style(style) -> "reads as: ..." and unread_words(prompt) -> [words], for the line under the prompt

    def style_from_text(self, prompt: str) -> Tensor: ...                     # -> [1, D]

    def style_from_image(self, rgba: np.ndarray) -> Tensor: ...                # rgba [H, W, 4] 0..1 -> [1, D]

    def reconstruct(self, rgba: np.ndarray) -> Gaussians: ...                  # rgba [H, W, 4] 0..1


@dataclass(frozen=True)
class EngineEvent:
    """Something the UI should show or act on; ``poll()`` hands them out once each."""

    kind: EventKind
    message: str
    head_version: int                   # the engine's head version when the event was made
    labels: np.ndarray | None = None    # "map" events: [S, S] uint8, the map to paint on


@dataclass(frozen=True)
class Frame:
    """One rendered view. The same object comes back while nothing that affects it changed."""

    image: np.ndarray        # [H, W, 3] float32 in 0..1
    head_version: int        # the head shown (0: no head yet)
    render_ms: float         # time of the render that made this image (0 for a plain background)
    error: str | None = None  # why the render failed; the image is then the previous one


@dataclass(frozen=True)
class EngineStats:
    """Last measured numbers for the status bar (same timers as ``perchead bench``)."""

    device: str
    gaussians: int
    decode_ms: float
    render_ms: float
    style_ms: float


@dataclass(frozen=True)
class _Style:
    """A style request: a prompt or a reference image, with a key that says when it changed."""

    key: tuple
    prompt: str | None = None
    rgba: np.ndarray | None = None  # [H, W, 4] float32, a private copy


@dataclass(frozen=True)
class _DecodeJob:
    labels: np.ndarray   # [S, S] uint8, a private copy never written after
    labels_key: bytes
    style: _Style


@dataclass(frozen=True)
class _ReconstructJob:
    rgba: np.ndarray     # [H, W, 4] float32 private copy
    seq: int             # request order, to tell whether the map changed after it was asked for
    style_key: tuple     # the style current when it was asked for
    labels: np.ndarray | None = None  # [S, S] uint8 map to paint on (a photo's parsed map); None: the head's own


_Job = Union[_DecodeJob, _ReconstructJob]


class InferenceEngine:
    """Decode heads off the UI thread (latest wins) and render them on the caller's thread (cached)."""

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str = "auto",
                 pipeline: HeadDecoder | None = None, *,
                 cpu_fallback: Callable[[], HeadDecoder] | None = None,
                 default_prompt: str = DEFAULT_PROMPT, warm_up: bool = True) -> None:
        """``pipeline`` replaces the shipped models (tests inject fakes); ``cpu_fallback`` builds
        the decoder used after a GPU out-of-memory (default: the shipped models on the CPU)."""
        if pipeline is None:
            pipeline = _load_pipeline(checkpoint_dir, device)
            if cpu_fallback is None and is_accelerator(pipeline.device):
                cpu_fallback = lambda: _load_pipeline(checkpoint_dir, "cpu")  # noqa: E731
        self._pipe: HeadDecoder = pipeline
        self._cpu_fallback = cpu_fallback
        self.image_size: int = int(pipeline.image_size)

        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        # requests (guarded by _lock)
        self._labels: np.ndarray | None = None  # [S, S] uint8
        self._labels_key: bytes | None = None
        self._labels_seq = 0
        self._style = _text_style(default_prompt)
        self._decoded_key: tuple | None = None  # (labels key, style key) of the last decode taken
        self._reconstruct_job: _ReconstructJob | None = None
        self._seq = 0
        # worker state
        self._running = False
        self._warming = warm_up
        self._closing = False
        # results
        self._head: Gaussians | None = None
        self._visible = 0  # Gaussians of the head that can be seen (a GPU decode hides, not drops, faint ones)
        self._head_version = 0
        self._shown_version = 0  # the newest head version render() has drawn a frame of
        self._events: collections.deque[EngineEvent] = collections.deque(maxlen=MAX_EVENTS)
        self._last_error: str | None = None
        self._decode_ms = 0.0
        self._style_ms = 0.0
        self._render_ms = 0.0
        # style vectors, touched by the worker only
        self._style_cache: collections.OrderedDict[tuple, Tensor] = collections.OrderedDict()
        self._read_key: tuple | None = None  # the style whose reading was last announced
        # render cache (guarded by _render_lock: render may be called from more than one thread)
        self._render_lock = threading.Lock()
        self._frame: Frame | None = None
        self._frame_key: tuple | None = None
        self._prepared: tuple[int, PreparedHead] | None = None  # (head version, head) for the GPU orbit path

        self._thread = threading.Thread(target=self._work, args=(warm_up,), name="perchead-decode", daemon=True)
        self._thread.start()

    # ---- requests (non-blocking) ------------------------------------------------------------
    def set_segmentation(self, labels: np.ndarray) -> None:
        """Ask for a head from this map [S, S] of class ids; an unchanged map does nothing."""
        arr = np.asarray(labels)
        if arr.ndim != 2 or arr.size == 0:
            self._report_error(f"a seg map must be a 2-D array of class ids, got shape {arr.shape}; "
                               "load maps through models.io.segmap.load_segmap")
            return
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)) \
                or int(arr.min()) < 0 or int(arr.max()) >= NUM_CLASSES:
            self._report_error(f"a seg map holds class ids 0-{NUM_CLASSES - 1}; this one holds other values "
                               "(load it through models.io.segmap.load_segmap)")
            return
        copy = np.array(arr, dtype=np.uint8, copy=True)  # the caller keeps painting into its own array
        key = _digest(copy)
        with self._cond:
            if key == self._labels_key:
                return
            self._seq += 1
            self._labels, self._labels_key, self._labels_seq = copy, key, self._seq
            self._cond.notify_all()

    def set_style_text(self, prompt: str) -> None:
        """Ask for this prompt's style (embedded on the worker, cached per prompt)."""
        self._set_style(_text_style(prompt))

    def set_style_image(self, rgba: np.ndarray) -> None:
        """Ask for the style of a reference image RGBA [H, W, 4] in 0..1."""
        copy = np.array(rgba, dtype=np.float32, copy=True)
        self._set_style(_Style(("image", _digest(copy)), rgba=copy))

    def reconstruct(self, rgba: np.ndarray, labels: np.ndarray | None = None,
                    style_rgba: np.ndarray | None = None) -> None:
        """Ask the base model for the head in a photo RGBA [H, W, 4] (canonical framing, alpha = foreground).

        When done, the head becomes current and a "map" event carries the map to paint on:
        ``labels`` [S, S] when given (a photo's parsed seg map), else the head's canonical-view
        class map. The engine takes that map as the one this head answers, so handing it back
        to ``set_segmentation`` does not re-decode; painting on it or changing the style does.
        ``style_rgba`` makes an image the style in the same step (a photo as its own style), so
        the old map is not decoded with the new style in between.
        """
        copy = np.array(rgba, dtype=np.float32, copy=True)
        paint = None
        if labels is not None:
            paint = np.array(labels, dtype=np.uint8, copy=True)
            if paint.shape != (self.image_size, self.image_size) or int(paint.max(initial=0)) >= NUM_CLASSES:
                raise PercheadError(f"a map to paint on must be {self.image_size}x{self.image_size} class ids; "
                                    f"got shape {paint.shape}")
        style = None
        if style_rgba is not None:
            style_copy = np.array(style_rgba, dtype=np.float32, copy=True)
            style = _Style(("image", _digest(style_copy)), rgba=style_copy)
        with self._cond:
            if style is not None:
                self._style = style
            self._seq += 1
            self._reconstruct_job = _ReconstructJob(copy, self._seq, self._style.key, paint)
            self._cond.notify_all()

    def _set_style(self, style: _Style) -> None:
        with self._cond:
            if style.key == self._style.key:
                return
            self._style = style
            self._cond.notify_all()

    # ---- results ----------------------------------------------------------------------------
    def poll(self) -> list[EngineEvent]:
        """Events since the last poll, oldest first (the UI calls this once per frame)."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    @property
    def head(self) -> Gaussians | None:
        with self._lock:
            return self._head

    @property
    def head_version(self) -> int:
        with self._lock:
            return self._head_version

    @property
    def busy(self) -> bool:
        """True while a decode (or the start-up model load) is pending or running."""
        with self._lock:
            return self._busy_locked()

    @property
    def last_error(self) -> str | None:
        """The last decode, style or reconstruct error; cleared by the next head."""
        with self._lock:
            return self._last_error

    @property
    def stats(self) -> EngineStats:
        with self._lock:
            return EngineStats(str(self._pipe.device), self._visible, self._decode_ms, self._render_ms, self._style_ms)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is pending or running; False when ``timeout_s`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy_locked(), timeout_s)

    def wait_head(self, after_version: int, timeout_s: float) -> bool:
        """Block until a head newer than ``after_version`` is published (a decode's first stage counts) or
        nothing is pending or running; False when ``timeout_s`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._head_version > after_version or not self._busy_locked(),
                                       timeout_s)

    def export_head(self, path: str | Path, head: Gaussians | None = None) -> tuple[Path, str | None]:
        """Write ``head`` (default: the current head) atomically in the format its extension names: a standard
        3DGS .ply with labels, .spz or .splat (models/io/splats.py). Returns (path, what the format dropped)."""
        head = self.head if head is None else head
        if head is None:
            raise PercheadError("there is no head to export yet; paint a map or pick a sample first")
        from models.pipeline import visible

        from models.io.splats import write_splats

        return write_splats(path, visible(head))  # hidden (culled) Gaussians of a GPU decode stay out

    def close(self) -> bool:
        """Stop the worker (after its running decode, if any, up to a few seconds). Returns whether it stopped:
        False leaves a daemon thread inside a decode, and a process that then exits normally can abort in torch's
        teardown (perchead_gui/app/window.py: exit_process)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_TIMEOUT_S)
        return not self._thread.is_alive()

    def __enter__(self) -> "InferenceEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- rendering (caller's thread) --------------------------------------------------------
    def render(self, camera: Camera, mode: RenderMode = "rgb",
               background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Frame:
        """The current head seen from ``camera``; the cached Frame when nothing changed. Never raises."""
        bg = tuple(float(c) for c in background)
        with self._lock:
            head, version = self._head, self._head_version
        key = (_camera_key(camera), mode, bg, version)
        with self._render_lock:
            if self._frame is not None and key == self._frame_key:
                return self._frame
            frame = self._render_frame(head, version, camera, mode, bg)
            self._frame, self._frame_key = frame, key
        with self._cond:  # a decode's follow-up step waits for this (see _run_decode)
            self._shown_version = max(self._shown_version, version)
            self._cond.notify_all()
        return frame

    def render_head(self, head: Gaussians, camera: Camera, mode: RenderMode = "rgb",
                    background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Frame:
        """A given head (kept by the caller, e.g. a turntable export) from ``camera``; not cached, never raises."""
        with self._render_lock:
            return self._render_frame(head, -1, camera, mode, tuple(float(c) for c in background))

    def _render_frame(self, head: Gaussians | None, version: int, camera: Camera, mode: str,
                      bg: tuple[float, ...]) -> Frame:
        try:
            if mode not in RENDER_MODES:
                raise PercheadError(f"unknown view mode {mode!r}; use one of {', '.join(RENDER_MODES)}")
            if len(bg) != 3:
                raise PercheadError(f"a background colour has 3 values (r, g, b), got {len(bg)}")
            if head is None or len(head) == 0:
                return Frame(_filled(camera.height, camera.width, bg), version, 0.0)
            with torch.inference_mode(), timed(head.device) as t:
                if mode == "rgb" and _fast_view(head.device):
                    image = to_host(render_prepared_rgb(self._prepared_head(head, version), camera, bg)).numpy()
                else:
                    out = render_gaussians(head, camera, background=bg, classes=mode == "classes")
                    image = to_host(_view_image(out, mode, bg)).numpy()
            with self._lock:
                self._render_ms = t.ms
            return Frame(np.ascontiguousarray(image, dtype=np.float32), version, t.ms)
        except Exception as e:  # a render failure is shown over the viewport, never raised into the UI
            log.warning("render failed: %s", e, exc_info=not isinstance(e, PercheadError))
            message = _describe(e, "render failed")
            prev = self._frame
            if prev is not None and prev.image.shape[:2] == (camera.height, camera.width):
                return Frame(prev.image, prev.head_version, prev.render_ms, message)
            return Frame(_filled(camera.height, camera.width, _safe_bg(bg)), 0, 0.0, message)

    def _prepared_head(self, head: Gaussians, version: int) -> PreparedHead:
        """The head activated for the fast path, once per published head (caller holds _render_lock)."""
        if version >= 0 and self._prepared is not None and self._prepared[0] == version:
            return self._prepared[1]
        prepared = prepare_head(head)
        if version >= 0:
            self._prepared = (version, prepared)
        return prepared

    # ---- worker -----------------------------------------------------------------------------
    def _busy_locked(self) -> bool:
        return self._running or self._warming or (not self._closing and self._has_work_locked())

    def _has_work_locked(self) -> bool:
        if self._reconstruct_job is not None:
            return True
        return self._labels is not None and (self._labels_key, self._style.key) != self._decoded_key

    def _take_job_locked(self) -> _Job:
        """The next job: a requested reconstruction first, else the newest map + style."""
        if self._reconstruct_job is not None:
            job: _Job = self._reconstruct_job
            self._reconstruct_job = None
            return job
        assert self._labels is not None and self._labels_key is not None
        self._decoded_key = (self._labels_key, self._style.key)
        return _DecodeJob(self._labels, self._labels_key, self._style)

    def _work(self, warm_up: bool) -> None:
        if warm_up:
            self._guarded(self._warm_up)
            with self._cond:
                self._warming = False
                self._cond.notify_all()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or self._has_work_locked())
                if self._closing:
                    return
                job = self._take_job_locked()
                self._running = True
            try:
                self._guarded(lambda: self._execute(job, may_fall_back=True))
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def _warm_up(self) -> None:
        """Before the first request needs them: build the CPU rasteriser, load the edit model and
        capture its CUDA graph (no head is on screen yet, so no render competes with the capture),
        then embed the default style."""
        from models.pipeline import HeadPipeline
        from models.render import native

        if self._pipe.device.type == "cpu":
            native.available()  # compiles once per machine (about a second), not inside the first render
        if isinstance(self._pipe, HeadPipeline):
            self._pipe.net("edit")
            self._pipe.prepare_fast_decode()
        self._style_vector(self._style)

    def _guarded(self, fn: Callable[[], None]) -> None:
        """Run worker code; any error becomes an event, so the worker never dies."""
        try:
            fn()
        except PercheadError as e:
            self._report_error(str(e))
        except Exception as e:
            log.exception("decode failed")
            self._report_error(_describe(e, "decode failed"))

    def _execute(self, job: _Job, may_fall_back: bool) -> None:
        try:
            if isinstance(job, _ReconstructJob):
                self._run_reconstruct(job)
            else:
                self._run_decode(job)
        except _OUT_OF_MEMORY as e:
            if not (may_fall_back and self._fall_back_to_cpu(e)):
                raise PercheadError("out of memory while decoding; close other programs using the GPU, "
                                    "or start with --device cpu") from e
            self._execute(job, may_fall_back=False)

    def _run_decode(self, job: _DecodeJob) -> None:
        """Decode the job's map; where the decoder has two stages (HeadPipeline.edit_stages), publish the head
        fitted to the painted outline at once and the one following the painted regions after it, unless a
        newer map or style is waiting by then (it is decoded first; its own follow-up comes after it)."""
        style = self._style_vector(job.style)
        self._announce_reading(job.style.key, style, job.style.prompt)
        stages = getattr(self._pipe, "edit_stages", None)  # test decoders may only have edit()
        with timed(self._pipe.device) as t:
            if stages is not None:
                head, follow = stages(job.labels, style)
            else:
                head, follow = self._pipe.edit(job.labels, style), None
        count = _visible_count(head)  # after the timer: counting waits for the GPU
        self._publish(head, t.ms, f"decoded {count:,} Gaussians in {t.ms:.0f} ms", count)
        if follow is None or self._wait_first_frame():
            return
        try:
            with timed(self._pipe.device) as t_follow:
                head = follow()
        except _OUT_OF_MEMORY:
            raise  # the whole job goes to the CPU (_execute)
        except Exception as e:  # the first head is good: keep it on screen and say what went wrong
            log.exception("region following failed")
            self._info(_describe(e, "fitting the head to the painted regions failed; showing it without that step"))
            return
        if self._superseded():  # a stroke came meanwhile: its head replaces this one in a moment anyway
            return
        count = _visible_count(head)
        self._publish(head, t.ms + t_follow.ms, f"decoded {count:,} Gaussians in {t.ms:.0f} ms, regions fitted to the "
                      f"painted ones in {t_follow.ms:.0f} ms", count)

    def _wait_first_frame(self) -> bool:
        """Let the first head be shown before its follow-up step starts (up to FIRST_FRAME_WAIT_S): run at once,
        the step would share the cores (CPU) or the queue (GPU) with that frame's render and delay it. True when a
        newer job is waiting (or the engine closing): the step is then skipped."""
        with self._cond:
            version = self._head_version
            shown = self._cond.wait_for(lambda: self._closing or self._has_work_locked()
                                        or self._shown_version >= version, FIRST_FRAME_WAIT_S)
        if shown:  # the drawing thread was just woken too: let it hand its frame on before this one takes the GIL
            time.sleep(FRAME_HANDOFF_S)
        return self._superseded()

    def _superseded(self) -> bool:
        """Whether a newer job waits (or the engine is closing): a decode's follow-up step is then skipped, and
        its map no longer counts as decoded, so that painting back to it (an undo before the newer job starts)
        decodes it again, follow-up included."""
        with self._cond:
            if self._closing:
                return True
            if self._has_work_locked():
                self._decoded_key = None
                return True
            return False

    def _run_reconstruct(self, job: _ReconstructJob) -> None:
        with timed(self._pipe.device) as t:
            head = self._pipe.reconstruct(job.rgba)
        labels = self._canonical_class_map(head) if job.labels is None else job.labels
        self._publish(head, t.ms, f"reconstructed {len(head):,} Gaussians in {t.ms:.0f} ms")
        with self._cond:
            if self._labels_seq > job.seq:
                return  # the artist set another map meanwhile: theirs wins, the photo's map is not offered
            key = _digest(labels)
            self._labels, self._labels_key, self._labels_seq = labels, key, job.seq
            self._decoded_key = (key, job.style_key)  # this head already answers this map
            self._events.append(EngineEvent("map", "the photo's class map is ready to paint on",
                                            self._head_version, labels.copy()))
            self._cond.notify_all()

    def _canonical_class_map(self, head: Gaussians) -> np.ndarray:
        """The head's class map at the canonical input view. [S, S] uint8"""
        camera = canonical_view().camera(self.image_size)
        with torch.inference_mode():
            out = render_gaussians(head, camera, classes=True)
            return out.class_map.to(torch.uint8).cpu().numpy()

    def _style_vector(self, style: _Style) -> Tensor:
        """Embed a style request, cached per prompt / image. [1, D]"""
        cached = self._style_cache.get(style.key)
        if cached is not None:
            self._style_cache.move_to_end(style.key)
            return cached
        with timed(self._pipe.device) as t:
            if style.prompt is not None:
                vector = self._pipe.style_from_text(style.prompt)
            else:
                assert style.rgba is not None
                vector = self._pipe.style_from_image(style.rgba)
        with self._lock:
            self._style_ms = t.ms
        self._style_cache[style.key] = vector
        while len(self._style_cache) > STYLE_CACHE_SIZE:
            self._style_cache.popitem(last=False)
        return vector

    def _announce_reading(self, key: tuple, style: Tensor, prompt: str | None = None) -> None:
        """A "style" event with what the style model reads from a new style ("reads as: red hair, ..."), and for a
        prompt the hair / eye words it could not read ("; not read: 'titian'"), so the artist can rephrase."""
        describe = getattr(self._pipe, "describe_style", None)  # decoders without a style model have none
        if key == self._read_key or describe is None:
            return
        self._read_key = key
        reading = describe(style)
        unread = getattr(self._pipe, "unread_words", None)
        if prompt is not None and unread is not None:
            try:
                words = unread(prompt)
            except Exception:  # a hint, never a reason to fail the decode
                log.exception("could not list the prompt's unread words")
                words = []
            if words:
                reading += "; not read: " + ", ".join(f"'{w}'" for w in words)
        with self._cond:
            self._events.append(EngineEvent("style", reading, self._head_version))

    def _publish(self, head: Gaussians, decode_ms: float, message: str, visible: int | None = None) -> None:
        with self._cond:
            self._head = head
            self._visible = len(head) if visible is None else visible
            self._head_version += 1
            self._decode_ms = decode_ms
            self._last_error = None
            self._events.append(EngineEvent("head", message, self._head_version))
            self._cond.notify_all()

    def _report_error(self, message: str) -> None:
        with self._cond:
            self._last_error = message
            self._events.append(EngineEvent("error", message, self._head_version))
            self._cond.notify_all()

    def _info(self, message: str) -> None:
        with self._cond:
            self._events.append(EngineEvent("info", message, self._head_version))

    def _fall_back_to_cpu(self, error: BaseException) -> bool:
        """After a GPU out-of-memory: reload the models on the CPU. True when it worked."""
        if self._cpu_fallback is None or not is_accelerator(self._pipe.device):
            return False
        log.warning("out of memory on %s (%s); reloading the models on the CPU", self._pipe.device, error)
        self._style_cache.clear()  # vectors live on the GPU; free them before the CPU copy is made
        with self._render_lock:
            self._prepared = None  # the viewport's activated copy of the head lives on the GPU too
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        try:
            cpu = self._cpu_fallback()
        except Exception:
            log.exception("reloading the models on the CPU failed")
            return False
        with self._lock:
            old = self._pipe.device
            self._pipe = cpu
            if self._head is not None:
                self._head = self._head.to(cpu.device)  # same head, so the version and frame cache stay
        self._info(f"the GPU ({old}) ran out of memory, so the models now run on the CPU (slower); "
                   "free GPU memory and restart the app to use the GPU again")
        return True


# ---- helpers ----------------------------------------------------------------------------------
def _load_pipeline(checkpoint_dir: str | Path | None, device: str) -> HeadDecoder:
    """The shipped models, refusing a missing or foreign checkpoint now rather than on the first decode."""
    from models.networks.checkpoint import check_template
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline(checkpoint_dir, device)
    # a cheap header read: missing, corrupt or foreign files, or a changed template asset, say so here
    check_template(pipe.files.edit)
    if not pipe.files.style.is_file():
        raise PercheadError(f"style checkpoint {pipe.files.style} is missing; pass --checkpoint DIR "
                            "with the shipped files or retrain the style model")
    return pipe


def _visible_count(head: Gaussians) -> int:
    from models.pipeline import PRUNE_OPACITY

    return int((head.activated_opacities() > PRUNE_OPACITY).sum())


def _text_style(prompt: str) -> _Style:
    text = " ".join(str(prompt).split())  # spacing differences are not a new prompt
    return _Style(("text", text), prompt=text)


def _digest(arr: np.ndarray) -> bytes:
    """A content key for an array: equal bytes, shape and dtype give equal keys."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((arr.shape, arr.dtype.str)).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.digest()


def _fast_view(device: torch.device) -> bool:
    """Colour views of a head on a GPU go through the prepared gsplat path (models/render/prepared.py)."""
    return is_accelerator(device) and gsplat_import_error() is None


def _camera_key(camera: Camera) -> tuple:
    """What makes two cameras see the same image: extrinsics, intrinsics and size."""
    return (tuple(camera.world_to_cam.detach().flatten().tolist()), tuple(camera.K.detach().flatten().tolist()),
            int(camera.width), int(camera.height))


def _filled(height: int, width: int, bg: tuple[float, ...]) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.float32)  # [H, W, 3]
    image[...] = np.asarray(bg, dtype=np.float32)
    return image


def _safe_bg(bg: tuple[float, ...]) -> tuple[float, ...]:
    return bg if len(bg) == 3 else (0.0, 0.0, 0.0)


def _view_image(out: RenderOutput, mode: str, bg: tuple[float, ...]) -> Tensor:
    """A render as the viewport shows it. [H, W, 3] float in 0..1"""
    if mode == "rgb":
        return out.rgb.clamp(0.0, 1.0)
    background = torch.tensor(bg, dtype=out.alpha.dtype, device=out.alpha.device)  # [3]
    if mode == "classes":
        ids = out.class_map  # [H, W]
        colors = torch.tensor(palette().colors, device=ids.device).to(out.alpha.dtype) / 255.0  # [C, 3]
        return torch.where((ids == 0)[..., None], background, colors[ids])
    return _depth_image(out.depth, out.alpha, background)


def _depth_image(depth: Tensor, alpha: Tensor, background: Tensor) -> Tensor:
    """Depth [H, W] as grey, nearest visible point white, farthest DEPTH_FAR_GREY, over the background."""
    covered = alpha > 1e-3  # [H, W]
    if bool(covered.any()):
        near, far = depth[covered].min(), depth[covered].max()
        closeness = ((far - depth) / (far - near).clamp_min(1e-6)).clamp(0.0, 1.0)  # 1 near, 0 far
    else:
        closeness = torch.zeros_like(depth)
    grey = DEPTH_FAR_GREY + (1.0 - DEPTH_FAR_GREY) * closeness  # [H, W]
    a = alpha.clamp(0.0, 1.0)[..., None]
    return grey[..., None] * a + (1.0 - a) * background


def _describe(e: BaseException, what: str) -> str:
    """One line for the UI: our own messages as they are, anything else with its type."""
    if isinstance(e, PercheadError):
        return str(e)
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{what}: {type(e).__name__}" + (f": {text[:200]}" if text else "")
