"""Natural-language captions of synthetic heads, from many templates and synonyms.

``caption(attrs)`` is the head's fixed caption (the rng is seeded from the head's seed, so a
head always reads the same); ``caption(attrs, rng)`` draws another paraphrase, which training
uses so a text encoder sees many wordings of one head. Every caption names the hair colour and
style (a bald head says so), so colour and style words are always grounded.
"""
from __future__ import annotations

import random

from models.synthetic.attributes import (BALD_PHRASES, CAPTION_TEMPLATES, EXPRESSION_WORDS, EYE_COLOR_WORDS,
                                         FACIAL_HAIR_WORDS, FRECKLE_WORDS, GARMENT_WORDS, GLASSES_WORDS, HAIR_COLOR_WORDS,
                                         HAIR_STYLE_WORDS, HAT_WORDS, LIPSTICK_PHRASES, MOUTH_OPEN_PHRASES, NECKLINE_WORDS,
                                         PERSON_WORDS, SKIN_WORDS, HeadAttributes)


def article(word: str) -> str:
    """"a" or "an" before ``word``."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def hair_phrase(attrs: HeadAttributes, rng: random.Random) -> str:
    """'long wavy auburn hair', 'a bun of blonde hair', 'a bald head'."""
    if attrs.hair_style == "bald":
        return rng.choice(BALD_PHRASES)
    colour = rng.choice(HAIR_COLOR_WORDS[attrs.hair_color])
    style = rng.choice(HAIR_STYLE_WORDS[attrs.hair_style])
    if style.endswith(" of"):
        return f"{article(style)} {style} {colour} hair"
    return f"{style} {colour} hair"


def facial_hair_phrase(attrs: HeadAttributes, rng: random.Random) -> str:
    """'a thick moustache', 'a grey full beard' (its colour said where it differs from the hair's, or sometimes)."""
    fh = rng.choice(FACIAL_HAIR_WORDS[attrs.facial_hair])
    if attrs.facial_hair_color != attrs.hair_color or rng.random() < 0.3:
        colour = rng.choice(HAIR_COLOR_WORDS[attrs.facial_hair_color])
        fh = fh.replace("a ", f"{article(colour)} {colour} ", 1) if fh.startswith("a ") else f"{colour} {fh}"
    return fh


def hat_phrase(attrs: HeadAttributes, rng: random.Random) -> str:
    hat = rng.choice(HAT_WORDS[attrs.hat])
    colour = rng.choice(GARMENT_WORDS[attrs.hat_color])
    return hat.replace("a ", f"{article(colour)} {colour} ", 1)


def garment_phrase(attrs: HeadAttributes, rng: random.Random) -> str:
    garment = rng.choice(NECKLINE_WORDS[attrs.neckline])
    colour = rng.choice(GARMENT_WORDS[attrs.clothes_color])
    return f"{article(colour)} {colour} {garment}"


def _extras(attrs: HeadAttributes, rng: random.Random) -> str:
    bits = []
    if attrs.facial_hair != "none":
        fh = facial_hair_phrase(attrs, rng)
        bits.append(("with " if rng.random() < 0.5 else "") + fh)
    wearing = []
    if attrs.glasses != "none":
        wearing.append(rng.choice(GLASSES_WORDS[attrs.glasses]))
    if attrs.hat != "none":
        wearing.append(hat_phrase(attrs, rng))
    if rng.random() < 0.8:
        wearing.append(garment_phrase(attrs, rng))
    if wearing:
        joined = wearing[0] if len(wearing) == 1 else ", ".join(wearing[:-1]) + " and " + wearing[-1]
        accessory = attrs.glasses != "none" or attrs.hat != "none"  # one is not "dressed in" glasses
        bits.append((("wearing ", "with ") if accessory else ("wearing ", "in ", "dressed in "))[rng.randrange(2 + (not accessory))] + joined)
    if attrs.lip_color != "natural" and rng.random() < 0.8:
        bits.append("with " + rng.choice(LIPSTICK_PHRASES[attrs.lip_color]))
    if attrs.mouth_open and rng.random() < 0.7:
        bits.append(rng.choice(MOUTH_OPEN_PHRASES))
    if attrs.expression in EXPRESSION_WORDS and rng.random() < 0.7:
        bits.append("with " + rng.choice(EXPRESSION_WORDS[attrs.expression]))
    if attrs.freckles > 0 and rng.random() < 0.7:
        bits.append("with " + rng.choice(FRECKLE_WORDS["freckles"]))
    rng.shuffle(bits)
    return "".join(", " + b for b in bits if b)


def caption(attrs: HeadAttributes, rng: random.Random | None = None) -> str:
    """One caption of a head; without ``rng`` the head's own fixed caption."""
    rng = random.Random(attrs.seed * 7 + 3) if rng is None else rng
    person = rng.choice(PERSON_WORDS[(attrs.presentation, attrs.age)])
    hair = hair_phrase(attrs, rng)
    template = rng.choice(CAPTION_TEMPLATES)
    text = template.format(
        a_person=f"{article(person)} {person}", A_person=f"{article(person).capitalize()} {person}", person=person,
        hair=hair, Hair=hair[:1].upper() + hair[1:], eyes=rng.choice(EYE_COLOR_WORDS[attrs.eye_color]),
        skin=rng.choice(SKIN_WORDS[attrs.skin_tone]), extras=_extras(attrs, rng))
    return text[:1].upper() + text[1:]


def short_caption(attrs: HeadAttributes, rng: random.Random) -> str:
    """A short prompt as an artist types one: one to three of the head's parts, in the captions' own words
    ('fair skin', 'red hair, green eyes', 'a woman with a bob of blonde hair and a teal v-neck sweater'). Parts the
    prompt leaves out are left to the model; parts the head lacks (a beard, glasses, a hat) are never named."""
    parts = [lambda: hair_phrase(attrs, rng),
             lambda: f"{rng.choice(EYE_COLOR_WORDS[attrs.eye_color])} eyes",
             lambda: f"{rng.choice(SKIN_WORDS[attrs.skin_tone])} skin",
             lambda: garment_phrase(attrs, rng)]
    if attrs.facial_hair != "none":
        parts.append(lambda: facial_hair_phrase(attrs, rng))
    if attrs.glasses != "none":
        parts.append(lambda: rng.choice(GLASSES_WORDS[attrs.glasses]))
    if attrs.hat != "none":
        parts.append(lambda: hat_phrase(attrs, rng))
    if attrs.expression in EXPRESSION_WORDS:
        parts.append(lambda: rng.choice(EXPRESSION_WORDS[attrs.expression]))
    if attrs.freckles > 0:
        parts.append(lambda: rng.choice(FRECKLE_WORDS["freckles"]))
    chosen = [make() for make in rng.sample(parts, rng.choice((1, 1, 2, 2, 3)))]
    text = ", ".join(chosen) if rng.random() < 0.6 else " and ".join(chosen)
    if rng.random() < 0.3:  # sometimes who it is, first
        person = rng.choice(PERSON_WORDS[(attrs.presentation, attrs.age)])
        text = f"{article(person)} {person} with {text}"
    return text
