"""``perchead edit`` and ``perchead reconstruct`` end to end, with the shipped checkpoints on CPU.

What the issue checks after delivery: heads from engine maps and from maps drawn by hand keep the
painted regions in the front view, colours follow the words, and every bad input (no head, a
blank map, empty / huge / foreign prompts, bad style images, missing or corrupt checkpoints, bad
output paths) ends in exit 2 and ONE stderr line, with nothing written. Decodes are slow on CPU
(a few seconds each), so successful runs happen once, in module-scoped fixtures.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from models.cameras import canonical_view
from models.palette import palette
from models.pipeline import CHECKPOINT_DIR
from models.io.ply import read_ply
from models.render import RenderOutput, render
from models.io.segmap import load_segmap
from tests.cli_support import cli, cli_out

REPO = Path(__file__).resolve().parent.parent
SKIN, HAIR = palette().id_of("skin"), palette().id_of("hair")
SENTINEL = b"an existing output that a failed command must leave alone\n"




def front(ply: Path) -> tuple[int, RenderOutput]:
    """(Gaussian count, canonical-view render with classes) of a written head."""
    head = read_ply(ply)
    return len(head.means), render(head, canonical_view().camera(), classes=True)


def seg_labels(path: Path) -> np.ndarray:
    return load_segmap(path, size=canonical_view().image_size).labels


def fg_iou(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = a > 0, b > 0
    return float((fa & fb).sum() / (fa | fb).sum())


def class_iou(a: np.ndarray, b: np.ndarray, cls: int) -> float:
    return float(((a == cls) & (b == cls)).sum() / ((a == cls) | (b == cls)).sum())


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=rgb.dtype)


def assert_head(rc: int, err: str, ply: Path, min_gaussians: int = 5000) -> tuple[int, RenderOutput]:
    """Exit 0 and a readable .ply with thousands of Gaussians; (count, front render)."""
    assert rc == 0, err
    n, out = front(ply)
    assert n >= min_gaussians, n
    return n, out


def draw_hand_map(path: Path) -> Path:
    """A head painted with PIL shapes in palette colours (not from the engine), canonical framing."""
    c = {name: tuple(int(v) for v in palette().colors[palette().id_of(name)]) for name in palette().names}
    im = Image.new("RGB", (256, 256), c["background"])
    d = ImageDraw.Draw(im)
    d.ellipse([20, 200, 236, 300], fill=c["clothes"])
    d.rectangle([102, 160, 154, 222], fill=c["neck"])
    d.ellipse([76, 28, 180, 150], fill=c["hair"])
    d.ellipse([90, 62, 166, 190], fill=c["skin"])
    d.ellipse([78, 112, 92, 144], fill=c["ears"])
    d.ellipse([164, 112, 178, 144], fill=c["ears"])
    d.rectangle([102, 99, 122, 104], fill=c["eyebrows"])
    d.rectangle([134, 99, 154, 104], fill=c["eyebrows"])
    d.ellipse([105, 108, 119, 115], fill=c["eyes"])
    d.ellipse([137, 108, 151, 115], fill=c["eyes"])
    d.polygon([(128, 112), (120, 140), (136, 140)], fill=c["nose"])
    d.ellipse([112, 148, 144, 155], fill=c["upper_lip"])
    d.ellipse([114, 153, 142, 161], fill=c["lower_lip"])
    im.save(path)
    return path


# ----- module-scoped runs (each decode is seconds on CPU) ---------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_edit")


@pytest.fixture(scope="module")
def engine(work: Path) -> Path:
    """``perchead synth --seed 106``: classes_front.png (palette class map) and view_front.png."""
    rc, err = cli("synth", "--seed", 106, "-o", work / "synth")
    assert rc == 0, err
    return work / "synth"


@pytest.fixture(scope="module")
def engine_edit(engine: Path, work: Path) -> dict[str, Path]:
    out = {"ply": work / "engine.ply", "preview": work / "engine.png"}
    rc, err = cli("edit", engine / "classes_front.png", "--prompt", "short brown hair, blue eyes",
                  "-o", out["ply"], "--preview", out["preview"])
    assert rc == 0, err
    return out


@pytest.fixture(scope="module")
def hand_heads(work: Path) -> dict[str, tuple[int, RenderOutput]]:
    seg = draw_hand_map(work / "hand.png")
    heads = {}
    for prompt in ("blonde hair", "black hair"):
        ply = work / f"hand_{prompt.split()[0]}.ply"
        heads[prompt] = assert_head(*cli("edit", seg, "--prompt", prompt, "-o", ply), ply)
    return heads


@pytest.fixture(scope="module")
def corrupt_checkpoints(work: Path) -> Path:
    """A copy of the shipped checkpoints with edit.safetensors cut in half."""
    folder = work / "ckpt_corrupt"
    shutil.copytree(CHECKPOINT_DIR, folder)
    bad = folder / "edit.safetensors"
    with open(bad, "r+b") as f:
        f.truncate(bad.stat().st_size // 2)
    return folder


# ----- heads that must come out ------------------------------------------------------------------

def test_edit_to_spz_says_what_it_wrote_and_what_the_format_dropped(engine: Path, work: Path) -> None:
    """-o head.spz: Niantic's compressed format; the last line names the file, the Gaussian count and the seconds."""
    import re

    from models.io.spz import read_spz

    out = work / "engine.spz"
    rc, stdout, err = cli_out("edit", engine / "classes_front.png", "--prompt", "short brown hair", "-o", out)
    assert rc == 0, err
    lines = stdout.strip().splitlines()
    assert "note: .spz holds no class labels: dropped (write a .ply to keep them)" in lines
    count = len(read_spz(out))
    assert re.fullmatch(rf"wrote {re.escape(str(out))}: {count:,} Gaussians in \d+\.\d s", lines[-1]), lines[-1]
    assert err == ""  # nothing on stderr off a terminal: no progress, no warnings for a known prompt


