"""InferenceEngine: latest-wins coalescing, change detection, caches, errors as values, export.

Most tests drive the engine with a fake decoder that sleeps, counts its calls and records the
maps it decoded, so coalescing is observed directly (no timing assertions). One test decodes a
gallery map with the real shipped checkpoints.
"""
from __future__ import annotations

import threading
import time
import zlib

import numpy as np
import pytest
import torch
from torch import Tensor

import perchead_gui.engine as engine_module
from models.cameras import canonical_view, orbit_camera
from models.errors import PercheadError
from models.gaussians import Gaussians
from models.palette import palette
from models.io.ply import read_ply
from perchead_gui.engine import DEFAULT_PROMPT, EngineEvent, Frame, InferenceEngine

SIZE = 16  # the fake model's input map size
VIEW = 32  # viewport size in these tests
WAIT_S = 30.0  # generous: the 2-core test machine is shared; only hangs should hit it

pytestmark = pytest.mark.usefixtures("one_thread")


class FakeDecoder:
    """A stand-in model: slow on demand, records every call, fails on demand."""

    image_size = SIZE

    def __init__(self, delay_s: float = 0.0, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.delay_s = delay_s
        self.decoded: list[np.ndarray] = []    # maps given to edit(), in order
        self.prompts: list[str] = []           # prompts embedded
        self.images = 0                        # style images embedded
        self.readings = 0                      # styles described in words
        self.reconstructed = 0
        self.started = threading.Event()       # set when an edit() begins
        self.fail_with: BaseException | None = None  # raised by the next edit()

    def style_from_text(self, prompt: str) -> Tensor:
        if not prompt.strip():
            raise PercheadError("the prompt is empty")
        self.prompts.append(prompt)
        return _colour_of(prompt.encode())

    def describe_style(self, style: Tensor) -> str:
        self.readings += 1
        return f"reads as: {float(style[0, 0]):.3f}"

    def unread_words(self, prompt: str) -> list[str]:
        return [w for w in prompt.split() if w.startswith("zz")]  # the fake's dictionaries know no "zz" word

    def style_from_image(self, rgba: np.ndarray) -> Tensor:
        self.images += 1
        return torch.tensor([[float(rgba[..., 0].mean()), float(rgba[..., 1].mean()), float(rgba[..., 2].mean())]])

    def edit(self, labels: np.ndarray, style: Tensor) -> Gaussians:
        self.started.set()
        time.sleep(self.delay_s)
        self.decoded.append(labels.copy())
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        return fake_head(style.cpu(), label=int(labels.max())).to(self.device)

    def reconstruct(self, rgba: np.ndarray) -> Gaussians:
        self.reconstructed += 1
        return fake_head(torch.tensor([[0.8, 0.6, 0.4]]), label=palette().id_of("skin"))


def _colour_of(data: bytes) -> Tensor:
    h = zlib.crc32(data)
    return torch.tensor([[(h & 255) / 255.0, ((h >> 8) & 255) / 255.0, ((h >> 16) & 255) / 255.0]])


def fake_head(style: Tensor, label: int, n: int = 200) -> Gaussians:
    """A ball of n Gaussians at the origin, coloured by the style, all of one class. [n]"""
    g = torch.Generator().manual_seed(label)
    means = torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=1) * 0.08
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).expand(n, 4).clone()
    return Gaussians.from_activated(means, quats, torch.full((n, 3), 0.02), torch.full((n,), 0.9),
                                    style.reshape(1, 3).expand(n, 3).clamp(0, 1),
                                    torch.full((n,), max(label, 1), dtype=torch.long))


def a_map(value: int = 1, row: int = 4) -> np.ndarray:
    """A map with background and a block of class ``value``; ``row`` moves the block. [SIZE, SIZE]"""
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[row:row + 6, 4:12] = value
    return m


def camera(yaw: float = 0.0, size: int = VIEW):
    return orbit_camera(canonical_view().orbit_at(yaw), size)


@pytest.fixture
def fake() -> FakeDecoder:
    return FakeDecoder()


@pytest.fixture
def engine(fake: FakeDecoder):
    eng = InferenceEngine(pipeline=fake)
    yield eng
    eng.close()


def settle(eng: InferenceEngine) -> list[EngineEvent]:
    assert eng.wait_idle(WAIT_S), "the engine did not finish its work"
    return eng.poll()


