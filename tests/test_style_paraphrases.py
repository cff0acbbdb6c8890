"""The held-out paraphrase set: size, valid targets, novel vocabulary, disjoint from training captions."""
from __future__ import annotations

import re

from models.style.encoders import ATTRIBUTES
from models.style.paraphrases import descriptive_phrases, held_out_set, paraphrase_set
from models.style.train.captions import captions_for_seeds, training_seeds
from models.synthetic import attributes as A

SCORED = tuple(held_out_set("v1")["scored"])

_FUNCTION_WORDS = {"a", "of", "with", "t", "o"}  # glue the caption tables also use; carries no attribute


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", text.lower()))


def _caption_vocabulary() -> set[str]:
    vocab: set[str] = set()
    for name in dir(A):
        if name.endswith("_WORDS"):
            for words in getattr(A, name).values():
                for w in words:
                    vocab |= _tokens(w)
    return vocab


def test_size_languages_and_targets() -> None:
    ps = paraphrase_set("v1")
    assert len(ps) >= 200
    langs = {p.language for p in ps}
    assert {"en", "fr", "de", "es"} <= langs
    assert len({p.prompt for p in ps}) == len(ps)
    lengths = [len(p.prompt.split()) for p in ps]
    assert min(lengths) <= 2 and max(lengths) >= 15  # short and long prompts
    for p in ps:
        assert p.targets and set(p.targets) <= set(SCORED), p
        for k, v in p.targets.items():
            assert v in ATTRIBUTES[k], (p.prompt, k, v)
    for attr in SCORED:  # every value of every scored attribute is asked for somewhere
        asked = {p.targets[attr] for p in ps if attr in p.targets}
        assert asked == set(ATTRIBUTES[attr]) - ({"none"} if attr == "facial_hair" else set()) or asked == set(ATTRIBUTES[attr])


def test_same_list_every_time() -> None:
    assert [p.prompt for p in paraphrase_set("v1")] == [p.prompt for p in paraphrase_set("v1")]


def test_descriptive_words_never_in_caption_tables() -> None:
    vocab = _caption_vocabulary()
    phrases = descriptive_phrases("v1")
    clashes = {ph: _tokens(ph.replace("{c}", "")) & vocab - _FUNCTION_WORDS for ph in phrases}
    assert not {k: v for k, v in clashes.items() if v}


def test_no_paraphrase_in_training_captions() -> None:
    prompts = [p.prompt.lower() for p in paraphrase_set("v1")]
    caps = [c.lower() for *_, c in captions_for_seeds(training_seeds(1500), per_seed=3)]
    joined = "\n".join(caps)
    assert not [p for p in prompts if p in joined]


# ---- paraphrases-v2: a second held-out set, fresh against the caption tables and v1 ----------

# Glue and plain body nouns the sets share; they carry no attribute value on their own.
_GLUE = {"a", "an", "the", "of", "to", "in", "on", "with", "and", "into", "hair", "face", "coloured", "down",
         "under", "above", "at", "des", "de", "un", "une", "una", "el", "la", "les", "i", "di", "color", "cor", "cheveux",
         "barbe", "barba", "pelo", "cabello", "capelli", "cabelo", "haar", "haare", "haaren", "einem", "einer"}


def _v1_descriptive_tokens() -> set[str]:
    out: set[str] = set()
    for w in descriptive_phrases("v1"):
        out |= _tokens(w.replace("{c}", ""))
    return out


def _v2_phrases() -> list[str]:
    return descriptive_phrases("v2")


def test_v2_size_languages_targets() -> None:
    ps = paraphrase_set("v2")
    assert len(ps) >= 200 and len({p.prompt for p in ps}) == len(ps)
    assert {"en", "fr", "de", "es", "it", "pt", "nl"} <= {p.language for p in ps}
    for p in ps:
        assert p.targets and set(p.targets) <= set(SCORED), p
        for k, v in p.targets.items():
            assert v in ATTRIBUTES[k], (p.prompt, k, v)
    for attr in SCORED:
        assert {p.targets[attr] for p in ps if attr in p.targets} == set(ATTRIBUTES[attr])
    assert [p.prompt for p in paraphrase_set("v2")] == [p.prompt for p in ps]


def test_v2_words_are_new_to_the_tables_and_to_v1() -> None:
    vocab, v1 = _caption_vocabulary(), _v1_descriptive_tokens()
    clashes = {ph: (_tokens(ph.replace("{c}", "")) & (vocab | v1)) - _GLUE for ph in _v2_phrases()}
    assert not {k: v for k, v in clashes.items() if v}
    v1_prompts = {p.prompt.lower() for p in paraphrase_set("v1")}
    assert not [p for p in paraphrase_set("v2") if p.prompt.lower() in v1_prompts]


def test_v2_not_in_training_captions() -> None:
    caps = "\n".join(c.lower() for *_, c in captions_for_seeds(training_seeds(1500), per_seed=3))
    assert not [p.prompt for p in paraphrase_set("v2") if p.prompt.lower() in caps]
