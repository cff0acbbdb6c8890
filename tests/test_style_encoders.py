"""Style encoders: shapes, unit length, determinism, size, checkpoints, image preprocessing."""
from __future__ import annotations

import pytest
import torch

from models.errors import PercheadError
from models.style.checkpoint import load_style_model, save_style_model, style_checkpoint_bytes
from models.style.encoders import PRESETS, StyleConfig, StyleModel, preprocess_images


@pytest.fixture(scope="module")
def tiny() -> StyleModel:
    torch.manual_seed(0)
    return StyleModel(PRESETS["tiny"]).eval()


def test_shapes_and_unit_length(tiny: StyleModel) -> None:
    d = tiny.cfg.style_dim
    t = tiny.encode_text_embeddings(torch.randn(3, 384))
    v = tiny.encode_images(torch.rand(2, 3, 50, 70), torch.rand(2, 1, 50, 70))
    assert t.shape == (3, d) and v.shape == (2, d)
    torch.testing.assert_close(t.norm(dim=-1), torch.ones(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(v.norm(dim=-1), torch.ones(2), atol=1e-5, rtol=0)
    logits = tiny.attributes(t)
    assert logits["hair_color"].shape == (3, 13) and logits["facial_hair"].shape == (3, 5)


def test_deterministic_and_batch_independent(tiny: StyleModel) -> None:
    img = torch.rand(3, 3, 40, 40)
    a = tiny.encode_images(img)
    b = tiny.encode_images(img[1:2])  # GroupNorm: a row does not depend on the batch
    torch.testing.assert_close(a[1:2], b, atol=1e-5, rtol=1e-4)
    emb = torch.randn(2, 384)
    torch.testing.assert_close(tiny.encode_text_embeddings(emb), tiny.encode_text_embeddings(emb))


def test_default_model_is_small() -> None:
    n = sum(p.numel() for p in StyleModel(StyleConfig()).parameters())
    assert n * 2 < 10e6, f"default style model is {n * 2 / 1e6:.1f} MB in fp16"


def test_bad_inputs(tiny: StyleModel) -> None:
    with pytest.raises(ValueError):
        tiny.encode_text_embeddings(torch.randn(2, 100))
    with pytest.raises(ValueError):
        tiny.encode_images(torch.rand(2, 4, 32, 32))


def test_alpha_masks_background(tiny: StyleModel) -> None:
    img = torch.rand(1, 3, 32, 32)
    alpha = torch.zeros(1, 1, 32, 32)
    alpha[..., 8:24, 8:24] = 1
    other = img.clone()
    other[..., :8, :] = torch.rand(1, 3, 8, 32)  # change only transparent pixels
    torch.testing.assert_close(tiny.encode_images(img, alpha), tiny.encode_images(other, alpha))


def test_preprocess_pads_not_stretches() -> None:
    img = torch.ones(1, 3, 20, 40)  # wide white image
    x = preprocess_images(img, None, 40, background=0.5)
    assert x.shape == (1, 3, 40, 40)
    assert torch.allclose(x[0, :, 20, 20], torch.full((3,), 2.0))      # centre: white (1 - 0.5) / 0.25
    assert torch.allclose(x[0, :, 2, 20], torch.zeros(3), atol=1e-6)   # top band: grey padding


def test_checkpoint_round_trip(tmp_path, tiny: StyleModel) -> None:
    p = save_style_model(tmp_path / "style.safetensors", tiny, {"steps": 3})
    model, extra = load_style_model(p)
    assert extra == {"steps": 3} and model.cfg == tiny.cfg
    emb = torch.randn(2, 384)
    torch.testing.assert_close(model.encode_text_embeddings(emb), tiny.encode_text_embeddings(emb), atol=5e-3, rtol=0)
    assert len(style_checkpoint_bytes(StyleModel())) < 16e6


def test_checkpoint_errors(tmp_path) -> None:
    with pytest.raises(PercheadError, match="missing"):
        load_style_model(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(PercheadError, match="corrupt"):
        load_style_model(bad)
