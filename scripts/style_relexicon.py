"""Write a style checkpoint whose weights are a given one's, bit for bit, with the dictionaries rebuilt from the
current word tables (``build_colour_lexicon`` / ``build_hair_lexicon``): vocabulary added to
``assets/style/colour_terms.yaml`` or ``hair_words.yaml`` reaches a shipped text head without retraining (its features are per-class readings, not
per-word inputs). The reading settings the head was trained with (reading rules, clamp, lightness weight) are kept
from the checkpoint's own lexicon: changing them needs a retrained head (docs/style.md, ninth session).

    python scripts/style_relexicon.py checkpoints/style.safetensors -o .cache/style/relexicon.safetensors
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import torch


def main(argv: list[str] | None = None) -> int:
    from models.style.checkpoint import load_style_model, save_style_model
    from models.style.train.colour_dictionary import build_colour_lexicon
    from models.style.train.hair_dictionary import build_hair_lexicon

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--note", default="", help="appended to the metadata's text_path description")
    args = ap.parse_args(argv)
    model, extra = load_style_model(args.checkpoint)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    old = model.lexicon
    model.lexicon = build_colour_lexicon()
    if old is not None:  # the head reads colours by the rules it was trained with
        model.lexicon = replace(model.lexicon, rules=old.rules, clamp_delta_e=old.clamp_delta_e,
                                lightness_weight=old.lightness_weight)
    model.hair_lexicon = build_hair_lexicon()
    if args.note:
        extra = {**extra, "relexicon": args.note}
    save_style_model(args.output, model, extra)
    again, _ = load_style_model(args.output)
    same = all(torch.equal(before[k], v) for k, v in again.state_dict().items())
    print(json.dumps({"weights_identical": same, "colour_names": len(again.lexicon.colours),
                      "aliases": len(again.lexicon.aliases), "hair_terms": len(again.hair_lexicon.terms),
                      "rules": again.lexicon.rules, "clamp_delta_e": again.lexicon.clamp_delta_e}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
