"""Edit-model input augmentations: exact 3D re-framing, parts left out, rough edges, simplified shapes."""
from __future__ import annotations

import math

import pytest
import torch

from models.cameras import Camera, canonical_view, project_points
from models.errors import PercheadError
from models.evaluation.metrics import foreground_weighted_iou
from models.gaussians import Gaussians
from models.palette import palette
from models.training.augment import (AugmentConfig, EditAugment, drop_parts, frame_transform, moved_camera,
                                     rough_edges, simplify_parts, smooth_warp)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_reframing_is_a_2d_similarity_of_the_canonical_image() -> None:
    cam = canonical_view().camera(256)
    fx = float(cam.K[0, 0])
    t = frame_transform(cam.world_to_cam, fx, (7.0, -5.0), 1.08, 4.0)
    moved = Camera(moved_camera(cam.world_to_cam, t), cam.K, 256, 256)
    r = moved.world_to_cam[:3, :3]
    torch.testing.assert_close(r @ r.T, torch.eye(3), atol=1e-5, rtol=0)  # still a rigid camera
    # points on the plane through the look-at point, parallel to the image: exact 2D similarity
    g = torch.Generator().manual_seed(1)
    xy = (torch.rand(20, 2, generator=g) - 0.5) * 0.3
    depth = float(cam.world_to_cam[2, 3])
    cam_pts = torch.cat([xy, torch.full((20, 1), depth)], 1)
    inv = torch.linalg.inv(cam.world_to_cam)
    world = cam_pts @ inv[:3, :3].T + inv[:3, 3]
    before = project_points(world, cam)
    # the moved head seen by the canonical camera == the head seen by the moved camera
    after = project_points(world, moved)
    c = torch.tensor([128.0, 128.0])
    a = math.radians(4.0)
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    expected = c + 1.08 * (before - c) @ rot.T + torch.tensor([7.0, -5.0])
    torch.testing.assert_close(after, expected, atol=1e-2, rtol=0)


def test_drop_parts_deletes_or_relabels() -> None:
    pal = palette()
    labels = torch.tensor([pal.id_of("skin"), pal.id_of("ears"), pal.id_of("nose"), pal.id_of("neck")])
    g = Gaussians(torch.zeros(4, 3), torch.tensor([[1.0, 0, 0, 0]]).expand(4, 4), torch.zeros(4, 3), torch.zeros(4),
                  torch.zeros(4, 1, 3), labels)
    out = drop_parts(g, ["ears", "nose", "neck"], ["delete", "skin", "delete"])
    assert out.labels.tolist() == [pal.id_of("skin"), pal.id_of("skin")]


def test_rough_edges_wobble_boundaries_only() -> None:
    maps = torch.zeros(2, 64, 64, dtype=torch.long)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    disk = (yy - 32) ** 2 + (xx - 32) ** 2 < 20**2
    maps[:, disk] = 1
    out = rough_edges(maps, torch.tensor([3.0, 3.0]), 1.0, torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) <= {0, 1}
    changed = out != maps
    assert changed.any() and not torch.equal(out[0], out[1])  # each map its own wobble
    core = (yy - 32) ** 2 + (xx - 32) ** 2 < 12**2
    far = (yy - 32) ** 2 + (xx - 32) ** 2 > 28**2
    assert not changed[:, core].any() and not changed[:, far].any()


def test_simplify_turns_parts_into_moment_matched_ellipses() -> None:
    pal = palette()
    skin, eyes, nose = pal.id_of("skin"), pal.id_of("eyes"), pal.id_of("nose")
    maps = torch.full((1, 64, 64), skin, dtype=torch.long)
    maps[0, 20:26, 10:22] = eyes   # left eye: a rectangle
    maps[0, 20:26, 42:54] = eyes   # right eye
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    ellipse = ((xx - 32) / 5.0) ** 2 + ((yy - 40) / 8.0) ** 2 <= 1
    maps[0, ellipse] = nose
    out = simplify_parts(maps, ["eyes", "nose"])
    assert foreground_weighted_iou((out == nose).long()[0], ellipse.long()) > 0.85  # an ellipse stays itself
    for lo, hi in ((10, 22), (42, 54)):  # each eye: an ellipse of about the rectangle's area and centre
        side = (out[0] == eyes) & (xx >= lo - 4) & (xx < hi + 4)
        assert side.sum().item() == pytest.approx(72, rel=0.25)
        assert xx[side].float().mean().item() == pytest.approx((lo + hi - 1) / 2, abs=0.6)
    assert (out[0, 20, 10] == skin) and (out[0, 22, 15] == eyes)  # rectangle corner gone, centre kept


