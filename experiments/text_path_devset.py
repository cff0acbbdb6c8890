"""Embeds the colour development set (120 prompts; recipe choices, not held out) that experiments/style_text_report.py scores. Result: docs/style.md, first pass, "Keeping the held-out sets out"; second pass, "Results" (colour dev set 0.575 -> 0.733).

A development set for the text path (model selection only; not a held-out benchmark).

    python experiments/text_path_devset.py -o .cache/style/dev_bank.safetensors      (embed it once)

Prompts built from colour-dictionary names that training may use (no held-out word) in frames that
neither the caption templates, the training augmentation nor the held-out sets use. Choices of the
training recipe are made on this set, so the two held-out sets stay untouched by them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.style.train.bank import build_bank, save_bank
from devsets import colour_dev_set


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    bank, _ = build_bank([], 1, [p.prompt for p in colour_dev_set()])
    save_bank(args.output, bank)
    return 0


if __name__ == "__main__":
    sys.exit(main())
