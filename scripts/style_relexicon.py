"""Write a style checkpoint whose weights are a given one's, bit for bit, with the dictionaries rebuilt from the
current code (``build_colour_lexicon`` / ``build_hair_lexicon``): vocabulary added to ``models/style/lexicon.py``
or ``hair_words.py`` reaches a shipped text head without retraining (its features are per-class readings, not
per-word inputs).

    python scripts/style_relexicon.py checkpoints/style.safetensors -o .cache/style/relexicon.safetensors
"""
from __future__ import annotations

import argparse
import json
import sys

import torch


def main(argv: list[str] | None = None) -> int:
    from models.style.checkpoint import load_style_model, save_style_model
    from models.style.hair_words import build_hair_lexicon
    from models.style.lexicon import build_colour_lexicon

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--note", default="", help="appended to the metadata's text_path description")
    args = ap.parse_args(argv)
    model, extra = load_style_model(args.checkpoint)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.lexicon = build_colour_lexicon()
    model.hair_lexicon = build_hair_lexicon()
    if args.note:
        extra = {**extra, "relexicon": args.note}
    save_style_model(args.output, model, extra)
    again, _ = load_style_model(args.output)
    same = all(torch.equal(before[k], v) for k, v in again.state_dict().items())
    print(json.dumps({"weights_identical": same, "colour_names": len(again.lexicon.colours),
                      "aliases": len(again.lexicon.aliases), "hair_terms": len(again.hair_lexicon.terms)}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
