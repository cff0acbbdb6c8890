"""``perchead bench`` reports every figure it promises (structure only: speed targets live in docs/)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from perchead_gui.bench import bench_prompts, stroke_maps
from perchead_gui.cli import main


def test_stroke_maps_are_successive_brush_movements() -> None:
    start = np.zeros((64, 64), np.uint8)
    start[16:48, 16:48] = 1
    maps = stroke_maps(start, 12, seed=3)
    assert len(maps) == 12
    for a, b in zip([start] + maps[:-1], maps):
        changed = a != b
        assert changed.any(), "every sample is a new map"
        assert changed.mean() < 0.2, "one brush movement changes a small area"


def test_bench_prompts_are_distinct() -> None:
    prompts = bench_prompts(30)
    assert len(set(prompts)) == 30


@pytest.mark.usefixtures("one_thread")
def test_bench_json_has_the_live_loop_figures(capsys) -> None:
    assert main(["bench", "--json", "--device", "cpu", "--samples", "2", "--size", "64", "--no-render",
                 "--no-decode", "--no-first-frame"]) == 0
    info = json.loads(capsys.readouterr().out)
    for key in ("device", "gaussians", "size", "edit_to_frame_ms_p50", "edit_to_frame_ms_p95",
                "edit_to_settled_frame_ms_p50", "edit_to_settled_frame_ms_p95", "style_change_ms_p50",
                "orbit_frame_ms_p50", "orbit_frame_ms_p95", "decode_ms_p50", "render_ms_p50", "peak_mem_mb"):
        assert key in info, key
    assert info["size"] == 64 and info["gaussians"] > 1000 and info["device"] == "cpu"
    # the first frame comes before the region-followed one; the decode (both steps) before that
    assert 0 < info["edit_to_frame_ms_p50"] < info["edit_to_settled_frame_ms_p50"]
    assert 0 < info["style_change_ms_p50"] < info["style_change_settled_ms_p50"]  # a style change: the same two frames
    assert 0 < info["decode_ms_p50"] <= info["edit_to_settled_frame_ms_p50"]
    assert info["render_ms_p50"] > 0 and info["orbit_frame_ms_p50"] > 0


def test_bench_refuses_bad_numbers(capsys) -> None:
    assert main(["bench", "--samples", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_bench_times_photo_to_head(capsys) -> None:
    from models.photo import mediapipe_available

    assert main(["bench", "--json", "--device", "cpu", "--frames", "2", "--no-engine", "--no-render", "--no-decode",
                 "--no-first-frame"]) == 0
    info = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in info["reconstruct"]}
    assert rows["recon-net"]["p50_ms"] > 0 and rows["recon-net"]["frames"] == 2
    if mediapipe_available():  # the photo framed too: slower than the decode alone
        assert rows["recon"]["p50_ms"] > rows["recon-net"]["p50_ms"] and "reconstruct_note" not in info
    else:
        assert "recon" not in rows and "MediaPipe" in info["reconstruct_note"]


def test_bench_times_the_decode_alone_where_mediapipe_is_missing(monkeypatch) -> None:
    import models.photo
    from models.photo import MediaPipeMissing
    from perchead_gui.bench import bench_reconstruct

    def missing(*_args, **_kwargs):
        raise MediaPipeMissing("photo support needs MediaPipe, which is not installed")

    monkeypatch.setattr(models.photo, "prepare_photo", missing)
    rows, note = bench_reconstruct(torch.device("cpu"), frames=2, warmup=1)
    assert [r.name for r in rows] == ["recon-net"] and rows[0].p50_ms > 0
    assert note.startswith("photo framing not timed") and "MediaPipe" in note
