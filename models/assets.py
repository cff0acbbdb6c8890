"""Where the shipped assets live: one definition, so every loader and test agrees on the path."""
from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
