"""The class palette: exactly DESIGN.md's table, and colour <-> id maps that round-trip."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from models.errors import PercheadError
from models.palette import NUM_CLASSES, PALETTE_PATH, Palette, load_palette, palette

# DESIGN.md "Semantic classes" (binding), copied here on purpose: the test must not read
# the yaml it checks.
DESIGN_TABLE = [
    (0, "background", (0, 0, 0)),
    (1, "skin", (255, 204, 153)),
    (2, "nose", (255, 128, 0)),
    (3, "eyes", (0, 128, 255)),
    (4, "eyebrows", (128, 64, 0)),
    (5, "ears", (255, 0, 255)),
    (6, "mouth", (128, 0, 0)),
    (7, "upper_lip", (255, 0, 0)),
    (8, "lower_lip", (200, 0, 100)),
    (9, "hair", (255, 255, 0)),
    (10, "facial_hair", (0, 160, 0)),
    (11, "neck", (0, 255, 255)),
    (12, "clothes", (0, 0, 255)),
    (13, "eyeglasses", (128, 128, 128)),
    (14, "hat", (128, 0, 255)),
]
# CelebAMask-HQ label -> our id, written out independently of the yaml.
CELEBAMASK_EXPECTED = [0, 1, 4, 4, 3, 3, 13, 5, 5, 5, 2, 6, 7, 8, 11, 11, 12, 9, 14]


def test_palette_equals_design_table() -> None:
    pal = palette()
    assert NUM_CLASSES == len(DESIGN_TABLE) == pal.num_classes
    assert pal.ids == tuple(i for i, _, _ in DESIGN_TABLE)
    assert pal.names == tuple(n for _, n, _ in DESIGN_TABLE)
    assert pal.colors.dtype == np.uint8 and pal.colors.shape == (NUM_CLASSES, 3)
    assert [tuple(c) for c in pal.colors.tolist()] == [rgb for _, _, rgb in DESIGN_TABLE]
    assert pal.display[6] == "mouth (inner)"


def test_palette_is_cached_and_read_only() -> None:
    assert palette() is palette()
    with pytest.raises(ValueError):
        palette().colors[0, 0] = 1


def test_name_id_lookup() -> None:
    pal = palette()
    for i, name, _ in DESIGN_TABLE:
        assert pal.id_of(name) == i and pal.name_of(i) == name
    with pytest.raises(PercheadError, match="choose one of"):
        pal.id_of("beard")
    with pytest.raises(ValueError):
        pal.name_of(15)


def test_celebamask_mapping() -> None:
    assert palette().celebamask.tolist() == CELEBAMASK_EXPECTED


def test_colorize_and_exact_round_trip() -> None:
    pal = palette()
    labels = np.arange(NUM_CLASSES, dtype=np.uint8).reshape(3, 5)
    rgb = pal.colorize(labels)
    assert rgb.shape == (3, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(pal.nearest_labels(rgb), labels)
    with pytest.raises(ValueError):
        pal.colorize(np.array([[-1]]))
    with pytest.raises(ValueError):
        pal.colorize(np.array([[NUM_CLASSES]]))


def test_nearest_labels_matches_brute_force() -> None:
    pal = palette()
    rgb = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    d = ((rgb[..., None, :].astype(int) - pal.colors.astype(int)) ** 2).sum(-1)  # [H, W, K]
    np.testing.assert_array_equal(pal.nearest_labels(rgb), d.argmin(-1))


def test_small_perturbations_map_back() -> None:
    pal = palette()
    c = pal.colors.astype(float)
    min_gap = min(np.linalg.norm(c[i] - c[j]) for i in range(NUM_CLASSES) for j in range(i))
    rng = np.random.default_rng(1)
    for k in range(NUM_CLASSES):
        step = rng.normal(size=(64, 3))
        step *= (min_gap / 2 - 1) / np.linalg.norm(step, axis=1, keepdims=True)
        noisy = np.clip(np.round(c[k] + step), 0, 255).astype(np.uint8)
        assert (pal.nearest_labels(noisy) == k).all()


def _write_palette(tmp_path, mutate) -> Palette:
    cfg = yaml.safe_load(PALETTE_PATH.read_text())
    mutate(cfg)
    path = tmp_path / "classes.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return load_palette(path)


@pytest.mark.parametrize("mutate", [
    lambda cfg: cfg["classes"].pop(),                                  # 14 classes
    lambda cfg: cfg["classes"][3].update(rgb=[0, 0, 0]),               # shared colour
    lambda cfg: cfg["classes"][3].update(rgb=[0, 0, 300]),             # out of range
    lambda cfg: cfg["classes"][3].update(name="skin"),                 # repeated name
    lambda cfg: cfg["celebamask"].pop(18),                             # unmapped label
    lambda cfg: cfg["celebamask"].update({5: "beard"}),                # unknown class
    lambda cfg: cfg.pop("celebamask"),                                 # missing section
])
def test_invalid_palette_files_are_refused(tmp_path, mutate) -> None:
    with pytest.raises(PercheadError):
        _write_palette(tmp_path, mutate)


def test_shipped_palette_reloads_identically(tmp_path) -> None:
    again = _write_palette(tmp_path, lambda cfg: None)
    assert again.names == palette().names
    np.testing.assert_array_equal(again.colors, palette().colors)
