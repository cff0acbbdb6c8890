"""The hand-written artist probes (models/style/train/artist_probes.py) are well formed and apart from the held-out sets."""
from __future__ import annotations

import pytest

from models.style.encoders import ATTRIBUTES, SCORED_ATTRIBUTES
from models.style.train.artist_probes import ARTIST_SETS, artist_set


@pytest.mark.parametrize("name", list(ARTIST_SETS))
def test_labels_name_scored_attributes_and_real_classes(name: str) -> None:
    paras = artist_set(name)
    assert paras and len({p.prompt for p in paras}) == len(paras)
    for p in paras:
        assert p.targets, p.prompt
        for attr, value in p.targets.items():
            assert attr in SCORED_ATTRIBUTES and value in ATTRIBUTES[attr], (p.prompt, attr, value)


def test_probes_are_not_held_out_prompts() -> None:
    from models.style.paraphrases import paraphrase_set  # the held-out sets, only to check they do not overlap

    held = {p.prompt.lower() for p in (*paraphrase_set("v1"), *paraphrase_set("v2"))}
    assert not {p.prompt.lower() for name in ARTIST_SETS for p in artist_set(name)} & held
    with pytest.raises(ValueError, match="unknown probe group"):
        artist_set("nope")