def test_config_is_checked() -> None:
    with pytest.raises(PercheadError, match="unknown data.augment"):
        AugmentConfig.from_dict({"frame_probability": 0.5})
    with pytest.raises(PercheadError, match="probability"):
        AugmentConfig.from_dict({"edge_prob": 1.5})
    with pytest.raises(PercheadError, match="unknown parts"):
        AugmentConfig.from_dict({"drop_parts": ["tail"]})
    assert not AugmentConfig().active and AugmentConfig(edge_prob=0.1).active
    assert AugmentConfig.from_dict({"warp_prob": 0.5, "warp_radius_px": [20, 40]}).warp_radius_px == (20.0, 40.0)
    with pytest.raises(PercheadError, match="warp_radius_px"):
        AugmentConfig.from_dict({"warp_prob": 0.5, "warp_radius_px": [40, 20]})


@pytest.fixture(scope="module")
def engine_batch():
    from models.synthetic.head import EngineConfig
    from models.synthetic.sampler import HeadSampler

    torch.set_num_threads(1)
    sampler = HeadSampler("train", stream=5, device="cpu", config=EngineConfig(gaussians=2500))
    return sampler.make_batch(2, views=2, size=64)


def _copy(batch):
    import copy

    out = copy.copy(batch)
    for name in ("rgb", "alpha", "class_map", "depth", "world_to_cam"):
        setattr(out, name, getattr(batch, name).clone())
    out.gaussians = list(batch.gaussians)
    return out


def test_off_augment_returns_view_zero(engine_batch) -> None:
    aug = EditAugment(AugmentConfig(), seed=0, device=torch.device("cpu"))
    batch, maps = aug(_copy(engine_batch))
    assert torch.equal(maps, engine_batch.class_map[:, 0])


def test_reframed_heads_are_rerendered_consistently(engine_batch) -> None:
    from models.evaluation.drawn_maps import similarity

    cfg = AugmentConfig(frame_prob=1.0, max_shift_px=6.0, max_scale=0.1, max_roll_deg=5.0)
    aug = EditAugment(cfg, seed=3, device=torch.device("cpu"))
    batch, maps = aug(_copy(engine_batch))
    assert torch.equal(maps, batch.class_map[:, 0])  # no input-only change asked for: input == target view 0
    assert not torch.equal(batch.class_map, engine_batch.class_map)
    d = EditAugment(cfg, seed=3, device=torch.device("cpu")).draw(2)  # the same seed replays the draws
    pal = palette()

    def head_only(m: torch.Tensor) -> torch.Tensor:  # neck and clothes run out of the frame: the 2D warp cannot know them
        m = m.clone().long()
        m[(m == pal.id_of("neck")) | (m == pal.id_of("clothes"))] = 0
        return m

    for b in range(2):
        expect = similarity(engine_batch.class_map[b, 0].to(torch.uint8).numpy(), tuple(d.shifts[b].tolist()),
                            float(d.scales[b]), float(d.rolls[b]))
        got = head_only(batch.class_map[b, 0])
        iou = foreground_weighted_iou(got, head_only(torch.from_numpy(expect)))
        unmoved = foreground_weighted_iou(got, head_only(engine_batch.class_map[b, 0]))
        assert iou > 0.8 and iou > unmoved + 0.05, (iou, unmoved)


