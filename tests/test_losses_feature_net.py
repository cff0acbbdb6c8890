"""The engine-trained feature net: shapes and size, safetensors round trip (fp16, config inside),
clear errors for missing/corrupt checkpoints, FeatureLoss behaviour, a short training run."""
from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file, safe_open, save_file

from models.errors import PercheadError
from models.losses.feature_net import (DEFAULT_FEATURE_NET_PATH, PRESETS, FeatureLoss, FeatureNet,
                                       FeatureNetConfig, FeatureNetTrainConfig, batch_to_tensors, checkpoint_metadata,
                                       count_parameters, evaluate_feature_net, load_feature_net, save_feature_net,
                                       train_feature_net)
from models.render import RenderOutput

pytestmark = pytest.mark.usefixtures("one_thread")


TINY = PRESETS["tiny"]


def test_default_net_size_and_shapes() -> None:
    net = FeatureNet()
    assert 200_000 <= count_parameters(net) <= 1_000_000
    x = torch.rand(2, 3, 40, 36)
    assert net(x).shape == (2, 15, 40, 36)
    assert [f.shape[1:] for f in net.features(x)] == [(32, 40, 36), (64, 20, 18), (128, 10, 9), (128, 5, 5)]


def test_default_checkpoint_path() -> None:
    assert DEFAULT_FEATURE_NET_PATH.name == "feature_net.safetensors"
    assert DEFAULT_FEATURE_NET_PATH.parent.name == "checkpoints"


def test_save_load_round_trip_fp16_with_config(tmp_path) -> None:
    cfg = FeatureNetConfig(channels=(8, 16, 24, 24), decoder_channels=16)
    net = FeatureNet(cfg).eval()
    path = save_feature_net(net, tmp_path / "fn.safetensors", metrics={"miou": 0.5, "steps": 3})
    assert {t.dtype for t in load_file(str(path)).values()} == {torch.float16}
    meta = checkpoint_metadata(path)
    assert meta["config"]["channels"] == [8, 16, 24, 24] and meta["metrics"]["miou"] == 0.5
    loaded = load_feature_net(path)
    assert loaded.config == cfg and not loaded.training
    x = torch.rand(1, 3, 24, 24)
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=2e-2)  # fp16 storage


