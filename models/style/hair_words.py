"""Hairstyle, facial-hair, glasses and hat words, with negation, as features beside the e5 embedding.

Why: the frozen e5 backbone reads the caption templates' style words almost perfectly but places other
words ("pixie", "crew cut", "van dyke", "clean-shaven") near chance (docs/style.md), and nothing the
text head learns from template captions can add that knowledge. This dictionary is that knowledge,
written by hand from general knowledge of English hair and barbering vocabulary and of the basic words
of French, German, Spanish, Italian, Portuguese and Dutch (the languages ``lexicon.py`` reads), kept in
``assets/style/hair_words.yaml``. It was NOT made from the held-out paraphrase sets (see docs/style.md,
"How the word lists were made").

    prompt --clauses (lexicon._clauses)--> terms ("waist length", "crew cut", "no beard")
           --each term is a *facet* (length, texture, form ...) = a likelihood over our classes-->
           per slot (hair_style, facial_hair, glasses, hat): product of the facets' likelihoods
           --> features: 1 (something was said) + softmax(log product) over the slot's classes

Facets compose: "long" x "curly" -> long_wavy, "long" x "ponytail" -> ponytail, "beard" x "goatee" ->
goatee. A negator (no / without / sans / ohne / sin / senza / sem / zonder ...) up to three words
before a term, or "-free" after it, turns the term's evidence around ("no beard" -> none). Generic
words ("long", "short", "thick") bind like colours do: to the nearest part noun in their clause, so
"long beard" is not long hair. A prompt without any known word gives all-zero features.

The table is built when a style model is made (``models/style/train/hair_dictionary.py``) and stored inside
the style checkpoint (``HairLexicon.to_json``), so a checkpoint keeps reading prompts the way it was trained
even if the word list changes later.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

import torch
from torch import Tensor

from models.style.lexicon import _clauses
from models.synthetic.attributes import FACIAL_HAIR, GLASSES, HAIR_STYLES, HATS

# Slots (the attribute they describe) and their classes, in the attribute head's order.
WORD_SLOTS: dict[str, tuple[str, ...]] = {"hair_style": HAIR_STYLES, "facial_hair": FACIAL_HAIR,
                                          "glasses": GLASSES, "hat": HATS}
_FLOOR = 0.03  # likelihood of a class a facet does not mention (a word is strong but not certain evidence)

# Length and texture words leave the form open ("short ponytail", "curly bun"): classes they do not name
# keep more weight than under a form word, so a form word decides when both are said.
_GENERIC_FLOOR = 0.1
# Terms that are hair words only when the part noun nearest to them in their clause is hair ("lips parted" is not
# a side part, "hair parted over one eye" is).
_BOUND_TERMS = frozenset({"parted", "parting"})
_NEG_SUFFIX = frozenset({"free", "less"})  # "beard-free", "glasses-less"
_NEG_WINDOW = 3  # a negator this many words before a term (or fewer) negates it
# Between two terms, only these words carry one negation on to the next term ("no beard or moustache");
# any other term stops it ("without glasses long curly hair": the hair is not negated).
_NEG_CARRY = frozenset({"or", "nor", "ni", "oder", "noch", "o", "ou", "of", "nem"})


def _fold(word: str) -> str:
    """Lower case without accents ('épaules' -> 'epaules'): typed prompts often drop them."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _prompt_clauses(text: str) -> list[list[str]]:
    """Clauses of accent-folded words, apostrophes dropped ('five o'clock' -> 'five', 'oclock')."""
    return [[_fold(w) for w in c] for c in _clauses(text.lower().replace("’", "'").replace("'", ""))]


def _norm(text: str) -> tuple[str, ...]:
    """A term as ``find_words`` sees a prompt."""
    return tuple(w for clause in _prompt_clauses(text) for w in clause)


