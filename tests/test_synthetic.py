"""The procedural head engine: determinism, coverage, class maps, captions, benchmark split, CLI."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from models.cameras import canonical_view
from models.errors import PercheadError
from models.palette import palette
from models.render import render
from models.synthetic import (BENCHMARK_SEEDS, BENCHMARK_YAWS, EYE_COLORS, FACIAL_HAIR, GARMENT_COLORS, GLASSES,
                              HAIR_COLORS, HAIR_STYLES, HATS, NECKLINES, REFERENCE_COLORS, SKIN_TONES, EngineConfig,
                              HeadSampler, build_heads, caption, is_benchmark_seed, make_head, sample_attributes,
                              training_seed)
from models.synthetic import head as H
from models.synthetic.attributes import EXPRESSION_WORDS, FRECKLE_WORDS, HAIR_COLOR_WORDS, HAIR_STYLE_WORDS
from models.synthetic.sampler import BENCHMARK_SEED_BASE, BENCHMARK_SEED_COUNT, MAX_SEED

SMALL = EngineConfig(gaussians=12_000)  # enough for class maps at 96 px, fast on 2 cores
COVERAGE_SEEDS = range(3000)


@pytest.fixture(scope="module")
def many_attrs():
    return [sample_attributes(s) for s in COVERAGE_SEEDS]


def _first(attrs, pred):
    return next(a for a in attrs if pred(a))


def test_class_ids_match_the_palette():
    p = palette()
    for name, cid in [("skin", H.SKIN), ("nose", H.NOSE), ("eyes", H.EYES), ("eyebrows", H.BROWS), ("ears", H.EARS),
                      ("mouth", H.MOUTH), ("upper_lip", H.UPPER_LIP), ("lower_lip", H.LOWER_LIP), ("hair", H.HAIR),
                      ("facial_hair", H.FACIAL_HAIR), ("neck", H.NECK), ("clothes", H.CLOTHES),
                      ("eyeglasses", H.GLASSES), ("hat", H.HAT)]:
        assert p.id_of(name) == cid


def test_same_seed_same_head_and_different_seeds_differ():
    a, attrs_a = make_head(123, config=SMALL)
    b, attrs_b = make_head(123, config=SMALL)
    assert attrs_a == attrs_b
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh", "labels"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    c, _ = make_head(124, config=SMALL)
    assert len(c) != len(a) or not torch.equal(c.means, a.means)


def test_batched_build_equals_single_builds():
    attrs = [sample_attributes(s) for s in (5, 6, 7)]
    cfg = EngineConfig(gaussians=6000)
    batch = build_heads(attrs, "cpu", cfg)
    for a, g in zip(attrs, batch):
        single = build_heads([a], "cpu", cfg)[0]
        torch.testing.assert_close(single.means, g.means, rtol=0, atol=1e-6)
        assert torch.equal(single.labels, g.labels)


def test_heads_are_valid_gaussians_of_the_configured_size():
    g, _ = make_head(1)
    g.validate("engine head")
    assert 15_000 < len(g) <= EngineConfig().gaussians
    assert g.means.abs().max() < 0.6  # nothing flies off
    scales = g.activated_scales()
    assert scales.max() < 0.03 and scales.min() > 0


def test_every_attribute_value_is_reachable(many_attrs):
    seen = {k: {getattr(a, k) for a in many_attrs} for k in
            ("hair_style", "hair_color", "eye_color", "skin_tone", "facial_hair", "glasses", "hat", "neckline",
             "clothes_color", "presentation", "age", "mouth_open")}
    assert seen["hair_style"] == set(HAIR_STYLES)
    assert seen["hair_color"] == set(HAIR_COLORS)
    assert seen["eye_color"] == set(EYE_COLORS)
    assert seen["skin_tone"] == set(SKIN_TONES)
    assert seen["facial_hair"] == set(FACIAL_HAIR)
    assert seen["glasses"] == set(GLASSES)
    assert seen["hat"] == set(HATS)
    assert seen["neckline"] == set(NECKLINES)
    assert seen["clothes_color"] == set(GARMENT_COLORS)
    assert seen["mouth_open"] == {True, False}
    combos = {(a.hair_style, a.hair_color) for a in many_attrs}
    assert len(combos) > 0.8 * len(HAIR_STYLES) * len(HAIR_COLORS)


def test_reference_colours_cover_every_vocabulary_value():
    assert set(REFERENCE_COLORS["hair"]) == set(HAIR_COLORS)
    assert set(REFERENCE_COLORS["eyes"]) == set(EYE_COLORS)
    assert set(REFERENCE_COLORS["skin"]) == set(SKIN_TONES)
    assert set(REFERENCE_COLORS["garment"]) == set(GARMENT_COLORS)
    a = sample_attributes(3)
    for part in ("hair", "eyebrows", "facial_hair", "eyes", "skin", "clothes", "hat", "frame", "lips"):
        assert len(a.color_of(part)) == 3


def test_every_class_is_reachable(many_attrs):
    """A head with every accessory (and ears not under long hair) carries all 14 classes."""
    full = _first(many_attrs, lambda a: a.hair_style in ("short", "side_part", "afro", "ponytail", "buzz")
                  and a.facial_hair == "full_beard"
                  and a.glasses in ("round", "rectangular") and a.hat != "none" and a.mouth_open)
    g = build_heads([full], "cpu", SMALL)[0]
    assert set(g.labels.unique().tolist()) == set(range(1, 15))


@pytest.mark.parametrize("style", HAIR_STYLES)
def test_every_hairstyle_builds_with_hair_where_expected(many_attrs, style):
    a = _first(many_attrs, lambda a: a.hair_style == style and a.hat == "none")
    g = build_heads([a], "cpu", EngineConfig(gaussians=6000))[0]
    hair = int((g.labels == H.HAIR).sum())
    if style == "bald":
        assert hair == 0
    else:
        assert hair > 300
        if style in ("long_straight", "long_wavy"):
            assert g.means[g.labels == H.HAIR][:, 1].min() < -0.15  # falls past the chin
        if style == "afro":
            top = g.means[g.labels == H.HAIR][:, 1].max()
            assert top > 0.15  # voluminous


def test_canonical_class_map_shows_the_face(many_attrs):
    picks = [_first(many_attrs, lambda a, s=s: a.hair_style == s and a.glasses != "sunglasses")
             for s in ("bald", "short", "long_wavy", "afro", "bun")]
    cam = canonical_view().camera(96)
    for a in picks:
        g = build_heads([a], "cpu", SMALL)[0]
        present = set(render(g, cam, backend="cpu").class_map.unique().tolist())
        needed = {H.SKIN, H.EYES, H.NOSE, H.UPPER_LIP, H.LOWER_LIP} | (set() if a.hair_style == "bald" else {H.HAIR})
        assert needed <= present, (a.seed, a.hair_style, needed - present)


def test_an_open_mouth_shows_the_inside_of_the_mouth_and_a_closed_one_does_not():
    """The class map shows the inner mouth exactly where the expression opens the jaw (a painted open mouth has a
    head behind it). Measured on training stream 7 at 256 px: open mouths 64-133 px of it, every other expression 0."""
    sampler = HeadSampler("train", stream=9, device="cpu")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        batch = sampler.make_batch(32, views=1, size=256)
    finally:
        torch.set_num_threads(before)
    shown = (batch.class_map[:, 0] == H.MOUTH).flatten(1).sum(1).tolist()
    opened = [a.expression == "open_mouth" for a in batch.attributes]
    assert any(opened) and not all(opened)
    for is_open, px, a in zip(opened, shown, batch.attributes):
        if is_open:
            assert px >= 30, (a.seed, a.expression, px)
        else:
            assert px <= 3, (a.seed, a.expression, px)


def test_captions_say_expressions_and_freckles(many_attrs):
    import random

    for name, words in (*EXPRESSION_WORDS.items(), ("freckles", FRECKLE_WORDS["freckles"])):
        heads = [a for a in many_attrs if (a.freckles > 0 if name == "freckles" else a.expression == name)][:5]
        assert heads, name
        for a in heads:  # said in most paraphrases (70 %), never as another expression's words
            texts = [caption(a, random.Random(k)).lower() for k in range(20)]
            assert sum(any(w in t for w in words) for t in texts) >= 8, (name, texts[:3])
    neutral = [a for a in many_attrs if a.expression == "neutral" and a.freckles == 0][:20]
    said = {w for ws in EXPRESSION_WORDS.values() for w in ws} | set(FRECKLE_WORDS["freckles"])
    assert not any(w in caption(a).lower() for a in neutral for w in said)


def test_captions_name_hair_colour_and_style(many_attrs):
    import random

    for a in many_attrs[:400]:
        for text in (caption(a), caption(a, random.Random(a.seed + 1))):
            low = text.lower()
            if a.hair_style == "bald":
                assert any(w in low for w in ("bald", "shaved", "hairless")), text
                continue
            assert any(w in low for w in HAIR_COLOR_WORDS[a.hair_color]), text
            assert any(w.replace(" of", "") in low for w in HAIR_STYLE_WORDS[a.hair_style]), text
    assert len({caption(a) for a in many_attrs[:400]}) == 400  # no two heads read the same


def test_fixed_caption_is_stable():
    a = sample_attributes(77)
    assert caption(a) == caption(sample_attributes(77))


def test_training_beards_may_take_a_colour_of_their_own_and_benchmark_beards_never_do(monkeypatch):
    """A beard's colour follows the hair's (or is grey on an older head, dark brown under dyed hair), except for a
    share of training heads, whose beard takes a natural colour of its own (a white beard under black hair), drawn
    without moving any other draw of the head; the benchmark's heads keep the colours they were measured with."""
    from models.synthetic.attributes import DYED_HAIR_COLORS, OWN_BEARD_COLOUR_SHARE, sample_attributes
    from models.synthetic.sampler import training_seed

    def follows_hair(a) -> bool:
        return a.facial_hair_color in (a.hair_color, "grey", "dark_brown")

    bench = [a for a in map(sample_attributes, BENCHMARK_SEEDS) if a.facial_hair != "none"]
    assert len(bench) > 100 and all(follows_hair(a) for a in bench)
    train = [a for a in (sample_attributes(training_seed(3, i)) for i in range(3000)) if a.facial_hair != "none"]
    own = [a for a in train if not follows_hair(a)]
    assert 0.1 < len(own) / len(train) < OWN_BEARD_COLOUR_SHARE
    assert all(a.facial_hair_color not in DYED_HAIR_COLORS for a in own)
    assert any(a.hair_color == "black" and a.facial_hair_color in ("white", "platinum", "blonde") for a in own)
    from dataclasses import replace
    from models.synthetic import attributes
    monkeypatch.setattr(attributes, "OWN_BEARD_COLOUR_SHARE", 0.0)  # the rule off: every other draw is the same
    for a in own[:50]:
        b = sample_attributes(a.seed)
        assert follows_hair(b) and replace(a, facial_hair_color=b.facial_hair_color) == b


