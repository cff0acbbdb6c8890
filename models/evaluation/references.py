"""Shaded reference colours: what the engine's renders of an attribute look like, for CIE Delta E.

``REFERENCE_COLORS`` (models/synthetic/attributes.py) holds the albedo the engine draws around;
renders add baked light, occlusion, hair streaks and, for eyes, the sclera and pupil around the
iris. Scoring a render against the albedo therefore charges even the engine's own renders
(9.2 on hair). The honest reference of, say, ``hair: auburn`` is the mean CIE Lab colour of the
hair region in the canonical view over many engine heads with auburn hair, measured once:

    python scripts/measure_shaded_references.py --per-value 16 -o assets/shaded_reference_colors.yaml
    python scripts/measure_shaded_references.py --per-value 16 --size 512 -o assets/shaded_reference_colors_512.yaml

The 256 px file (hair, skin, eyes; measured before facial hair and clothes were parts here) scores the benchmark's
captions; the 512 px file (every part: hair, skin, eyes, facial hair, clothes) scores the held-out prompt colours
(models/evaluation/prompt_colours.py).

Per head, a region's mean sRGB colour (pixels of that class in the 256 px canonical render, as
the benchmark takes it) goes to Lab; the reference is the mean of those Labs over the heads
with that attribute value. Heads come from a training stream of their own (never benchmark
seeds). The file also keeps, per value, the heads' mean Delta E to the reference: the spread
the engine itself shows, i.e. the floor a perfect model would score.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import torch
import yaml
from torch import Tensor

from models.assets import ASSETS_DIR
from models.errors import PercheadError
from models.evaluation.metrics import delta_e2000, srgb_to_lab
from models.palette import palette
from models.synthetic.attributes import (DYED_HAIR_COLORS, EYE_COLORS, GARMENT_COLORS, HAIR_COLORS, SKIN_TONES,
                                         HeadAttributes, sample_attributes)
from models.synthetic.sampler import training_seed

SHADED_REFERENCE_PATH = ASSETS_DIR / "shaded_reference_colors.yaml"
REFERENCE_STREAM = 90_417  # training stream used only for measuring references
MIN_REGION_PIXELS = 10     # the benchmark's threshold for a region to count
PARTS: dict[str, tuple[str, tuple[str, ...]]] = {  # part -> (attribute field, its values)
    "hair": ("hair_color", HAIR_COLORS),
    "skin": ("skin_tone", SKIN_TONES),
    "eyes": ("eye_color", EYE_COLORS),
    "facial_hair": ("facial_hair_color", tuple(c for c in HAIR_COLORS if c not in DYED_HAIR_COLORS)),  # never dyed
    "clothes": ("clothes_color", GARMENT_COLORS),
}
BEARDS_WITH_COLOUR = ("moustache", "goatee", "full_beard")  # stubble is skin seen through short hair: no colour of its own


def attribute_value(attrs: HeadAttributes, part: str) -> str | None:
    """The attribute value a part's colour follows, or None when the head has no such region."""
    if part == "hair" and attrs.hair_style == "bald":
        return None
    if part == "facial_hair" and attrs.facial_hair not in BEARDS_WITH_COLOUR:
        return None
    return getattr(attrs, PARTS[part][0])


def region_mean_lab(rgb: Tensor, classes: Tensor, part: str) -> Tensor | None:
    """Mean sRGB colour of a class region -> Lab [3] (float64), or None below MIN_REGION_PIXELS.

    rgb [H, W, 3] in 0..1, classes [H, W] class ids."""
    mask = classes == palette().id_of(part)
    if int(mask.sum()) < MIN_REGION_PIXELS:
        return None
    return srgb_to_lab(rgb[mask].double().mean(0).cpu())


@dataclass(frozen=True)
class ShadedReference:
    lab: tuple[float, float, float]
    heads: int                 # heads it was measured on
    engine_delta_e: float      # those heads' mean Delta E 2000 to it (the engine's own spread)


