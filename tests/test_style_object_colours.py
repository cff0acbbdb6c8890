"""Object colours (tenth session): names of things read as colours only where a prompt uses them as one."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
import pytest

from models.assets import ASSETS_DIR
from models.style import lexicon as L
from models.style.train.augment import TextPathCaptions
from models.style.train.colour_dictionary import OBJECT_COLOURS, build_colour_lexicon, load_object_colours
from models.style.train.hair_dictionary import build_hair_lexicon
from models.synthetic.attributes import sample_attributes


@pytest.fixture(scope="module")
def lexicon() -> L.ColourLexicon:
    return build_colour_lexicon()


def _read(text: str, lex: L.ColourLexicon) -> list[tuple[str, str]]:
    return [(m.words, m.slot) for m in L.find_colours(text, lex)]


def test_table_is_sourced_well_formed_and_apart_from_the_dictionary(lexicon: L.ColourLexicon) -> None:
    head = (ASSETS_DIR / OBJECT_COLOURS).read_text(encoding="utf-8").splitlines()[0]
    assert "color-name-list" in head and "MIT" in head and "WordNet" in head and "build_object_colours.py" in head
    table = load_object_colours()
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
    ("eyes: peat", "eyes"), ("hair like honeycomb under a hat", "hair"), ("eyes like peat, a red cap", "eyes"),
])
def test_a_thing_in_a_colour_position_is_read_as_a_colour(lexicon: L.ColourLexicon, text: str, slot: str) -> None:
    ms = [m for m in L.find_colours(text, lexicon) if m.slot in ("hair", "eyes")]
    assert len(ms) == 1 and ms[0].slot == slot, _read(text, lexicon)  # the simile's own noun, not the next one
    assert lexicon.object_colour(ms[0].words.split()) and ms[0].category  # the object table read it (plurals too)


def test_a_possessive_in_a_simile_is_read_as_its_owner(lexicon: L.ColourLexicon) -> None:
    """"like a raven's wing" is the raven's colour (a dictionary name), with the raven's colour family."""
    ms = L.find_colours("hair like a raven's wing", lexicon)
    assert [(m.words, m.slot, m.category) for m in ms] == [("raven", "hair", lexicon.category(["raven"]))]
    assert ms[0].category


# Hand-written phrases where a thing is not a colour (tenth session; the review added the names and hairstyles).
_NOT_COLOURS = (
    "a glass of honeycomb", "honeycomb on the table", "hair like a rock star", "her hair is wet from the rain",
    "crazy hair", "doe eyes", "snake eyes", "a woman with long wavy hair and a kind smile", "eyes like a hawk",
    "his hair is thinning", "hair like a bird's nest", "eyes like saucers", "a man with messy hair",
    "eyes like stars", "eyes like daggers", "hair like a lion's mane", "hair like silk", "a beard like a broom",
    "eyes like the moon", "eyes like glass", "hair is everywhere", "her eyes are tired", "his eyes are closed",
    "eyes of a child", "hair of an angel", "eyes like a doll", "eyes like pools", "hair like a waterfall",
    "beach waves hair", "mermaid hair", "unicorn hair", "eyes like gemstones", "wind-swept hair", "rain-soaked hair",
    "cat eyes", "puppy eyes", "wolf eyes", "dragon eyes", "tiger eyes", "eagle eyes", "bug eyes", "owl eyes",
    "fish eyes", "bedroom eyes", "flowers in her hair", "pearls in her hair", "leaves in her hair",
    "her eyes are full of tears", "his eyes are like a hawk's", "hair like a haystack", "eyes like a deer in headlights",
    "hair is a mess", "her hair is in a bun", "his hair is slicked back with gel", "her hair is like a lion's mane",
    "eyes like a puppy dog", "hair like a mop", "eyes like a cat, sharp and watchful", "beard like a wizard's",
    "eyes like a shark", "her eyes are the windows to her soul", "eyes like little beads", "hair falls like a curtain",
    "his eyes are like lasers", "a man whose hair is like a bird's nest", "the hair is a tangle of curls",
    "Hazel's eyes are blue", "Amber's hair is black", "Violet's grey eyes", "anime hair", "hunter eyes",
    "a pineapple updo", "a butterfly haircut", "her hair is not honeycomb", "hair like springs", "hair like noodles",
    "tumbleweed hair", "eyes like a galaxy", "her hair is fire", "eyes like tears",
)


@pytest.mark.parametrize("text", _NOT_COLOURS)
def test_a_thing_elsewhere_is_not_a_colour(lexicon: L.ColourLexicon, text: str) -> None:
    assert _read(text, lexicon) == _read(text, replace(lexicon, objects={}))  # the table adds nothing here


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
    assert model.lexicon is not None and model.lexicon.objects == build_colour_lexicon().objects


def _toy_sources(tmp: Path) -> tuple[Path, Path]:
    """A small colour list and a WordNet with a food, a plant, an act, a person-first noun and two adjectives."""
    csv = tmp / "colornames.csv"
    csv.write_text("name,hex,good name\nMarzipan Cake,#eecc99,\nLuxurious,#112233,\nTurnip,#aa66cc,x\n"
                   "Swagger,#334455,\nWavy Turnip,#aa66cc,\nSweet,#ffeeee,\nHunter,#335533,\n", encoding="utf-8")
    wn = tmp / "dict"
    wn.mkdir()
    header = "  1 This software and database is being provided\n"
    (wn / "data.noun").write_text(header + (
        "00000001 13 n 01 cake 0 000 | baked goods\n"
        "00000002 20 n 01 turnip 0 000 | a root vegetable\n"
        "00000003 04 n 01 swagger 0 000 | an arrogant gait\n"
        "00000004 13 n 01 sweet 0 000 | a dessert\n"
        "00000005 18 n 01 hunter 0 000 | someone who hunts game\n"
        "00000006 13 n 01 hunter 0 000 | a pocket watch ... (here: a food, second sense)\n"
        "04963771 07 n 01 color 0 000 | the visual property\n"), encoding="utf-8")
    (wn / "index.noun").write_text(header + (
        "cake n 1 0 1 0 00000001\nturnip n 1 0 1 0 00000002\nswagger n 1 0 1 0 00000003\n"
        "sweet n 1 0 1 0 00000004\nhunter n 2 1 @ 2 0 00000005 00000006\ncolor n 1 0 1 0 04963771\n"),
        encoding="utf-8")
    (wn / "data.adj").write_text(header + (
        "00000010 00 a 01 luxurious 0 000 | rich and superior in quality\n"
        "00000011 00 a 01 sweet 0 000 | having a pleasant taste\n"), encoding="utf-8")
    return csv, wn


def test_builder_keeps_named_things_only(tmp_path: Path) -> None:
    csv, wn = _toy_sources(tmp_path)
    out = tmp_path / "objects.tsv"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_object_colours.py"), "--colour-names", str(csv),
                        "--wordnet", str(wn), "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       check=False)
    assert r.returncode == 0, r.stderr
    rows = dict(line.split("\t") for line in out.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    # a food and a plant are kept; an adjective-only word, an act, a food that is also a plain adjective ("sweet"), a
    # person first ("hunter") and a name holding a hair word ("wavy") are not
    assert rows == {"marzipan cake": "#eecc99", "turnip": "#aa66cc"}
    assert re.search(r"Object colours: 2 names", out.read_text(encoding="utf-8"))
