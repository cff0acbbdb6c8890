"""The held-out paraphrase set: size, valid targets, novel vocabulary, disjoint from training captions."""
from __future__ import annotations

import re

from models.style import paraphrases as P
from models.style.captions import captions_for_seeds, training_seeds
from models.style.encoders import ATTRIBUTES
from models.synthetic import attributes as A

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
    ps = P.paraphrase_set()
    assert len(ps) >= 200
    langs = {p.language for p in ps}
    assert {"en", "fr", "de", "es"} <= langs
    assert len({p.prompt for p in ps}) == len(ps)
    lengths = [len(p.prompt.split()) for p in ps]
    assert min(lengths) <= 2 and max(lengths) >= 15  # short and long prompts
    for p in ps:
        assert p.targets and set(p.targets) <= set(P.SCORED), p
        for k, v in p.targets.items():
            assert v in ATTRIBUTES[k], (p.prompt, k, v)
    for attr in P.SCORED:  # every value of every scored attribute is asked for somewhere
        asked = {p.targets[attr] for p in ps if attr in p.targets}
        assert asked == set(ATTRIBUTES[attr]) - ({"none"} if attr == "facial_hair" else set()) or asked == set(ATTRIBUTES[attr])


def test_same_list_every_time() -> None:
    assert [p.prompt for p in P.paraphrase_set()] == [p.prompt for p in P.paraphrase_set()]


def test_descriptive_words_never_in_caption_tables() -> None:
    vocab = _caption_vocabulary()
    phrases = []
    for table in (P.HAIR_COLOR, P.HAIR_STYLE, P.EYE_COLOR, P.FACIAL_HAIR):
        for words in table.values():
            phrases += list(words)
    for lang in (P._FR, P._DE, P._ES):
        for table in lang.values():
            phrases += list(table.values())
    clashes = {ph: _tokens(ph.replace("{c}", "")) & vocab - _FUNCTION_WORDS for ph in phrases}
    assert not {k: v for k, v in clashes.items() if v}


def test_no_paraphrase_in_training_captions() -> None:
    prompts = [p.prompt.lower() for p in P.paraphrase_set()]
    caps = [c.lower() for *_, c in captions_for_seeds(training_seeds(1500), per_seed=3)]
    joined = "\n".join(caps)
    assert not [p for p in prompts if p in joined]


# ---- paraphrases-v2: a second held-out set, fresh against the caption tables and v1 ----------
from models.style import paraphrases_v2 as V  # noqa: E402

# Glue and plain body nouns the sets share; they carry no attribute value on their own.
_GLUE = {"a", "an", "the", "of", "to", "in", "on", "with", "and", "into", "hair", "face", "coloured", "down",
         "under", "above", "at", "des", "de", "un", "une", "una", "el", "la", "les", "i", "di", "color", "cor", "cheveux",
         "barbe", "barba", "pelo", "cabello", "capelli", "cabelo", "haar", "haare", "haaren", "einem", "einer"}


def _v1_descriptive_tokens() -> set[str]:
    out: set[str] = set()
    for table in (P.HAIR_COLOR, P.HAIR_STYLE, P.EYE_COLOR, P.FACIAL_HAIR):
        for words in table.values():
            for w in words:
                out |= _tokens(w.replace("{c}", ""))
    for lang in (P._FR, P._DE, P._ES):
        for table in lang.values():
            for w in table.values():
                out |= _tokens(w.replace("{c}", ""))
    return out


def _v2_phrases() -> list[str]:
    phrases = [w for t in (V.HAIR_COLOR, V.HAIR_STYLE, V.EYE_COLOR, V.FACIAL_HAIR) for ws in t.values() for w in ws]
    phrases += [w for lang in V._FOREIGN.values() for t in lang.values() for w in t.values()]
    return phrases


def test_v2_size_languages_targets() -> None:
    ps = V.paraphrase_set_v2()
    assert len(ps) >= 200 and len({p.prompt for p in ps}) == len(ps)
    assert {"en", "fr", "de", "es", "it", "pt", "nl"} <= {p.language for p in ps}
    for p in ps:
        assert p.targets and set(p.targets) <= set(P.SCORED), p
        for k, v in p.targets.items():
            assert v in ATTRIBUTES[k], (p.prompt, k, v)
    for attr in P.SCORED:
        assert {p.targets[attr] for p in ps if attr in p.targets} == set(ATTRIBUTES[attr])
    assert [p.prompt for p in V.paraphrase_set_v2()] == [p.prompt for p in ps]


def test_v2_words_are_new_to_the_tables_and_to_v1() -> None:
    vocab, v1 = _caption_vocabulary(), _v1_descriptive_tokens()
    clashes = {ph: (_tokens(ph.replace("{c}", "")) & (vocab | v1)) - _GLUE for ph in _v2_phrases()}
    assert not {k: v for k, v in clashes.items() if v}
    v1_prompts = {p.prompt.lower() for p in P.paraphrase_set()}
    assert not [p for p in V.paraphrase_set_v2() if p.prompt.lower() in v1_prompts]


def test_v2_not_in_training_captions() -> None:
    caps = "\n".join(c.lower() for *_, c in captions_for_seeds(training_seeds(1500), per_seed=3))
    assert not [p.prompt for p in V.paraphrase_set_v2() if p.prompt.lower() in caps]
