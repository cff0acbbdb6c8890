"""Reference images: formats, transparency, tiny / huge / not-an-image refusals."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models.errors import PercheadError
from models.style.image_input import MAX_SIDE, load_style_image


def test_rgb_and_rgba(tmp_path) -> None:
    Image.fromarray(np.full((80, 60, 3), 200, np.uint8)).save(tmp_path / "a.jpg")
    img, alpha = load_style_image(tmp_path / "a.jpg")
    assert img.shape == (1, 3, 80, 60) and alpha is None and 0.7 < float(img.mean()) < 0.85
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (255, 0, 0, 255)
    Image.fromarray(rgba).save(tmp_path / "b.png")
    img, alpha = load_style_image(tmp_path / "b.png")
    assert alpha is not None and alpha.shape == (1, 1, 64, 64) and float(alpha.mean()) == pytest.approx(0.25)


def test_huge_is_shrunk(tmp_path) -> None:
    Image.new("RGB", (4000, 3000), (10, 20, 30)).save(tmp_path / "big.jpg", quality=70)
    img, _ = load_style_image(tmp_path / "big.jpg")
    assert max(img.shape[-2:]) <= MAX_SIDE


@pytest.mark.parametrize("make,match", [
    (lambda p: p.write_bytes(b"hello, not an image"), "not a readable image"),
    (lambda p: Image.new("RGB", (8, 8)).save(p, format="PNG"), "only 8x8"),
    (lambda p: Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(p, format="PNG"), "fully transparent"),
])
def test_refusals(tmp_path, make, match) -> None:
    p = tmp_path / "x.png"
    make(p)
    with pytest.raises(PercheadError, match=match):
        load_style_image(p)
    with pytest.raises(PercheadError, match="not found"):
        load_style_image(tmp_path / "missing.png")


def test_truncated_file(tmp_path) -> None:
    Image.new("RGB", (200, 200), (1, 2, 3)).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(PercheadError):
        load_style_image(tmp_path / "t.png")
