"""User settings: recent files and prompts bounded and deduplicated, damaged files never fatal."""
from __future__ import annotations

import json

from perchead_gui.settings import MAX_PROMPTS, MAX_RECENT_FILES, UserSettings


def test_round_trip_and_order(tmp_path) -> None:
    s = UserSettings.load(tmp_path)
    s.add_prompt("long red hair")
    s.add_prompt("  short   black hair ")
    s.add_prompt("long red hair")
    s.add_recent(tmp_path / "a.perchead")
    s.add_recent(tmp_path / "b.perchead")
    s.set_last_folder("map", tmp_path)
    s.set_last_folder("nonsense", tmp_path)
    s.save()
    back = UserSettings.load(tmp_path)
    assert back.prompt_history == ["long red hair", "short black hair"]
    assert back.recent_files == [str(tmp_path / "b.perchead"), str(tmp_path / "a.perchead")]
    assert back.last_folder("map") == tmp_path and back.last_folder("nonsense") is None


def test_histories_are_bounded(tmp_path) -> None:
    s = UserSettings.load(tmp_path)
    for i in range(50):
        s.add_prompt(f"prompt {i}")
        s.add_recent(tmp_path / f"{i}.perchead")
    assert len(s.prompt_history) == MAX_PROMPTS and s.prompt_history[0] == "prompt 49"
    assert len(s.recent_files) == MAX_RECENT_FILES
    s.add_prompt("x" * 10_000)
    assert len(s.prompt_history[0]) <= 500


def test_damaged_or_foreign_files_fall_back_to_defaults(tmp_path) -> None:
    path = tmp_path / "settings.json"
    for content in (b"{not json", b"[1, 2]", b"\xff\xfe\x00", json.dumps({"recent_files": [1, None, "ok"],
                                                                        "prompt_history": "nope",
                                                                        "folders": {"map": 3}}).encode()):
        path.write_bytes(content)
        s = UserSettings.load(tmp_path)
        assert s.prompt_history == [] and s.folders == {}
        assert s.recent_files in ([], ["ok"])
    gone = UserSettings.load(tmp_path)
    gone.set_last_folder("map", tmp_path / "deleted")
    assert gone.last_folder("map") is None
