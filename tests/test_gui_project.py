"""`.perchead` project files: exact round trip, strict and bounded loading, one error type."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import perchead_gui.project as project_mod
from models.errors import PercheadError
from models.palette import palette
from models.io.segmap import segmap_png_bytes
from perchead_gui.orbit import OrbitController
from perchead_gui.project import (FORMAT_VERSION, Project, load_project, project_bytes,
                                  project_from_bytes, save_project)

S = 32


def sample_project(with_style: bool = True) -> Project:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 15, (S, S), dtype=np.uint8)
    style = rng.integers(0, 256, (20, 12, 4), dtype=np.uint8) if with_style else None
    orbit = OrbitController()
    orbit.drag(40, -10)
    orbit.pan_by(3, 4, 256)
    return Project(labels, prompt="curly red hair, round glasses — 眼鏡", style_mode="image" if with_style else "text",
                   style_image=style, camera=orbit.to_dict(),
                   settings={"view_mode": "rgb", "background": [0.1, 0.2, 0.3], "brush": 12, "nested": {"a": [1, None]}})


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def meta(**overrides) -> bytes:
    d = {"format": "perchead-project", "version": 1, "prompt": "", "style_mode": "text",
         "camera": {}, "settings": {}, "created_by": "perchead test"}
    d.update(overrides)
    return json.dumps(d).encode()


def valid_members(**meta_overrides) -> dict[str, bytes]:
    return {"project.json": meta(**meta_overrides), "map.png": segmap_png_bytes(np.zeros((S, S), np.uint8))}


def one_line_error(data: bytes) -> str:
    with pytest.raises(PercheadError) as info:
        project_from_bytes(data, "project test.perchead")
    msg = str(info.value)
    assert msg and "\n" not in msg and "test.perchead" in msg
    return msg


# ----- round trip ----------------------------------------------------------------------------

def test_round_trip_is_exact(tmp_path) -> None:
    proj = sample_project()
    path = save_project(tmp_path / "head.perchead", proj)
    back = load_project(path)
    np.testing.assert_array_equal(back.labels, proj.labels)
    assert back.labels.dtype == np.uint8
    np.testing.assert_array_equal(back.style_image, proj.style_image)
    assert back.style_image.dtype == np.uint8 and back.style_image.shape == (20, 12, 4)
    assert (back.prompt, back.style_mode, back.camera, back.settings) == \
        (proj.prompt, proj.style_mode, proj.camera, proj.settings)
    assert back.warnings == []
    assert OrbitController.from_dict(back.camera) == OrbitController.from_dict(proj.camera)


def test_round_trip_without_style_image_and_defaults() -> None:
    proj = Project(np.full((S, S), 1, np.uint8))
    back = project_from_bytes(project_bytes(proj), "p")
    assert back.style_image is None and back.prompt == "" and back.style_mode == "text"
    assert back.camera == {} and back.settings == {}


def test_file_layout_is_plain_documented_members() -> None:
    data = project_bytes(sample_project())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["project.json", "map.png", "style.png"]
        info = json.loads(zf.read("project.json"))
        with Image.open(io.BytesIO(zf.read("map.png"))) as img:
            assert img.format == "PNG" and img.mode == "RGB" and img.size == (S, S)
            rgb = np.asarray(img)
    assert info["format"] == "perchead-project" and info["version"] == FORMAT_VERSION
    assert info["created_by"].startswith("perchead ")
    # the map is palette colours, readable by any image tool
    np.testing.assert_array_equal(rgb, palette().colorize(sample_project().labels))


def test_same_project_gives_the_same_bytes() -> None:
    assert project_bytes(sample_project()) == project_bytes(sample_project())


def test_save_replaces_an_existing_file_whole(tmp_path) -> None:
    path = tmp_path / "head.perchead"
    save_project(path, sample_project())
    save_project(path, Project(np.zeros((S, S), np.uint8), prompt="second"))
    assert load_project(path).prompt == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.perchead"]  # no temp files left


def test_numpy_values_in_settings_are_saved_as_plain_json() -> None:
    proj = Project(np.zeros((S, S), np.uint8), settings={"opacity": np.float32(0.5), "bg": np.array([1, 2, 3])},
                   camera={"yaw_deg": np.float64(10.0)})
    back = project_from_bytes(project_bytes(proj), "p")
    assert back.settings == {"opacity": 0.5, "bg": [1, 2, 3]} and back.camera == {"yaw_deg": 10.0}


@pytest.mark.parametrize("bad", [
    dict(labels=np.zeros((S, S + 1), np.uint8)),
    dict(labels=np.full((S, S), 15, np.uint8)),
    dict(labels=np.zeros((S, S), np.float32)),
    dict(prompt=3),
    dict(style_mode="video"),
    dict(style_image=np.zeros((4, 4, 3), np.uint8)),
    dict(settings={"x": float("nan")}),
    dict(settings={"x": object()}),
    dict(camera=[1, 2]),
])
def test_saving_invalid_content_is_a_caller_bug(bad) -> None:
    fields = dict(labels=np.zeros((S, S), np.uint8))
    fields.update(bad)
    with pytest.raises(ValueError):
        project_bytes(Project(**fields))


# ----- strict loading ------------------------------------------------------------------------

def test_not_a_zip() -> None:
    assert "not a PercHead project" in one_line_error(b"\x89PNG\r\n\x1a\n not a zip at all")
    assert "empty" in one_line_error(b"")


def test_missing_members() -> None:
    members = valid_members()
    assert "project.json" in one_line_error(zip_bytes({"map.png": members["map.png"]}))
    assert "map.png" in one_line_error(zip_bytes({"project.json": members["project.json"]}))


def test_bad_json_and_wrong_format() -> None:
    m = valid_members()
    assert "not valid JSON" in one_line_error(zip_bytes({**m, "project.json": b"{nope"}))
    assert "not valid JSON" in one_line_error(zip_bytes({**m, "project.json": b"\xff\xfe"}))
    assert "not valid JSON" in one_line_error(zip_bytes({**m, "project.json": b'{"a": NaN}'}))
    assert "JSON object" in one_line_error(zip_bytes({**m, "project.json": b"[1, 2]"}))
    assert "not a PercHead project" in one_line_error(zip_bytes(valid_members(format="other")))


def test_newer_version_asks_to_update() -> None:
    msg = one_line_error(zip_bytes(valid_members(version=FORMAT_VERSION + 1)))
    assert "newer PercHead" in msg and "update" in msg
    assert "version" in one_line_error(zip_bytes(valid_members(version="1")))
    assert "version" in one_line_error(zip_bytes(valid_members(version=0)))
    assert "version" in one_line_error(zip_bytes(valid_members(version=True)))


@pytest.mark.parametrize("overrides, needle", [
    (dict(prompt=["a"]), "prompt"),
    (dict(style_mode="video"), "style_mode"),
    (dict(camera={"yaw_deg": "left"}), "yaw_deg"),
    (dict(camera=[0, 0]), "camera"),
    (dict(settings="dark"), "settings"),
])
def test_wrong_types(overrides, needle) -> None:
    assert needle in one_line_error(zip_bytes(valid_members(**overrides)))


def test_overflowing_numbers_are_refused_so_the_project_can_be_saved_again() -> None:
    m = valid_members()
    raw = b'{"format": "perchead-project", "version": 1, "settings": {"x": 1e999}}'
    assert "too large" in one_line_error(zip_bytes({**m, "project.json": raw}))


def test_zip_bomb_is_refused_from_the_directory_before_reading() -> None:
    m = valid_members()
    bomb = b" " * (2 * 2**20)  # 2 MiB of spaces: a few KiB compressed, over the 1 MiB JSON limit
    data = zip_bytes({**m, "project.json": meta()[:-1] + bomb + b"}"})
    assert len(data) < 64 * 1024
    assert "claims" in one_line_error(data)


def test_image_member_size_limit(monkeypatch) -> None:
    monkeypatch.setattr(project_mod, "MAX_IMAGE_BYTES", 50)
    assert "map.png" in one_line_error(zip_bytes(valid_members()))


def test_huge_image_dimensions_are_refused_from_the_header() -> None:
    buf = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buf, "PNG")  # a few KiB, 100 MB once decoded as RGBA
    m = valid_members()
    assert "5000x5000" in one_line_error(zip_bytes({**m, "map.png": buf.getvalue()}))
    assert "5000x5000" in one_line_error(zip_bytes({**m, "style.png": buf.getvalue()}))


def test_map_that_is_not_a_png_or_not_a_map() -> None:
    m = valid_members()
    assert "map.png" in one_line_error(zip_bytes({**m, "map.png": b"GIF89a...."}))
    grey = io.BytesIO()
    Image.fromarray(np.full((S, S), 200, np.uint8), "L").save(grey, "PNG")  # values beyond class ids
    assert "map.png" in one_line_error(zip_bytes({**m, "map.png": grey.getvalue()}))


def test_too_many_members(monkeypatch) -> None:
    members = valid_members()
    members.update({f"extra{i}.txt": b"x" for i in range(70)})
    assert "entries" in one_line_error(zip_bytes(members))


def test_unknown_members_and_keys_are_ignored() -> None:
    members = valid_members(future_field={"x": 1})
    members["thumbnail.jpg"] = b"whatever"
    assert project_from_bytes(zip_bytes(members), "p").prompt == ""


def test_off_palette_map_loads_with_a_warning() -> None:
    rgb = palette().colorize(np.ones((S, S), np.uint8)).copy()
    rgb[0, 0] = (250, 200, 150)  # near skin
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, "PNG")
    back = project_from_bytes(zip_bytes({**valid_members(), "map.png": buf.getvalue()}), "p")
    assert (back.labels == 1).all() and len(back.warnings) == 1 and "nearest" in back.warnings[0]


def test_load_project_path_errors(tmp_path, monkeypatch) -> None:
    for path, needle in [(tmp_path / "missing.perchead", "not found"), (tmp_path, "folder")]:
        with pytest.raises(PercheadError, match=needle):
            load_project(path)
    big = tmp_path / "big.perchead"
    big.write_bytes(project_bytes(sample_project()))
    monkeypatch.setattr(project_mod, "MAX_FILE_BYTES", 100)
    with pytest.raises(PercheadError, match="MiB"):
        load_project(big)


def test_encrypted_member_is_a_clear_error() -> None:
    data = bytearray(zip_bytes(valid_members()))
    # set the "encrypted" flag bit in every local and central header
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            data[i + offset] |= 1
            start = i + 4
    assert "damaged" in one_line_error(bytes(data))


# ----- fuzzing: any bytes in, a Project or one PercheadError out ------------------------------

VALID = project_bytes(sample_project())
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


def parse_or_error(data: bytes) -> None:
    try:
        out = project_from_bytes(data, "fuzzed")
    except PercheadError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert isinstance(out, Project) and out.labels.dtype == np.uint8
    project_bytes(out)  # whatever loads must save again


@st.composite
def mutated_valid(draw) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def zip_with_fuzzed_members(draw) -> bytes:
    fields = draw(st.dictionaries(
        st.sampled_from(["format", "version", "prompt", "style_mode", "camera", "settings", "created_by", "x"]),
        JSON_VALUES, max_size=8))
    base = json.loads(meta())
    if draw(st.booleans()):
        base.update(fields)
    else:
        base = fields
    members = {"project.json": json.dumps(base).encode()}
    map_png = segmap_png_bytes(np.zeros((8, 8), np.uint8))
    for name, good in (("map.png", map_png), ("style.png", VALID_STYLE)):
        choice = draw(st.sampled_from(["good", "bytes", "mutated", "absent"]))
        if choice == "good":
            members[name] = good
        elif choice == "bytes":
            members[name] = draw(st.binary(max_size=64))
        elif choice == "mutated":
            raw = bytearray(good)
            pos = draw(st.integers(0, len(raw) - 1))
            raw[pos] ^= draw(st.integers(1, 255))
            members[name] = bytes(raw)
    return zip_bytes(members)


def _style_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((6, 5, 4), np.uint8), "RGBA").save(buf, "PNG")
    return buf.getvalue()


VALID_STYLE = _style_png()
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_bytes(data: bytes) -> None:
    parse_or_error(data)


@FUZZ
@given(mutated_valid())
def test_fuzz_mutated_project(data: bytes) -> None:
    parse_or_error(data)


@FUZZ
@given(zip_with_fuzzed_members())
def test_fuzz_well_formed_zip_with_bad_members(data: bytes) -> None:
    parse_or_error(data)