def kinds(events: list[EngineEvent]) -> list[str]:
    """Event kinds in order, without the style readings (their own test checks those)."""
    return [e.kind for e in events if e.kind != "style"]


# ---- coalescing and change detection ------------------------------------------------------------
def test_rapid_maps_during_a_slow_decode_coalesce_to_the_newest() -> None:
    fake = FakeDecoder(delay_s=0.3)
    with InferenceEngine(pipeline=fake) as eng:
        eng.set_segmentation(a_map(1, row=0))
        assert fake.started.wait(WAIT_S)
        maps = [a_map(1 + i % 14, row=i % 10) for i in range(1, 21)]
        maps[-1] = a_map(9, row=10)  # distinct from every earlier map
        for m in maps:
            eng.set_segmentation(m)
        events = settle(eng)
    assert 2 <= len(fake.decoded) <= 3, "at most 2 further decodes after the running one"
    np.testing.assert_array_equal(fake.decoded[-1], maps[-1])
    heads = [e for e in events if e.kind == "head"]
    assert len(heads) == len(fake.decoded), "the running decode's result is still published"
    assert eng.head_version == len(fake.decoded)


def test_the_same_map_twice_decodes_once(engine: InferenceEngine, fake: FakeDecoder) -> None:
    m = a_map()
    engine.set_segmentation(m)
    engine.set_segmentation(m.copy())
    settle(engine)
    engine.set_segmentation(m.astype(np.int64))  # same content, another dtype: still the same map
    settle(engine)
    assert len(fake.decoded) == 1
    assert engine.head_version == 1


def test_the_map_is_copied_so_later_painting_is_a_change(engine: InferenceEngine, fake: FakeDecoder) -> None:
    canvas = a_map()
    engine.set_segmentation(canvas)
    settle(engine)
    canvas[0, 0] = 9  # the UI paints into its own buffer
    settle(engine)
    assert len(fake.decoded) == 1, "painting the caller's array must not reach the engine by itself"
    engine.set_segmentation(canvas)
    settle(engine)
    assert len(fake.decoded) == 2
    assert fake.decoded[-1][0, 0] == 9


def test_a_style_change_re_decodes_and_prompts_are_cached(engine: InferenceEngine, fake: FakeDecoder) -> None:
    engine.set_segmentation(a_map())
    settle(engine)
    engine.set_style_text("long red hair")
    settle(engine)
    first_red = engine.head
    engine.set_style_text("  long   red hair ")  # same words, other spacing
    settle(engine)
    assert len(fake.decoded) == 2
    engine.set_style_text("short black hair")
    settle(engine)
    engine.set_style_text("long red hair")
    settle(engine)
    assert len(fake.decoded) == 4
    assert fake.prompts.count("long red hair") == 1, "a prompt is embedded once, then cached"
    assert fake.prompts.count(DEFAULT_PROMPT) == 1
    assert torch.equal(engine.head.sh, first_red.sh)


def test_each_new_style_is_announced_once_in_words(engine: InferenceEngine, fake: FakeDecoder) -> None:
    """The app shows what the style model read ("reads as: ..."): one "style" event per style that drives a
    decode, none when a map changes under the same style."""
    engine.set_segmentation(a_map())
    settle(engine)
    engine.set_style_text("long red hair")
    red = [e for e in settle(engine) if e.kind == "style"]
    engine.set_segmentation(a_map(value=3))  # same style, another map: nothing new to say
    assert not [e for e in settle(engine) if e.kind == "style"]
    engine.set_style_text("short black hair")
    black = [e for e in settle(engine) if e.kind == "style"]
    assert len(red) == 1 and len(black) == 1 and red[0].message != black[0].message
    assert red[0].message.startswith("reads as: ") and fake.readings == 3  # default prompt, red, black
    assert "not read" not in red[0].message


def test_reading_names_prompt_words_the_dictionaries_do_not_know(engine: InferenceEngine, fake: FakeDecoder) -> None:
    engine.set_segmentation(a_map())
    settle(engine)
    engine.set_style_text("zztitian hair and zzsea eyes")
    (event,) = [e for e in settle(engine) if e.kind == "style"]
    assert event.message.startswith("reads as: ") and event.message.endswith("; not read: 'zztitian', 'zzsea'")


