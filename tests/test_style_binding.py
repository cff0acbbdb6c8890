"""Third pass of the issue-7 text path: English word orders that bind a colour across clauses, eye-colour words,
plural colour nouns (models/style/lexicon.py). Each binding rule has a case it must bind and one it must not."""
from __future__ import annotations

import json

import pytest
import torch

from models.style import lexicon as L
from models.style.train.colour_dictionary import build_colour_lexicon


@pytest.fixture(scope="module")
def colours() -> L.ColourLexicon:
    return build_colour_lexicon()


def _slots(text: str, lex: L.ColourLexicon) -> list[tuple[str, str]]:
    return [(m.words, m.slot) for m in L.find_colours(text, lex)]


@pytest.mark.parametrize("text, want", [
    # word orders that already bound right (kept by the new rules)
    ("a woman with eyes of green and long red hair", [("green", "eyes"), ("red", "hair")]),
    ("green-eyed man with black hair", [("green", "eyes"), ("black", "hair")]),
    ("a man with eyes that are green and hair that is black", [("green", "eyes"), ("black", "hair")]),
    ("hair: blonde, eyes: blue", [("blonde", "hair"), ("blue", "eyes")]),
    ("a girl whose eyes are green and whose hair is red", [("green", "eyes"), ("red", "hair")]),
    ("eyes green, hair red", [("green", "eyes"), ("red", "hair")]),
    ("a blue eyed, black haired man", [("blue", "eyes"), ("black", "hair")]),
    # (1) back to the bare noun before a comma / bracket / "with", or into a relative clause
    ("her eyes, which are green, and her red hair", [("green", "eyes"), ("red", "hair")]),
    ("her eyes (green) and black hair", [("green", "eyes"), ("black", "hair")]),
    ("her eyes, a deep green; black hair", [("deep green", "eyes"), ("black", "hair")]),
    ("eyes with a hint of green, black hair", [("green", "eyes"), ("black", "hair")]),
    ("black hair, eyes, the colour of jade", [("black", "hair"), ("jade", "eyes")]),  # an appositive "the colour of"
    # (2) "and" continues a colour that followed its noun
    ("eyes of green and gold, black hair", [("green", "eyes"), ("gold", "eyes"), ("black", "hair")]),
    # (3) a colour list reaches the noun of the next clause
    ("green and gold eyes, black hair", [("green", "eyes"), ("gold", "eyes"), ("black", "hair")]),
    # a colour shared over "and" by a bare noun
    ("brown hair and eyes", [("brown", "hair"), ("brown", "eyes")]),
    ("red hair and beard", [("red", "hair"), ("red", "beard")]),
])
def test_english_word_orders_bind(colours: L.ColourLexicon, text: str, want: list[tuple[str, str]]) -> None:
    assert _slots(text, colours) == want


@pytest.mark.parametrize("text, want", [
    ("auburn, green eyes", [("auburn", "hair"), ("green", "eyes")]),       # (3) not over a comma to a coloured noun
    ("red and a beard", [("red", "hair")]),                                # (3) not to a noun after an article
    ("a puce fade and grey eyes", [("puce", "hair"), ("grey", "eyes")]),   # (3) only clauses of colour names
    ("curly, charcoal, moustache", [("charcoal", "hair")]),                # (3) never over a comma (terse lists)
    ("bobbed, camel, stocking cap", [("camel", "hair")]),
    ("red, curly, with green eyes", [("red", "hair"), ("green", "eyes")]),  # (3) only the very next clause
    ("blue eyes, red", [("blue", "eyes"), ("red", "hair")]),               # (1) that noun has its own colour
    ("pale eyes, copper", [("pale", "eyes"), ("copper", "hair")]),
    ("wide eyes, copper", [("copper", "hair")]),                           # (1) a noun with an (unknown) adjective: a terse list
    ("moustache, copper red ivy league", [("copper red", "hair")]),        # (1) a bare noun before a comma: a terse list
    ("blue eyes and blonde", [("blue", "eyes"), ("blonde", "hair")]),      # hair-colour nouns stay hair
    ("green eyes and auburn", [("green", "eyes"), ("auburn", "hair")]),    # (2) the colour came before its noun
    ("blonde hair and a beard", [("blonde", "hair")]),                     # no sharing over an article
    ("red lips and eyes", [("red", "other")]),                             # sharing: hair, eyes and beard only
    ("blue eyes and glasses", [("blue", "eyes")]),
])
def test_rules_stay_out_of_other_orders(colours: L.ColourLexicon, text: str, want: list[tuple[str, str]]) -> None:
    assert _slots(text, colours) == want


