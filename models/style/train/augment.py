"""Training prompts for the text path that are not worded like the engine's caption templates.

The caption templates name every colour with a dozen words; artists use hundreds. Here a head's
attributes are re-worded with (a) colour names from the colour dictionary (``lexicon.py``) whose
colour is nearest to the attribute's class colours, on hair, eyes, beard and clothes, and (b) other
frames and phrasings written for training: short and long prompts, eyes first, lists, imperatives,
parts left out. Each prompt comes with the attributes it names (only those are scored).

Held-out sets stay out: a dictionary name is never used in training when one of its words is a
descriptive word of ``paraphrases-v1`` or ``paraphrases-v2`` (``held_out_tokens``); the phrases
in ``assets/style/training_phrases.yaml`` are checked disjoint from both sets in ``tests/test_style_text_path.py``.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from models.assets import read_data
from models.style.lexicon import ColourLexicon, colour_terms, normalise_name
from models.style.train.colour_dictionary import CLAMP_DELTA_E
from models.synthetic.attributes import (EXPRESSION_WORDS, FRECKLE_WORDS, GARMENT_WORDS, HAIR_COLOR_WORDS,
                                         MOUTH_OPEN_PHRASES, NECKLINE_WORDS, PERSON_WORDS, HeadAttributes)
from models.synthetic.captions import article

_MAX_DELTA_E = CLAMP_DELTA_E  # a dictionary name stands for a class only when this near one of its colours
# Phrases and sentence frames written for training (assets/style/training_phrases.yaml): template words are
# fine, held-out words are not. {c} = a colour phrase.
_WRITTEN = read_data("style/training_phrases.yaml")
STYLE_PHRASES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _WRITTEN["style_phrases"].items()}
FACIAL_PHRASES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _WRITTEN["facial_phrases"].items()}
FRAMES: tuple[str, ...] = tuple(_WRITTEN["frames"])


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", text.lower()))


def held_out_tokens() -> set[str]:
    """Descriptive words of both held-out paraphrase sets: never used in training prompts."""
    from models.style.paraphrases import descriptive_phrases, held_out_set  # noqa: PLC0415

    out: set[str] = set()
    for name in ("v1", "v2"):
        for phrase in descriptive_phrases(name):
            out |= _tokens(phrase.replace("{c}", ""))
        held = held_out_set(name)
        for p in held["prompts"][:held["handwritten"]]:  # the prompts written whole
            out |= _tokens(p["prompt"])
    return out


@dataclass
class ColourNames:
    """Dictionary names usable in training, per reference table and class value."""

    by_class: dict[str, dict[str, list[str]]]

    @classmethod
    def build(cls, lexicon: ColourLexicon, banned: set[str], english_aliases: bool = False) -> "ColourNames":
        """``english_aliases``: also the English hair- and eye-colour words the colour lists lack ("stormy",
        "icy", "whiskey" eyes; "greying", "coppery" hair), each for the class its table gives it; banned words
        never (third-pass training prompts)."""
        by_class: dict[str, dict[str, list[str]]] = {}
        for table in ("hair", "eyes", "garment"):
            by_class[table] = {v: [] for v in lexicon.prototypes[table]}
            usable = [n for n in lexicon.colours  # no held-out word; no CSS run-together names ("mediumslateblue")
                      if not _tokens(n) & banned and (" " in n or len(n) <= 12)]
            values, dist = lexicon.classify_many([lexicon.colours[n] for n in usable], table,
                                                 [lexicon.categories.get(n, "") for n in usable])
            for name, value, d in zip(usable, values, dist.tolist()):
                if d <= _MAX_DELTA_E:
                    by_class[table][value].append(name)
        if english_aliases:
            for terms in (colour_terms()["eyes"]["en"], colour_terms()["hair"]["en"]):
                for base, forms in terms.items():
                    table, value = base.lstrip("@").split(":", 1)
                    for form in forms:
                        name = normalise_name(form)
                        if (value in by_class[table] and not _near_banned(name, banned) and lexicon.lookup(name.split())
                                and name not in by_class[table][value]):
                            by_class[table][value].append(name)
        return cls(by_class)

    def pick(self, rng: random.Random, table: str, value: str, template_words: tuple[str, ...] = ()) -> str:
        names = self.by_class[table].get(value, [])
        if template_words and (not names or rng.random() < 0.3):
            return rng.choice(template_words)
        return rng.choice(names) if names else value.replace("_", " ")


def _near_banned(name: str, banned: set[str]) -> bool:
    """A held-out word, or a form of one ("hennaed"), or a fixed phrase holding one ("saltandpepper" is
    "salt and pepper"): kept out of training prompts."""
    from models.style.lexicon import _PHRASES  # noqa: PLC0415

    words = _tokens(name) | {t for phrase, token in _PHRASES.items() if token in name for t in _tokens(phrase)}
    return any(w in banned or any(len(b) >= 5 and (w.startswith(b) or _one_insert_apart(w, b)) for b in banned)
               for w in words)


def _one_insert_apart(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one inserted letter ("mousey" / "mousy", "greyed" / "greed")."""
    if abs(len(a) - len(b)) != 1:
        return False
    long, short = (a, b) if len(a) > len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def augmented_prompt(attrs: HeadAttributes, rng: random.Random, names: ColourNames) -> tuple[str, dict[str, str]]:
    """One training prompt for a head and the scored attributes it names."""
    from models.synthetic.attributes import EYE_COLOR_WORDS  # noqa: PLC0415

    person = rng.choice(PERSON_WORDS[(attrs.presentation, attrs.age)])
    colour = names.pick(rng, "hair", attrs.hair_color, HAIR_COLOR_WORDS[attrs.hair_color])
    if rng.random() < 0.25:
        colour = f"{colour}-coloured" if rng.random() < 0.5 else f"{colour} coloured"
    hair = rng.choice(STYLE_PHRASES[attrs.hair_style]).format(c=colour)
    eyes = names.pick(rng, "eyes", attrs.eye_color, EYE_COLOR_WORDS[attrs.eye_color])
    fh_only = ""
    if attrs.facial_hair != "none" or (attrs.presentation == "man" and rng.random() < 0.5):
        fcol = names.pick(rng, "hair", attrs.facial_hair_color, HAIR_COLOR_WORDS[attrs.facial_hair_color])
        fh_only = rng.choice(FACIAL_PHRASES[attrs.facial_hair]).format(c=fcol)
    garment = rng.choice(NECKLINE_WORDS[attrs.neckline])
    ccol = names.pick(rng, "garment", attrs.clothes_color, GARMENT_WORDS[attrs.clothes_color])
    clothes = f"{article(ccol)} {ccol} {garment}"
    frame = rng.choice(FRAMES)
    if "{fh_only}" in frame and not fh_only:
        frame = FRAMES[0]
    say_fh = bool(fh_only) and ("{fh" in frame) and rng.random() < 0.8
    text = frame.format(
        person=person, person_a=f"{article(person)} {person}", hair=hair, eyes=eyes, clothes=clothes, fh_only=fh_only,
        fh=f", {fh_only}" if say_fh else "", fh_semi=f"; beard: {fh_only}" if say_fh else "",
        fh_sentence=f" {fh_only[:1].upper() + fh_only[1:]}." if say_fh else "")
    text = re.sub(r"\b([aA]) (?=[aeiouAEIOU])", r"\1n ", text)
    text = text[:1].upper() + text[1:]
    targets: dict[str, str] = {}
    if "{hair}" in frame:
        targets["hair_style"] = attrs.hair_style
        if attrs.hair_style != "bald":
            targets["hair_color"] = attrs.hair_color
    if "{eyes}" in frame:
        targets["eye_color"] = attrs.eye_color
    if say_fh or "{fh_only}" in frame:
        targets["facial_hair"] = attrs.facial_hair
    return text, targets


