"""Held-out prompts' colours on the edit model's head: does the colour a prompt names reach the head?

Each prompt of ``assets/eval/prompt_colours.yaml`` (hand-written, held out: read only here) names the colour of
one to three parts (hair, eyes, skin, facial hair, clothes) as an engine attribute value. It is decoded on the
class map of a benchmark head that has every part it names (the first of ``MAP_HEADS`` benchmark heads, counted
from the prompt's own index, whose map shows each part with at least ``MIN_MAP_PIXELS`` pixels), the head goes
through the app's fitting step, and its canonical view is rendered at ``SIZE`` px (eyes are a few pixels at 256).
Per named part: CIE Delta E 2000 between the mean colour of the output's region of that class and the shaded
reference of the named value (``assets/shaded_reference_colors_512.yaml``: what engine renders of that value look
like at 512 px; its ``engine_delta_e`` is the spread of the engine's own heads, the floor).

``perchead eval`` reports ``edit_prompt_delta_e_<part>`` (mean over the prompts naming the part),
``edit_prompt_delta_e`` (over every scored part), and ``edit_prompt_regions_missing`` (named parts the output
drew fewer than ``MIN_REGION_PIXELS`` pixels of: not scored, counted).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import torch
from torch import Tensor

from models.assets import ASSETS_DIR, read_data
from models.cameras import canonical_view, orbit_camera
from models.errors import PercheadError
from models.evaluation.benchmark import settled_heads
from models.evaluation.references import (
    PARTS,
    lab_delta_e,
    load_shaded_references,
    region_mean_lab,
)
from models.fitting import FramingMode, SilhouetteMode
from models.networks.perchead import PercHeadNet
from models.palette import palette
from models.render import render_views

PROMPT_COLOURS_FILE = "eval/prompt_colours.yaml"
REFERENCES_512 = ASSETS_DIR / "shaded_reference_colors_512.yaml"
SIZE = 512
MAP_HEADS = 16         # benchmark heads whose maps the prompts are decoded on (the eval's 16: two have beards)
MIN_MAP_PIXELS = 20    # a map shows a part when it paints this many pixels of it (256 px map)


@dataclass(frozen=True)
class ColourPrompt:
    prompt: str
    targets: dict[str, str]  # part -> attribute value


@lru_cache(maxsize=1)
def prompt_colour_set() -> tuple[ColourPrompt, ...]:
    data = read_data(PROMPT_COLOURS_FILE)
    out = []
    for row in data["prompts"]:
        targets = dict(row["targets"])
        for part, value in targets.items():
            if part not in PARTS or value not in PARTS[part][1]:
                raise PercheadError(f"{PROMPT_COLOURS_FILE}: {row['prompt']!r} names {part}: {value}, which is not "
                                    f"a part ({', '.join(PARTS)}) with that value")
        out.append(ColourPrompt(str(row["prompt"]), targets))
    return tuple(out)


def pick_maps(prompts: Sequence[ColourPrompt], maps: Tensor) -> list[int]:
    """For each prompt, the index of the first map (from the prompt's own index on, cycling) that paints every
    part it names. maps [H, S, S] class ids."""
    pal = palette()
    shown = [{part for part in PARTS if int((m == pal.id_of(part)).sum()) >= MIN_MAP_PIXELS} for m in maps]
    picks = []
    for i, p in enumerate(prompts):
        order = [(i + k) % len(maps) for k in range(len(maps))]
        fit = [j for j in order if set(p.targets) <= shown[j]]
        if not fit:
            raise PercheadError(f"no benchmark map paints every part {p.prompt!r} names ({', '.join(p.targets)})")
        picks.append(fit[0])
    return picks


@torch.no_grad()
def evaluate_prompt_colours(model: PercHeadNet, prompts: Sequence[ColourPrompt], styles: Tensor, maps: Tensor,
                            framing: FramingMode = "auto", silhouette: SilhouetteMode = "fit", chunk: int = 8,
                            tick: Callable[[], None] | None = None,
                            per_prompt: list[dict] | None = None) -> dict[str, float]:
    """prompts with their style vectors ``styles`` [N, D]; maps: [H, S, S] class ids (benchmark heads' canonical
    maps). ``per_prompt`` receives, per prompt, the map it was decoded on and each named part's Delta E (None:
    region missing)."""
    prompts = list(prompts)
    picks = pick_maps(prompts, maps)
    refs = load_shaded_references(REFERENCES_512)
    device = next(model.parameters()).device
    camera = [orbit_camera(canonical_view().orbit, SIZE)]
    acc: dict[str, list[float]] = defaultdict(list)
    missing = 0
    for i in range(0, len(prompts), chunk):
        part_prompts = prompts[i:i + chunk]
        labels = maps[picks[i:i + chunk]]
        heads = settled_heads(model, labels, styles[i:i + chunk], framing, silhouette)
        for b, p in enumerate(part_prompts):
            out = render_views(heads[b], camera, background=torch.zeros(3, device=device))
            row = {"prompt": p.prompt, "map": picks[i + b], "delta_e": {}}
            for part, value in p.targets.items():
                lab = region_mean_lab(out.rgb[0], out.class_map[0], part)
                if lab is None:
                    missing += 1
                    row["delta_e"][part] = None
                    continue
                ref = torch.tensor(refs[part][value].lab, dtype=torch.float64)
                de = lab_delta_e(lab, ref)
                acc[part].append(de)
                row["delta_e"][part] = round(de, 2)
            if per_prompt is not None:
                per_prompt.append(row)
            if tick is not None:
                tick()
    result = {f"edit_prompt_delta_e_{part}": sum(v) / len(v) for part, v in sorted(acc.items())}
    every = [d for v in acc.values() for d in v]
    result["edit_prompt_delta_e"] = sum(every) / len(every) if every else float("nan")
    result["edit_prompt_regions_missing"] = missing
    result["edit_prompt_colour_prompts"] = len(prompts)
    return result


__all__ = ["ColourPrompt", "prompt_colour_set", "pick_maps", "evaluate_prompt_colours", "SIZE", "REFERENCES_512"]
