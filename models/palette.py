"""The class palette (assets/classes.yaml): ids, names, colours, and colour <-> label maps.

Every part of the app that shows or reads classes (seg maps, the paint canvas, class renders,
.ply labels) goes through this one palette, so a colour means the same class everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from models.assets import ASSETS_DIR
from models.errors import PercheadError

# The networks' class-output width: fixed, because checkpoints depend on it. The yaml is
# checked against it on load, so an edited palette fails loudly instead of mis-shaping models.
NUM_CLASSES = 15
NUM_CELEBAMASK_LABELS = 19  # CelebAMask-HQ / BiSeNet face-parsing label count
PALETTE_PATH = ASSETS_DIR / "classes.yaml"


@dataclass(frozen=True)
class Palette:
    """The classes in id order. Arrays are read-only: the palette is cached and shared."""

    names: tuple[str, ...]     # identifier per id ("upper_lip")
    display: tuple[str, ...]   # human name per id ("upper lip"), for the GUI
    colors: np.ndarray         # [NUM_CLASSES, 3] uint8 RGB per id
    celebamask: np.ndarray     # [19] uint8: CelebAMask-HQ label -> our id

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(range(len(self.names)))

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def id_of(self, name: str) -> int:
        """Class id for a name; a typo names the valid choices."""
        try:
            return self.names.index(name)
        except ValueError:
            raise PercheadError(f"unknown class {name!r}; choose one of: {', '.join(self.names)}") from None

    def name_of(self, class_id: int) -> str:
        if not 0 <= int(class_id) < self.num_classes:
            raise ValueError(f"class id {class_id} outside 0-{self.num_classes - 1}")
        return self.names[int(class_id)]

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """Class ids [...] -> palette colours [..., 3] uint8."""
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            # Fancy indexing would wrap negatives silently: a bug upstream, so say so.
            raise ValueError(f"labels hold values outside 0-{self.num_classes - 1}")
        return self.colors[labels.astype(np.intp, copy=False)]

    def nearest_labels(self, rgb: np.ndarray) -> np.ndarray:
        """Colours [..., 3] uint8 -> id of the nearest palette colour [...] uint8.

        Nearest is plain Euclidean RGB distance (ties go to the lower id): predictable, and
        off-palette pixels in practice are anti-aliasing or compression noise near one class.
        Distances are taken per distinct colour, not per pixel, since maps hold few colours.
        """
        rgb = np.asarray(rgb)
        if rgb.shape[-1:] != (3,):
            raise ValueError(f"expected [..., 3] colours, got shape {rgb.shape}")
        flat = rgb.reshape(-1, 3).astype(np.uint32)
        keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]  # [P] one int per colour
        uniq, inverse = np.unique(keys, return_inverse=True)
        ucol = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)  # [U, 3]
        dist = ((ucol[:, None, :] - self.colors[None].astype(np.int32)) ** 2).sum(-1)  # [U, K]
        return dist.argmin(1).astype(np.uint8)[inverse.reshape(-1)].reshape(rgb.shape[:-1])


@lru_cache(maxsize=1)
def palette() -> Palette:
    """The shipped palette, read and checked once."""
    return load_palette(PALETTE_PATH)


def load_palette(path: Path) -> Palette:
    """Read and validate a classes.yaml (exposed for tests; the app uses ``palette()``)."""
    try:
        cfg = yaml.safe_load(Path(path).read_text())
        entries = sorted(cfg["classes"], key=lambda c: int(c["id"]))
        ids = [int(c["id"]) for c in entries]
        names = tuple(str(c["name"]) for c in entries)
        display = tuple(str(c.get("display", c["name"])) for c in entries)
        colors = np.array([[int(v) for v in c["rgb"]] for c in entries], dtype=np.int64)
        mapping = {int(k): str(v) for k, v in cfg["celebamask"].items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise PercheadError(f"cannot read the class palette {path}: {e}; reinstall or restore the file") from e
    problem = _palette_problem(ids, names, colors, mapping)
    if problem:
        raise PercheadError(f"class palette {path} is invalid: {problem}; restore the shipped file")
    celeb = np.array([names.index(mapping[i]) for i in range(NUM_CELEBAMASK_LABELS)], dtype=np.uint8)
    colors_u8 = colors.astype(np.uint8)
    colors_u8.setflags(write=False)
    celeb.setflags(write=False)
    return Palette(names, display, colors_u8, celeb)


def _palette_problem(ids: list[int], names: tuple[str, ...], colors: np.ndarray,
                     mapping: dict[int, str]) -> str | None:
    """Why a palette is unusable, or None."""
    if ids != list(range(NUM_CLASSES)):
        return f"class ids must be exactly 0-{NUM_CLASSES - 1}"
    if len(set(names)) != len(names):
        return "class names repeat"
    if colors.shape != (NUM_CLASSES, 3) or colors.min() < 0 or colors.max() > 255:
        return "each rgb must be three values 0-255"
    if len({tuple(c) for c in colors.tolist()}) != NUM_CLASSES:
        return "two classes share a colour"
    if sorted(mapping) != list(range(NUM_CELEBAMASK_LABELS)):
        return f"celebamask must map every label 0-{NUM_CELEBAMASK_LABELS - 1}"
    unknown = sorted({v for v in mapping.values() if v not in names})
    if unknown:
        return f"celebamask maps to unknown classes {', '.join(unknown)}"
    return None
