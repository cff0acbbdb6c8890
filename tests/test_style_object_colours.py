"""Object colours (tenth session): names of things read as colours only where a prompt uses them as one."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from models.style import lexicon as L
from models.style.augment import TextPathCaptions
from models.style.hair_words import build_hair_lexicon
from models.synthetic.attributes import sample_attributes


@pytest.fixture(scope="module")
def lexicon() -> L.ColourLexicon:
    return L.build_colour_lexicon()


def _read(text: str, lex: L.ColourLexicon) -> list[tuple[str, str]]:
    return [(m.words, m.slot) for m in L.find_colours(text, lex)]


def test_table_is_sourced_well_formed_and_apart_from_the_dictionary(lexicon: L.ColourLexicon) -> None:
    head = L.OBJECT_COLOURS_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert "color-name-list" in head and "MIT" in head and "WordNet" in head and "build_object_colours.py" in head
    table = L.load_object_colours()
    assert 3000 < len(table) < 20000
    assert all(L.normalise_name(n) == n and 1 <= len(n.split()) <= 3 for n in table)
    assert lexicon.objects and set(lexicon.objects) <= set(table)
    assert not set(lexicon.objects) & (set(lexicon.colours) | set(lexicon.aliases))
    assert all(lexicon.categories.get(n) for n in lexicon.objects)  # each has a hue family, like a dictionary name
    part_words = set(L._NOUN_SLOT) | set(L._MORE_NOUN_SLOT)
    hair_words = {w for term in build_hair_lexicon().terms for w in term.split()}
    assert not {w for n in table for w in n.split()} & (part_words | hair_words)  # "wavy" never becomes a colour


@pytest.mark.parametrize(("text", "slot"), [
    ("honeycomb coloured hair", "hair"), ("a woman with honeycomb hair", "hair"), ("honeycomb-haired girl", "hair"),
    ("eyes like wet peat", "eyes"), ("eyes like pebbles on a beach", "eyes"), ("hair the colour of honeycomb", "hair"),
    ("her hair is honeycomb", "hair"), ("hair like a crow's feather", "hair"), ("her hair shines like honeycomb", "hair"),
])
def test_a_thing_in_a_colour_position_is_read_as_a_colour(lexicon: L.ColourLexicon, text: str, slot: str) -> None:
    read = _read(text, lexicon)
    assert len(read) == 1 and read[0][1] == slot, read
    assert read[0][0] not in lexicon.colours and read[0][0] not in lexicon.aliases  # the object table read it


@pytest.mark.parametrize("text", [
    "a glass of honeycomb", "honeycomb on the table", "hair like a rock star", "her hair is wet from the rain",
    "crazy hair", "doe eyes", "snake eyes", "a woman with long wavy hair and a kind smile", "eyes like a hawk",
    "his hair is thinning", "hair like a bird's nest", "eyes like saucers", "a man with messy hair",
])
def test_a_thing_elsewhere_is_not_a_colour(lexicon: L.ColourLexicon, text: str) -> None:
    assert not [m for m in L.find_colours(text, lexicon) if m.words not in lexicon.colours
                and m.words not in lexicon.aliases], _read(text, lexicon)


def test_training_prompts_read_as_without_the_table(lexicon: L.ColourLexicon) -> None:
    """The table only adds readings: every prompt training draws (template and augmented wordings) reads the same."""
    without = replace(lexicon, objects={})
    captions = TextPathCaptions(lexicon)
    prompts = [captions.prompt(sample_attributes(seed), variant)[0] for seed in range(150) for variant in range(4)]
    assert [_read(p, lexicon) for p in prompts] == [_read(p, without) for p in prompts]


def test_objects_round_trip_and_older_lexicons_have_none(lexicon: L.ColourLexicon) -> None:
    again = L.ColourLexicon.from_json(lexicon.to_json())
    assert again.objects == lexicon.objects and _read("eyes like wet peat", again) == _read("eyes like wet peat", lexicon)
    old = json.loads(lexicon.to_json())
    del old["objects"]
    assert not L.ColourLexicon.from_json(json.dumps(old)).objects


def test_shipped_checkpoint_carries_the_table() -> None:
    from models.style.checkpoint import load_style_model

    model, _ = load_style_model("checkpoints/style.safetensors")
    assert model.lexicon is not None and model.lexicon.objects == L.build_colour_lexicon().objects


def _toy_sources(tmp: Path) -> tuple[Path, Path]:
    """A four-name colour list and a WordNet with a food noun, a plant noun, an adjective and an act noun."""
    csv = tmp / "colornames.csv"
    csv.write_text("name,hex,good name\nMarzipan Cake,#eecc99,\nLuxurious,#112233,\nTurnip,#aa66cc,x\n"
                   "Swagger,#334455,\nWavy Turnip,#aa66cc,\n", encoding="utf-8")
    wn = tmp / "dict"
    wn.mkdir()
    header = "  1 This software and database is being provided\n"
    (wn / "data.noun").write_text(header + (
        "00000001 13 n 01 cake 0 000 | baked goods\n"
        "00000002 20 n 01 turnip 0 000 | a root vegetable\n"
        "00000003 04 n 01 swagger 0 000 | an arrogant gait\n"
        "04963771 07 n 01 color 0 000 | the visual property\n"), encoding="utf-8")
    (wn / "data.adj").write_text(header + "00000010 00 a 01 luxurious 0 000 | rich and superior in quality\n",
                                 encoding="utf-8")
    return csv, wn


def test_builder_keeps_named_things_only(tmp_path: Path) -> None:
    csv, wn = _toy_sources(tmp_path)
    out = tmp_path / "objects.tsv"
    r = subprocess.run([sys.executable, "scripts/build_object_colours.py", "--colour-names", str(csv), "--wordnet",
                        str(wn), "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = dict(line.split("\t") for line in out.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    # a food and a plant are kept; an adjective-only word, an act, and a name holding a hair word are not
    assert rows == {"marzipan cake": "#eecc99", "turnip": "#aa66cc"}
    assert re.search(r"Object colours: 2 names", out.read_text(encoding="utf-8"))