def test_edit_warns_about_prompt_words_it_cannot_read(engine: Path, work: Path) -> None:
    ply = work / "unread.ply"
    rc, err = cli("edit", engine / "classes_front.png", "--prompt", "zorblat hair, blue eyes", "-o", ply)
    assert rc == 0, err
    assert "does not know 'zorblat'" in err and ply.is_file()


def test_edit_engine_map_writes_a_head_that_keeps_the_painted_regions(engine: Path, engine_edit: dict[str, Path]) -> None:
    n, out = front(engine_edit["ply"])
    head = read_ply(engine_edit["ply"])
    assert n >= 5000, n  # measured 17,070 (after the pipeline prunes faint Gaussians)
    labels = set(head.labels.tolist())
    assert {SKIN, HAIR} <= labels, labels
    with Image.open(engine_edit["preview"]) as im:
        assert im.format == "PNG" and im.size == (512, 512)
        preview = np.asarray(im.convert("RGB"))
    assert preview[200:300, 200:300].mean() > 40  # the face is lit, not an empty black frame

    painted = seg_labels(engine / "classes_front.png")
    got = out.class_map.numpy()
    # measured: foreground IoU 0.98, class agreement on painted pixels 0.89, hair IoU 0.86
    assert fg_iou(got, painted) > 0.85
    assert float((got == painted)[painted > 0].mean()) > 0.75
    assert class_iou(got, painted, HAIR) > 0.6


def test_hand_drawn_map_gives_a_head_and_hair_colour_follows_the_words(work: Path, hand_heads) -> None:
    painted = seg_labels(work / "hand.png")
    assert len(np.unique(painted)) == 11  # background + the 10 painted classes
    lum = {}
    for prompt, (n, out) in hand_heads.items():
        got = out.class_map.numpy()
        assert fg_iou(got, painted) > 0.8, prompt  # measured 0.91 for both prompts
        assert class_iou(got, painted, HAIR) > 0.6, prompt  # measured 0.84
        hair = got == HAIR
        lum[prompt] = float(luminance(out.rgb.numpy()[hair]).mean())
    # measured: blonde 0.45, black 0.08 (mean Rec. 709 luminance of rendered 0..1 hair pixels)
    assert lum["blonde hair"] > lum["black hair"] + 0.15, lum
    assert lum["blonde hair"] > 2.0 * lum["black hair"], lum


