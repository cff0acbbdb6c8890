"""Development sets of the style text path: recipe and model choices are made on these, so the two
held-out paraphrase sets stay untouched by them. Not benchmarks: every word in them is one training
may use (no held-out word), in sentence frames that neither the caption templates, the training
prompts nor the held-out sets use.

Embedded once by ``experiments/text_path_devset.py`` / ``experiments/hair_words_devset.py``; read by the
report and diagnosis experiments beside this module (``from devsets import ...``). The sentence frames are
data: ``assets/eval/dev_frames.yaml``.
"""
from __future__ import annotations

import random
from pathlib import Path

from models.assets import read_data
from models.style.encoders import StyleModel
from models.style.paraphrases import Paraphrase
from models.style.train.augment import ColourNames, held_out_tokens, training_terms
from models.style.train.colour_dictionary import build_colour_lexicon
from models.synthetic.attributes import (
    EYE_COLORS,
    FACIAL_HAIR,
    FACIAL_HAIR_WORDS,
    HAIR_COLORS,
    HAIR_STYLE_WORDS,
    HAIR_STYLES,
)

_FRAMES = read_data("eval/dev_frames.yaml")
COLOUR_FRAMES: tuple[str, ...] = tuple(_FRAMES["colour"])
HAIR_FRAMES: tuple[str, ...] = tuple(_FRAMES["hair"])


def colour_dev_set(seed: int = 7, n: int = 120) -> list[Paraphrase]:
    """Prompts of training-usable colour-dictionary names in frames no template, training prompt or
    held-out set uses."""
    lex = build_colour_lexicon()
    names = ColourNames.build(lex, held_out_tokens())
    rng = random.Random(seed)
    out = []
    for i in range(n):
        hc, ec = rng.choice(HAIR_COLORS), rng.choice(EYE_COLORS)
        style = rng.choice([s for s in HAIR_STYLE_WORDS if s != "bald"])
        c = rng.choice(names.by_class["hair"][hc] or [hc])
        e = rng.choice(names.by_class["eyes"][ec] or [ec])
        fh = rng.choice(list(FACIAL_HAIR_WORDS)) if i % 3 == 0 else None
        frame = rng.choice(COLOUR_FRAMES)
        text = frame.format(who="man" if fh else rng.choice(("woman", "person")), c=c, e=e,
                            s=rng.choice(HAIR_STYLE_WORDS[style]).replace(" of", ""),
                            fh=f", {FACIAL_HAIR_WORDS[fh][0]}" if fh else "")
        t = {"hair_color": hc, "hair_style": style, "eye_color": ec}
        if fh and "{fh}" in frame:  # the frame names the beard (the formatted text no longer holds "{fh}")
            t["facial_hair"] = fh
        out.append(Paraphrase(text, t))
    return out


def hair_dev_set(seed: int = 11, n: int = 160) -> list[Paraphrase]:
    """Prompts of hair-word terms and training-usable colour names in new frames, labelled with the
    dictionary's own reading (does the trained head follow the dictionary under new wordings?)."""
    banned = held_out_tokens()
    names = ColourNames.build(build_colour_lexicon(), banned)
    terms = training_terms(banned)
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        lang = rng.choice(list(terms)) if rng.random() < 0.3 else "en"
        style = rng.choice([s for s in HAIR_STYLES if s != "bald" and terms[lang]["hair_style"][s]])
        hc, ec = rng.choice(HAIR_COLORS), rng.choice(EYE_COLORS)
        fh = rng.choice(FACIAL_HAIR) if rng.random() < 0.4 else None
        fh_terms = terms[lang]["facial_hair"].get(fh, []) if fh else []
        frame = rng.choice(HAIR_FRAMES)
        text = frame.format(c=rng.choice(names.by_class["hair"][hc] or [hc]), e=rng.choice(names.by_class["eyes"][ec] or [ec]),
                            s=rng.choice(terms[lang]["hair_style"][style]),
                            fh=f", {rng.choice(fh_terms)}" if fh_terms else "")
        t = {"hair_style": style}
        if "{c}" in frame:
            t["hair_color"] = hc
        if "{e}" in frame:
            t["eye_color"] = ec
        if fh_terms:
            t["facial_hair"] = fh
        out.append(Paraphrase(text, t))
    return out


PROMPT_SETS: dict[str, str] = {  # set name -> file stem of its embedding bank in the style cache (.cache/style)
    "v1": "paraphrase_bank", "v2": "paraphrase_v2_bank", "dev_colour": "dev_bank_v2", "dev_hair": "hair_dev_bank"}


def prompt_set(name: str) -> tuple[list[Paraphrase], str]:
    """A named prompt set (held-out v1 / v2, or a development set) and its bank's file stem.

    The held-out sets are imported only here, for the metric: their word lists are never read to
    make dictionaries or training prompts (docs/style.md).
    """
    if name in ("v1", "v2"):
        from models.style.paraphrases import paraphrase_set  # the held-out sets only when asked for

        return paraphrase_set(name), PROMPT_SETS[name]
    if name == "dev_colour":
        return colour_dev_set(), PROMPT_SETS[name]
    if name == "dev_hair":
        return hair_dev_set(), PROMPT_SETS[name]
    raise ValueError(f"unknown prompt set {name!r}; use one of {', '.join(PROMPT_SETS)}")


def set_predictions(checkpoint: str, name: str, cache: Path) -> tuple[list[Paraphrase], list[dict[str, str]], StyleModel]:
    """A named prompt set read by a style checkpoint through its whole text path, from the set's
    embedding bank in ``cache``: (prompts, per-prompt attribute predictions, the style model)."""
    from models.style.checkpoint import load_style_model
    from models.style.encoders import attribute_predictions
    from models.style.train.distill import _bank_embeddings

    paras, bank = prompt_set(name)
    model, _ = load_style_model(checkpoint)
    emb = _bank_embeddings(str(cache / f"{bank}.safetensors"), paras)
    return paras, attribute_predictions(model, model.encode_prompts([p.prompt for p in paras], emb)), model
