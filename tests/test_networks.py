"""PercHead networks: shapes, background-patch dropping, template, checkpoint round trips."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from models.errors import PercheadError
from models.networks.checkpoint import check_template, checkpoint_bytes, load_checkpoint, save_checkpoint
from models.networks.config import NetConfig
from models.networks.perchead import PercHeadNet
from models.networks.template import Template, build_template, load_template, morton_order, save_template

TINY = dict(image_size=64, patch_size=16, enc_dim=32, enc_depth=1, enc_heads=2, dec_dim=32, dec_depth=1,
            dec_heads=2, style_dim=16)


def tiny_template(tokens: int = 16, k: int = 8):
    g = torch.Generator().manual_seed(0)
    cloud = torch.nn.functional.normalize(torch.randn(5000, 3, generator=g), dim=1) * torch.tensor([0.08, 0.11, 0.1])
    return build_template(cloud, tokens, k)


def seg_input(b: int = 1, size: int = 64) -> torch.Tensor:
    lab = torch.zeros(b, size, size, dtype=torch.long)
    lab[:, 10:50, 16:48] = 1
    lab[:, 10:20, 16:48] = 9
    lab[:, 30:34, 22:28] = 3
    return lab


def test_template_has_equal_compact_patches() -> None:
    t = tiny_template(32, 16)
    assert t.points.shape == (512, 3) and t.num_tokens == 32
    # patches from the Morton order are compact: mean spread well below the whole cloud's
    per_patch = t.points.view(32, 16, 3)
    spread = (per_patch - per_patch.mean(1, keepdim=True)).norm(dim=-1).mean()
    whole = (t.points - t.points.mean(0)).norm(dim=-1).mean()
    assert spread < 0.5 * whole
    assert torch.isfinite(t.base_log_scale).all()


def test_morton_order_is_a_permutation() -> None:
    pts = torch.rand(1000, 3)
    order = morton_order(pts)
    assert torch.equal(order.sort().values, torch.arange(1000))


@pytest.mark.parametrize("kind", ["base", "edit"])
def test_forward_shapes_and_initial_state_is_the_template(kind: str) -> None:
    t = tiny_template()
    model = PercHeadNet(NetConfig(kind=kind, **TINY), t).eval()
    inputs = (seg_input(2), torch.randn(2, 16)) if kind == "edit" else (torch.rand(2, 3, 64, 64), torch.ones(2, 64, 64))
    pred = model(*inputs)
    n = 16 * 8
    assert pred.means.shape == (2, n, 3) and pred.class_logits.shape == (2, n, 15)
    # the head starts near the template (tiny weights), so training starts from a head shape
    assert (pred.means - t.points).abs().max() < 0.01
    head = pred.head(0)
    assert len(head) == n and head.labels.dtype == torch.long


def test_dropping_background_patches_equals_masking_them() -> None:
    """B = 1 removes background tokens; a batch masks them: the same head must come out."""
    model = PercHeadNet(NetConfig(kind="edit", **TINY), tiny_template()).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.2)  # make outputs depend on the inputs
    lab = seg_input(1)
    other = torch.zeros_like(lab)
    other[:, 5:60, 5:60] = 12
    style = torch.randn(2, 16)
    with torch.no_grad():
        single = model(lab, style[:1])
        batch = model(torch.cat([lab, other]), style)
    torch.testing.assert_close(single.means[0], batch.means[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(single.class_logits[0], batch.class_logits[0], atol=1e-4, rtol=1e-4)


def test_style_changes_the_head() -> None:
    model = PercHeadNet(NetConfig(kind="edit", **TINY), tiny_template()).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.2)
    with torch.no_grad():
        a = model(seg_input(), torch.zeros(1, 16)).sh_dc
        b = model(seg_input(), torch.ones(1, 16)).sh_dc
    assert (a - b).abs().max() > 1e-3


def _trained_edit_model(template) -> PercHeadNet:
    model = PercHeadNet(NetConfig(kind="edit", **TINY), template).eval()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return model


def test_transfer_state_onto_its_own_template_changes_nothing() -> None:
    template = tiny_template()
    old = _trained_edit_model(template)
    new = PercHeadNet(NetConfig(kind="edit", **TINY), template).eval()
    new.load_state_dict(new.transfer_state(old.state_dict()))
    style = torch.randn(1, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = old(seg_input(), style), new(seg_input(), style)
    for field in ("means", "log_scales", "sh_dc", "class_logits"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field


def test_transfer_state_onto_a_denser_template_keeps_each_patch_and_slot() -> None:
    """Twice the points per patch, each old point twice in a row: every new pair of slots repeats its old slot's
    Gaussian, and the template's buffers are the new template's."""
    template = tiny_template(k=8)
    old = _trained_edit_model(template)
    doubled = Template(template.points.repeat_interleave(2, 0), template.base_log_scale.repeat_interleave(2), 16)
    new = PercHeadNet(NetConfig(kind="edit", **TINY), doubled).eval()
    new.load_state_dict(new.transfer_state(old.state_dict()))
    assert new.cfg.num_gaussians == 2 * old.cfg.num_gaussians
    assert torch.equal(new.head.points, doubled.points)
    style = torch.randn(1, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = old(seg_input(), style), new(seg_input(), style)
    assert torch.allclose(b.means[:, 0::2], a.means, atol=1e-6)
    assert torch.allclose(b.means[:, 1::2], a.means, atol=1e-6)
    assert torch.allclose(b.sh_dc[:, 1::2], a.sh_dc, atol=1e-6)


def test_transfer_state_takes_each_token_from_the_nearest_old_patch() -> None:
    old = _trained_edit_model(tiny_template())
    moved = tiny_template()
    shifted = Template(moved.points + 0.001, moved.base_log_scale, moved.points_per_token)  # every patch moves 1 mm
    new = PercHeadNet(NetConfig(kind="edit", **TINY), shifted).eval()
    state = new.transfer_state(old.state_dict())
    assert torch.equal(state["decoder.token"], old.state_dict()["decoder.token"])
    assert torch.equal(state["head.points"], shifted.points)
    assert torch.equal(state["decoder.centres"], new.decoder.centres)


def test_point_bias_starts_as_the_network_without_it_and_moves_one_gaussian() -> None:
    """net.point_bias: zero at the start (the same head as without it), and a row of it changes its own Gaussian
    alone, whatever the token says."""
    template = tiny_template()
    old = _trained_edit_model(template)
    new = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), template).eval()
    new.load_state_dict(old.state_dict(), strict=False)
    style = torch.randn(1, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = old(seg_input(), style), new(seg_input(), style)
        assert torch.equal(a.class_logits, b.class_logits) and torch.equal(a.means, b.means)
        new.head.point_bias[5, -1] = 7.0  # point 5's last class
        c = new(seg_input(), style)
    changed = (c.class_logits != b.class_logits).any(-1)[0]
    assert changed.nonzero().flatten().tolist() == [5]
    assert int(c.class_logits[0, 5].argmax()) == NetConfig().num_classes - 1


def test_style_colour_starts_at_zero_and_moves_one_class_by_the_style() -> None:
    """net.style_colour: the same head as without it at the start; a class's offset reaches each Gaussian by its
    probability of that class, and another style gives another colour while places, shapes and classes stay."""
    template = tiny_template()
    old = _trained_edit_model(template)
    new = PercHeadNet(NetConfig(kind="edit", style_colour=True, **TINY), template).eval()
    new.load_state_dict(old.state_dict(), strict=False)
    style = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = old(seg_input().expand(2, -1, -1), style), new(seg_input().expand(2, -1, -1), style)
        assert torch.equal(a.sh_dc, b.sh_dc)
        new.style_colour.weight.view(NetConfig().num_classes, 3, 16)[3, 0, 0] = 2.0  # eyes' red, by style[0]
        c = new(seg_input().expand(2, -1, -1), style)
    assert torch.equal(c.means, b.means) and torch.equal(c.class_logits, b.class_logits)
    want = 2.0 * style[:, 0, None] * b.class_logits.softmax(-1)[..., 3]  # [B, N]
    torch.testing.assert_close(c.sh_dc[..., 0] - b.sh_dc[..., 0], want)
    torch.testing.assert_close(c.sh_dc[..., 1:], b.sh_dc[..., 1:])


def test_transfer_state_takes_each_point_bias_from_the_nearest_old_point() -> None:
    points = torch.randn(128, 3, generator=torch.Generator().manual_seed(4)) * 0.05  # distinct points
    template = Template(points, torch.full((128,), -5.0), 8)
    old = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), template)
    with torch.no_grad():
        old.head.point_bias.copy_(torch.randn(old.head.point_bias.shape, generator=torch.Generator().manual_seed(2)))
    doubled = Template(template.points.repeat_interleave(2, 0), template.base_log_scale.repeat_interleave(2), 16)
    new = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), doubled)
    state = new.transfer_state(old.state_dict())
    assert torch.equal(state["head.point_bias"], old.head.point_bias.detach().repeat_interleave(2, 0))


def test_transfer_state_drops_the_point_bias_for_a_network_without_one() -> None:
    template = tiny_template()
    old = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), template)
    new = PercHeadNet(NetConfig(kind="edit", **TINY), template)
    new.load_state_dict(new.transfer_state(old.state_dict()))  # strict: no key left over


def test_a_point_bias_without_classes_is_the_one_with_its_class_part_at_zero() -> None:
    """net.point_bias_classes False: the per-point part has geometry and colour only (14 numbers a point), and a
    network with the class part moves onto it (transfer_state) as that network with its class part zeroed."""
    points = torch.randn(128, 3, generator=torch.Generator().manual_seed(4)) * 0.05  # distinct points
    template = Template(points, torch.full((128,), -5.0), 8)
    full = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), template).eval()
    with torch.no_grad():
        full.head.point_bias.copy_(torch.randn(full.head.point_bias.shape, generator=torch.Generator().manual_seed(3)))
    narrow = PercHeadNet(NetConfig(kind="edit", point_bias=True, point_bias_classes=False, **TINY), template).eval()
    assert narrow.head.point_bias.shape[1] == full.head.point_bias.shape[1] - NetConfig().num_classes
    narrow.load_state_dict(narrow.transfer_state(full.state_dict()))
    zeroed = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), template).eval()
    zeroed.load_state_dict(full.state_dict())
    with torch.no_grad():
        zeroed.head.point_bias[:, narrow.head.point_bias.shape[1]:] = 0
        style = torch.randn(1, 16, generator=torch.Generator().manual_seed(1))
        a, b = zeroed(seg_input(), style), narrow(seg_input(), style)
    for field in ("means", "quats", "log_scales", "opacity_logits", "sh_dc", "class_logits"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field


def _asset_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shaped template saved as an asset of a stand-in assets/ folder (the checkpoint module's)."""
    import models.networks.checkpoint as checkpoint
    assets = tmp_path / "assets"
    assets.mkdir()
    monkeypatch.setattr(checkpoint, "ASSETS_DIR", assets)
    save_template(assets / "template_t.safetensors", _shaped_template())
    return assets / "template_t.safetensors"


