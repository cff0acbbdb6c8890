"""Measured: counts of where hair / eye colour prompts are lost (no colour bound to the part, bound to another part, dictionary class wrong, head not following it). Result: docs/style.md, second pass, "What changed" item 2.

Aggregate diagnosis of colour reading on a prompt set (counts only; no prompt or word is printed).

For prompts that name a hair (eye) colour: how many have a colour mention bound to that part, how often
the dictionary's own reading (nearest class within the colour's category) is the asked value, and how
often the trained head's prediction is, agrees with the dictionary, or is right without any mention.
Tells apart "the dictionary reads the word wrong" from "the head does not follow the dictionary".

    python experiments/colour_readout_diagnosis.py CHECKPOINT [--set v1|v2|dev_colour|dev_hair]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def main(argv: list[str] | None = None) -> int:
    from devsets import PROMPT_SETS, set_predictions
    from models.style.lexicon import find_colours

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--set", default="dev_colour", choices=tuple(PROMPT_SETS))
    ap.add_argument("--cache", type=Path, default=Path(".cache/style"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    paras, preds, model = set_predictions(args.checkpoint, args.set, args.cache)
    out = {}
    for attr, slot, table in (("hair_color", "hair", "hair"), ("eye_color", "eyes", "eyes")):
        c = {"asked": 0, "mention": 0, "several_mentions": 0, "dictionary_right": 0, "head_right_with_mention": 0,
             "head_follows_dictionary": 0, "head_right_dictionary_wrong": 0, "head_right_no_mention": 0,
             "mention_on_another_part": 0}
        for p, pred in zip(paras, preds):
            if attr not in p.targets:
                continue
            c["asked"] += 1
            ms = find_colours(p.prompt, model.lexicon)
            mine = [m for m in ms if m.slot == slot]
            if not mine:
                c["head_right_no_mention"] += pred[attr] == p.targets[attr]
                c["mention_on_another_part"] += bool(ms)
                continue
            c["mention"] += 1
            c["several_mentions"] += len(mine) > 1
            from models.style.lexicon import srgb_to_lab  # noqa: PLC0415
            lab = srgb_to_lab(torch.tensor([list(m.rgb) for m in mine], dtype=torch.float32)).mean(0)
            cats = [m.category for m in mine]
            names, d = model.lexicon.class_distances(lab, table, cats if all(cats) else ())
            reading = names[int(d.argmin())]
            c["dictionary_right"] += reading == p.targets[attr]
            c["head_right_with_mention"] += pred[attr] == p.targets[attr]
            c["head_follows_dictionary"] += pred[attr] == reading
            c["head_right_dictionary_wrong"] += pred[attr] == p.targets[attr] != reading
        out[attr] = c
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
