"""Re-embed only the rows of a text-path caption bank whose prompt ``augment.py`` now words differently.

Why: a dictionary change (a new hair term, say) shifts the random choices of some augmented prompts, and
``distill.train_text_path`` then refuses the bank; re-embedding the whole of it costs minutes of CPU
(~12 min for 18 000 rows), re-embedding the changed rows seconds.

    python scripts/refresh_text_path_bank.py IN.safetensors -o OUT.safetensors
"""
from __future__ import annotations

import argparse
import sys

import torch


def main(argv: list[str] | None = None) -> int:
    from models.style.text_backbone import TextBackbone
    from models.style.train.augment import TextPathCaptions
    from models.style.train.bank import CaptionBank, load_bank, save_bank
    from models.style.train.colour_dictionary import build_colour_lexicon
    from models.synthetic.attributes import ATTRIBUTES_VERSION, sample_attributes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bank")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    bank = load_bank(args.bank)
    captions = TextPathCaptions(build_colour_lexicon())
    texts = list(bank.captions)
    changed = []
    for r in bank.seed_rows().tolist():
        text, _ = captions.prompt(sample_attributes(int(bank.seeds[r])), int(bank.variants[r]))
        if text != texts[r]:
            texts[r] = text
            changed.append(r)
    emb = bank.embeddings.clone()  # [N, E]
    if changed:
        emb[changed] = TextBackbone().embed([texts[r] for r in changed]).to(emb.dtype)
    # every seed row re-derived from today's sample_attributes: the bank now follows today's attribute rules
    save_bank(args.output, CaptionBank(emb, bank.seeds, bank.variants, texts, bank.backbone, bank.caption_source,
                                       engine_attributes=ATTRIBUTES_VERSION))
    print(f"{len(changed)} of {len(texts)} rows re-embedded -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