@dataclass
class HairLexicon:
    """Terms -> (slot, facet), facet likelihoods per slot, part nouns and negators (all JSON-able)."""

    terms: dict[str, tuple[str, str]]
    facets: dict[str, dict[str, dict[str, float]]]
    generic: dict[str, list[str]]
    nouns: dict[str, list[str]]
    negators: list[str]
    languages: list[str] = field(default_factory=list)
    needs_hair: list[str] = field(default_factory=list)  # terms read only in a clause that names the hair (reach phrases)

    def to_json(self) -> str:
        return json.dumps({"terms": self.terms, "facets": self.facets, "generic": self.generic, "nouns": self.nouns,
                           "negators": self.negators, "languages": self.languages, "needs_hair": self.needs_hair},
                          separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "HairLexicon":
        d = json.loads(text)
        return cls({k: (v[0], v[1]) for k, v in d["terms"].items()}, d["facets"], d["generic"], d["nouns"],
                   d["negators"], d.get("languages", []), d.get("needs_hair", []))

    def __post_init__(self) -> None:
        self._noun_slot = {_fold(w): slot for slot, ws in self.nouns.items() for w in ws}
        self._neg = set(self.negators)
        self._generic = {slot: set(v) for slot, v in self.generic.items()}
        self._max = max((len(k.split()) for k in self.terms), default=1)
        self._needs_hair = set(self.needs_hair)


@dataclass(frozen=True)
class WordMention:
    words: str        # the term as matched ("crew cut")
    slot: str         # hair_style / facial_hair / glasses / hat
    facet: str
    negated: bool


def find_words(text: str, lex: HairLexicon) -> list[WordMention]:
    """Style terms of a prompt, longest match first, with their slot (after binding) and negation."""
    out: list[WordMention] = []
    for words in _prompt_clauses(text):
        nouns = [(i, lex._noun_slot[w]) for i, w in enumerate(words) if w in lex._noun_slot]
        i = 0
        last_end, last_negated = 0, False  # where the previous term of this clause ended, and its negation
        while i < len(words):
            hit = None
            for n in range(min(lex._max, len(words) - i), 0, -1):
                key = " ".join(words[i:i + n])
                if key in lex.terms:
                    hit = (n, *lex.terms[key])
                    break
            if hit is None:
                i += 1
                continue
            n, slot, facet = hit
            if key in lex._needs_hair and not any(s == "hair" for _, s in nouns):  # key: the term just matched
                i += 1  # "touching his chin", "boots to the knees": no hair named, no length
                continue
            bound = n == 1 and words[i] in _BOUND_TERMS
            if facet in lex._generic.get(slot, ()) or bound:
                after = [s for j, s in nouns if j >= i + n]
                before = [s for j, s in nouns if j < i]
                part = after[0] if after else (before[-1] if before else "hair")
                if bound and nouns:  # "hair parted over one eye", "lips slightly parted": the nearest noun decides
                    part = min(nouns, key=lambda noun: abs(noun[0] - i))[1]
                if part != "hair":  # "long beard", "short lashes": not the hairstyle
                    i += n
                    continue
            # a negator reaches back no further than the previous term: it negates the first term after it
            negated = any(w in lex._neg for w in words[max(last_end, i - _NEG_WINDOW):i]) or (
                i + n < len(words) and words[i + n] in _NEG_SUFFIX) or (
                last_negated and last_end > 0 and i > last_end and all(w in _NEG_CARRY for w in words[last_end:i]))
            out.append(WordMention(" ".join(words[i:i + n]), slot, facet, negated))
            i += n
            last_end, last_negated = i, negated
    return out


def word_feature_dim() -> int:
    """Width of ``word_features``: per slot 1 (something said) + one per class."""
    return sum(1 + len(v) for v in WORD_SLOTS.values())


def slot_offsets() -> dict[str, int]:
    """Column of each slot's "said" flag in ``word_features`` (its classes follow)."""
    out, at = {}, 0
    for slot, classes in WORD_SLOTS.items():
        out[slot] = at
        at += 1 + len(classes)
    return out


def _evidence(lex: HairLexicon, slot: str, facet: str, negated: bool) -> Tensor:
    """log-likelihood [K] of the slot's classes given one term."""
    classes = WORD_SLOTS[slot]
    floor = _GENERIC_FLOOR if facet in lex._generic.get(slot, ()) else _FLOOR
    like = torch.tensor([lex.facets[slot][facet].get(c, floor) for c in classes])
    if negated:  # "no beard": what the term says is now unlikely; "none" (where a class) is what is left
        like = (1.0 - like).clamp_min(_FLOOR) * 0.6
        if "none" in classes:
            like[classes.index("none")] = 1.0
        elif slot == "hair_style" and facet in ("bald", "shaved", "balding"):
            like = torch.full_like(like, 0.5)
            like[classes.index("bald")] = _FLOOR  # "not bald": any style with hair
    return like.log()


def slot_posteriors(text: str, lex: HairLexicon) -> dict[str, Tensor]:
    """{slot: class probabilities [K]} for each slot the prompt says something about."""
    logs: dict[str, Tensor] = {}
    for m in find_words(text, lex):
        e = _evidence(lex, m.slot, m.facet, m.negated)
        logs[m.slot] = logs[m.slot] + e if m.slot in logs else e
    # "no hair" is a negated generic hair noun phrase in some languages; bald terms cover the common ones
    return {slot: torch.softmax(v, dim=0) for slot, v in logs.items()}


def word_features(texts: Iterable[str], lex: HairLexicon) -> Tensor:
    """Prompts -> [B, word_feature_dim()] float32; all zeros for a prompt without a known word."""
    rows = []
    for text in texts:
        post = slot_posteriors(text, lex)
        parts = []
        for slot, classes in WORD_SLOTS.items():
            if slot in post:
                parts.append(torch.cat([torch.ones(1), post[slot]]))
            else:
                parts.append(torch.zeros(1 + len(classes)))
        rows.append(torch.cat(parts))
    return torch.stack(rows) if rows else torch.zeros(0, word_feature_dim())