def test_a_recipe_may_shape_a_share_of_training_faces_without_regard_to_the_skin_tone():
    """``with_own_shape`` (a training recipe's ``data.own_shapes``): for that share of seeds the face's ancestry mix is
    drawn without regard to the skin tone, nothing else of the head moves, the benchmark's heads never change, and
    without the option (assets, tests, measurement streams) every head is as ``sample_attributes`` draws it."""
    from dataclasses import replace

    import numpy as np

    from models.synthetic.attributes import ANCESTRIES, SKIN_TONES, sample_attributes, with_own_shape
    from models.synthetic.sampler import training_seed

    leaning = [sample_attributes(training_seed(3, i)) for i in range(2000)]
    assert [with_own_shape(a, 0.0) for a in leaning[:50]] == leaning[:50]
    bench = [sample_attributes(s) for s in BENCHMARK_SEEDS[:300]]
    assert [with_own_shape(a, 1.0) for a in bench] == bench
    now = [with_own_shape(a, 0.35) for a in leaning]
    moved = [(a, b) for a, b in zip(now, leaning) if a != b]
    assert abs(len(moved) / len(leaning) - 0.35) < 0.05
    assert [with_own_shape(a, 0.35) for a in leaning[:50]] == now[:50]  # the same seed, the same shape
    for a, b in moved:  # only the ancestry mix differs, and it is a mix
        assert replace(a, phenotype={**a.phenotype, **{k: b.phenotype[k] for k in ANCESTRIES}}) == b
        assert abs(sum(a.phenotype[k] for k in ANCESTRIES) - 1) < 1e-9 and min(a.phenotype[k] for k in ANCESTRIES) >= 0

    def tone_shape_corr(heads) -> float:
        tone = np.array([SKIN_TONES.index(h.skin_tone) for h in heads], dtype=float)
        return float(np.corrcoef(tone, [h.phenotype["african"] for h in heads])[0, 1])

    own = [a for a, _ in moved]
    assert tone_shape_corr(leaning) > 0.5 and abs(tone_shape_corr(own)) < 0.1  # the own shapes say nothing of the tone
    # flat: each ancestry's share averages a third (the lean's means depend on the tone)
    assert all(abs(np.mean([a.phenotype[k] for a in own]) - 1 / 3) < 0.05 for k in ANCESTRIES)


