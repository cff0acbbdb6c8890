"""Measured: how style checkpoints' text vectors render through the edit decoder (PSNR per view, hair / eyes / skin delta E, colour-match share), template vs free-form prompts, heads outside the benchmark. Result: docs/style.md, ninth session, "Choosing the recipe"; checkpoints/style.md.

How a style checkpoint's text vectors render through the edit decoder: from the heads' template captions
(what the decoder was trained on), from free-form prompts for the same heads (the colour development set's
frames with training-usable colour names, experiments/devsets.py). Heads are engine seeds outside the
benchmark block, at the benchmark views, so the fixed benchmark is not used to choose a text head.

    python experiments/style_render_check.py CHECKPOINT_DIR [CHECKPOINT_DIR ...] [--heads 24]

A checkpoint dir holds base / edit / style.safetensors (symlinks are fine: same edit model, another style
file). Prints one JSON line per (checkpoint, prompt kind): edit PSNR per view group, delta E of hair / eyes /
skin against the shaded references, and the share whose colour reads nearest the asked value.
"""
from __future__ import annotations

import argparse
import json
import random
import sys

_FIRST_SEED = 5_000_000  # far from the benchmark block; skipped seeds are checked with is_benchmark_seed


def _free_form_prompt(attrs, names, rng: random.Random) -> str:
    """A colour-dev-set frame filled in for one head's attributes (bald heads get a buzz cut's words)."""
    from devsets import COLOUR_FRAMES
    from models.synthetic.attributes import FACIAL_HAIR_WORDS, HAIR_STYLE_WORDS

    style = attrs.hair_style if attrs.hair_style != "bald" else "buzz"
    c = rng.choice(names.by_class["hair"][attrs.hair_color] or [attrs.hair_color.replace("_", " ")])
    e = rng.choice(names.by_class["eyes"][attrs.eye_color] or [attrs.eye_color.replace("_", " ")])
    fh = attrs.facial_hair if attrs.facial_hair != "none" else None
    return rng.choice(COLOUR_FRAMES).format(
        who="man" if fh else "person", c=c, e=e, s=rng.choice(HAIR_STYLE_WORDS[style]).replace(" of", ""),
        fh=f", {FACIAL_HAIR_WORDS[fh][0]}" if fh else "")


def _partial_template_prompt(attrs, rng: random.Random) -> str:
    """Template words (what the decoder was trained on), but only for what free-form prompts name: hair, eyes,
    facial hair. Sets the information a free-form prompt carries apart from its wording."""
    from models.synthetic.attributes import EYE_COLOR_WORDS, FACIAL_HAIR_WORDS
    from models.synthetic.captions import hair_phrase

    text = f"{hair_phrase(attrs, rng)}, {rng.choice(EYE_COLOR_WORDS[attrs.eye_color])} eyes"
    if attrs.facial_hair != "none":
        text += f", {rng.choice(FACIAL_HAIR_WORDS[attrs.facial_hair])}"
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--heads", type=int, default=24)
    p.add_argument("--device", default="cpu")
    p.add_argument("--kinds", default="template,free_form",
                   help="comma list of template, free_form, partial_template (template words for hair / eyes / "
                        "facial hair only)")
    args = p.parse_args(argv)

    import torch

    from models.evaluation.benchmark import evaluate_edit
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline
    from models.style.train.augment import ColourNames, held_out_tokens
    from models.style.train.colour_dictionary import build_colour_lexicon
    from models.synthetic.sampler import HeadSampler, is_benchmark_seed

    names = ColourNames.build(build_colour_lexicon(), held_out_tokens())
    embed = TextEmbedder([])
    for ck in args.checkpoints:
        pipe = HeadPipeline(ck, args.device)
        sampler = HeadSampler("bench", device=pipe.device)
        seeds = [s for s in range(_FIRST_SEED, _FIRST_SEED + 4 * args.heads) if not is_benchmark_seed(s)][:args.heads]
        batches = [sampler.make_batch(seeds[i:i + 8], size=pipe.image_size) for i in range(0, len(seeds), 8)]
        attrs_of = {c: a for b in batches for c, a in zip(b.captions, b.attributes)}
        style = pipe.style_model()
        for kind in args.kinds.split(","):
            rng = random.Random(3)

            def style_of(captions, kind=kind, rng=rng, attrs_of=attrs_of, style=style, device=pipe.device):
                if kind == "template":
                    texts = list(captions)
                elif kind == "partial_template":
                    texts = [_partial_template_prompt(attrs_of[c], rng) for c in captions]
                else:
                    texts = [_free_form_prompt(attrs_of[c], names, rng) for c in captions]
                return style.encode_prompts(texts, embed(texts).to(device))

            with torch.no_grad():
                res = evaluate_edit(pipe.net("edit"), style_of, batches)
            keep = {k: round(v, 3) for k, v in res.items() if k.startswith("edit_") and (
                "psnr" in k or "color_match" in k or ("delta_e" in k and "albedo" not in k))}
            print(json.dumps({"checkpoint": ck, "prompts": kind, "heads": len(seeds), **keep}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
