"""Shared pytest set-up: seeded, CPU-only by default; GPU checks behind the ``gpu`` marker."""
from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (gpu marker); run on the GPU machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def one_thread():
    """Tiny tensors: one thread is fastest, and on a busy 2-core box a second OpenMP thread
    spin-waits for a core (measured: 8 ms vs 1.4 s per tiny training step)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def x_display():
    """An X display for the real window: the one in $DISPLAY if it works, else a private Xvfb.

    scripts/test.sh installs Debian's xvfb; without it the GUI tests skip (and fail on CI,
    where a skipped window test would hide a broken app)."""
    import os

    from perchead_gui.app.display import display_problem

    if os.environ.get("DISPLAY") and display_problem() is None:
        yield os.environ["DISPLAY"]
        return
    proc, display = start_xvfb("1280x1024x24")
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    yield display
    proc.terminate()
    proc.wait(10)
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous


def start_xvfb(screen: str):
    """A private Xvfb with one screen of ``screen`` ("WxHxDEPTH"): (its process, its display name)."""
    import os
    import shutil
    import subprocess

    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        message = "Xvfb is not installed (bash scripts/test.sh installs Debian's xvfb)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    return proc, f":{number}"