def test_separators_are_kept() -> None:
    seps = [s for s, _w in L._clauses_seps("red hair, and green eyes (bright); with a hat")]
    assert seps == ["", "and", "(", "with"]  # ", and" counts as "and"; "); with" as "with"
    assert L._clauses("red hair, and green eyes") == [["red", "hair"], ["green", "eyes"]]  # unchanged for hair words


def _eye_class(lex: L.ColourLexicon, text: str) -> str:
    (m,) = [m for m in L.find_colours(text, lex) if m.slot == "eyes"]
    lab = L.srgb_to_lab(torch.tensor([list(m.rgb)], dtype=torch.float32))[0]
    names, d = lex.class_distances(lab, "eyes", [m.category] if m.category else ())
    return names[int(d.argmin())]


@pytest.mark.parametrize("text, want", [
    ("stormy eyes", "grey"), ("smoky grey eyes", "grey"), ("icy eyes", "blue"), ("whiskey-coloured eyes", "amber"),
    ("tawny eyes", "amber"), ("walnut eyes", "brown"),
    ("eyes like emeralds", "green"), ("eyes like sapphires", "blue"),   # plural colour nouns
])
def test_eye_colour_words(colours: L.ColourLexicon, text: str, want: str) -> None:
    assert _eye_class(colours, text) == want


def test_plurals_do_not_invent_colours(colours: L.ColourLexicon) -> None:
    assert colours.lookup(["pools"]) is None and colours.lookup(["pearls"]) is None  # not "poo", "pear"
    assert colours.lookup(["cherries"]) == colours.colours["cherry"]
    assert colours.category(["emeralds"]) == colours.category(["emerald"]) != ""
    assert _slots("green eyes framed by irises", colours) == [("green", "eyes")]  # an eye noun is no colour


def test_old_lexicons_keep_their_binding(colours: L.ColourLexicon) -> None:
    """Lexicons stored before colour families bind as before: no cross-clause rules, no plurals."""
    d = json.loads(colours.to_json())
    d.pop("categories"), d.pop("lightness_weight")
    old = L.ColourLexicon.from_json(json.dumps(d))
    assert _slots("green and gold eyes", old) == [("green", "hair"), ("gold", "eyes")]
    assert _slots("brown hair and eyes", old) == [("brown", "hair")]
    assert old.lookup(["emeralds"]) is None


@pytest.mark.parametrize("text, slot, want", [
    ("a shiny scalp", "hair_style", "bald"), ("a bald pate", "hair_style", "bald"),
    ("hair in a high tail", "hair_style", "ponytail"), ("hair drawn back", "hair_style", "ponytail"),
    ("hair piled on top", "hair_style", "bun"), ("bantu knots", "hair_style", "bun"),
    ("hair combed over", "hair_style", "side_part"), ("hair brushed to one side", "hair_style", "side_part"),
    ("hair on the upper lip", "facial_hair", "moustache"),
])
def test_third_pass_hair_phrases(text: str, slot: str, want: str) -> None:
    from models.style.train.dictionary_reading import predicted_class
    from models.style.train.hair_dictionary import build_hair_lexicon, term_table

    assert predicted_class(text, build_hair_lexicon(), slot) == want
    trained = {t for facets in term_table()["en"].values() for ts in facets.values() for t in ts}
    assert "high tail" not in trained and "high tail" in term_table(third_pass=True)["en"]["hair_style"]["ponytail"]
    assert predicted_class("a long tail coat", build_hair_lexicon(), "hair_style") is None


def test_shipped_checkpoint_reads_third_pass_words() -> None:
    from models.style.checkpoint import load_style_model
    from models.style.train.dictionary_reading import predicted_class

    model, extra = load_style_model("checkpoints/style.safetensors")
    # the third pass's dictionaries, and since the fourth pass a head trained on prompts that use them (the ninth
    # session's head on the same banks, their changed rows re-embedded: text_path_v4s_bank; since the nineteenth
    # session the look1 head, distilled on text-path captions made with these dictionaries: tp_v5_bank)
    assert any(bank in b for b in extra["text_path"]["bank"] for bank in ("text_path_v4s_bank", "tp_v5_bank"))
    assert model.hair_lexicon.terms
    assert predicted_class("hair in a high tail", model.hair_lexicon, "hair_style") == "ponytail"
    assert _eye_class(model.lexicon, "stormy eyes") == "grey"
