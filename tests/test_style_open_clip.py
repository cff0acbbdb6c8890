"""open_clip backend with random ViT-B-32 weights and the wheel's tokenizer: no network, ever."""
from __future__ import annotations

import socket

import pytest
import torch
from safetensors.torch import save_file

from models.errors import PercheadError

open_clip = pytest.importorskip("open_clip", reason="open_clip is not installed (optional CLIP style backend)")
from models.style.open_clip_backend import OpenClipStyle, check_model_name, load_clip_state  # noqa: E402


@pytest.fixture(scope="module")
def no_network():
    real = socket.socket.connect

    def refuse(*args, **kwargs):
        raise AssertionError("the CLIP backend tried to open a network connection")

    socket.socket.connect = refuse
    yield
    socket.socket.connect = real


@pytest.fixture(scope="module")
def clip(no_network) -> OpenClipStyle:
    torch.manual_seed(0)
    return OpenClipStyle("ViT-B-32", random_init=True, style_dim=64).eval()


def test_text_and_image_shapes(clip: OpenClipStyle) -> None:
    t = clip.encode_text(["long crimson hair", "שיער אדום 😀", "cheveux roux"])
    v = clip.encode_images(torch.rand(2, 3, 90, 60), torch.ones(2, 1, 90, 60))
    assert t.shape == (3, 64) and v.shape == (2, 64)
    torch.testing.assert_close(t.norm(dim=-1), torch.ones(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(v.norm(dim=-1), torch.ones(2), atol=1e-5, rtol=0)


def test_deterministic(clip: OpenClipStyle) -> None:
    torch.testing.assert_close(clip.encode_text("red hair"), clip.encode_text(["red hair"]))
    img = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(clip.encode_images(img), clip.encode_images(img))


def test_tokenizer_ships_in_the_wheel(clip: OpenClipStyle, caplog) -> None:
    tokens = clip.tokenize(["a b c", "word " * 200])
    assert tokens.shape == (2, 77) and tokens.dtype == torch.long
    assert any("longer than CLIP" in r.message for r in caplog.records)
    with pytest.raises(PercheadError, match="type a prompt"):
        clip.tokenize("  ")


def test_only_the_adapter_trains(clip: OpenClipStyle) -> None:
    assert not any(p.requires_grad for p in clip.clip.parameters())
    assert set(clip.adapter_state()) == {"adapter.weight", "adapter.bias"}


def test_weights_refusals(tmp_path, no_network) -> None:
    with pytest.raises(PercheadError, match="local weights"):
        OpenClipStyle("ViT-B-32")
    with pytest.raises(PercheadError, match="not found"):
        load_clip_state(tmp_path / "clip.safetensors")
    pickle = tmp_path / "clip.bin"
    pickle.write_bytes(b"pickle")
    with pytest.raises(PercheadError, match="pickled"):
        load_clip_state(pickle)
    small = tmp_path / "wrong.safetensors"
    save_file({"module.logit_scale": torch.zeros(())}, str(small))
    assert set(load_clip_state(small)) == {"logit_scale"}  # DDP prefix stripped
    with pytest.raises(PercheadError, match="do not fit"):
        OpenClipStyle("ViT-B-32", weights=small)
    with pytest.raises(PercheadError, match="hub"):
        check_model_name("hf-hub:laion/CLIP-ViT-B-32")
    with pytest.raises(PercheadError, match="unknown"):
        check_model_name("ViT-Z-99")