def test_the_sampler_shapes_own_faces_only_when_a_recipe_asks(monkeypatch):
    """HeadSampler(own_shapes=s) passes each training head through with_own_shape (captions unchanged: they never name
    the ancestry); the default sampler and the benchmark split leave every head as drawn."""
    import models.synthetic.sampler as S

    built = []
    monkeypatch.setattr(S, "build_heads", lambda attrs, device, config: built.append(attrs) or [None] * len(attrs))
    monkeypatch.setattr(S, "render_batch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stop")))
    seeds = [S.training_seed(3, i) for i in range(40)]
    for kw in ({}, {"own_shapes": 0.35}):
        with pytest.raises(RuntimeError, match="stop"):
            S.HeadSampler("train", device="cpu", **kw).make_batch(seeds, views=1, size=16)
    plain, own = built
    assert plain == [S.sample_attributes(s) for s in seeds]
    assert own == [S.with_own_shape(a, 0.35) for a in plain] and own != plain
    assert S.HeadSampler("bench", device="cpu", own_shapes=0.35).own_shapes == 0.0
    with pytest.raises(PercheadError, match="own_shapes"):
        S.HeadSampler("train", device="cpu", own_shapes=1.5)


@settings(max_examples=300, deadline=None)
@given(stream=st.integers(0, 2 ** 63), index=st.integers(0, 2 ** 40))
def test_training_seeds_never_hit_the_benchmark(stream, index):
    s = training_seed(stream, index)
    assert 0 <= s <= MAX_SEED
    assert not is_benchmark_seed(s)


