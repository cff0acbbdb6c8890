"""Nothing is ever lost: every writer replaces a file whole or leaves it as it was.

Real writer processes are killed with SIGKILL mid-write, between fsync and rename, and at random
moments; the target must then hold the old file or the new one, complete, never a mix, and no
leftover may carry the target's name. A disk that fills up half-way through any writer leaves
the previous file intact and no temp file behind.
"""
from __future__ import annotations

import errno
import io
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import models.io.atomic as atomic_io
from models.io.atomic import write_atomic, write_bytes_atomic, write_path_atomic
from models.errors import PercheadError

REPO = Path(__file__).resolve().parent.parent
OLD = b"the previous version, complete\n" * 1000


# ----- the writers of the product (each: target path -> writes a new version there) ------------

def _gaussians(n: int = 2000):
    from models.gaussians import Gaussians

    g = torch.Generator().manual_seed(0)
    return Gaussians(means=torch.randn(n, 3, generator=g), quats=torch.randn(n, 4, generator=g),
                     log_scales=torch.randn(n, 3, generator=g) - 3, opacity_logits=torch.randn(n, generator=g),
                     sh=torch.randn(n, 4, 3, generator=g), labels=torch.randint(0, 15, (n,), generator=g))


def _tiny_net():
    from models.networks.config import NetConfig
    from models.networks.perchead import PercHeadNet
    from models.networks.template import Template

    cfg = NetConfig(kind="edit", image_size=32, patch_size=8, enc_dim=32, enc_depth=1, enc_heads=2, dec_dim=32,
                    dec_depth=1, dec_heads=2, style_dim=16, num_tokens=4, points_per_token=6)
    return PercHeadNet(cfg, Template(torch.randn(24, 3), torch.full((24,), -4.0), 6))


def write_with(kind: str, target: Path) -> None:
    """Write a new version of ``target`` through the product's own writer of that kind."""
    if kind == "ply":
        from models.io.ply import write_ply
        write_ply(target, _gaussians())
    elif kind == "png":
        from models.io.images import save_png
        save_png(target, np.random.default_rng(0).random((96, 96, 3), dtype=np.float32))
    elif kind == "segmap":
        from models.io.segmap import save_segmap
        save_segmap(target, np.random.default_rng(0).integers(0, 15, (64, 64), dtype=np.uint8))
    elif kind == "project":
        from perchead_gui.project import Project, save_project
        save_project(target, Project(np.ones((32, 32), np.uint8), prompt="red hair"))
    elif kind == "checkpoint":
        from models.networks.checkpoint import save_checkpoint
        save_checkpoint(target, _tiny_net())
    elif kind == "style":
        from models.style.checkpoint import save_style_model
        from models.style.encoders import PRESETS, StyleModel
        save_style_model(target, StyleModel(PRESETS["tiny"]))
    elif kind == "template":
        from models.networks.template import Template, save_template
        save_template(target, Template(torch.randn(24, 3), torch.full((24,), -4.0), 6))
    else:
        raise ValueError(kind)


WRITERS = ["ply", "png", "segmap", "project", "checkpoint", "style", "template"]


def leftovers(folder: Path, target: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != target)


# ----- a full disk -----------------------------------------------------------------------------

