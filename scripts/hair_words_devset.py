"""A development set for the hair-word text path (recipe choices only; not a held-out benchmark).

    python scripts/hair_words_devset.py -o .cache/style/hair_dev_bank.safetensors      (embed it once)

Prompts made of hair-word dictionary terms and colour names that training may use (no held-out word),
in frames that neither the caption templates, the training prompts nor the held-out sets use. Each
term's class is the dictionary's own reading, so this set measures whether the trained head follows
the dictionary under new wordings; whether the dictionary is *right* about a word is what the
held-out sets measure.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from models.style.augment import ColourNames, held_out_tokens, training_terms
from models.style.bank import build_bank, save_bank
from models.style.lexicon import build_colour_lexicon
from models.style.paraphrases import Paraphrase
from models.synthetic.attributes import EYE_COLORS, FACIAL_HAIR, HAIR_COLORS, HAIR_STYLES

FRAMES = (
    "picture someone whose hair is {c}, {s}, and whose eyes are {e}{fh}",
    "{c} ({s}) - eyes {e}{fh}",
    "the character should have {e} eyes; hair {c}, {s}{fh}",
    "{s} look in {c}, {e} eyes{fh}",
    "our model has {s} {c} hair. also {e} eyes{fh}",
    "{s}{fh}",
)


def dev_set(seed: int = 11, n: int = 160) -> list[Paraphrase]:
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
        frame = rng.choice(FRAMES)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    bank, _ = build_bank([], 1, [p.prompt for p in dev_set()])
    save_bank(args.output, bank)
    return 0


if __name__ == "__main__":
    sys.exit(main())