def test_style_image_of_a_rendered_head(engine: Path, work: Path) -> None:
    ply = work / "styled.ply"
    _, out = assert_head(*cli("edit", engine / "classes_front.png", "--style-image", engine / "view_front.png",
                              "-o", ply), ply)
    painted = seg_labels(engine / "classes_front.png")
    got = out.class_map.numpy()
    assert fg_iou(got, painted) > 0.85  # measured 0.98
    # the reference has copper-red hair: the hair comes out warm, not black or grey
    # (measured mean hair RGB 0.50, 0.39, 0.29; "black hair" gives 0.11, 0.07, 0.06)
    r, g, b = out.rgb.numpy()[got == HAIR].mean(0)
    assert r > b + 0.1 and r > 0.3, (r, g, b)


def test_reconstruct_engine_front_view(engine: Path, work: Path) -> None:
    ply = work / "recon.ply"
    _, out = assert_head(*cli("reconstruct", engine / "view_front.png", "-o", ply), ply)
    with Image.open(engine / "view_front.png") as im:
        fg = np.asarray(im.convert("RGB")).max(-1) > 5  # engine renders are on black
    alpha = out.alpha.numpy() > 0.5
    assert float((fg & alpha).sum() / (fg | alpha).sum()) > 0.8  # measured 0.96 (22,110 Gaussians)


@pytest.mark.parametrize("prompt", [
    "long wavy red hair, green eyes. " * 3200,                           # ~100k characters
    "cheveux roux bouclés 👩‍🦰 شعر أحمر طويل ועיניים ירוקות, 黒い目",  # French, emoji, Arabic, Hebrew, Japanese
], ids=["100k_chars", "multilingual_emoji_rtl"])
def test_unusual_prompts_still_make_a_head(engine: Path, tmp_path: Path, prompt: str) -> None:
    ply = tmp_path / "head.ply"
    rc, err = cli("edit", engine / "classes_front.png", "--prompt", prompt, "-o", ply)
    assert rc == 0, err
    head = read_ply(ply)
    assert len(head.means) >= 5000 and SKIN in set(head.labels.tolist())
    if len(prompt) > 10_000:  # the user is told it was cut, in one warning line
        assert len(err.strip().splitlines()) == 1 and "too long" in err, err
    else:
        assert err == ""


# ----- bad input: exit 2, one line, nothing written --------------------------------------------

