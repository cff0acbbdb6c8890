"""What a style vector asks for, in words: the colours the style model reads from a prompt or an image.

Why: the seg map sets the head's shapes and the style its colours. When a prompt word is one the text
path does not know, the head comes out in some other colour with no hint why; the app shows this line
under the prompt ("reads as: red hair, green eyes"), so the artist sees the misreading and can
rephrase. It is the attribute head's reading of the vector the decoder gets, not a second parse.
"""
from __future__ import annotations

from functools import cache

from torch import Tensor

from models.style.encoders import StyleModel, attribute_predictions
from models.style.hair_words import _fold, find_words
from models.style.lexicon import _COLOUR_FILLERS, _colour_clauses, find_colours

# (attribute, the part it colours): the colours the text head is trained to carry (models/style/train/distill.py
# TRAINED_ATTRIBUTES) and `perchead eval` scores. Skin and clothes colour are left out: the attribute head
# reads them from the text path's vectors unreliably ("a red sweater" read as blue while the head renders
# it red), and a wrong hint is worse than none.
READOUT: tuple[tuple[str, str], ...] = (("hair_color", "hair"), ("eye_color", "eyes"))


def describe_style(model: StyleModel, style: Tensor) -> str:
    """"reads as: auburn hair, green eyes" for a style vector [1, D]."""
    pred = attribute_predictions(model, style[:1].detach())[0]
    return "reads as: " + ", ".join(f"{pred[k].replace('_', ' ')} {part}" for k, part in READOUT if k in pred)


# English nouns of the parts whose words are checked (the rule follows English word order, so only these).
_PART_NOUNS = frozenset({"hair", "haired", "hairs", "hairdo", "haircut", "hairstyle", "locks", "mane", "tresses",
                         "curls", "waves", "ringlets", "eye", "eyes", "eyed", "iris", "irises", "gaze"})
# Words that stand before a part noun without describing a colour or a style the head could show.
_NOT_DESCRIPTIVE = frozenset({
    "a", "an", "the", "my", "her", "his", "their", "its", "your", "our", "this", "that", "these", "those", "some",
    "with", "and", "or", "of", "no", "very", "really", "quite", "rather", "so", "too", "more", "most", "beautiful",
    "pretty", "lovely", "nice", "gorgeous", "cute", "good", "great", "perfect", "amazing", "stunning", "natural",
    "own", "same", "both", "two", "whose", "has", "have", "having", "hers", "him", "someone", "person", "man",
    "woman", "boy", "girl", "guy", "lady", "gentleman", "kind", "friendly", "big", "shaped",
})
# Words that only join a description to its part ("zorblat-coloured hair", "hair was dyed zorblat"): passed over.
_JOINERS = _COLOUR_FILLERS | {"dyed", "painted"}
_LINKS = frozenset({"is", "are", "was", "were"})  # "hair is titian": the word after the verb describes the part
_MIN_LETTERS = 3  # shorter tokens are particles or typos, not descriptions


@cache
def _caption_words() -> frozenset[str]:
    """Every word of the engine's caption tables: the text head was trained on them, dictionary or not."""
    from models.synthetic import attributes as A

    tables = (A.HAIR_COLOR_WORDS, A.EYE_COLOR_WORDS, A.HAIR_STYLE_WORDS, A.FACIAL_HAIR_WORDS)
    return frozenset(w for t in tables for words in t.values() for phrase in words
                     for w in phrase.replace("-", " ").replace(",", " ").split())


def unread_words(text: str, model: StyleModel) -> list[str]:
    """Words a prompt puts on the hair or the eyes that neither dictionary knows ("zorblat hair" -> ['zorblat']).

    Why: such a word reaches the head only through the backbone embedding, which places rare colour words
    about as often wrong as right (docs/style.md); telling the artist which word was not read lets them
    rephrase instead of guessing why the hair came out brown. English word order (the word before an English
    part noun, or after "is" / "are", passing over "-coloured", "dyed" ...); a word is read when a colour name
    or a hair-word term of the prompt covers it, or the engine's captions use it.
    """
    if model.lexicon is None or model.hair_lexicon is None:
        return []
    known = {w for m in find_colours(text, model.lexicon) for w in m.words.split()}
    known |= {w for m in find_words(text, model.hair_lexicon) for w in m.words.split()}
    known |= _caption_words()
    out: list[str] = []
    for words in _colour_clauses(text, True):  # fixed phrases joined: 'salt and pepper' is one word
        for j, w in enumerate(words):
            if w not in _PART_NOUNS:
                continue
            cands = [_past_joiners(words, j - 1, -1)]
            if j + 1 < len(words) and words[j + 1] in _LINKS:
                cands.append(_past_joiners(words, j + 2, 1))
            for c in cands:
                if (c is not None and len(c) >= _MIN_LETTERS and c.isalpha() and c not in _NOT_DESCRIPTIVE
                        and c not in _PART_NOUNS and c not in known and _fold(c) not in known
                        and model.lexicon.lookup([c]) is None and c not in out):
                    out.append(c)
    return out


def _past_joiners(words: list[str], k: int, step: int) -> str | None:
    """The first word from index ``k`` on (walking by ``step``) that is not a joiner; None off the clause."""
    while 0 <= k < len(words) and words[k] in _JOINERS:
        k += step
    return words[k] if 0 <= k < len(words) else None