def test_a_checkpoint_on_a_template_asset_names_it_instead_of_holding_its_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trained on an asset's points unchanged: the file holds no template tensors, names the asset and its sha256,
    and rebuilds the same network; a model whose points differ keeps them in its file."""
    from models.io.checkpoints import read_header
    asset = _asset_template(tmp_path, monkeypatch)
    model = PercHeadNet(NetConfig(kind="edit", point_bias=True, **TINY), load_template(asset)).eval()
    path = save_checkpoint(tmp_path / "edit.safetensors", model, extra={"note": "n"}, template=asset)
    _, shapes = read_header(path, "test")
    assert not {"head.points", "head.base_log_scale", "head.base_quats", "head.shape_log_scales"} & set(shapes)
    loaded, extra = load_checkpoint(path)
    assert extra["note"] == "n" and extra["template_asset"]["file"] == "template_t.safetensors"
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value.to(torch.float16).float(), atol=0, rtol=0)
    moved = PercHeadNet(NetConfig(kind="edit", **TINY), Template(model.head.points + 0.01, model.head.base_log_scale,
                                                                 8, model.head.base_quats, model.head.shape_log_scales))
    _, shapes = read_header(save_checkpoint(tmp_path / "moved.safetensors", moved, template=asset), "test")
    assert "head.points" in shapes
    # re-saved with a loaded file's extra after its points moved (scripts/mute_gaussians.py): the stale reference goes
    again = save_checkpoint(tmp_path / "again.safetensors", moved, extra=extra, template=None)
    _, again_extra = load_checkpoint(again)
    assert "template_asset" not in again_extra and again_extra["note"] == "n"


def test_a_checkpoint_whose_template_asset_changed_or_went_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asset = _asset_template(tmp_path, monkeypatch)
    model = PercHeadNet(NetConfig(kind="edit", **TINY), load_template(asset))
    path = save_checkpoint(tmp_path / "edit.safetensors", model, template=asset)
    t = _shaped_template()
    save_template(asset, Template(t.points + 0.001, t.base_log_scale, t.points_per_token, t.base_quats,
                                  t.shape_log_scales))
    with pytest.raises(PercheadError, match="has changed since"):
        load_checkpoint(path)
    with pytest.raises(PercheadError, match="has changed since"):
        check_template(path)  # the app's start-up check says it from the header
    asset.unlink()
    with pytest.raises(PercheadError, match="which is missing"):
        load_checkpoint(path)
    with pytest.raises(PercheadError, match="which is missing"):
        check_template(path)
    check_template(save_checkpoint(tmp_path / "holds.safetensors", model))  # a file with its own points passes
    import json
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    for bad in ("../outside.safetensors", "a\x00b", "x" * 5000):
        extra = {**json.loads(meta["extra"]), "template_asset": {"file": bad, "sha256": "0" * 64}}
        save_file(load_file(str(path)), str(tmp_path / "bad.safetensors"), metadata={**meta, "extra": json.dumps(extra)})
        with pytest.raises(PercheadError, match="template"):
            load_checkpoint(tmp_path / "bad.safetensors")
        with pytest.raises(PercheadError, match="template"):
            check_template(tmp_path / "bad.safetensors")
    for extra_text in ("[1, 2]", "{not json", "[" * 100_000):  # not an object, not JSON, nested past the recursion limit
        save_file(load_file(str(path)), str(tmp_path / "bad.safetensors"), metadata={**meta, "extra": extra_text})
        with pytest.raises(PercheadError, match="extra"):
            check_template(tmp_path / "bad.safetensors")


def test_checkpoint_round_trip_rebuilds_the_model(tmp_path: Path) -> None:
    model = PercHeadNet(NetConfig(kind="edit", **TINY), tiny_template()).eval()
    path = save_checkpoint(tmp_path / "edit.safetensors", model, extra={"note": "test"})
    loaded, extra = load_checkpoint(path)
    assert extra == {"note": "test"} and loaded.cfg == model.cfg
    with torch.no_grad():
        a = model(seg_input(), torch.ones(1, 16)).means
        b = loaded(seg_input(), torch.ones(1, 16)).means
    torch.testing.assert_close(a, b, atol=2e-3, rtol=1e-3)  # fp16 storage


def test_compiled_and_ddp_prefixes_are_stripped(tmp_path: Path) -> None:
    model = PercHeadNet(NetConfig(kind="base", **TINY), tiny_template())
    wrapped = torch.nn.Module()
    wrapped._orig_mod = model  # what torch.compile's wrapper looks like to state_dict
    data = checkpoint_bytes(model)
    (tmp_path / "m.safetensors").write_bytes(data)
    loaded, _ = load_checkpoint(tmp_path / "m.safetensors")
    assert isinstance(loaded, PercHeadNet)


def test_missing_corrupt_and_foreign_checkpoints_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PercheadError, match="missing"):
        load_checkpoint(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(PercheadError, match="corrupt|unreadable"):
        load_checkpoint(bad)
    model = PercHeadNet(NetConfig(kind="base", **TINY), tiny_template())
    data = checkpoint_bytes(model)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PercheadError):
        load_checkpoint(cut)
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(PercheadError, match="not a PercHead"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_template_file_round_trip(tmp_path: Path) -> None:
    t = tiny_template()
    save_template(tmp_path / "t.safetensors", t)
    u = load_template(tmp_path / "t.safetensors")
    assert torch.equal(t.points, u.points) and u.points_per_token == t.points_per_token
    with pytest.raises(PercheadError, match="missing"):
        load_template(tmp_path / "none.safetensors")


def _shaped_template(k: int = 8) -> Template:
    g = torch.Generator().manual_seed(0)
    cloud = torch.nn.functional.normalize(torch.randn(5000, 3, generator=g), dim=1) * torch.tensor([0.08, 0.11, 0.1])
    quats = torch.nn.functional.normalize(torch.randn(5000, 4, generator=g), dim=1)
    log_scales = torch.log(torch.tensor([0.004, 0.0005, 0.0003])) + 0.1 * torch.randn(5000, 3, generator=g)
    return build_template(cloud, 16, k, shapes=torch.cat([quats, log_scales], 1))


def test_a_shaped_template_picks_the_same_points_and_keeps_their_engine_shapes() -> None:
    plain, shaped = tiny_template(), _shaped_template()
    assert torch.equal(plain.points, shaped.points) and torch.equal(plain.base_log_scale, shaped.base_log_scale)
    assert shaped.shaped and not plain.shaped
    torch.testing.assert_close(shaped.base_quats.norm(dim=-1), torch.ones(len(shaped.points)))
    torch.testing.assert_close(shaped.shape_log_scales.mean(-1), torch.zeros(len(shaped.points)), atol=1e-6, rtol=0)
    assert (shaped.shape_log_scales.max(-1).values - shaped.shape_log_scales.min(-1).values).min() > 2.0  # strands


def test_a_shaped_head_starts_as_its_template_shapes() -> None:
    t = _shaped_template()
    model = PercHeadNet(NetConfig(kind="edit", **TINY), t).eval()
    with torch.no_grad():
        model.head.proj.weight.zero_()
        pred = model(seg_input(), torch.randn(1, 16))
    torch.testing.assert_close(pred.quats[0], t.base_quats)
    torch.testing.assert_close(pred.log_scales[0], t.base_log_scale[:, None] + t.shape_log_scales)


def test_shaped_template_and_model_files_round_trip(tmp_path: Path) -> None:
    t = _shaped_template()
    save_template(tmp_path / "t.safetensors", t)
    u = load_template(tmp_path / "t.safetensors")
    assert u.shaped and u.points.dtype == torch.float32
    torch.testing.assert_close(u.base_quats, t.base_quats, atol=1e-3, rtol=0)  # stored in fp16
    model = PercHeadNet(NetConfig(kind="edit", **TINY), u).eval()
    loaded, _ = load_checkpoint(save_checkpoint(tmp_path / "edit.safetensors", model))
    assert loaded.cfg.shaped_template
    with torch.no_grad():
        a, b = model(seg_input(), torch.ones(1, 16)), loaded(seg_input(), torch.ones(1, 16))
    torch.testing.assert_close(a.quats, b.quats, atol=2e-3, rtol=1e-3)  # fp16 storage


def test_a_round_template_model_moves_onto_a_shaped_template() -> None:
    old = _trained_edit_model(tiny_template())
    new = PercHeadNet(NetConfig(kind="edit", **TINY), _shaped_template()).eval()
    new.load_state_dict(new.transfer_state(old.state_dict()))  # strict: the shaped buffers come from the template
    assert torch.equal(new.head.base_quats, _shaped_template().base_quats)


def test_held_size_frees_the_shape() -> None:
    """max_log_size_delta holds the mean of the three log-scale changes (the size) and leaves their differences (the
    shape) the wide range: a strand can become a disc of about its own size, never a large blob."""
    from models.networks.decoder import GaussianHead

    t = tiny_template()
    cfg = NetConfig(kind="edit", max_log_size_delta=0.4, **TINY)
    cfg.num_tokens, cfg.points_per_token = t.num_tokens, t.points_per_token
    head = GaussianHead(cfg, t.points, t.base_log_scale)
    with torch.no_grad():
        head.proj.weight.zero_()
        bias = head.proj.bias.view(cfg.points_per_token, -1)
        bias[:, 3:6] = torch.tensor([2.0, 2.0, -2.0])  # grow two axes, shrink one
    out = head(torch.zeros(1, t.num_tokens, cfg.dec_dim))
    delta = out.log_scales[0] - t.base_log_scale[:, None]
    each = 3.0 * math.tanh(2.0 / 3.0)  # each axis within max_log_scale_delta (3): 1.75
    size = 0.4 * math.tanh((each / 3) / 0.4)  # their mean, 0.58, held within 0.4
    assert torch.allclose(delta.mean(-1), torch.full_like(delta[:, 0], size), atol=1e-4)
    assert torch.allclose(delta[:, 0] - delta[:, 2], torch.full_like(delta[:, 0], 2 * each), atol=1e-4)  # shape kept
