"""The hair-word dictionary a style model is made with (``build_hair_lexicon``; stored inside its checkpoint).

The words are written by hand in ``assets/style/hair_words.yaml``: per language, slot (hair_style, facial_hair,
glasses, hat) and facet, the terms that say it, with the facets' class likelihoods, the part nouns generic words
bind to and the negators. English comes in passes: the second pass is what the shipped text head was trained on,
the third adds phrases it reads through the dictionary, and the ninth session's read-only phrases (where the hair
reaches, generated here; a few cut and beard names) never enter training prompts. The app reads the result
through ``models/style/hair_words.py``. Also here: the hairstyle and facial-hair definitions
(``assets/style/definitions.yaml``) that a text head may read cosines with (``distill.py --definitions``).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from models.assets import read_data
from models.style.hair_words import HairLexicon, _norm

HAIR_WORDS = "style/hair_words.yaml"  # under assets/
DEFINITIONS = "style/definitions.yaml"
_MAX_TERM_WORDS = 5

Terms = dict[str, dict[str, tuple[str, ...]]]  # slot -> facet -> terms as written


@cache
def _words() -> dict[str, Any]:
    """The tables of ``assets/style/hair_words.yaml`` with the English passes merged (shared: do not change them)."""
    d = read_data(HAIR_WORDS)
    en = _terms(d["en"])
    en_all = {slot: dict(facets) for slot, facets in en.items()}
    for slot, facets in _terms(d["en_third_pass"]).items():
        for facet, words in facets.items():
            en_all[slot][facet] = tuple(dict.fromkeys(en_all[slot][facet] + words))
    reach = _reach_phrases(d["reach"])
    read_only = _terms(d["en_read_only"])  # added to the reach phrases of the same facet
    read_only["hair_style"] = {**reach, **{f: reach.get(f, ()) + ws for f, ws in read_only["hair_style"].items()}}
    return {"facets": d["facets"], "generic": d["generic"], "part_nouns": d["part_nouns"], "negators": d["negators"],
            "en_second_pass": en, "en": en_all, "reach": reach, "en_read_only": read_only,
            "foreign": {lang: _terms(t) for lang, t in d["foreign"].items()}}


def _terms(table: dict[str, dict[str, list[str]]]) -> Terms:
    return {slot: {facet: tuple(words) for facet, words in facets.items()} for slot, facets in table.items()}


def _reach_phrases(reach: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Facet -> "VERB OWNER PART" phrases of at most ``_MAX_TERM_WORDS`` words ("falling past her shoulders" ->
    long). ``find_words`` reads them only in a clause that names the hair ("a man touching his chin" is no bob)."""
    out: dict[str, list[str]] = {}
    for group in reach["parts"]:
        for part in group["parts"]:
            for verb in reach["verbs"]:
                facet = group["beyond"] if {"past", "below"} & set(verb.split()) else group["at"]
                phrases = (f"{verb} {owner} {part}" for owner in reach["owners"])
                out.setdefault(facet, []).extend(p for p in phrases if len(p.split()) <= _MAX_TERM_WORDS)
    return {k: tuple(v) for k, v in out.items()}


def reach_phrases() -> dict[str, tuple[str, ...]]:
    """Facet -> the generated "where the hair reaches" phrases (read-only English terms)."""
    return _words()["reach"]


def build_hair_lexicon() -> HairLexicon:
    """The hand-written tables as one lexicon (English first: it wins a clash of identical spellings)."""
    w = _words()
    terms: dict[str, tuple[str, str]] = {}
    for lang, table in (("en", w["en"]), ("en", w["en_read_only"]), *w["foreign"].items()):
        for slot, facets in table.items():
            for facet, words in facets.items():
                if facet not in w["facets"][slot]:
                    raise ValueError(f"{lang} {slot}: unknown facet {facet!r}")
                for word in words:
                    key = " ".join(_norm(word))
                    if key and len(key.split()) <= _MAX_TERM_WORDS:
                        terms.setdefault(key, (slot, facet))
    # the generated reach phrases need a hair noun; those the hand-written tables already hold read as before
    written = {" ".join(_norm(word)) for lang, table in (("en", w["en"]), *w["foreign"].items())
               for facets in table.values() for words in facets.values() for word in words}
    reach = sorted(({" ".join(_norm(p)) for phrases in w["reach"].values() for p in phrases} & set(terms)) - written)
    return HairLexicon(terms, w["facets"], {k: sorted(v) for k, v in w["generic"].items()},
                       {k: list(v) for k, v in w["part_nouns"].items()}, sorted(w["negators"]), ["en", *w["foreign"]],
                       reach)


def term_table(third_pass: bool = False) -> dict[str, Terms]:
    """{language: {slot: {facet: terms as written}}}: the hand-written tables (for training prompts and the
    hair-word dev set). ``third_pass`` adds the English phrases of the third pass, which the shipped head reads
    through the dictionary but was not trained on (pass True when retraining)."""
    w = _words()
    return {"en": w["en"] if third_pass else w["en_second_pass"], **w["foreign"]}


def definition_texts() -> list[str]:
    """All definitions in a fixed order (hairstyles, then facial hair): rows of ``TextStyleHead.definitions``."""
    d = read_data(DEFINITIONS)
    return list(d["hair_style"].values()) + list(d["facial_hair"].values())
