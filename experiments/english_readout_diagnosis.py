"""Measured: per language and attribute, counts of where prompts are lost (nothing bound, bound elsewhere, dictionary wrong, head not following) and the shapes of unbound colour clauses. Result: docs/style.md, third pass, "Why English is read worse"; tenth session, "Where the rest is lost".

Aggregate diagnosis per language of the text path's readings (counts only; no prompt or word is printed).

Per language and scored attribute: how many prompts ask it, how many the model gets right, and where the
dictionaries' own reading goes wrong (no mention / mention bound to another part / wrong class) or the head
does not follow a right reading. For colour prompts whose colour is not bound to the asked part it counts
the shapes of the binding (an orphan clause with no part noun defaulted to hair, a noun after the colour that
took it, ...), which is what the third pass's binding rules address.

    python experiments/english_readout_diagnosis.py CHECKPOINT [--set v1|v2|dev_colour]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import torch


def _colour_shape(prompt: str, lex, slot: str) -> str:
    """Why no colour of ``prompt`` is bound to ``slot``: a short label of the binding shape."""
    from models.style import lexicon as L

    extended = bool(lex.categories)
    noun_slot = {**L._NOUN_SLOT, **L._MORE_NOUN_SLOT, **{s: sl for s, sl in L._NOUN_SUFFIXES}} if extended else L._NOUN_SLOT
    clauses = L._colour_clauses(prompt, extended)
    has_noun = any(noun_slot.get(w) == slot for c in clauses for w in c)
    if not has_noun:
        return "no_part_noun"
    ms = L.find_colours(prompt, lex)
    if not ms:
        return "no_colour_word"
    for c in clauses:
        if any(noun_slot.get(w) == slot for w in c):
            if any(lex.lookup([w]) is not None for w in c):
                return "colour_in_noun_clause_taken_elsewhere"
    return "colour_only_in_other_clauses"


def main(argv: list[str] | None = None) -> int:
    from devsets import set_predictions
    from models.style.train.dictionary_reading import dictionary_reading
    from models.style.lexicon import find_colours

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--set", default="dev_colour", choices=("v1", "v2", "dev_colour"))
    ap.add_argument("--cache", type=Path, default=Path(".cache/style"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    paras, preds, model = set_predictions(args.checkpoint, args.set, args.cache)
    out: dict[str, dict] = defaultdict(lambda: defaultdict(Counter))
    for p, pred in zip(paras, preds):
        lang = p.language
        out[lang]["all"]["n"] += 1
        out[lang]["all"]["right"] += all(pred[a] == v for a, v in p.targets.items()
                                         if a in ("hair_color", "hair_style", "eye_color", "facial_hair"))
        for attr, v in p.targets.items():
            c = out[lang][attr]
            c["asked"] += 1
            c["head_right"] += pred[attr] == v
            if attr in ("hair_color", "eye_color"):
                slot = "hair" if attr == "hair_color" else "eyes"
                ms = find_colours(p.prompt, model.lexicon)
                mine = [m for m in ms if m.slot == slot]
                if not mine:
                    c["unbound"] += 1
                    c["unbound_right"] += pred[attr] == v
                    if ms:
                        c["unbound_colour_on_" + "_".join(sorted({m.slot for m in ms}))] += 1
                    c["shape_" + _colour_shape(p.prompt, model.lexicon, slot)] += 1
                    continue
                reading = dictionary_reading(p.prompt, attr, model.lexicon, None)
                c["bound"] += 1
                c["bound_dictionary_right"] += reading == v
                c["bound_head_right"] += pred[attr] == v
                c["bound_head_follows"] += pred[attr] == reading
            elif attr in ("hair_style", "facial_hair") and model.hair_lexicon is not None:
                reading = dictionary_reading(p.prompt, attr, None, model.hair_lexicon)
                if reading is None:
                    c["no_term"] += 1
                    c["no_term_head_right"] += pred[attr] == v
                else:
                    c["term"] += 1
                    c["term_dictionary_right"] += reading == v
                    c["term_head_right"] += pred[attr] == v
                    c["term_head_follows"] += pred[attr] == reading
    print(json.dumps({k: {a: dict(c) for a, c in v.items()} for k, v in sorted(out.items())}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