def _says(text: str, phrases) -> bool:
    return any(re.search(rf"\b{re.escape(p.lower())}\b", text) for p in phrases)


def look_targets(text: str, attrs: HeadAttributes) -> dict[str, str]:
    """What a prompt written for this head says about its age, expression and freckles (engine v2's look), as
    attribute targets: the age wherever a person word of the head's own age stands ("an elderly woman"); an
    expression or freckles wherever their words stand; "neutral" and "none" where a prompt that names the person
    says neither of a head that has neither (what an artist who names nothing gets). A prompt that leaves out the
    smile of a smiling head teaches nothing about expression."""
    t = text.lower()
    out: dict[str, str] = {}
    whole = _says(t, PERSON_WORDS[(attrs.presentation, attrs.age)])
    if whole:
        out["age"] = attrs.age
    said = EXPRESSION_WORDS.get(attrs.expression, ()) + (MOUTH_OPEN_PHRASES if attrs.mouth_open else ())
    if said and _says(t, said):
        out["expression"] = attrs.expression
    elif whole and attrs.expression == "neutral" and not attrs.mouth_open:
        out["expression"] = "neutral"
    if attrs.freckles > 0 and _says(t, FRECKLE_WORDS["freckles"]):
        out["freckles"] = "freckles"
    elif whole and attrs.freckles == 0:
        out["freckles"] = "none"
    return out


