"""``perchead render`` end to end: where Gaussians land, their colour, class maps, bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.cameras import canonical_view, project_points
from models.gaussians import Gaussians
from models.palette import palette
from models.io.ply import ply_bytes, write_ply
from perchead_gui.cli import main


def known_head() -> Gaussians:
    """Three coloured blobs at known places: red on +x, green above, blue at the face."""
    means = torch.tensor([[0.1, -0.02, 0.0], [0.0, 0.1, 0.0], [0.0, -0.05, 0.1]])
    scales = torch.full((3, 3), 0.012)
    rgb = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return Gaussians.from_activated(means, torch.tensor([[1.0, 0, 0, 0]] * 3), scales,
                                    torch.full((3,), 0.99), rgb, torch.tensor([5, 9, 2]))


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def test_render_places_each_gaussian_at_its_projection_with_its_colour(tmp_path: Path) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    out = tmp_path / "view.png"
    assert run_cli("render", ply, "-o", out) == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    size = canonical_view().image_size
    assert img.shape == (size, size, 3)
    uv = project_points(known_head().means, canonical_view().camera())
    for (u, v), colour in zip(uv.tolist(), ([255, 0, 0], [0, 255, 0], [0, 0, 255])):
        px = img[int(v), int(u)].astype(int)
        assert np.abs(px - np.array(colour)).max() <= 6, (u, v, px)


def test_classes_flag_writes_palette_colours_aligned_with_the_canonical_view(tmp_path: Path) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    out = tmp_path / "classes.png"
    assert run_cli("render", ply, "-o", out, "--classes") == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    colors = palette().colors
    uv = project_points(known_head().means, canonical_view().camera())
    for (u, v), label in zip(uv.tolist(), (5, 9, 2)):
        assert (img[int(v), int(u)] == colors[label]).all()
    assert (img[0, 0] == colors[0]).all()
    used = {tuple(c) for c in img.reshape(-1, 3)}
    assert used <= {tuple(c) for c in colors}


def test_yaw_and_size_options(tmp_path: Path) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    out = tmp_path / "side.png"
    assert run_cli("render", ply, "-o", out, "--yaw", "90", "--size", "96", "--background", "255,255,255") == 0
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (96, 96, 3)
    assert (img[0, 0] == 255).all()
    # seen from +x, the red blob on +x is nearest the camera, near the centre column
    red = np.argwhere((img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60))
    assert len(red) and abs(red[:, 1].mean() - 48) < 8
    # the blue face blob (+z) is left of centre
    blue = np.argwhere((img[..., 2] > 200) & (img[..., 0] < 60))
    assert len(blue) and blue[:, 1].mean() < 40


def bad_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = ply_bytes(known_head())
    header_end = good.index(b"end_header\n") + len(b"end_header\n")
    nan_head = known_head()
    nan_head.means[1, 0] = float("nan")
    cases = {
        "missing": (tmp_path / "nope.ply", "nope.ply"),
        "not a ply": (tmp_path / "text.ply", "not a PLY"),
        "truncated": (tmp_path / "cut.ply", "truncated"),
        "missing property": (tmp_path / "noopacity.ply", "opacity"),
        "nan": (tmp_path / "nan.ply", "NaN"),
    }
    cases["not a ply"][0].write_text("hello, I am text\n")
    cases["truncated"][0].write_bytes(good[: header_end + 20])
    cases["missing property"][0].write_bytes(good.replace(b"property float opacity\n", b"property float opaque\n"))
    # build the NaN file by hand: the writer itself refuses NaN
    body = bytearray(good)
    np_body = np.frombuffer(bytes(body[header_end:]), dtype="<f4").copy()
    np_body[0] = np.nan
    cases["nan"][0].write_bytes(bytes(body[:header_end]) + np_body.tobytes())
    return cases


@pytest.mark.parametrize("case", ["missing", "not a ply", "truncated", "missing property", "nan"])
def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path: Path, capsys, case: str) -> None:
    path, expect = bad_cases(tmp_path)[case]
    out = tmp_path / "out.png"
    out.write_bytes(b"previous image")
    assert run_cli("render", path, "-o", out) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("perchead render: error:")
    assert expect.lower() in err.lower(), err
    assert out.read_bytes() == b"previous image"  # an existing output is never clobbered


def test_output_in_a_missing_folder_is_refused_before_work(tmp_path: Path, capsys) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    assert run_cli("render", ply, "-o", tmp_path / "no" / "such" / "dir.png") == 2
    err = capsys.readouterr().err
    assert "does not exist" in err


def test_output_equal_to_input_is_refused(tmp_path: Path, capsys) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    before = ply.read_bytes()
    assert run_cli("render", ply, "-o", ply) == 2
    assert ply.read_bytes() == before


def test_bad_options_are_explained(tmp_path: Path, capsys) -> None:
    ply = write_ply(tmp_path / "head.ply", known_head())
    assert run_cli("render", ply, "-o", tmp_path / "a.png", "--size", "0") == 2
    assert run_cli("render", ply, "-o", tmp_path / "a.png", "--background", "red") == 2
    errs = capsys.readouterr().err
    assert "--size" in errs and "--background" in errs


def test_console_script_prints_no_traceback_for_a_user_mistake(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "perchead_gui.cli", "render", str(tmp_path / "x.ply"),
                          "-o", str(tmp_path / "y.png")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_help_lists_only_working_commands() -> None:
    res = subprocess.run([sys.executable, "-m", "perchead_gui.cli", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0
    assert "render" in res.stdout and "bench" in res.stdout
    listed = res.stdout.split("positional arguments")[1].split("options")[0]
    from perchead_gui.cli import COMMANDS

    assert all(name in listed for name in COMMANDS), "every working command is listed"


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    import os
    import stat

    ply = write_ply(tmp_path / "head.ply", known_head())
    out = tmp_path / "view.png"
    assert run_cli("render", ply, "-o", out) == 0
    umask = os.umask(0)
    os.umask(umask)
    for path in (ply, out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