@lru_cache(maxsize=4)
def load_shaded_references(path: str | Path = SHADED_REFERENCE_PATH) -> dict[str, dict[str, ShadedReference]]:
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"shaded reference colours {p} are missing; make them with "
                            "python scripts/measure_shaded_references.py")
    data = yaml.safe_load(p.read_text()) or {}
    out: dict[str, dict[str, ShadedReference]] = {}
    for part, table in (data.get("references") or {}).items():
        out[part] = {v: ShadedReference(tuple(float(x) for x in e["lab"]), int(e["heads"]), float(e["engine_delta_e"]))
                     for v, e in table.items()}
    return out


def shaded_reference_lab(part: str, value: str, path: str | Path = SHADED_REFERENCE_PATH) -> Tensor | None:
    """Lab [3] float64 of an attribute value's shaded reference; None when not measured."""
    ref = load_shaded_references(path).get(part, {}).get(value)
    return None if ref is None else torch.tensor(ref.lab, dtype=torch.float64)


def pick_seeds(per_value: int, stream: int = REFERENCE_STREAM, max_scan: int = 200_000) -> list[int]:
    """Training-stream seeds until every value of every part has ``per_value`` heads (attributes only, cheap).

    A seed is taken when it adds to some value still short of heads, so rare values (dyed hair)
    get as many heads as common ones without rendering thousands of heads."""
    need = {(part, v): per_value for part, (_, values) in PARTS.items() for v in values}
    seeds = []
    for i in range(max_scan):
        if not any(need.values()):
            break
        s = training_seed(stream, i)
        a = sample_attributes(s)
        hits = [(p, attribute_value(a, p)) for p in PARTS if need.get((p, attribute_value(a, p)), 0) > 0]
        if hits:
            seeds.append(s)
            for key in hits:
                need[key] -= 1
    return seeds


def measure(batches: Iterable) -> dict[str, dict[str, dict]]:
    """Reference table from engine batches (models.synthetic Batch; view 0 = the canonical view)."""
    labs: dict[tuple[str, str], list[Tensor]] = defaultdict(list)
    for batch in batches:
        for b, attrs in enumerate(batch.attributes):
            for part in PARTS:
                value = attribute_value(attrs, part)
                lab = None if value is None else region_mean_lab(batch.rgb[b, 0], batch.class_map[b, 0], part)
                if lab is not None:
                    labs[(part, value)].append(lab)
    table: dict[str, dict[str, dict]] = {}
    for (part, value), rows in sorted(labs.items()):
        stack = torch.stack(rows)  # [n, 3]
        mean = stack.mean(0)
        spread = delta_e2000(stack, mean.expand_as(stack)).mean().item()
        table.setdefault(part, {})[value] = {"lab": [round(float(x), 3) for x in mean], "heads": len(rows),
                                             "engine_delta_e": round(spread, 3)}
    return table


def missing_values(table: dict[str, dict[str, dict]]) -> list[str]:
    """part:value entries the table lacks (a value no measured head showed)."""
    return [f"{p}:{v}" for p, (_, values) in PARTS.items() for v in values if v not in table.get(p, {})]


def lab_delta_e(lab: Tensor, reference: Tensor) -> float:
    return float(delta_e2000(lab, reference))


def nearest_reference(part: str, lab: Tensor, path: str | Path = SHADED_REFERENCE_PATH) -> str:
    """The attribute value whose shaded reference is nearest (Delta E 2000) to a Lab colour [3]."""
    table = load_shaded_references(path)[part]
    names = list(table)
    refs = torch.tensor([table[n].lab for n in names], dtype=torch.float64)  # [K, 3]
    return names[int(delta_e2000(lab.double().expand_as(refs), refs).argmin())]


__all__: Sequence[str] = ("SHADED_REFERENCE_PATH", "PARTS", "ShadedReference", "attribute_value", "region_mean_lab",
                          "load_shaded_references", "shaded_reference_lab", "pick_seeds", "measure",
                          "missing_values", "lab_delta_e", "nearest_reference")