class TextPathCaptions:
    """Caption function for a caption bank: variant 0 is the head's template caption, variant k > 0
    an augmented prompt drawn from an rng seeded by (seed, k), so a bank row can be re-derived
    (with its targets) from its seed and variant alone."""

    # the class's name as it was before this module moved to train/ (banks record ``getattr(fn, "__qualname__")`` of
    # the instance, which Python does not look up on the class: they say "custom", before the move as after it)
    __qualname__ = "models.style.augment.TextPathCaptions"

    def __init__(self, lexicon: ColourLexicon) -> None:
        banned = held_out_tokens()
        self.names = ColourNames.build(lexicon, banned)
        self._lexicon = lexicon
        self._banned = banned
        self._words: WordPrompts | None = None
        self._words3: WordPrompts | None = None

    def prompt(self, attrs: HeadAttributes, variant: int) -> tuple[str, dict[str, str]]:
        text, targets = self._prompt(attrs, variant)
        return text, {**targets, **look_targets(text, attrs)}

    def _prompt(self, attrs: HeadAttributes, variant: int) -> tuple[str, dict[str, str]]:
        if variant >= LOOK_VARIANT:  # the engine's own wording, drawn again: it names expressions and freckles
            from models.style.train.captions import engine_caption  # noqa: PLC0415

            return engine_caption(attrs, variant), {}
        if variant == 0:
            from models.style.train.captions import engine_caption  # noqa: PLC0415

            a = attrs
            targets = {"hair_style": a.hair_style, "eye_color": a.eye_color}
            if a.hair_style != "bald":
                targets["hair_color"] = a.hair_color
            if a.facial_hair != "none":  # template captions name a beard only when there is one
                targets["facial_hair"] = a.facial_hair
            return engine_caption(attrs, 0), targets
        if variant >= THIRD_PASS_VARIANT:  # the third pass's English words too (eye-colour words, hair phrases)
            if self._words3 is None:
                names = ColourNames.build(self._lexicon, self._banned, english_aliases=True)
                self._words3 = WordPrompts(names, self._banned, third_pass=True)
            return self._words3.prompt(attrs, random.Random(attrs.seed * 1_000_039 + variant * 7_907 + 3))
        if variant >= WORD_VARIANT:
            if self._words is None:
                self._words = WordPrompts(self.names, self._banned)
            return self._words.prompt(attrs, random.Random(attrs.seed * 1_000_039 + variant * 7_907 + 3))
        return augmented_prompt(attrs, random.Random(attrs.seed * 1_000_033 + variant * 9_173 + 5), self.names)

    def __call__(self, attrs: HeadAttributes, variant: int) -> str:
        return self.prompt(attrs, variant)[0]


# ---- prompts worded with the hair-word dictionary (hair_dictionary.py): variants >= WORD_VARIANT -----
WORD_VARIANT = 3  # variants 1-2 are ``augmented_prompt``; 3-5 are ``word_prompt``
THIRD_PASS_VARIANT = 6  # 6.. are word prompts with the third pass's words (older banks' variants 1-5 replay as made)
LOOK_VARIANT = 100  # 100.. are engine captions drawn again (scripts/embed_captions.py --look): age, expression, freckles
# Words every prompt may use although a held-out prompt also does (grammar, part nouns); descriptive
# words of the held-out sets are never drawn (``training_terms``).
GLUE = frozenset(_WRITTEN["glue"])
_WORD_FRAMES: tuple[str, ...] = tuple(_WRITTEN["word_frames"])
_HAIR_FORMS: tuple[str, ...] = tuple(_WRITTEN["hair_forms"])  # {t}: a term, {c}: a colour or nothing
_NEG_WORDS: tuple[str, ...] = tuple(_WRITTEN["negations"])
_MIN_MARGIN = 1.3  # a term teaches its class only when the dictionary prefers it by this factor to the next