def test_training_seed_mapping_skips_the_benchmark_block(monkeypatch):
    import models.synthetic.sampler as S

    # force the hash to land on each edge of the block: the map must step over it
    for h in (BENCHMARK_SEED_BASE - 1, BENCHMARK_SEED_BASE, BENCHMARK_SEED_BASE + 5, MAX_SEED - BENCHMARK_SEED_COUNT):
        monkeypatch.setattr(S, "_splitmix64", lambda x, h=h: h)
        assert not is_benchmark_seed(S.training_seed(0, 0))
    monkeypatch.undo()
    sampler = HeadSampler("train", stream=3, device="cpu")
    assert not any(is_benchmark_seed(s) for s in sampler.next_seeds(20_000))
    assert list(HeadSampler("bench", device="cpu").next_seeds(3)) == list(BENCHMARK_SEEDS[:3])


def test_make_batch_shapes_views_and_determinism():
    sampler = HeadSampler("train", stream=1, device="cpu", config=EngineConfig(gaussians=4000))
    b = sampler.make_batch(2, views=3, size=32)
    assert b.rgb.shape == (2, 3, 32, 32, 3) and b.alpha.shape == (2, 3, 32, 32)
    assert b.class_map.shape == (2, 3, 32, 32) and b.class_map.dtype == torch.int64
    assert b.depth.shape == (2, 3, 32, 32) and b.world_to_cam.shape == (2, 3, 4, 4) and b.K.shape == (2, 3, 3, 3)
    assert torch.equal(b.yaw_pitch[:, 0], torch.zeros(2, 2))
    assert b.yaw_pitch[..., 1].abs().max() <= 30 and b.yaw_pitch[..., 0].abs().max() <= 180
    assert len(b.captions) == 2 and len(b.attributes) == 2
    canon = canonical_view().camera(32)
    torch.testing.assert_close(b.world_to_cam[0, 0], canon.world_to_cam)
    again = HeadSampler("train", stream=1, device="cpu", config=EngineConfig(gaussians=4000)).make_batch(2, views=3, size=32)
    assert again.seeds == b.seeds and torch.equal(again.rgb, b.rgb) and torch.equal(again.yaw_pitch, b.yaw_pitch)
    bench = HeadSampler("bench", device="cpu", config=EngineConfig(gaussians=3000)).make_batch(1, size=24)
    assert bench.yaw_pitch[0, :, 0].tolist() == list(BENCHMARK_YAWS)


def test_random_background_is_composited_under_alpha():
    sampler = HeadSampler("train", device="cpu", background="random", config=EngineConfig(gaussians=4000))
    b = sampler.make_batch([11], views=2, size=32)
    empty = b.alpha[0, 0] < 1e-6
    torch.testing.assert_close(b.rgb[0, 0][empty], b.background[0, 0].expand(int(empty.sum()), 3))