def test_dropped_parts_leave_every_view(engine_batch) -> None:
    pal = palette()
    cfg = AugmentConfig(drop_prob=1.0, drop_parts=["clothes"], edge_prob=1.0, simplify_prob=1.0)
    aug = EditAugment(cfg, seed=0, device=torch.device("cpu"))
    before = (engine_batch.class_map == pal.id_of("clothes")).sum()
    batch, maps = aug(_copy(engine_batch))
    assert before > 0 and not (batch.class_map == pal.id_of("clothes")).any() and not (maps == pal.id_of("clothes")).any()
    assert not torch.equal(maps, batch.class_map[:, 0])  # rough, simplified input; clean target


def _cloud(n: int = 400) -> Gaussians:
    g = torch.Generator().manual_seed(2)
    means = (torch.rand(n, 3, generator=g) - 0.5) * 0.3  # a 0.3-unit cube, about a head's size
    return Gaussians(means, torch.tensor([[1.0, 0, 0, 0]]).expand(n, 4), torch.full((n, 3), -5.0), torch.zeros(n),
                     torch.rand(n, 1, 3, generator=g), torch.arange(n) % 3)


def test_smooth_warp_is_capped_smooth_and_keeps_everything_but_positions() -> None:
    g = _cloud()
    px = 0.3 / 150  # world units per canonical pixel: the cube spans 150 px
    bumps = torch.tensor([[30.0, 0.0, 0.0], [0.0, -30.0, 0.0], [0.0, 0.0, 30.0]])  # far beyond the cap on purpose
    out = smooth_warp(g, torch.tensor([0.1, 0.5, 0.9]), bumps, radius_px=40.0, max_px=8.0, px_to_world=px)
    disp = (out.means - g.means).norm(dim=-1) / px  # [N] canonical px
    assert disp.max() <= 8.0 + 1e-3 and disp.mean() > 1.0  # capped, yet it moves the head
    # smooth: points within 2 px of each other move by almost the same vector (no tearing)
    d = torch.cdist(g.means, g.means) / px
    near = (d < 2.0) & (d > 0)
    i, j = near.nonzero(as_tuple=True)
    assert len(i) > 0
    rel = ((out.means[i] - g.means[i]) - (out.means[j] - g.means[j])).norm(dim=-1) / px
    assert rel.max() < 1.0
    for name in ("quats", "log_scales", "opacity_logits", "sh", "labels"):
        assert torch.equal(getattr(out, name), getattr(g, name))
    same = smooth_warp(g, torch.tensor([0.3]), torch.zeros(1, 3), radius_px=40.0, max_px=8.0, px_to_world=px)
    assert torch.equal(same.means, g.means)


def test_warped_heads_are_rerendered_consistently(engine_batch) -> None:
    cfg = AugmentConfig(warp_prob=1.0, warp_px=8.0)
    aug = EditAugment(cfg, seed=4, device=torch.device("cpu"))
    batch, maps = aug(_copy(engine_batch))
    assert torch.equal(maps, batch.class_map[:, 0])  # the bend is in 3D: input == target view 0
    for v in range(batch.class_map.shape[1]):  # every view changed, not only the input
        changed = (batch.class_map[:, v] != engine_batch.class_map[:, v]).float().mean().item()
        assert 0.002 < changed < 0.25, (v, changed)
    d = EditAugment(cfg, seed=4, device=torch.device("cpu")).draw(2)
    assert d.warp.all() and d.warp_bumps.shape == (2, cfg.warp_bumps, 3)


def test_warp_depth_zero_moves_only_across_the_view_axis() -> None:
    g = _cloud()
    px = 0.3 / 150
    axis = torch.tensor([0.0, 0.6, 0.8])  # any unit direction
    bumps = torch.tensor([[3.0, 4.0, 5.0], [-2.0, 1.0, 6.0]])
    flat = smooth_warp(g, torch.tensor([0.2, 0.7]), bumps, 50.0, 8.0, px, axis, depth=0.0)
    full = smooth_warp(g, torch.tensor([0.2, 0.7]), bumps, 50.0, 8.0, px, axis, depth=1.0)
    assert ((flat.means - g.means) @ axis).abs().max() < 1e-7
    assert ((full.means - g.means) @ axis).abs().max() > 0.5 * px  # isotropic bumps do move along it
    with pytest.raises(PercheadError, match="warp_depth"):
        AugmentConfig.from_dict({"warp_prob": 0.5, "warp_depth": 2.0})