def usable_term(term: str, banned: set[str]) -> bool:
    """A dictionary term may appear in training prompts: none of its words is a held-out descriptive word
    (template-table words and grammar excepted)."""
    from models.synthetic import attributes as A  # noqa: PLC0415

    template = {t for n in dir(A) if n.endswith("_WORDS") for ws in getattr(A, n).values() for w in ws
                for t in _tokens(w)}
    from models.style.hair_words import _fold  # noqa: PLC0415

    words = _tokens(term) | {_fold(t) for t in _tokens(term)}  # prompts are read accent-folded too
    return not (words & banned) - GLUE - template


def training_terms(banned: set[str], third_pass: bool = False) -> dict[str, dict[str, dict[str, list[str]]]]:
    """{language: {slot: {class: [terms as written]}}}: dictionary terms whose own reading is that class and
    that hold no held-out word (template words and glue allowed)."""
    from models.style.hair_words import WORD_SLOTS, slot_posteriors  # noqa: PLC0415
    from models.style.train.hair_dictionary import build_hair_lexicon, term_table  # noqa: PLC0415

    lex = build_hair_lexicon()
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for lang, table in term_table(third_pass).items():
        out[lang] = {slot: {c: [] for c in cls} for slot, cls in WORD_SLOTS.items()}
        for slot, facets in table.items():
            for words in facets.values():
                for term in words:
                    if not usable_term(term, banned):
                        continue
                    post = slot_posteriors(term, lex).get(slot)
                    top2 = post.topk(2).values if post is not None else None
                    if top2 is None or float(top2[0]) < _MIN_MARGIN * float(top2[1]):  # "hat": beanie or cap?
                        continue
                    c = WORD_SLOTS[slot][int(post.argmax())]
                    if term not in out[lang][slot][c]:
                        out[lang][slot][c].append(term)
    return out


# Per language: hair noun phrase forms ({t} term), and its "no" / "without".
_LANG_FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    lang: (tuple(forms["forms"]), tuple(forms["negations"])) for lang, forms in _WRITTEN["languages"].items()}
_FOREIGN_SHARE = 0.35  # share of word prompts written in another language


