"""Progress of long commands (perchead_gui/progress.py): bars on stderr only at a terminal and without --quiet."""
from __future__ import annotations

import io
import sys

from perchead_gui.progress import StageBars, show_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_at_a_terminal_without_quiet(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not show_progress() and not show_progress(quiet=True)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert show_progress() and not show_progress(quiet=True)


def test_stage_bars_name_the_stage_count_and_time_left(monkeypatch) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    bars = StageBars(enabled=True)
    tick = bars.start("edit model, drawn maps", 4)
    for _ in range(4):
        tick()
    shown = term.getvalue()
    assert "edit model, drawn maps" in shown and "/4 [" in shown and "<" in shown  # done/total [elapsed<left
    assert bars.start("nothing to count", 0) is None
    bars.close()
    assert StageBars(enabled=False).start("base", 3) is None


def test_long_commands_take_quiet_and_eval_a_quick_preset() -> None:
    import argparse

    from perchead_gui.commands import bench, eval as eval_cmd, train

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for module in (bench, eval_cmd, train):
        module.register(sub)
    assert parser.parse_args(["bench", "--quiet"]).quiet
    assert parser.parse_args(["train", "x.yaml", "--quiet"]).quiet
    args = parser.parse_args(["eval", "--quick", "--quiet"])
    assert args.quick and args.quiet and args.heads is None and args.drawn is None
    assert (eval_cmd.QUICK_HEADS, eval_cmd.QUICK_DRAWN) == (4, 8)


def test_bench_shows_a_bar_per_stage_and_keeps_json_clean(monkeypatch, capsys) -> None:
    """`perchead bench` at a terminal: each stage a bar naming what it measures, counted to its end; stdout only
    the JSON."""
    import json

    import perchead_gui.cli as cli

    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert cli.main(["bench", "--device", "cpu", "--no-engine", "--no-first-frame", "--frames", "1", "--json"]) == 0
    out = capsys.readouterr().out
    info = json.loads(out)
    shown = term.getvalue()
    rows = len(info["render"])
    assert rows >= 2 and f"{rows}/{rows} [" in shown and "renderer: 1 frames" in shown
    assert "network-only decode" in shown and "1/1 [" in shown
