"""Autosave and crash recovery: interval logic, real SIGKILLed sessions, concurrent instances."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from models.errors import PercheadError
from perchead_gui import autosave as autosave_mod
from perchead_gui.autosave import Autosaver, RestoreOffer, user_state_dir
from perchead_gui.project import Project

S = 16
REPO = Path(__file__).resolve().parents[1]

# A child app session: autosaves one edit, says so, then either waits to be killed or exits cleanly.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from perchead_gui.autosave import Autosaver
    from perchead_gui.project import Project

    folder, mode, prompt = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    saver = Autosaver(folder, interval_s=0.0)
    labels = np.zeros((16, 16), np.uint8)
    labels[4:9, 2:12] = 9
    saver.mark_dirty()
    assert saver.maybe_save(lambda: Project(labels, prompt=prompt))
    if mode == "clean":
        saver.mark_clean_exit()
    print("saved", flush=True)
    if mode == "crash":
        time.sleep(120)
""")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def project(prompt: str = "p") -> Project:
    return Project(np.ones((S, S), np.uint8), prompt=prompt)


def start_child(folder: Path, mode: str, prompt: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), mode, prompt], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc


def wait_saved(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    if line.strip() != "saved":
        proc.kill()
        raise AssertionError(f"child failed: {proc.stderr.read()}")


# ----- state folder --------------------------------------------------------------------------

def test_user_state_dir_resolution(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PERCHEAD_STATE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert user_state_dir() == tmp_path / "explicit" and (tmp_path / "explicit").is_dir()
    monkeypatch.delenv("PERCHEAD_STATE_DIR")
    assert user_state_dir() == tmp_path / "xdg" / "perchead"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_state_dir() == tmp_path / "home" / ".local" / "state" / "perchead"
    assert user_state_dir().is_dir()


def test_unusable_state_dir_is_a_clear_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("PERCHEAD_STATE_DIR", str(tmp_path / "file" / "sub"))
    with pytest.raises(PercheadError, match="PERCHEAD_STATE_DIR"):
        user_state_dir()


def test_default_folder_is_under_the_state_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PERCHEAD_STATE_DIR", str(tmp_path))
    saver = Autosaver()
    assert saver.folder == tmp_path / "autosave" and saver.marker_path.is_file()


# ----- interval ------------------------------------------------------------------------------

def test_saves_only_when_dirty_and_the_interval_has_passed(tmp_path) -> None:
    clock = FakeClock()
    saver = Autosaver(tmp_path, interval_s=30.0, clock=clock)
    calls = []

    def snapshot() -> Project:
        calls.append(1)
        return project(f"v{len(calls)}")

    clock.now += 100
    assert not saver.maybe_save(snapshot)       # not dirty
    saver.mark_dirty()
    assert saver.maybe_save(snapshot)           # dirty, 100 s since start
    assert saver.autosave_path.is_file() and len(calls) == 1
    saver.mark_dirty()
    clock.now += 29
    assert not saver.maybe_save(snapshot) and len(calls) == 1  # too soon: the project is not even built
    clock.now += 1
    assert saver.maybe_save(snapshot) and len(calls) == 2
    assert not saver.maybe_save(snapshot)       # clean again
    record = json.loads(saver.marker_path.read_text())
    assert record["pid"] == os.getpid() and isinstance(record["saved_at"], float)


def test_first_autosave_waits_one_interval_from_start(tmp_path) -> None:
    clock = FakeClock()
    saver = Autosaver(tmp_path, interval_s=30.0, clock=clock)
    saver.mark_dirty()
    assert not saver.maybe_save(project)
    clock.now += 30
    assert saver.maybe_save(project)


def test_failed_autosave_is_reported_not_raised_and_retried_later(tmp_path) -> None:
    clock = FakeClock()
    saver = Autosaver(tmp_path, interval_s=10.0, clock=clock)
    saver.autosave_path.mkdir()  # something in the way: the write fails
    saver.mark_dirty()
    clock.now += 10
    assert not saver.maybe_save(project)
    assert saver.last_error and "folder" in saver.last_error
    saver.autosave_path.rmdir()
    assert not saver.maybe_save(project)        # backs off for an interval
    clock.now += 10
    assert saver.maybe_save(project) and saver.last_error is None


def test_save_now_and_clean_exit(tmp_path) -> None:
    saver = Autosaver(tmp_path)
    path = saver.save_now(project("now"))
    assert path == saver.autosave_path and path.is_file()
    saver.mark_clean_exit()
    assert not path.exists() and not saver.marker_path.exists()
    saver.mark_dirty()  # closing was cancelled: the session keeps its marker again
    assert saver.marker_path.exists()


# ----- crash recovery with real processes ----------------------------------------------------

def test_sigkilled_session_is_offered_and_a_clean_exit_is_not(tmp_path) -> None:
    crash = start_child(tmp_path, "crash", "crashed edit")
    clean = start_child(tmp_path, "clean", "clean edit")
    try:
        wait_saved(crash)
        wait_saved(clean)
        assert clean.wait(timeout=60) == 0
        me = Autosaver(tmp_path)
        me.save_now(project("mine"))
        # the crashing session is still running: another instance must not take its autosave
        assert me.pending_restore() is None
        crash.send_signal(signal.SIGKILL)
        crash.wait(timeout=30)
    finally:
        for proc in (crash, clean):
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()
    offer = me.pending_restore()
    assert isinstance(offer, RestoreOffer) and offer.pid == crash.pid
    restored = offer.load()
    assert restored.prompt == "crashed edit" and (restored.labels[4:9, 2:12] == 9).all()
    # the restored work is adopted, then the leftovers go; this session's own autosave stays
    me.save_now(restored)
    me.discard()
    assert not offer.path.exists() and me.pending_restore() is None
    assert me.autosave_path.is_file()
    assert Autosaver(tmp_path).pending_restore() is None  # me is alive: its autosave is not offered


def test_newest_of_several_crashed_sessions_is_offered(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    me = Autosaver(tmp_path)
    identity = dict(me._identity)
    for session, saved_at, prompt in (("a", 100.0, "older"), ("b", 200.0, "newer")):
        (tmp_path / f"session-{dead_pid}-{session}.json").write_text(
            json.dumps({**identity, "pid": dead_pid, "start_ticks": None, "saved_at": saved_at}))
        autosave_mod.save_project(tmp_path / f"autosave-{dead_pid}-{session}.perchead", project(prompt))
    offer = me.pending_restore()
    assert offer is not None and offer.saved_at == 200.0 and offer.load().prompt == "newer"
    me.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([me.marker_path.name])


def test_reused_pid_or_other_boot_counts_as_dead(tmp_path) -> None:
    me = Autosaver(tmp_path)
    mine = dict(me._identity)
    assert autosave_mod._session_alive(mine, mine)
    if mine["start_ticks"] is not None:
        assert not autosave_mod._session_alive({**mine, "start_ticks": mine["start_ticks"] + 1}, mine)
    if mine["boot_id"] is not None:
        assert not autosave_mod._session_alive({**mine, "boot_id": "another-boot"}, mine)
    # another host cannot be checked: never offered, never deleted
    assert autosave_mod._session_alive({**mine, "host": "elsewhere", "pid": 2**22 + 7}, mine)


def test_corrupt_or_foreign_files_in_the_folder_are_ignored(tmp_path) -> None:
    (tmp_path / "session-1-x.json").write_text("{not json")
    (tmp_path / "session-2-y.json").write_text(json.dumps({"pid": "two"}))
    (tmp_path / "notes.txt").write_text("hello")
    saver = Autosaver(tmp_path)
    assert saver.pending_restore() is None
    saver.discard()
    assert (tmp_path / "notes.txt").exists()


def test_dead_session_without_autosave_is_swept(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    me = Autosaver(tmp_path)
    marker = tmp_path / f"session-{int(dead.stdout)}-z.json"
    marker.write_text(json.dumps({**me._identity, "pid": int(dead.stdout), "start_ticks": None}))
    Autosaver(tmp_path)
    assert not marker.exists()
