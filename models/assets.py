"""Where the shipped assets live: one definition, so every loader and test agrees on the path.

Data files (word tables, prompt sets) say where they come from on their first line, a comment
``# source: ...; licence: ...``; ``read_data`` is their one reader: it checks and strips that line and parses
the rest by the file's extension.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
# libyaml's loader where PyYAML was built with it: the word tables load several times faster
_LIBYAML = hasattr(yaml, "CSafeLoader")


def provenance(name: str | Path) -> str:
    """The first line of a data file under ``assets/`` (its source and licence), without the leading '# '."""
    with (ASSETS_DIR / name).open(encoding="utf-8") as f:
        return _provenance(f.readline(), name)


def read_data(name: str | Path) -> Any:
    """A data file under ``assets/`` (e.g. "style/hair_words.yaml"), its provenance line stripped.

    .yaml / .yml and .json: the parsed object; .tsv: rows as lists of fields (blank and '#' lines skipped).
    """
    path = ASSETS_DIR / name
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    _provenance(first, name)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        # libyaml's safe loader where it is built in (several times faster on the word tables), else the pure one
        return yaml.load(body, Loader=yaml.CSafeLoader) if _LIBYAML else yaml.safe_load(body)
    if suffix == ".json":
        return json.loads(body)
    if suffix == ".tsv":
        return [line.split("\t") for line in body.splitlines() if line and not line.startswith("#")]
    raise ValueError(f"assets/{name}: no reader for {suffix!r} files (.yaml, .json, .tsv)")


def _provenance(first: str, name: str | Path) -> str:
    if not (first.startswith("# source:") and "licence:" in first):
        raise ValueError(f"assets/{name}: its first line must say '# source: ...; licence: ...'")
    return first[2:].strip()
