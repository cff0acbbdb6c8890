"""A development set for the text path (model selection only; not a held-out benchmark).

    python scripts/text_path_devset.py -o .cache/style/dev_bank.safetensors      (embed it once)

Prompts built from colour-dictionary names that training may use (no held-out word) in frames that
neither the caption templates, the training augmentation nor the held-out sets use. Choices of the
training recipe are made on this set, so the two held-out sets stay untouched by them.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from models.style.augment import ColourNames, held_out_tokens
from models.style.bank import build_bank, save_bank
from models.style.lexicon import build_colour_lexicon
from models.style.paraphrases import Paraphrase
from models.synthetic.attributes import EYE_COLORS, FACIAL_HAIR_WORDS, HAIR_COLORS, HAIR_STYLE_WORDS

FRAMES = (
    "picture a {who} whose hair is {c}, {s}, and whose eyes are {e}",
    "{c} hair ({s}) - eyes {e}",
    "the {who} should have {e} eyes; the hair {c} and {s}",
    "{s} look, colour {c}, {e} eyes",
    "our {who} has {c} {s} hair. also {e} eyes{fh}",
)


def dev_set(seed: int = 7, n: int = 120) -> list[Paraphrase]:
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
        text = rng.choice(FRAMES).format(who="man" if fh else rng.choice(("woman", "person")), c=c, e=e,
                                         s=rng.choice(HAIR_STYLE_WORDS[style]).replace(" of", ""),
                                         fh=f", {FACIAL_HAIR_WORDS[fh][0]}" if fh else "")
        t = {"hair_color": hc, "hair_style": style, "eye_color": ec}
        if fh and "{fh}" in text:
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
