"""Shortcut table: unique bindings, every class reachable, docs/app.md in step with the F1 window."""
from __future__ import annotations

from pathlib import Path

from models.palette import NUM_CLASSES
from perchead_gui.app.shortcuts import SHORTCUTS, action_for, help_rows

DOCS = Path(__file__).resolve().parents[1] / "docs" / "app.md"


def test_each_key_combination_has_one_action() -> None:
    combos = [(s.key, s.ctrl, s.shift) for s in SHORTCUTS]
    assert len(combos) == len(set(combos))


def test_every_class_has_a_key() -> None:
    reached = {action_for(str(d)) for d in range(10)} | {action_for(str(d), shift=True) for d in range(5)}
    assert reached == {f"class_{i}" for i in range(NUM_CLASSES)}


def test_artist_shortcuts() -> None:
    assert action_for("Z", ctrl=True) == "undo"
    assert action_for("Z", ctrl=True, shift=True) == "redo"
    assert action_for("Y", ctrl=True) == "redo"
    assert action_for("[") == "size_down" and action_for("]") == "size_up"
    assert action_for("Q") is None


def test_docs_list_every_help_row() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for keys, what in help_rows():
        assert f"| {keys} | {what} |" in text, f"docs/app.md lacks the row for {keys}"
