"""Embeds the hair-word development set (160 prompts; recipe choices, not held out) that experiments/style_text_report.py scores. Result: docs/style.md, second pass, "Results" (hair-word dev set 0.237 -> 0.731).

A development set for the hair-word text path (recipe choices only; not a held-out benchmark).

    python experiments/hair_words_devset.py -o .cache/style/hair_dev_bank.safetensors      (embed it once)

Prompts made of hair-word dictionary terms and colour names that training may use (no held-out word),
in frames that neither the caption templates, the training prompts nor the held-out sets use. Each
term's class is the dictionary's own reading, so this set measures whether the trained head follows
the dictionary under new wordings; whether the dictionary is *right* about a word is what the
held-out sets measure.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.style.train.bank import build_bank, save_bank
from devsets import hair_dev_set


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    bank, _ = build_bank([], 1, [p.prompt for p in hair_dev_set()])
    save_bank(args.output, bank)
    return 0


if __name__ == "__main__":
    sys.exit(main())
