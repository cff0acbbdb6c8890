"""What the dictionaries alone read from a prompt (models/style/train/dictionary_reading.py)."""
from __future__ import annotations

import pytest

from models.style.train.colour_dictionary import build_colour_lexicon
from models.style.train.dictionary_reading import dictionary_reading, dictionary_readings
from models.style.train.hair_dictionary import build_hair_lexicon
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
    ("short hair parted over one eye", "hair_style", "side_part"),      # the nearest part noun decides
    ("lips slightly parted showing long straight hair", "hair_style", "long_straight"),
    ("short brown hair, parted on the side", "hair_style", "side_part"),
    ("platinum blonde hair", "hair_color", "platinum"),
    ("a ponytailed woman with red hair", "hair_style", "ponytail"),
    ("teal hair and grey eyes", "eye_color", "grey"),
])
def test_dictionary_reading(lexicons, text: str, attr: str, want: str) -> None:
    assert dictionary_reading(text, attr, *lexicons) == want


# caption-table words the dictionaries read nothing from (the text head learnt them from the captions themselves)
_UNREAD_CAPTION_WORDS = {("hair_color", "fair"), ("hair_style", "shaved")}


def test_dictionaries_read_the_engines_own_words(lexicons) -> None:
    """The template captions' own words read as the engine means them (until the eighth session the dictionaries
    read "platinum blonde" as blonde and the captions' "lips parted" as a side part)."""
    frames = {"hair_color": (HAIR_COLOR_WORDS, "a woman with {} hair"),
              "eye_color": (EYE_COLOR_WORDS, "a woman with {} eyes"),
              "hair_style": (HAIR_STYLE_WORDS, "a woman with {} brown hair, lips parted"),
              "facial_hair": (FACIAL_HAIR_WORDS, "a man with {}")}
    wrong = []
    for attr, (table, frame) in frames.items():
        for value, words in table.items():
            for w in words:
                got = dictionary_reading(frame.format(w), attr, *lexicons)
                if got != value and not (got is None and (attr, w) in _UNREAD_CAPTION_WORDS):
                    wrong.append((attr, w, got))
    assert not wrong, wrong


def test_no_reading_for_unnamed_parts(lexicons) -> None:
    (r,) = dictionary_readings(["a friendly face"], *lexicons)
    assert r == {}
    (r,) = dictionary_readings(["green eyes"], *lexicons)
    assert r == {"eye_color": "green"}
