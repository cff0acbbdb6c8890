"""Your own seg maps and prompts, scored like the fixed sets (``perchead eval --maps DIR --prompts FILE``).

Whoever checks the models brings maps and words we have never seen; these readers let them score those with
exactly the functions that give ``edit_front_iou_drawn`` and ``prompt_attribute_accuracy``.

Maps: every image in a folder (PNG, JPEG, WebP, BMP, TIFF), read as the app reads a map (``models.io.segmap``, one
``--labels`` mode for all). A map's prompt is, first found: ``<stem>.txt`` beside it, the entry for its file
name or stem in ``prompts.json`` in the folder, else the app's default style.

Prompts: a JSON list or JSON-lines file of ``{"prompt": "...", "hair_color": "red", "eye_color": "green"}``
(targets may also sit under ``"targets"``). Only the attributes a prompt names are scored, as in the held-out
sets; values are the engine's vocabulary (an unknown one is refused with the valid choices).
"""
from __future__ import annotations

import json
from pathlib import Path

from models.errors import PercheadError
from models.evaluation.drawn_maps import DrawnMap
from models.pipeline import DEFAULT_STYLE_PROMPT
from models.io.segmap import LabelsMode, load_segmap
from models.style.encoders import ATTRIBUTES, SCORED_ATTRIBUTES
from models.style.paraphrases import Paraphrase

MAP_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def load_map_folder(folder: str | Path, size: int, labels: LabelsMode = "auto") -> list[DrawnMap]:
    """The seg maps in ``folder`` (sorted by name), each with its prompt; kind "custom", index = position."""
    root = Path(folder)
    if not root.is_dir():
        raise PercheadError(f"--maps {root}: not a folder; give a folder of seg-map images")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in MAP_SUFFIXES)
    if not files:
        raise PercheadError(f"--maps {root}: no images ({', '.join(MAP_SUFFIXES)}) in it")
    table = _prompt_table(root / "prompts.json")
    maps = []
    for i, path in enumerate(files):
        try:
            seg = load_segmap(path, labels=labels, size=size)
        except PercheadError as e:
            raise PercheadError(f"{path.name}: {e}") from e
        side = path.with_suffix(".txt")
        if side.is_file():
            prompt = side.read_text(encoding="utf-8").strip()
        else:
            prompt = table.get(path.name, table.get(path.stem, DEFAULT_STYLE_PROMPT))
        maps.append(DrawnMap(i, "custom", seg.labels, prompt or DEFAULT_STYLE_PROMPT, (), tuple(seg.warnings),
                             source=path.name))
    return maps


def _prompt_table(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise PercheadError(f"{path}: not readable JSON ({e}); write {{\"map.png\": \"a prompt\", ...}}") from e
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise PercheadError(f"{path}: expected an object of file name -> prompt text")
    return {str(k): v for k, v in table.items()}


def load_prompt_file(path: str | Path) -> list[Paraphrase]:
    """Prompts with their asked attributes from a JSON list or a JSON-lines file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise PercheadError(f"--prompts {p}: cannot read it ({e.strerror or e})") from e
    stripped = text.lstrip()
    try:
        items = json.loads(text) if stripped.startswith("[") else [
            json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as e:
        raise PercheadError(f"--prompts {p}: not JSON or JSON lines ({e})") from e
    out = [_paraphrase(item, n + 1, p) for n, item in enumerate(items)]
    if not out:
        raise PercheadError(f"--prompts {p}: no prompts in it")
    return out


def _paraphrase(item: object, n: int, path: Path) -> Paraphrase:
    where = f"--prompts {path}, entry {n}"
    if not isinstance(item, dict) or not isinstance(item.get("prompt"), str) or not item["prompt"].strip():
        raise PercheadError(f"{where}: expected {{\"prompt\": \"...\", \"hair_color\": \"...\", ...}}")
    asked = item.get("targets", {k: v for k, v in item.items() if k not in ("prompt", "language")})
    if not isinstance(asked, dict):
        raise PercheadError(f"{where}: \"targets\" must be an object of attribute -> value")
    targets = {}
    for name, value in asked.items():
        if name not in SCORED_ATTRIBUTES:
            raise PercheadError(f"{where}: {name!r} is not scored; use {', '.join(SCORED_ATTRIBUTES)}")
        if value not in ATTRIBUTES[name]:
            raise PercheadError(f"{where}: {name} {value!r} is not a value; choose one of {', '.join(ATTRIBUTES[name])}")
        targets[name] = value
    if not targets:
        raise PercheadError(f"{where}: names no attribute to score ({', '.join(SCORED_ATTRIBUTES)})")
    return Paraphrase(item["prompt"], targets, str(item.get("language", "en")))