def test_style_images_compare_by_content(engine: InferenceEngine, fake: FakeDecoder) -> None:
    engine.set_segmentation(a_map())
    image = np.zeros((8, 8, 4), np.float32)
    image[..., 0] = 1.0
    image[..., 3] = 1.0
    engine.set_style_image(image)
    settle(engine)
    decoded = len(fake.decoded)  # 1, or 2 when the worker took the map before the image arrived
    engine.set_style_image(image.copy())
    settle(engine)
    assert fake.images == 1
    assert len(fake.decoded) == decoded, "an equal image is the same style: no new decode"
    image[..., 1] = 0.5
    engine.set_style_image(image)
    settle(engine)
    assert fake.images == 2
    assert len(fake.decoded) == decoded + 1


def test_a_style_alone_waits_for_a_map(engine: InferenceEngine, fake: FakeDecoder) -> None:
    engine.set_style_text("long red hair")
    assert settle(engine) == []
    assert fake.decoded == [] and engine.head is None and not engine.busy
    engine.set_segmentation(a_map())
    settle(engine)
    assert len(fake.decoded) == 1
    assert fake.prompts[-1] == "long red hair"


def test_wait_idle_reports_a_running_decode() -> None:
    fake = FakeDecoder(delay_s=0.5)
    with InferenceEngine(pipeline=fake) as eng:
        eng.set_segmentation(a_map())
        assert fake.started.wait(WAIT_S)
        assert eng.busy
        assert not eng.wait_idle(0.01)
        assert eng.wait_idle(WAIT_S)
        assert not eng.busy and eng.head is not None


def test_close_stops_the_worker(fake: FakeDecoder) -> None:
    eng = InferenceEngine(pipeline=fake)
    assert eng.close() is True
    assert not eng._thread.is_alive()


def test_close_says_when_a_decode_outlives_its_wait(monkeypatch) -> None:
    import perchead_gui.engine as engine_module

    monkeypatch.setattr(engine_module, "CLOSE_TIMEOUT_S", 0.05)
    slow = FakeDecoder(delay_s=1.0)
    eng = InferenceEngine(pipeline=slow)
    eng.set_segmentation(a_map())
    assert slow.started.wait(WAIT_S)
    assert eng.close() is False  # the decode still runs: the caller must not tear the process down under it
    eng._thread.join(WAIT_S)
    assert not eng._thread.is_alive()