class WordPrompts:
    """Training prompts that name hairstyle / facial hair / glasses / hat with dictionary terms (one or two
    composed, e.g. "waist length" + "wavy"), negations ("no beard") and colour names, in English or (35 %)
    in one of the other languages; only prompts whose dictionary reading equals the head's value are
    kept, so the features always teach the right class."""

    def __init__(self, names: ColourNames, banned: set[str], third_pass: bool = False) -> None:
        from models.style.train.hair_dictionary import build_hair_lexicon  # noqa: PLC0415

        self.names = names
        self.lex = build_hair_lexicon()
        self.terms = training_terms(banned, third_pass)
        from models.style.train.hair_dictionary import term_table  # noqa: PLC0415

        generic = self.lex._generic["hair_style"]  # length / texture words, composed with another term
        self.generic = {lang: [t for f, ts in table["hair_style"].items() if f in generic for t in ts
                               if usable_term(t, banned)] for lang, table in term_table(third_pass).items()}
        self.beards = {lang: [t for c in ("stubble", "moustache", "goatee", "full_beard") for t in d["facial_hair"][c]]
                       for lang, d in self.terms.items()}

    def _facet(self, term: str) -> str:
        from models.style.hair_words import _norm  # noqa: PLC0415

        return self.lex.terms.get(" ".join(_norm(term)), ("", ""))[1]

    def _read(self, text: str, slot: str) -> str | None:
        from models.style.train.dictionary_reading import predicted_class  # noqa: PLC0415

        return predicted_class(text, self.lex, slot)

    def _hair(self, rng: random.Random, lang: str, style: str, colour: str) -> str | None:
        pool = self.terms[lang]["hair_style"][style]
        for _ in range(30 if pool else 0):
            t = rng.choice(pool)
            if rng.random() < 0.4 and self.generic[lang]:  # compose with a length / texture word
                g = rng.choice(self.generic[lang])
                t = t if g == t else f"{g} {t}" if rng.random() < 0.5 or g == t else f"{t}, {g}"
            if lang != "en":
                phrase = rng.choice(_LANG_FORMS[lang][0]).format(t=t)
            elif style == "bald":
                phrase = rng.choice(("{t}", "a {t} head", "{t}")).format(t=t)
            else:
                phrase = rng.choice(_HAIR_FORMS).format(t=t, c=colour)
            if self._read(phrase, "hair_style") == style:
                return phrase
        return None

    def _negated(self, rng: random.Random, lang: str, pool: list[str]) -> str:
        neg = rng.choice(_NEG_WORDS if lang == "en" else _LANG_FORMS[lang][1])
        return f"{neg} {rng.choice(pool)}"

    def _facial(self, rng: random.Random, lang: str, value: str) -> str | None:
        for _ in range(30):
            if value == "none" and rng.random() < 0.5 and self.beards[lang]:
                phrase = self._negated(rng, lang, self.beards[lang])
            elif self.terms[lang]["facial_hair"][value]:
                phrase = rng.choice(self.terms[lang]["facial_hair"][value])
                if lang == "en" and rng.random() < 0.2:
                    phrase = f"a {phrase}"
            else:
                return None
            if self._read(phrase, "facial_hair") == value:
                return phrase
        return None

    def _simple(self, rng: random.Random, lang: str, slot: str, value: str) -> str | None:
        for _ in range(20):
            if value == "none":
                pool = [t for c, ts in self.terms[lang][slot].items() if c != "none" for t in ts]
                if not pool:
                    return None
                phrase = self._negated(rng, lang, pool)
            elif self.terms[lang][slot][value]:
                phrase = rng.choice(self.terms[lang][slot][value])
            else:
                return None
            if self._read(phrase, slot) == value:
                return phrase
        return None

    def prompt(self, attrs: HeadAttributes, rng: random.Random) -> tuple[str, dict[str, str]]:
        from models.synthetic.attributes import EYE_COLOR_WORDS  # noqa: PLC0415

        lang = rng.choice(list(_LANG_FORMS)) if rng.random() < _FOREIGN_SHARE else "en"
        person = rng.choice(PERSON_WORDS[(attrs.presentation, attrs.age)])
        colour = self.names.pick(rng, "hair", attrs.hair_color, HAIR_COLOR_WORDS[attrs.hair_color])
        hair = self._hair(rng, lang, attrs.hair_style, colour)
        fh = None
        if attrs.facial_hair != "none" or rng.random() < 0.5:
            fh = self._facial(rng, lang, attrs.facial_hair)
        gl = self._simple(rng, lang, "glasses", attrs.glasses) if rng.random() < 0.5 else None
        hat = self._simple(rng, lang, "hat", attrs.hat) if rng.random() < 0.35 else None
        targets: dict[str, str] = {}
        parts = [p for p in (hair, fh, gl, hat) if p]
        if lang != "en" and parts:  # a list in that language: its style words only (colours have their own aliases)
            rng.shuffle(parts)
            text = ", ".join(parts)
            for key, val, said in (("hair_style", attrs.hair_style, hair), ("facial_hair", attrs.facial_hair, fh),
                                   ("glasses", attrs.glasses, gl), ("hat", attrs.hat, hat)):
                if said:
                    targets[key] = val
            return text[:1].upper() + text[1:], targets
        eyes = self.names.pick(rng, "eyes", attrs.eye_color, EYE_COLOR_WORDS[attrs.eye_color])
        frame = rng.choice(_WORD_FRAMES)
        if hair is None and "{hair}" in frame or fh is None and "{fh_only}" in frame or gl is None and "{gl_only}" in frame:
            frame = "{person} with {fh_only}{gl}" if fh and hair is None else "{person}{fh}{gl}{hat}"
        text = frame.format(person=person, person_a=f"{article(person)} {person}", hair=hair or "", eyes=eyes,
                            fh_only=fh or "", gl_only=gl or "", fh=f", {fh}" if fh else "", gl=f", {gl}" if gl else "",
                            hat=f", {hat}" if hat else "")
        text = re.sub(r"\b([aA]) (?=[aeiouAEIOU])", r"\1n ", text)
        text = text[:1].upper() + text[1:]
        if "{hair}" in frame and hair:
            targets["hair_style"] = attrs.hair_style
            if attrs.hair_style != "bald":
                targets["hair_color"] = attrs.hair_color
        if "{eyes}" in frame:
            targets["eye_color"] = attrs.eye_color
        if fh and ("{fh" in frame):
            targets["facial_hair"] = attrs.facial_hair
        if gl and ("{gl" in frame):
            targets["glasses"] = attrs.glasses
        if hat and "{hat}" in frame:
            targets["hat"] = attrs.hat
        return text, targets
