"""Give a caption bank each caption's text style from a style model, made here on the CPU.

Edit training with `data.bank_styles: true` then takes those styles as they are (models/training/stages.py), so a
GPU machine that carries the bank and the shipped style model (its image encoder) can train the edit model on a new
text path without carrying the new style model itself (the 64 MiB a GPU call carries has no room for a second one).
A bank with styles is refused by a recipe without that option.

    python scripts/bank_styles.py runs/q19/bank_train_plain.safetensors --style runs/q19/style_look1.safetensors \
        --styles-only -o .gpu/bank_train_look.safetensors
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from models.errors import PercheadError
from models.style.checkpoint import load_style_model
from models.style.train.bank import load_bank, save_bank, with_styles


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bank", type=Path, help="a caption bank (scripts/embed_captions.py)")
    ap.add_argument("--style", type=Path, required=True, help="the style checkpoint whose text path makes the styles")
    ap.add_argument("--styles-only", action="store_true",
                    help="leave the embeddings out (training with data.bank_styles reads only the styles): 6 MB less "
                         "to carry for 8,000 captions")
    ap.add_argument("-o", "--output", type=Path, required=True, help="the bank with styles (may be the input)")
    args = ap.parse_args(argv)
    try:
        bank = load_bank(args.bank)
        model, _ = load_style_model(args.style)
        digest = hashlib.sha256(args.style.read_bytes()).hexdigest()[:12]
        out = with_styles(bank, model.eval(), f"{args.style.name} sha256:{digest}")
        if args.styles_only:
            out = replace(out, embeddings=out.embeddings[:, :0])
        save_bank(args.output, out)
    except PercheadError as e:
        print(f"perchead: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"output": str(args.output), "rows": len(out), "style_dim": int(out.styles.shape[1]),
                      "style_source": out.style_source}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
