"""ReconstructionLoss: config parsing, which terms run, the weighted sum, gradients back to the
rendered image and (through the real CPU rasteriser) to the Gaussians."""
from __future__ import annotations

import pytest
import torch

from models.cameras import canonical_view
from models.errors import PercheadError
from models.gaussians import Gaussians
from models.losses import LossConfig, ReconstructionLoss
from models.losses.feature_net import PRESETS, FeatureNet
from models.render import render_views


pytestmark = pytest.mark.usefixtures("one_thread")


def random_pred_target(v: int = 2, size: int = 24):
    labels = torch.randint(0, 15, (v, size, size))
    target = {"rgb": torch.rand(v, size, size, 3), "alpha": (labels > 0).float(), "class_map": labels}
    pred = {"rgb": torch.rand(v, size, size, 3, requires_grad=True),
            "alpha": torch.rand(v, size, size, requires_grad=True),
            "class_weights": (0.05 * torch.rand(v, size, size, 15)).requires_grad_(True)}
    return pred, target


def test_config_from_dict_and_validation() -> None:
    cfg = LossConfig.from_dict({"l1": 0.5, "dino_layers": [3, 6], "l1_mask": "alpha"})
    assert cfg.l1 == 0.5 and cfg.dino_layers == (3, 6) and cfg.to_dict()["l1_mask"] == "alpha"
    with pytest.raises(PercheadError, match="unknown loss option.*l2_weight.*valid: l1"):
        LossConfig.from_dict({"l2_weight": 1.0})
    with pytest.raises(PercheadError, match="ssim=-1"):
        LossConfig(ssim=-1)
    assert LossConfig().active_terms() == ("l1", "ssim", "class_ce", "feature")
    assert LossConfig(dino_dir="/somewhere").active_terms()[-1] == "dino"
    assert "dino" not in LossConfig(dino=0.0, dino_dir="/somewhere").active_terms()


def test_total_is_the_weighted_sum_and_every_input_gets_gradients() -> None:
    cfg = LossConfig(l1=1.0, ssim=0.2, class_ce=0.1, feature=0.3)
    loss_fn = ReconstructionLoss(cfg, feature_net=FeatureNet(PRESETS["tiny"]))
    assert loss_fn.terms == ("l1", "ssim", "class_ce", "feature") and loss_fn.state_dict() == {}
    pred, target = random_pred_target()
    total, terms = loss_fn(pred, target)
    expect = terms["l1"] + 0.2 * terms["ssim"] + 0.1 * terms["class_ce"] + 0.3 * terms["feature"]
    torch.testing.assert_close(total, expect)
    total.backward()
    for name in ("rgb", "alpha", "class_weights"):
        grad = pred[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_identical_images_and_perfect_classes_cost_almost_nothing() -> None:
    loss_fn = ReconstructionLoss(LossConfig(), feature_net=FeatureNet(PRESETS["tiny"]))
    labels = torch.randint(0, 15, (1, 16, 16))
    rgb = torch.rand(1, 16, 16, 3)
    fg = (labels > 0).float()
    pred = {"rgb": rgb, "alpha": fg, "class_weights": torch.nn.functional.one_hot(labels, 15) * fg[..., None]}
    total, terms = loss_fn(pred, {"rgb": rgb, "class_map": labels})
    assert total.item() < 1e-3 and terms["l1"].item() == 0.0


def test_masked_l1_reads_the_target_alpha() -> None:
    loss_fn = ReconstructionLoss(LossConfig(ssim=0, class_ce=0, feature=0, l1_mask="alpha"))
    target = {"rgb": torch.zeros(1, 4, 4, 3), "alpha": torch.zeros(1, 4, 4)}
    target["alpha"][:, :2] = 1.0
    pred = {"rgb": torch.zeros(1, 4, 4, 3)}
    pred["rgb"][:, 2:] = 1.0  # error only where the target is background
    total, terms = loss_fn(pred, target)
    assert total.item() == 0.0 and list(terms) == ["l1"]
    with pytest.raises(ValueError, match="target has no 'alpha'"):
        loss_fn(pred, {"rgb": target["rgb"]})


def test_missing_feature_net_checkpoint_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "feature_net.safetensors"
    with pytest.raises(PercheadError, match="feature_net.safetensors not found.*feature loss weight to 0"):
        ReconstructionLoss(LossConfig(feature_net_path=str(path)))
    assert "feature" not in ReconstructionLoss(LossConfig(feature=0.0)).terms  # needs no file


def test_all_weights_zero_is_refused() -> None:
    loss_fn = ReconstructionLoss(LossConfig(l1=0, ssim=0, class_ce=0, feature=0))
    pred, target = random_pred_target()
    with pytest.raises(PercheadError, match="every loss weight is 0"):
        loss_fn(pred, target)


def test_gradients_reach_the_gaussians_through_the_renderer() -> None:
    g = torch.Generator().manual_seed(4)
    n = 24

    def scene(shift: float) -> Gaussians:
        return Gaussians.from_activated(
            (torch.rand(n, 3, generator=g) - 0.5) * 0.2 + shift, torch.randn(n, 4, generator=g),
            0.01 + 0.02 * torch.rand(n, 3, generator=g), 0.5 + 0.4 * torch.rand(n, generator=g),
            torch.rand(n, 3, generator=g), torch.randint(1, 15, (n,), generator=g))

    view = canonical_view()
    cams = [view.camera(24), view.camera(24)]
    target_out = render_views(scene(0.0), cams, backend="cpu")
    target = {"rgb": target_out.rgb, "alpha": target_out.alpha, "class_map": target_out.class_map}
    pred_g = scene(0.02)
    for t in (pred_g.means, pred_g.sh, pred_g.opacity_logits):
        t.requires_grad_(True)
    loss_fn = ReconstructionLoss(LossConfig(), feature_net=FeatureNet(PRESETS["tiny"]))
    total, _ = loss_fn(render_views(pred_g, cams, backend="cpu"), target)
    total.backward()
    for t in (pred_g.means, pred_g.sh, pred_g.opacity_logits):
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