class HalfThenDiskFull(io.RawIOBase):
    """Takes the first half of the first write, then fails like a full disk."""

    def __init__(self, real) -> None:
        self.real = real

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.real.write(memoryview(b)[: max(1, len(b) // 2)])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __exit__(self, *exc) -> bool:
        self.real.close()
        return False


@pytest.mark.parametrize("kind", WRITERS)
def test_disk_full_midway_keeps_the_previous_file(kind: str, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / f"out.{kind}"
    target.write_bytes(OLD)
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic_io.os, "fdopen", lambda fd, mode: HalfThenDiskFull(real_fdopen(fd, mode)))
    with pytest.raises(PercheadError, match="No space left on device; check the folder is writable") as info:
        write_with(kind, target)
    assert "\n" not in str(info.value)
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path, target) == []  # the half-written temp file is removed


@pytest.mark.parametrize("kind", WRITERS)
def test_each_writer_replaces_the_file_whole(kind: str, tmp_path: Path) -> None:
    target = tmp_path / f"out.{kind}"
    target.write_bytes(OLD)
    write_with(kind, target)
    assert target.read_bytes() != OLD and target.stat().st_size > 0
    assert leftovers(tmp_path, target) == []


@pytest.mark.parametrize("failure", [errno.EACCES, errno.EROFS, errno.EDQUOT, errno.EIO])
def test_write_failures_are_one_line_and_keep_the_old_file(failure: int, tmp_path: Path, monkeypatch) -> None:
    """Failures the OS reports when the temp file is made (a read-only folder or file system, a
    quota, a dying disk); the read-only case is also tested for real in test_reliability.py."""
    target = tmp_path / "head.ply"
    target.write_bytes(OLD)
    real_open = os.open

    def failing_open(path, flags, *args):
        if str(path).endswith(".tmp"):
            raise OSError(failure, os.strerror(failure), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(atomic_io.os, "open", failing_open)
    with pytest.raises(PercheadError, match=f"cannot write {target}: {os.strerror(failure)}") as info:
        write_bytes_atomic(target, b"new")
    assert "\n" not in str(info.value) and target.read_bytes() == OLD


def test_a_name_too_long_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PercheadError, match="File name too long"):
        write_bytes_atomic(tmp_path / ("x" * 300 + ".png"), b"new")


def test_the_file_and_its_folder_are_fsynced_before_and_after_the_rename(tmp_path: Path, monkeypatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    monkeypatch.setattr(atomic_io.os, "fsync", fsync)
    monkeypatch.setattr(atomic_io.os, "replace", lambda a, b: (events.append("rename"), real_replace(a, b)))
    write_bytes_atomic(tmp_path / "a.bin", b"data")
    assert events == ["fsync file", "rename", "fsync folder"]


def test_symlinks_and_permissions_survive_a_replace(tmp_path: Path) -> None:
    real = tmp_path / "real.ply"
    real.write_bytes(OLD)
    real.chmod(0o640)
    link = tmp_path / "link.ply"
    link.symlink_to(real)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert leftovers(tmp_path, real) == ["link.ply"]


def test_a_failing_writer_callback_leaves_no_trace(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(OLD)

    def writer(f) -> None:
        f.write(b"partial")
        raise PercheadError("encoding failed")

    with pytest.raises(PercheadError, match="encoding failed"):
        write_atomic(target, writer)
    assert target.read_bytes() == OLD and leftovers(tmp_path, target) == []


def test_path_writers_like_ffmpeg_get_the_same_guarantees(tmp_path: Path) -> None:
    target = tmp_path / "turn.mp4"
    target.write_bytes(OLD)
    seen: list[Path] = []

    def produce(tmp: Path) -> None:  # an encoder that opens the path itself
        seen.append(tmp)
        tmp.write_bytes(b"mp4 data")

    write_path_atomic(target, produce, suffix=".mp4")
    assert target.read_bytes() == b"mp4 data" and seen[0].suffix == ".mp4" and seen[0].parent == tmp_path
    assert seen[0].name != target.name and leftovers(tmp_path, target) == []

    def crash(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(PercheadError, match="No space left"):
        write_path_atomic(target, crash, suffix=".mp4")
    assert target.read_bytes() == b"mp4 data" and leftovers(tmp_path, target) == []


# ----- SIGKILL --------------------------------------------------------------------------------

SLOW_WRITER = r"""
import sys, time
from models.io.atomic import write_atomic

target, chunks = sys.argv[1], int(sys.argv[2])

def slow(f):
    for i in range(chunks):
        f.write(bytes([65 + i % 26]) * (1 << 16))
        f.flush()
        if i == 0:
            print("writing", flush=True)
        time.sleep(0.01)

write_atomic(target, slow)
print("done", flush=True)
"""


def _start(code: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(proc: subprocess.Popen, word: str) -> None:
    line = proc.stdout.readline()
    assert line.strip() == word, (line, proc.stderr.read() if proc.poll() is not None else "")


@pytest.mark.timeout(180)
def test_sigkill_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "head.ply"
    target.write_bytes(OLD)
    proc = _start(SLOW_WRITER, target, 500)  # 500 x 64 KiB, 10 ms apart: killed well before the end
    try:
        _wait_for(proc, "writing")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD
    litter = leftovers(tmp_path, target)
    assert len(litter) == 1 and litter[0].startswith(".head.ply.") and litter[0].endswith(".tmp")
    assert (tmp_path / litter[0]).stat().st_size > 0  # it really was killed mid-write

    # the next write to the same target sweeps the dead writer's temp file (here: without waiting)
    monkeypatch.setattr(atomic_io, "STALE_TEMP_S", 0.0)
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new" and leftovers(tmp_path, target) == []


@pytest.mark.timeout(180)
def test_a_live_writers_temp_file_is_never_swept(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "head.ply"
    proc = _start(SLOW_WRITER, target, 2000)
    try:
        _wait_for(proc, "writing")
        monkeypatch.setattr(atomic_io, "STALE_TEMP_S", 0.0)
        write_bytes_atomic(target, b"mine")
        assert len(leftovers(tmp_path, target)) == 1  # the other process is still writing its temp file
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


HOOKED_WRITER = r"""
import os, sys, time
import models.io.atomic as atomic_io
from tests.test_reliability_atomic import write_with

kind, target, hook = sys.argv[1], sys.argv[2], sys.argv[3]
real = getattr(os, hook)

def stall(*args):
    print("stalled", flush=True)
    time.sleep(120)
    return real(*args)

setattr(atomic_io.os, hook, stall)
write_with(kind, __import__("pathlib").Path(target))
print("done", flush=True)
"""


@pytest.mark.timeout(180)
def test_sigkill_before_the_rename_in_every_real_writer(tmp_path: Path) -> None:
    """Each real writer is stopped after its data is written and fsynced, just before the rename
    (and one at the fsync), then killed: the old file must be there, whole."""
    jobs = [(kind, "replace") for kind in WRITERS] + [("ply", "fsync")]
    for wave in (jobs[:4], jobs[4:]):  # four at a time: each spends its time importing torch
        procs = []
        for kind, hook in wave:
            target = tmp_path / f"{kind}-{hook}" / "out.bin"
            target.parent.mkdir()
            target.write_bytes(OLD)
            procs.append((target, _start(HOOKED_WRITER, kind, target, hook)))
        for target, proc in procs:
            try:
                _wait_for(proc, "stalled")
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            assert target.read_bytes() == OLD, target
            assert all(n.startswith(".out.bin.") and n.endswith(".tmp") for n in leftovers(target.parent, target))


CYCLING_WRITER = r"""
import sys
from models.io.atomic import write_atomic

target = sys.argv[1]
generation = 0
while True:
    generation += 1
    def write(f, g=generation):
        header = b"generation %08d\n" % g
        f.write(header)
        for i in range(64):  # 4 MiB per version, in 64 KiB pieces
            f.write(bytes([g % 251]) * (1 << 16))
    write_atomic(target, write)
    print(generation, flush=True)
"""


def _complete_version(data: bytes) -> int:
    """The generation of a complete file written by CYCLING_WRITER, or fail."""
    assert data.startswith(b"generation "), data[:40]
    g = int(data[11:19])
    assert data == b"generation %08d\n" % g + bytes([g % 251]) * (64 << 16), f"generation {g} is not whole"
    return g


@pytest.mark.timeout(180)
def test_sigkill_at_random_moments_never_leaves_a_mix(tmp_path: Path) -> None:
    """A process rewriting the same file in a loop is killed at random moments (a seeded draw):
    each time the file is the old one or a complete new version, never a mix."""
    rng = random.Random(10)
    target = tmp_path / "autosave.perchead"
    target.write_bytes(OLD)
    seen = set()
    for _ in range(8):
        proc = _start(CYCLING_WRITER, target)
        try:
            proc.stdout.readline()  # one full version written: the next is under way
            time.sleep(rng.uniform(0.0, 0.15))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        data = target.read_bytes()
        seen.add("old" if data == OLD else _complete_version(data))
        litter = leftovers(tmp_path, target)
        assert all(n.startswith(".autosave.perchead.") and n.endswith(".tmp") for n in litter), litter
    assert seen - {"old"}  # the writer did get through versions between kills
