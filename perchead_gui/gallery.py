"""The gallery of sample seg maps (assets/samples/): start points an artist picks and paints on.

``assets/samples/index.yaml`` lists each map with a title and a suggested prompt matching its
look; ``scripts/build_sample_maps.py`` makes both from engine heads. Maps load through
``models.io.segmap.load_segmap``, like any map a user opens, so they arrive at the model's input size.
No GUI import: the window shows ``thumbnail_rgb`` images and calls ``engine.set_segmentation``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from models.assets import ASSETS_DIR
from models.cameras import canonical_view
from models.errors import PercheadError
from models.io.segmap import load_segmap, segmap_to_rgb

log = logging.getLogger(__name__)

SAMPLES_DIR = ASSETS_DIR / "samples"
INDEX_NAME = "index.yaml"


@dataclass(frozen=True)
class SampleMap:
    """One gallery entry."""

    title: str
    prompt: str                   # a prompt that suits the look, offered with the map
    path: Path
    labels: np.ndarray            # [S, S] uint8 class ids at the model's input size
    features: tuple[str, ...] = ()  # class names the map was chosen to show (beard, glasses, hat)


def load_gallery(folder: str | Path = SAMPLES_DIR, size: int | None = None) -> list[SampleMap]:
    """Every sample listed in ``folder/index.yaml``, in listed order, maps at ``size`` (default: the model's)."""
    folder = Path(folder)
    size = canonical_view().image_size if size is None else size
    index = folder / INDEX_NAME
    try:
        data = yaml.safe_load(index.read_text(encoding="utf-8"))
    except OSError as e:
        raise PercheadError(f"cannot read the sample gallery {index}: {e.strerror or e}; "
                            "reinstall, or rebuild it with scripts/build_sample_maps.py") from e
    except yaml.YAMLError as e:
        raise PercheadError(f"the sample gallery {index} is not valid YAML ({e}); "
                            "rebuild it with scripts/build_sample_maps.py") from e
    entries = data.get("samples") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PercheadError(f"the sample gallery {index} has no 'samples' list; rebuild it with "
                            "scripts/build_sample_maps.py")
    return [_load_entry(folder, entry, index, size) for entry in entries]


def _load_entry(folder: Path, entry: object, index: Path, size: int) -> SampleMap:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("file", "title", "prompt")):
        raise PercheadError(f"{index}: every sample needs text fields file, title and prompt; got {entry!r}")
    path = folder / entry["file"]
    seg = load_segmap(path, labels="palette", size=size)
    for warning in seg.warnings:  # shipped maps are exact; a warning means a damaged or hand-edited file
        log.warning("%s: %s", path, warning)
    seg.labels.setflags(write=False)  # shared between the gallery and whoever picks it: copy to paint
    features = entry.get("features") or ()
    return SampleMap(entry["title"], entry["prompt"], path, seg.labels, tuple(str(f) for f in features))


def thumbnail_rgb(labels: np.ndarray, size: int) -> np.ndarray:
    """A seg map [H, W] as a palette-coloured square thumbnail [size, size, 3] uint8.

    Shrinking averages colours over each thumbnail pixel (box filter), so thin classes such as
    eyes and glasses stay visible instead of vanishing between nearest-neighbour samples.
    """
    if size < 1:
        raise ValueError(f"thumbnail size must be positive, got {size}")
    rgb = segmap_to_rgb(np.asarray(labels))  # [H, W, 3] uint8
    h, w = rgb.shape[:2]
    side = max(h, w)
    if h != w:  # centre on a background square, as the seg-map loader pads
        square = np.zeros((side, side, 3), np.uint8)
        square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = rgb
        rgb = square
    image = Image.fromarray(rgb, "RGB")
    resample = Image.Resampling.BOX if size < side else Image.Resampling.NEAREST
    return np.asarray(image.resize((size, size), resample), dtype=np.uint8)