def test_load_strips_the_torch_compile_prefix(tmp_path) -> None:
    net = FeatureNet(TINY)
    path = save_feature_net(net, tmp_path / "fn.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = {"_orig_mod." + k: v for k, v in load_file(str(path)).items()}
    save_file(state, str(path), metadata=meta)
    assert load_feature_net(path).config == TINY


def test_missing_checkpoint_names_the_file_and_what_to_do(tmp_path) -> None:
    missing = tmp_path / "feature_net.safetensors"
    with pytest.raises(PercheadError, match="feature_net.safetensors not found.*train_feature_net") as e:
        load_feature_net(missing)
    assert "\n" not in str(e.value)


def test_corrupt_or_foreign_checkpoints_are_clear_errors(tmp_path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(PercheadError, match="junk.safetensors is unreadable or corrupt"):
        load_feature_net(junk)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign), metadata={"format": "something.else"})
    with pytest.raises(PercheadError, match="not a feature-net checkpoint"):
        load_feature_net(foreign)
    # right format, wrong tensors
    path = save_feature_net(FeatureNet(TINY), tmp_path / "fn.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = load_file(str(path))
    state.pop(next(iter(state)))
    save_file(state, str(path), metadata=meta)
    with pytest.raises(PercheadError, match="unreadable or corrupt"):
        load_feature_net(path)


def test_feature_loss_zero_for_identical_positive_otherwise_and_differentiable() -> None:
    loss_fn = FeatureLoss(FeatureNet(TINY))
    target = torch.rand(2, 32, 32, 3)
    assert loss_fn(target, target).item() == pytest.approx(0.0, abs=1e-6)
    pred = (target + 0.2 * torch.randn_like(target)).clamp(0, 1).requires_grad_(True)
    loss = loss_fn(pred, target)
    assert loss.item() > 1e-3
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    # chw input gives the same value
    chw = loss_fn(pred.detach().movedim(-1, -3), target.movedim(-1, -3), layout="chw")
    torch.testing.assert_close(chw, loss.detach())


def test_feature_loss_keeps_its_net_frozen_and_out_of_the_state() -> None:
    loss_fn = FeatureLoss(FeatureNet(TINY), layer_weights=[1, 1, 0.5, 0.5], distance="l1")
    assert list(loss_fn.parameters()) == [] and loss_fn.state_dict() == {}
    loss_fn.train()
    assert not loss_fn.net.training
    assert all(not p.requires_grad for p in loss_fn.net.parameters())
    loss_fn.to(torch.float64)
    assert next(loss_fn.net.parameters()).dtype == torch.float64
    with pytest.raises(ValueError, match="one per stage"):
        FeatureLoss(FeatureNet(TINY), layer_weights=[1.0])


def toy_batches(batch: int, size: int, seed: int):
    """Stand-in engine renders: coloured blobs whose colour says their class, on black."""
    g = torch.Generator().manual_seed(seed)
    palette = torch.rand(15, 3, generator=g) * 0.8 + 0.2
    palette[0] = 0.0
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    while True:
        labels = torch.zeros(batch, size, size, dtype=torch.long)
        for b in range(batch):
            for _ in range(3):
                cls = int(torch.randint(1, 15, (1,), generator=g))
                cx, cy, r = (torch.rand(3, generator=g) * torch.tensor([size, size, size / 3])).tolist()
                labels[b][(xs - cx) ** 2 + (ys - cy) ** 2 < (r + 2) ** 2] = cls
        yield {"rgb": palette[labels], "class_map": labels}


def test_train_feature_net_learns_and_reports_metrics() -> None:
    losses = []
    model, metrics = train_feature_net(toy_batches(6, 16, seed=1), steps=30, device="cpu", config=TINY,
                                       train=FeatureNetTrainConfig(lr=1e-2, log_every=1, balance_power=0.0),
                                       on_log=lambda r: losses.append(r["loss"]))
    assert len(losses) == 30 and losses[0] == pytest.approx(math.log(15), abs=0.3)
    assert sum(losses[-5:]) / 5 < 0.6 * losses[0]
    assert not model.training
    for key in ("steps", "final_loss", "pixel_accuracy", "miou", "per_class_iou", "seconds",
                "images_per_second", "parameters"):
        assert key in metrics
    assert metrics["parameters"] == count_parameters(model) and metrics["pixel_accuracy"] > 0.5
    held_out = evaluate_feature_net(model, [next(toy_batches(4, 16, seed=2))])
    assert 0.0 <= held_out["miou"] <= 1.0 and len(held_out["per_class_iou"]) == 15
    json.dumps(metrics)  # goes into the checkpoint's metadata and the model card


def test_class_balance_weights_and_batch_reuse() -> None:
    from models.losses.feature_net import class_weights

    freq = torch.tensor([0.7, 0.25, 0.05])
    w = class_weights(freq, 0.5)
    assert (freq * w).sum().item() == pytest.approx(1.0) and w[2] > w[1] > w[0]
    torch.testing.assert_close(class_weights(freq, 0.0), torch.ones(3))
    batches = [next(toy_batches(2, 16, seed=0))] * 2
    _, metrics = train_feature_net(iter(batches), steps=6, device="cpu", config=TINY,
                                   train=FeatureNetTrainConfig(reuse=3))  # 6 steps from 2 batches
    assert metrics["steps"] == 6


def test_train_feature_net_refuses_a_short_iterator() -> None:
    batches = [next(toy_batches(2, 16, seed=0))]
    with pytest.raises(ValueError, match=r"ran out after 1 batches \(1 of 3 steps\)"):
        train_feature_net(batches, steps=3, device="cpu", config=TINY)


def test_batches_may_be_render_outputs_with_class_weights() -> None:
    labels = torch.tensor([[0, 3], [9, 9]])
    weights = torch.nn.functional.one_hot(labels, 15).float() * (labels > 0)[..., None]
    out = RenderOutput(rgb=torch.rand(1, 2, 2, 3), alpha=(labels > 0).float()[None], depth=torch.zeros(1, 2, 2),
                       class_weights=weights[None], backend="cpu")
    images, got = batch_to_tensors(out)
    assert images.shape == (1, 3, 2, 2) and torch.equal(got[0], labels)
    with pytest.raises(ValueError, match="class_map"):
        batch_to_tensors({"rgb": torch.rand(1, 2, 2, 3)})


def test_engine_batches_feed_the_trainer() -> None:
    from models.losses.feature_net import engine_batches

    batches = engine_batches(heads=1, views=1, size=32, device="cpu")
    images, labels = batch_to_tensors(next(batches))
    assert images.shape == (1, 3, 32, 32) and labels.shape == (1, 32, 32) and (labels > 0).any()
    _, metrics = train_feature_net(batches, steps=1, device="cpu", config=TINY)
    assert metrics["steps"] == 1 and math.isfinite(metrics["final_loss"])
