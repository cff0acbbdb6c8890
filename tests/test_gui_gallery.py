"""The sample-map gallery: enough varied start points, each a clean head map that shows its look."""
from __future__ import annotations

import numpy as np
import pytest

from models.cameras import canonical_view
from models.errors import PercheadError
from models.palette import palette
from perchead_gui.gallery import SAMPLES_DIR, load_gallery, thumbnail_rgb

PAL = palette()
ACCESSORIES = {"facial_hair": "beard", "eyeglasses": "glasses", "hat": "hat"}  # class -> word in the title


@pytest.fixture(scope="module")
def gallery():
    return load_gallery()


def share(labels: np.ndarray, name: str) -> float:
    return float((labels == PAL.id_of(name)).mean())


def test_at_least_eight_samples_with_titles_and_prompts(gallery) -> None:
    assert len(gallery) >= 8
    assert len({s.title for s in gallery}) == len(gallery), "titles tell the samples apart"
    for s in gallery:
        assert s.title.strip() and len(s.prompt.split()) >= 3, s
        assert s.path.is_file() and s.path.parent == SAMPLES_DIR
        assert s.path.stat().st_size < 16_000, f"{s.path.name}: keep sample PNGs small"


def test_maps_are_heads_at_the_model_input_size(gallery) -> None:
    size = canonical_view().image_size
    for s in gallery:
        assert s.labels.shape == (size, size) and s.labels.dtype == np.uint8, s.title
        assert int(s.labels.max()) < PAL.num_classes
        assert share(s.labels, "background") > 0.2, s.title
        assert share(s.labels, "skin") > 0.03, s.title
        for part in ("eyes", "nose", "neck"):
            assert share(s.labels, part) > 0.0, f"{s.title}: no {part}"
        if "bald" in s.title.lower():
            assert share(s.labels, "hair") == 0.0, f"{s.title}: a bald map has no hair"
        else:
            assert share(s.labels, "hair") > 0.004, f"{s.title}: hair missing"


def test_hairstyles_vary(gallery) -> None:
    titles = " ".join(s.title.lower() for s in gallery)
    for word in ("bald", "buzz", "bob", "long", "afro", "ponytail", "bun"):
        assert word in titles, f"no {word} sample"
    hair = [share(s.labels, "hair") for s in gallery]
    assert max(hair) > 5 * min(h for h in hair if h > 0), "hair amounts differ a lot between styles"
    maps = {s.labels.tobytes() for s in gallery}
    assert len(maps) == len(gallery), "no two samples are the same map"


def test_beard_glasses_and_hat_samples_show_those_classes(gallery) -> None:
    for cls, word in ACCESSORIES.items():
        with_it = [s for s in gallery if word in s.title.lower()]
        assert with_it, f"no sample titled with {word}"
        for s in with_it:
            assert cls in s.features, s.title
            assert share(s.labels, cls) > 0.002, f"{s.title}: {cls} not visible"
    for s in gallery:
        for cls in ACCESSORIES:
            if cls not in s.features:
                assert share(s.labels, cls) == 0.0, f"{s.title}: unexpected {cls}"


def test_thumbnail_is_palette_coloured(gallery) -> None:
    labels = gallery[0].labels
    thumb = thumbnail_rgb(labels, 64)
    assert thumb.shape == (64, 64, 3) and thumb.dtype == np.uint8
    np.testing.assert_array_equal(thumb[0, 0], PAL.colors[0])
    big = thumbnail_rgb(labels[:4, :4] * 0 + 9, 8)  # upscaling a hair-only patch stays exact
    assert (big == PAL.colors[9]).all()
    wide = np.zeros((10, 20), np.uint8)
    wide[:, :] = 1
    padded = thumbnail_rgb(wide, 20)
    assert (padded[0] == PAL.colors[0]).all() and (padded[10] == PAL.colors[1]).all(), "non-square maps are padded"


def test_a_broken_index_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(PercheadError, match="cannot read the sample gallery"):
        load_gallery(tmp_path)
    (tmp_path / "index.yaml").write_text("samples: [{file: a.png}]\n")
    with pytest.raises(PercheadError, match="file, title and prompt"):
        load_gallery(tmp_path)
    (tmp_path / "index.yaml").write_text("samples: [{file: a.png, title: A, prompt: red hair}]\n")
    with pytest.raises(PercheadError, match="not found"):
        load_gallery(tmp_path)
