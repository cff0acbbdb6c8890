"""What a style vector asks for, in words: the colours the style model reads from a prompt or an image.

Why: the seg map sets the head's shapes and the style its colours. When a prompt word is one the text
path does not know, the head comes out in some other colour with no hint why; the app shows this line
under the prompt ("reads as: red hair, green eyes"), so the artist sees the misreading and can
rephrase. It is the attribute head's reading of the vector the decoder gets, not a second parse.
"""
from __future__ import annotations

from torch import Tensor

from models.style.contrastive import attribute_predictions
from models.style.encoders import StyleModel
from models.style.hair_words import _fold, find_words
from models.style.lexicon import (
    _MORE_NOUN_SLOT,
    _NOUN_SLOT,
    _colour_clauses,
    find_colours,
)

# (attribute, the part it colours): the colours the text head is trained to carry (models/style/distill.py
# TRAINED_ATTRIBUTES) and `perchead eval` scores. Skin and clothes colour are left out: the attribute head
# reads them from the text path's vectors unreliably ("a red sweater" read as blue while the head renders
# it red), and a wrong hint is worse than none.
READOUT: tuple[tuple[str, str], ...] = (("hair_color", "hair"), ("eye_color", "eyes"))


def describe_style(model: StyleModel, style: Tensor) -> str:
    """"reads as: auburn hair, green eyes" for a style vector [1, D]."""
    pred = attribute_predictions(model, style[:1].detach())[0]
    return "reads as: " + ", ".join(f"{pred[k].replace('_', ' ')} {part}" for k, part in READOUT if k in pred)


# Words that stand before "hair" / "eyes" without describing a colour or a style the head could show.
_NOT_DESCRIPTIVE = frozenset({
    "a", "an", "the", "my", "her", "his", "their", "its", "your", "our", "this", "that", "these", "those", "some",
    "with", "and", "or", "of", "no", "very", "really", "quite", "rather", "so", "too", "more", "most", "beautiful",
    "pretty", "lovely", "nice", "gorgeous", "cute", "good", "great", "perfect", "amazing", "stunning", "natural",
    "own", "same", "both", "two", "whose", "has", "have", "having", "is", "are", "was", "her's", "hers", "him",
    "someone", "person", "man", "woman", "boy", "girl", "guy", "lady", "gentleman", "kind", "friendly", "big",
})
_LINKS = frozenset({"is", "are", "was", "were"})  # "hair is titian": the word after the verb describes the part
_DESCRIBED_PARTS = frozenset({"hair", "eyes"})


def unread_words(text: str, model: StyleModel) -> list[str]:
    """Words a prompt puts on the hair or the eyes that neither dictionary knows ("titian hair" -> ['titian']).

    Why: such a word reaches the head only through the backbone embedding, which places rare colour words
    about as often wrong as right (docs/style.md); telling the artist which word was not read lets them
    rephrase instead of guessing why the hair came out brown. English word order (the word before the noun,
    or after "is" / "are"); a word is read when a colour name or a hair-word term of the prompt covers it.
    """
    if model.lexicon is None or model.hair_lexicon is None:
        return []
    known = {w for m in find_colours(text, model.lexicon) for w in m.words.split()}
    known |= {w for m in find_words(text, model.hair_lexicon) for w in m.words.split()}
    nouns = {**_NOUN_SLOT, **_MORE_NOUN_SLOT}
    out: list[str] = []
    for words in _colour_clauses(text, True):  # fixed phrases joined: 'salt and pepper' is one word
        for j, w in enumerate(words):
            if nouns.get(w) not in _DESCRIBED_PARTS:
                continue
            cands = [words[j - 1]] if j > 0 else []
            if j + 2 < len(words) and words[j + 1] in _LINKS:
                cands.append(words[j + 2])
            for c in cands:
                if (len(c) > 2 and c.isalpha() and c not in _NOT_DESCRIPTIVE and c not in nouns
                        and c not in known and _fold(c) not in known and model.lexicon.lookup([c]) is None
                        and c not in out):
                    out.append(c)
    return out