def test_synth_command_writes_everything(tmp_path):
    from models.io.ply import read_ply
    from perchead_gui.commands.synth import register, run

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out = tmp_path / "head"
    args = parser.parse_args(["synth", "--seed", "42", "-o", str(out), "--size", "48", "--device", "cpu",
                              "--gaussians", "6000"])
    assert args.func(args) == 0
    names = ["front", "yaw_p45", "yaw_m45", "yaw_p90", "yaw_m90", "back"]
    for n in names:
        assert Image.open(out / f"view_{n}.png").size == (48, 48)
        cls = np.asarray(Image.open(out / f"classes_{n}.png").convert("RGB"))
        assert set(map(tuple, cls.reshape(-1, 3))) <= set(map(tuple, palette().colors))
    assert Image.open(out / "contact_sheet.png").size == (48 * 6, 96)
    text = (out / "caption.txt").read_text().strip()
    attrs = json.loads((out / "attributes.json").read_text())
    assert attrs["seed"] == 42 and text == caption(sample_attributes(42))
    g = read_ply(out / "gt.ply")
    assert len(g) == attrs["gaussians"] and set(g.labels.unique().tolist()) <= set(range(15))
    with pytest.raises(PercheadError):
        run(argparse.Namespace(seed=-1, output=tmp_path / "x", size=48, device="cpu"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PercheadError):
        run(argparse.Namespace(seed=1, output=blocker, size=48, device="cpu"))
    with pytest.raises(PercheadError):
        run(argparse.Namespace(seed=1, output=blocker / "sub", size=48, device="cpu"))


def test_a_cropped_camera_sees_a_window_of_the_zoomed_view() -> None:
    from models.cameras import project_points

    cam = canonical_view().camera(64)
    pts = torch.tensor([[0.0, 1.6, 0.05], [0.04, 1.55, 0.0], [-0.05, 1.7, 0.02]])
    window = cam.cropped(2.0, 17, 40)
    torch.testing.assert_close(project_points(pts, window),
                               project_points(pts, cam.resized(128, 128)) - torch.tensor([17.0, 40.0]))
    assert (window.width, window.height) == (64, 64)


def test_zoomed_views_are_windows_of_a_larger_render_and_the_input_view_is_not() -> None:
    """data.zoom: each view but the canonical one (the model's input) renders a 32 px window of that view at
    64 px, pixel for pixel the same as cutting it out of the 64 px render."""
    from models.cameras import Camera
    from models.render import render_views
    from models.synthetic.head import EngineConfig
    from models.synthetic.sampler import HeadSampler

    def sampler():
        return HeadSampler("train", stream=5, device="cpu", config=EngineConfig(gaussians=3000))

    plain = sampler().make_batch(1, views=3, size=32)
    zoomed = sampler().make_batch(1, views=3, size=32, zoom=2.0, zoom_prob=1.0)
    torch.testing.assert_close(zoomed.K[0, 0], plain.K[0, 0])  # the input view is left whole
    torch.testing.assert_close(zoomed.rgb[0, 0], plain.rgb[0, 0])
    for v in (1, 2):
        k = zoomed.K[0, v]
        assert float(k[0, 0]) == pytest.approx(2 * float(plain.K[0, 0, 0, 0]))
        left, top = 32 - float(k[0, 2]), 32 - float(k[1, 2])  # the principal point is 32 px into the 64 px view
        assert left == int(left) and top == int(top) and 0 <= left <= 32 and 0 <= top <= 32
        k64 = k.clone()  # the whole view at 64 px: the window's principal point moved back
        k64[0, 2] += left
        k64[1, 2] += top
        big = render_views(zoomed.gaussians[0], [Camera(zoomed.world_to_cam[0, v], k64, 64, 64)], classes=False)
        window = big.rgb[0, int(top):int(top) + 32, int(left):int(left) + 32]
        # the same splats on the same pixels; where a splat's footprint box is cut by a different image edge the
        # rasteriser's truncation differs a little (measured: max 0.0038, a few % of pixels above 0.001)
        diff = (zoomed.rgb[0, v] - window).abs()
        assert float(diff.max()) < 5e-3 and float(diff.mean()) < 2e-4, (float(diff.max()), float(diff.mean()))
    with pytest.raises(PercheadError, match="zoom"):
        sampler().make_batch(1, views=2, size=32, zoom=0.5, zoom_prob=1.0)