def _blank(path: Path, size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> Path:
    Image.new(mode, size, colour).save(path)
    return path


BAD_EDIT = {
    # case: words its error line must contain (the arguments are built by _bad_args)
    "seg_all_background": "no head",
    "seg_blank_white": "no background",
    "seg_missing": "not found",
    "prompt_empty": "empty",
    "prompt_whitespace": "empty",
    "style_tiny": "8x8",
    "style_huge": "20000x16",
    "style_not_an_image": "not a readable image",
    "style_transparent": "transparent",
    "style_missing": "not found",
    "checkpoint_folder_missing": "does not exist",
    "checkpoint_corrupt": "edit.safetensors",
    "output_folder_missing": "does not exist",
    "output_is_input": "is the input file",
}


def _bad_args(case: str, seg: Path, tmp: Path, corrupt: Path) -> list[object]:
    prompt = ["--prompt", "short red hair"]
    if case == "seg_all_background":
        return [_blank(tmp / "black.png", (256, 256), (0, 0, 0)), *prompt]
    if case == "seg_blank_white":  # white is off-palette; nearest is skin, so every pixel would be skin
        return [_blank(tmp / "white.png", (256, 256), (255, 255, 255)), *prompt]
    if case == "seg_missing":
        return [tmp / "nope.png", *prompt]
    if case == "prompt_empty":
        return [seg, "--prompt", ""]
    if case == "prompt_whitespace":
        return [seg, "--prompt", " \t\n \u3000 "]
    if case == "style_tiny":
        return [seg, "--style-image", _blank(tmp / "tiny.png", (8, 8), (200, 120, 60))]
    if case == "style_huge":
        return [seg, "--style-image", _blank(tmp / "huge.png", (20000, 16), (200, 120, 60))]
    if case == "style_not_an_image":
        (tmp / "notes.png").write_text("this is a text file, not a picture\n")
        return [seg, "--style-image", tmp / "notes.png"]
    if case == "style_transparent":
        return [seg, "--style-image", _blank(tmp / "clear.png", (64, 64), (200, 120, 60, 0), "RGBA")]
    if case == "style_missing":
        return [seg, "--style-image", tmp / "nope.png"]
    if case == "checkpoint_folder_missing":
        return [seg, *prompt, "--checkpoint", tmp / "no_such_folder"]
    if case == "checkpoint_corrupt":
        return [seg, *prompt, "--checkpoint", corrupt]
    raise AssertionError(case)


def assert_one_error_line(rc: int, err: str, cmd: str, *words: str, warnings: tuple[str, ...] = ()) -> None:
    """Exit 2 and ONE error line naming ``words``; before it only the expected warning lines, if any."""
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 + len(warnings), err
    for line, w in zip(lines, warnings):
        assert line.startswith("perchead: ") and w in line, err
    assert lines[-1].startswith(f"perchead {cmd}: error: "), err
    for w in words:
        assert w in lines[-1], (w, err)


@pytest.mark.parametrize("case", list(BAD_EDIT))
def test_bad_edit_input_is_one_line_and_writes_nothing(case: str, engine: Path, tmp_path: Path,
                                                       corrupt_checkpoints: Path) -> None:
    seg = tmp_path / "seg.png"
    shutil.copyfile(engine / "classes_front.png", seg)
    seg_bytes = seg.read_bytes()
    out, preview = tmp_path / "out.ply", tmp_path / "out.png"
    if case == "output_folder_missing":
        out = tmp_path / "missing" / "out.ply"
        args = [seg, "--prompt", "short red hair"]
    elif case == "output_is_input":
        out = seg
        args = [seg, "--prompt", "short red hair"]
    else:
        out.write_bytes(SENTINEL)  # an existing output must survive a failed run byte for byte
        args = _bad_args(case, seg, tmp_path, corrupt_checkpoints)
    before = sorted(p.name for p in tmp_path.iterdir())

    rc, err = cli("edit", *args, "-o", out, "--preview", preview)

    # the white map's colours are remapped (to skin) with the usual warning before the error
    warnings = ("100.0% of pixels",) if case == "seg_blank_white" else ()
    assert_one_error_line(rc, err, "edit", BAD_EDIT[case], warnings=warnings)
    if case == "checkpoint_corrupt":
        assert "corrupt" in err and "restore" in err  # says what is wrong and what to do
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no preview, no temp files, no folder
    assert seg.read_bytes() == seg_bytes
    if case not in ("output_folder_missing", "output_is_input"):
        assert out.read_bytes() == SENTINEL


def test_bad_reconstruct_input_is_one_line(engine: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.ply"
    rc, err = cli("reconstruct", _blank(tmp_path / "black.png", (64, 64), (0, 0, 0, 0), "RGBA"), "-o", out)
    assert_one_error_line(rc, err, "reconstruct", "no foreground")
    image = engine / "view_front.png"
    image_bytes = image.read_bytes()
    rc, err = cli("reconstruct", image, "-o", out, "--preview", image)
    assert_one_error_line(rc, err, "reconstruct", "is the input file")
    assert image.read_bytes() == image_bytes
    assert not out.exists()


def test_subprocess_corrupt_checkpoint_prints_no_traceback(engine: Path, tmp_path: Path,
                                                           corrupt_checkpoints: Path) -> None:
    out = tmp_path / "out.ply"
    proc = subprocess.run([sys.executable, "-m", "perchead_gui.cli", "edit", str(engine / "classes_front.png"),
                           "--prompt", "short red hair", "--checkpoint", str(corrupt_checkpoints), "-o", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert_one_error_line(proc.returncode, proc.stderr, "edit", str(corrupt_checkpoints / "edit.safetensors"))
    assert not out.exists()
