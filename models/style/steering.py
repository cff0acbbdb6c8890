"""Style vectors that agree with the prompt's dictionary words.

The text head reads a prompt through its backbone embedding and the dictionaries' features together, and
sometimes lets the embedding win over a word the dictionary reads plainly ("teal hair" read as grey hair).
Steering moves such a style vector along that attribute's class direction, the difference between the mean
style vectors of two classes over template captions of training heads (``class_means``: what the edit decoder
was trained to read), until the attribute head reads the dictionary's class. Attributes the prompt does not
name, and prompts the head already reads as the dictionary does, keep their vector unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from models.style.hair_words import HairLexicon, predicted_class
from models.style.lexicon import ColourLexicon, find_colours, srgb_to_lab

# attributes steered, in the order their class means are stacked in a checkpoint's ``steer_means``
STEERED_ATTRIBUTES = ("hair_color", "hair_style", "eye_color", "facial_hair")
# step sizes tried along a class direction (1 = one class mean to the other); the first that reads right is used
STEER_SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0)
_COLOUR_SLOTS = {"hair_color": "hair", "eye_color": "eyes"}  # attribute -> lexicon slot and class table


def dictionary_reading(text: str, attribute: str, colours: ColourLexicon | None,
                       words: HairLexicon | None) -> str | None:
    """The class the dictionaries read for ``attribute`` in ``text``, or None when no known word names it.

    Colours: the mean Lab colour of the names bound to that part, its nearest class within their categories
    (as the text head's colour features see it); hairstyle / facial hair: the hair-word posterior's argmax.
    """
    if attribute in _COLOUR_SLOTS:
        if colours is None:
            return None
        slot = _COLOUR_SLOTS[attribute]
        mine = [m for m in find_colours(text, colours) if m.slot == slot]
        if not mine:
            return None
        lab = srgb_to_lab(torch.tensor([list(m.rgb) for m in mine], dtype=torch.float32)).mean(0)  # [3]
        cats = [m.category for m in mine]
        names, dist = colours.class_distances(lab, slot, cats if all(cats) else ())
        return names[int(dist.argmin())]
    if words is None:
        return None
    return predicted_class(text, words, attribute)


def dictionary_readings(texts: Sequence[str], colours: ColourLexicon | None,
                        words: HairLexicon | None) -> list[dict[str, str]]:
    """Per prompt {attribute: class} for every steered attribute its known words name."""
    out = []
    for text in texts:
        reads = {a: dictionary_reading(text, a, colours, words) for a in STEERED_ATTRIBUTES}
        out.append({a: v for a, v in reads.items() if v is not None})
    return out


def class_means(styles: Tensor, labels: dict[str, Tensor], vocab: dict[str, Sequence[str]]) -> Tensor:
    """Mean unit style vector of each class of each steered attribute: styles [N, D], labels {attr: [N]} ->
    [sum K, D], stacked in ``STEERED_ATTRIBUTES`` order. A class with no example gets the attribute's mean,
    so a step towards it moves nowhere (the head then keeps its reading)."""
    rows = []
    for attr in STEERED_ATTRIBUTES:
        lab = labels[attr]
        overall = styles.mean(0)
        for k in range(len(vocab[attr])):
            pick = lab == k
            rows.append(styles[pick].mean(0) if bool(pick.any()) else overall)
    return torch.stack(rows)


def split_means(means: Tensor, vocab: dict[str, Sequence[str]]) -> dict[str, Tensor]:
    """[sum K, D] -> {attribute: [K, D]} (inverse of the stacking in ``class_means``)."""
    out, start = {}, 0
    for attr in STEERED_ATTRIBUTES:
        k = len(vocab[attr])
        out[attr] = means[start:start + k]
        start += k
    return out


def other_heads_projectors(weights: dict[str, Tensor]) -> dict[str, Tensor]:
    """{attribute: [D, D]} projector onto the directions no other attribute head reads.

    weights: {attribute: [K, D]} the linear attribute heads. A step projected this way changes one attribute's
    logits and leaves every other head's logits as they were (up to the renormalisation of the vector), so
    steering hair colour does not also flip the clothes colour a class-mean difference happens to carry.
    """
    out = {}
    for attr in weights:
        others = torch.cat([w for a, w in weights.items() if a != attr]).double()            # [M, D]
        eye = torch.eye(others.shape[1], dtype=torch.float64)
        out[attr] = (eye - torch.linalg.pinv(others) @ others).float()                        # [D, D]
    return out


def steer_styles(style: Tensor, readings: Sequence[dict[str, str]], means: dict[str, Tensor],
                 attribute_logits, projectors: dict[str, Tensor], vocab: dict[str, Sequence[str]]) -> Tensor:
    """Move each style vector until the attribute head reads what its prompt's dictionary words say.

    style [B, D] unit rows; readings: per row {attribute: class}; means: {attribute: [K, D]};
    ``attribute_logits``: style [B, D] -> {attribute: logits [B, K]} (the model's attribute head);
    projectors: ``other_heads_projectors`` of that head.
    For each named attribute the head reads otherwise, the row takes the smallest step of ``STEER_SCALES``
    along (mean of the named class - mean of the read class), projected off the other heads, that makes the
    head read the named class while every other attribute (named or not: glasses, skin, clothes ...) keeps
    its reading; with no such step the row keeps its vector. Returns [B, D] unit rows.
    """
    out = style.clone()
    for i, want in enumerate(readings):
        if not want:
            continue
        s = out[i:i + 1]                                                                   # [1, D]
        target = {a: vocab[a].index(v) for a, v in want.items() if a in means}
        for attr, k in target.items():
            read = _argmaxes(attribute_logits(s))
            if read[attr] == k:
                continue
            diff = means[attr][k] - means[attr][read[attr]]                               # [D]
            direction = projectors[attr].to(diff.device) @ diff
            for scale in STEER_SCALES:
                moved = F.normalize(s + scale * direction, dim=-1)
                now = _argmaxes(attribute_logits(moved))
                if now[attr] == k and all(now[a] == read[a] for a in read if a != attr):
                    s = moved
                    break
        out[i:i + 1] = s
    return out


def _argmaxes(logits: dict[str, Tensor]) -> dict[str, int]:
    """{attribute: argmax} of one row's logits {attribute: [1, K]}."""
    return {a: int(v[0].argmax()) for a, v in logits.items()}
