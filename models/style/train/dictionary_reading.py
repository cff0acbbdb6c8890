"""What the dictionaries alone read from a prompt: one class per scored attribute its known words name.

The text head reads a prompt through its backbone embedding and the dictionaries' features together; this is
the dictionaries' side on its own, for training prompts (``augment.py`` keeps a term only where it reads as
its class), diagnosis (``experiments/english_readout_diagnosis.py``) and tests: where the head and its
dictionaries disagree, and where the dictionaries themselves misread a word.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from models.style.encoders import SCORED_ATTRIBUTES
from models.style.hair_words import WORD_SLOTS, HairLexicon, slot_posteriors
from models.style.lexicon import ColourLexicon, find_colours, srgb_to_lab

_COLOUR_SLOTS = {"hair_color": "hair", "eye_color": "eyes"}  # attribute -> lexicon slot and class table


def predicted_class(text: str, lex: HairLexicon, slot: str) -> str | None:
    """The hair-word dictionary's own reading of a slot (argmax), or None when the prompt says nothing of it."""
    post = slot_posteriors(text, lex).get(slot)
    return None if post is None else WORD_SLOTS[slot][int(post.argmax())]


def dictionary_reading(text: str, attribute: str, colours: ColourLexicon | None,
                       words: HairLexicon | None) -> str | None:
    """The class the dictionaries read for ``attribute`` in ``text``, or None when no known word names it.

    Colours: the mean Lab colour of the names bound to that part, its nearest class within their categories
    (as the text head's colour features see them); hairstyle / facial hair: the hair-word posterior's argmax.
    """
    if attribute in _COLOUR_SLOTS:
        if colours is None:
            return None
        slot = _COLOUR_SLOTS[attribute]
        mine = [m for m in find_colours(text, colours) if m.slot == slot]
        if not mine:
            return None
        lab = srgb_to_lab(torch.tensor([list(m.rgb) for m in mine], dtype=torch.float32)).mean(0)  # [3]
        cats = [m.category for m in mine]
        names, dist = colours.class_distances(lab, slot, cats if all(cats) else ())
        return names[int(dist.argmin())]
    if attribute not in WORD_SLOTS:
        raise ValueError(f"the dictionaries read no {attribute!r}; use one of {', '.join(SCORED_ATTRIBUTES)}")
    if words is None:
        return None
    return predicted_class(text, words, attribute)


def dictionary_readings(texts: Sequence[str], colours: ColourLexicon | None,
                        words: HairLexicon | None) -> list[dict[str, str]]:
    """Per prompt {attribute: class} for every scored attribute its known words name."""
    out = []
    for text in texts:
        reads = {a: dictionary_reading(text, a, colours, words) for a in SCORED_ATTRIBUTES}
        out.append({a: v for a, v in reads.items() if v is not None})
    return out
