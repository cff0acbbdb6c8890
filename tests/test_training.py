"""perchead train: the loop end to end on tiny settings, resuming, and DDP with 2 gloo processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from models.networks.checkpoint import load_checkpoint
from models.networks.template import build_template, save_template
from perchead_gui.cli import main


def tiny_config(tmp_path: Path, **over) -> Path:
    g = torch.Generator().manual_seed(0)
    cloud = torch.nn.functional.normalize(torch.randn(4000, 3, generator=g), dim=1) * torch.tensor([0.08, 0.11, 0.1])
    save_template(tmp_path / "template.safetensors", build_template(cloud, 32, 8))
    cfg = {
        "stage": "base",
        "net": {"enc_dim": 16, "enc_depth": 1, "enc_heads": 2, "dec_dim": 16, "dec_depth": 1, "dec_heads": 2,
                "patch_size": 8},
        "template": str(tmp_path / "template.safetensors"),
        "steps": 2, "batch_size": 1, "views": 2, "image_size": 32, "lr": 1e-3, "warmup": 1,
        "log_every": 1, "eval_every": 1000, "ckpt_every": 1,
        "out_dir": str(tmp_path / "run"), "export": str(tmp_path / "run" / "base.safetensors"),
        "device": "cpu", "loss": {"l1": 1.0, "ssim": 0.2, "class_ce": 0.1, "feature": 0.0},
        "data": {"eval_heads": 1, "engine_gaussians": 1500},
    }
    cfg.update(over)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_train_runs_exports_a_loadable_checkpoint_and_resumes(tmp_path: Path, capsys) -> None:
    cfg = tiny_config(tmp_path)
    assert main(["train", str(cfg)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["steps_done"] == 2 and "base_psnr_yaw0" in metrics
    model, extra = load_checkpoint(tmp_path / "run" / "base.safetensors")
    assert extra["metrics"]["step"] == 2
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]
    # resuming continues from the saved step rather than starting over
    assert main(["train", str(cfg), "--steps", "3"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["steps_done"] == 3
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]


def test_bad_configs_are_explained(tmp_path: Path, capsys) -> None:
    assert main(["train", str(tmp_path / "none.yaml")]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: base\nlearning_rate: 3\n")
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "learning_rate" in err


def test_two_gloo_processes_keep_identical_weights(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, steps=3)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", "29517", "-m", "perchead_gui.cli", "train", str(cfg)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    metrics = json.loads(res.stdout[res.stdout.index("{"):])
    assert metrics["world_size"] == 2 and metrics["steps_done"] == 3
    assert metrics["rank_weight_spread"] == 0.0


def test_losses_stay_finite_under_bf16_autocast(tmp_path: Path) -> None:
    """The network runs in bf16 on GPUs; rendering and SSIM must not (they overflowed to -inf)."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.stages import make_reconstruction_task

    cfg = TrainConfig.load(tiny_config(tmp_path))
    task = make_reconstruction_task(cfg, DistInfo(0, 1, 0, torch.device("cpu")))
    model = task.build_model()
    batch = next(task.batches())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, terms = task.loss(model, batch)
    assert torch.isfinite(loss) and all(v == v and abs(v) != float("inf") for v in terms.values())
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