class TwoStageDecoder(FakeDecoder):
    """A decoder with a follow-up step, like HeadPipeline.edit_stages: the first head, then a refined one.
    ``hold`` (when set) keeps each follow-up step waiting until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.followed: list[np.ndarray] = []   # maps whose follow-up step ran
        self.hold: threading.Event | None = None
        self.following = threading.Event()    # set when a follow-up step begins

    def edit_stages(self, labels: np.ndarray, style: Tensor):
        first = self.edit(labels, style)

        def follow() -> Gaussians:
            self.following.set()
            if self.hold is not None:
                assert self.hold.wait(WAIT_S)
            self.followed.append(labels.copy())
            return fake_head(style.cpu(), label=int(labels.max()) + 1)

        return first, follow


def test_a_decode_shows_its_first_head_then_the_followed_one() -> None:
    fake = TwoStageDecoder()
    with InferenceEngine(pipeline=fake) as eng:
        eng.set_segmentation(a_map(3))
        events = settle(eng)
        assert kinds(events) == ["head", "head"] and eng.head_version == 2
        assert int(eng.head.labels[0]) == 4, "the followed head is the one left on screen"
        assert "regions fitted" in events[-1].message
        assert len(fake.decoded) == len(fake.followed) == 1


def test_a_newer_stroke_skips_the_follow_up_of_the_older_one() -> None:
    """The follow-up step of a map that has been painted over meanwhile is not published (the newer map's
    first head replaces it at once), and the newer map gets its own follow-up."""
    fake = TwoStageDecoder()
    fake.hold = threading.Event()
    with InferenceEngine(pipeline=fake) as eng:
        eng.set_segmentation(a_map(3))
        assert fake.following.wait(WAIT_S)
        assert eng.wait_head(0, WAIT_S) and eng.head_version == 1, "the first head is out before the follow-up"
        eng.set_segmentation(a_map(5))
        fake.hold.set()
        events = settle(eng)
    assert [int(m.max()) for m in fake.decoded] == [3, 5]
    heads = [e for e in events if e.kind == "head"]
    assert len(heads) == 3, "3's first head, 5's first head and 5's followed head; not 3's followed one"
    assert int(eng.head.labels[0]) == 6


def test_the_follow_up_step_waits_for_the_first_frame(monkeypatch) -> None:
    """The follow-up step starts once the first head has been drawn (it would otherwise share the cores or the
    GPU queue with that frame), or after FIRST_FRAME_WAIT_S when nothing draws."""
    monkeypatch.setattr(engine_module, "FIRST_FRAME_WAIT_S", WAIT_S)
    fake = TwoStageDecoder()
    with InferenceEngine(pipeline=fake) as eng:
        eng.set_segmentation(a_map(3))
        assert eng.wait_head(0, WAIT_S) and eng.head_version == 1
        assert not fake.following.wait(0.3), "no frame drawn yet: the follow-up waits"
        assert eng.render(camera()).head_version == 1
        assert fake.following.wait(WAIT_S)
        settle(eng)
        assert eng.head_version == 2


def test_a_failing_follow_up_keeps_the_first_head() -> None:
    class Failing(TwoStageDecoder):
        def edit_stages(self, labels: np.ndarray, style: Tensor):
            first, _ = super().edit_stages(labels, style)

            def follow() -> Gaussians:
                raise ValueError("registration blew up")

            return first, follow

    with InferenceEngine(pipeline=Failing()) as eng:
        eng.set_segmentation(a_map(3))
        events = settle(eng)
        assert eng.head_version == 1 and int(eng.head.labels[0]) == 3, "the first head stays"
        assert eng.last_error is None
        assert any(e.kind == "info" and "blew up" in e.message for e in events)


# ---- errors are values ------------------------------------------------------------------------
def test_a_decoder_exception_is_an_event_and_the_engine_keeps_working(engine: InferenceEngine,
                                                                      fake: FakeDecoder) -> None:
    engine.set_segmentation(a_map(1))
    settle(engine)
    good = engine.head
    fake.fail_with = RuntimeError("kernel exploded")
    engine.set_segmentation(a_map(2))
    events = settle(engine)
    assert kinds(events) == ["error"]
    assert "kernel exploded" in events[0].message and "RuntimeError" in events[0].message
    assert engine.last_error == events[0].message
    assert engine.head is good and engine.head_version == 1, "the previous head stays"
    engine.set_segmentation(a_map(3))
    assert kinds(settle(engine)) == ["head"]
    assert engine.last_error is None and engine.head_version == 2


def test_a_bad_prompt_is_reported_with_our_message(engine: InferenceEngine) -> None:
    engine.set_segmentation(a_map())
    engine.set_style_text("   ")
    events = settle(engine)
    assert "error" in kinds(events)
    assert engine.last_error == "the prompt is empty"


def test_a_map_that_is_not_class_ids_is_refused_without_a_decode(engine: InferenceEngine, fake: FakeDecoder) -> None:
    engine.set_segmentation(np.zeros((4, 4, 3), np.uint8))
    engine.set_segmentation(np.full((SIZE, SIZE), 40, np.uint8))
    events = settle(engine)
    assert kinds(events) == ["error", "error"]
    assert "2-D" in events[0].message and "class ids" in events[1].message
    assert fake.decoded == []


def test_gpu_out_of_memory_falls_back_to_the_cpu(monkeypatch) -> None:
    gpu = FakeDecoder(device="cuda")  # only the device's type is read; nothing is put on a GPU
    real_timed = engine_module.timed
    monkeypatch.setattr(engine_module, "timed", lambda device: real_timed("cpu"))  # no GPU here to sync
    gpu.fail_with = torch.OutOfMemoryError("CUDA out of memory")
    cpu = FakeDecoder()
    with InferenceEngine(pipeline=gpu, cpu_fallback=lambda: cpu) as eng:
        eng.set_segmentation(a_map())
        events = [e for e in settle(eng) if e.kind != "style"]
        assert kinds(events) == ["info", "head"]
        assert "CPU" in events[0].message
        assert len(cpu.decoded) == 1 and eng.stats.device == "cpu"
        assert eng.last_error is None


def test_out_of_memory_on_the_cpu_is_an_error(engine: InferenceEngine, fake: FakeDecoder) -> None:
    fake.fail_with = torch.OutOfMemoryError("out of memory")
    engine.set_segmentation(a_map())
    events = [e for e in settle(engine) if e.kind != "style"]
    assert kinds(events) == ["error"] and "out of memory" in events[0].message


def test_missing_checkpoints_fail_at_construction(tmp_path) -> None:
    with pytest.raises(PercheadError, match="does not exist"):
        InferenceEngine(tmp_path / "nowhere", device="cpu")
    with pytest.raises(PercheadError, match="missing"):
        InferenceEngine(tmp_path, device="cpu")


# ---- rendering ------------------------------------------------------------------------------------
@pytest.fixture
def counted_renders(monkeypatch) -> list[int]:
    """Counts calls to the real renderer made by the engine."""
    calls: list[int] = []
    real = engine_module.render_gaussians

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "render_gaussians", counting)
    return calls


def test_no_head_renders_the_background(engine: InferenceEngine) -> None:
    frame = engine.render(camera(), background=(0.2, 0.4, 0.6))
    assert frame.error is None and frame.head_version == 0
    assert frame.image.shape == (VIEW, VIEW, 3) and frame.image.dtype == np.float32
    np.testing.assert_allclose(frame.image, np.broadcast_to([0.2, 0.4, 0.6], (VIEW, VIEW, 3)), atol=1e-6)


def test_render_is_cached_until_camera_or_head_change(engine: InferenceEngine, counted_renders: list[int]) -> None:
    engine.set_segmentation(a_map())
    settle(engine)
    first = engine.render(camera())
    assert first.error is None and first.head_version == 1
    assert first.image.max() > 0.1, "the head is visible"
    again = engine.render(camera())  # an equal camera built anew
    assert again is first and len(counted_renders) == 1
    turned = engine.render(camera(yaw=30.0))
    assert turned is not first and len(counted_renders) == 2
    engine.render(camera(yaw=30.0), background=(1.0, 1.0, 1.0))
    assert len(counted_renders) == 3
    engine.set_style_text("long red hair")
    settle(engine)
    new_head = engine.render(camera(yaw=30.0), background=(1.0, 1.0, 1.0))
    assert new_head.head_version == 2 and len(counted_renders) == 4


def test_view_modes(engine: InferenceEngine) -> None:
    engine.set_segmentation(a_map(value=9))  # the fake head takes the map's class: hair
    settle(engine)
    bg = (0.0, 0.0, 1.0)
    classes = engine.render(camera(), "classes", bg).image
    hair = palette().colors[9] / 255.0
    centre = classes[VIEW // 2, VIEW // 2]
    np.testing.assert_allclose(centre, hair, atol=1e-6)
    np.testing.assert_allclose(classes[0, 0], bg, atol=1e-6)
    depth = engine.render(camera(), "depth", bg).image
    assert depth[VIEW // 2, VIEW // 2].min() > 0.9, "the nearest point is bright"
    np.testing.assert_allclose(depth[0, 0], bg, atol=1e-3)
    on_black = engine.render(camera(), "depth").image
    np.testing.assert_allclose(on_black[..., 0], on_black[..., 2], atol=1e-6, err_msg="depth is grey")
    near, edge = on_black[VIEW // 2, VIEW // 2, 0], on_black[VIEW // 2, VIEW // 2 + 4, 0]
    assert near > edge > 0.0, "the ball's centre faces the camera: nearer, brighter"


def test_a_failing_render_keeps_the_previous_image(engine: InferenceEngine, monkeypatch) -> None:
    engine.set_segmentation(a_map())
    settle(engine)
    good = engine.render(camera())

    def broken(*args, **kwargs):
        raise RuntimeError("rasteriser fell over")

    monkeypatch.setattr(engine_module, "render_gaussians", broken)
    failed = engine.render(camera(yaw=45.0))
    assert failed.error is not None and "rasteriser fell over" in failed.error
    assert failed.image is good.image
    other_size = engine.render(camera(size=VIEW // 2), background=(0.5, 0.5, 0.5))
    assert other_size.error is not None and other_size.image.shape == (VIEW // 2, VIEW // 2, 3)
    np.testing.assert_allclose(other_size.image, 0.5)
    assert isinstance(engine.render(camera(), mode="xray"), Frame)  # an unknown mode is an error too
    assert "xray" in engine.render(camera(), mode="xray").error


# ---- photo reconstruction ------------------------------------------------------------------------
def test_reconstruct_offers_its_class_map_and_holds_it(engine: InferenceEngine, fake: FakeDecoder) -> None:
    photo = np.ones((20, 20, 4), np.float32)
    engine.reconstruct(photo)
    events = settle(engine)
    assert kinds(events) == ["head", "map"]
    labels = events[1].labels
    assert labels.shape == (SIZE, SIZE) and labels.dtype == np.uint8
    assert (labels == palette().id_of("skin")).any() and (labels == 0).any()
    assert fake.reconstructed == 1 and engine.head_version == 1
    engine.set_segmentation(labels)  # the UI makes it the canvas: no edit decode
    settle(engine)
    assert fake.decoded == []
    engine.set_style_text("long red hair")  # a style change decodes the photo's map
    settle(engine)
    assert len(fake.decoded) == 1
    np.testing.assert_array_equal(fake.decoded[0], labels)


def test_reconstruct_with_a_parsed_map_offers_that_map(engine: InferenceEngine, fake: FakeDecoder) -> None:
    parsed = a_map(value=palette().id_of("hair"), row=2)
    engine.reconstruct(np.ones((20, 20, 4), np.float32), labels=parsed)
    events = settle(engine)
    assert kinds(events) == ["head", "map"]
    np.testing.assert_array_equal(events[1].labels, parsed)
    engine.set_segmentation(parsed)  # the canvas takes it: the reconstructed head stays
    settle(engine)
    assert fake.decoded == [] and fake.reconstructed == 1
    with pytest.raises(PercheadError, match="map to paint on"):
        engine.reconstruct(np.ones((20, 20, 4), np.float32), labels=np.zeros((SIZE + 1, SIZE), np.uint8))


# ---- export ---------------------------------------------------------------------------------------
def test_export_ply_round_trip(engine: InferenceEngine, tmp_path) -> None:
    with pytest.raises(PercheadError, match="no head"):
        engine.export_head(tmp_path / "none.ply")
    engine.set_segmentation(a_map(value=9))
    settle(engine)
    out, dropped = engine.export_head(tmp_path / "head.ply")
    back = read_ply(out)
    assert dropped is None
    head = engine.head
    torch.testing.assert_close(back.means, head.means)
    torch.testing.assert_close(back.sh, head.sh)
    assert torch.equal(back.labels, head.labels)
    assert engine.stats.gaussians == len(head)


# ---- the shipped models ---------------------------------------------------------------------------
def test_real_checkpoints_decode_a_gallery_map() -> None:
    from perchead_gui.gallery import load_gallery

    sample = load_gallery()[0]
    with InferenceEngine(device="cpu") as eng:
        assert eng.image_size == sample.labels.shape[0]
        eng.set_style_text(sample.prompt)
        eng.set_segmentation(sample.labels)
        assert eng.wait_idle(120.0)
        events = eng.poll()
        assert eng.last_error is None, eng.last_error
        assert "head" in kinds(events)
        assert len(eng.head) > 5000
        reading = [e.message for e in events if e.kind == "style"]
        assert reading and reading[-1].startswith("reads as: ") and "hair" in reading[-1]
        frame = eng.render(canonical_view().camera(96))
        stats = eng.stats
    assert frame.error is None
    covered = frame.image.max(-1) > 0.05
    assert 0.1 < covered.mean() < 0.9, "a head fills part of the view"
    assert stats.device == "cpu" and stats.decode_ms > 0 and stats.render_ms > 0 and stats.gaussians == len(eng.head)


@pytest.mark.gpu
def test_gpu_colour_frames_take_the_prepared_path_and_match_the_general_render(monkeypatch) -> None:
    """On a GPU, rgb frames come from the prepared head (activated once per head version)."""
    import models.render.prepared as prepared_module
    from models.device import resolve_device
    from models.render import render

    prepared: list[int] = []
    real_prepare = prepared_module.prepare_head
    monkeypatch.setattr("perchead_gui.engine.prepare_head", lambda g: prepared.append(1) or real_prepare(g))
    with InferenceEngine(pipeline=FakeDecoder(device=str(resolve_device("cuda")))) as eng:
        eng.set_segmentation(a_map(value=9))
        settle(eng)
        frames = [eng.render(camera(yaw), "rgb", (0.1, 0.2, 0.3)).image for yaw in (0.0, 30.0, 60.0)]
        assert len(prepared) == 1, "one preparation per head, not per frame"
        head = eng.head
        ref = render(head, camera(60.0), background=(0.1, 0.2, 0.3), classes=False).rgb.clamp(0, 1).cpu().numpy()
        np.testing.assert_allclose(frames[-1], ref, atol=2e-3)
        eng.set_segmentation(a_map(value=4))
        settle(eng)
        eng.render(camera(0.0))
        assert len(prepared) == 2, "a new head is prepared again"
