"""Moving a decoded head's regions onto the painted ones (models/fitting/regions.py): the registration
field, the move of the Gaussians, the still back of the head, and the fit in the pipeline."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.cameras import canonical_view
from models.evaluation.drawn_maps import drawn_maps
from models.evaluation.metrics import foreground_weighted_iou
from models.fitting.front_view import canonical_camera
from models.gaussians import Gaussians
from models.palette import palette
from models.pipeline import CHECKPOINT_DIR, HeadPipeline
from models.fitting.regions import DEFAULT_FOLLOW, class_shares, demons_field, follow_painted_regions
from models.render import render

pytestmark = pytest.mark.usefixtures("one_thread")
SIZE = 64


def _disc(cx: float, cy: float, r: float, size: int = SIZE) -> torch.Tensor:
    """[S, S] bool: a disc of radius r px around pixel (cx, cy)."""
    ys, xs = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r


def _splats_on(mask: torch.Tensor, cls: int, depth_offset: float = 0.0) -> Gaussians:
    """One opaque round Gaussian of class ``cls`` per pixel of ``mask`` [S, S], seen there by the
    canonical camera, ``depth_offset`` further away than the camera's target."""
    cam = canonical_camera(mask.shape[-1], "cpu")
    ys, xs = torch.nonzero(mask, as_tuple=True)
    pix = torch.stack([xs, ys], 1).float() + 0.5                          # [N, 2] pixel centres
    depth = float(cam.world_to_cam[2, 3]) + depth_offset
    rays = torch.cat([pix, torch.ones(len(pix), 1)], 1) @ torch.linalg.inv(cam.K).T  # [N, 3], z = 1
    inv = torch.linalg.inv(cam.world_to_cam)
    means = (rays * depth) @ inv[:3, :3].T + inv[:3, 3]
    px_world = depth / float(cam.K[0, 0])                                  # one pixel, in world units
    n = len(means)
    return Gaussians.from_activated(means, torch.tensor([[1.0, 0, 0, 0]]).expand(n, 4),
                                    torch.full((n, 3), 0.6 * px_world), torch.full((n,), 0.99),
                                    torch.full((n, 3), 0.5), torch.full((n,), cls, dtype=torch.long))


def _front_iou(g: Gaussians, labels: torch.Tensor) -> float:
    classes = render(g, canonical_camera(labels.shape[-1], "cpu"), classes=True).class_map
    return foreground_weighted_iou(classes, labels)


def test_the_field_recovers_a_shift() -> None:
    """A disc painted 3 px to the right of the rendered one: inside the painted disc the backward field
    points 3 px left (where the render has the content), and warping the render by it matches the paint."""
    classes = palette().num_classes
    rendered = _disc(30, 32, 10).long() * 2
    painted = _disc(33, 32, 10).long() * 2
    field = demons_field(class_shares(rendered, classes, SIZE), class_shares(painted, classes, SIZE),
                         replace(DEFAULT_FOLLOW, iterations=40))              # [2, S, S]
    inner = _disc(33, 32, 6)
    assert field[0][inner].mean().item() == pytest.approx(-3.0, abs=0.75)
    assert field[1][inner].abs().mean().item() < 0.5
    ys, xs = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    grid = torch.stack([(xs + field[0] + 0.5) / SIZE * 2 - 1, (ys + field[1] + 0.5) / SIZE * 2 - 1], -1)[None]
    warped = F.grid_sample(rendered[None, None].float(), grid, mode="nearest", align_corners=False)[0, 0].long()
    assert foreground_weighted_iou(warped, painted) > 0.95 > foreground_weighted_iou(rendered, painted)


def test_a_head_follows_a_moved_region_and_one_that_matches_stays() -> None:
    skin = palette().id_of("skin")
    head = _splats_on(_disc(28, 32, 12), skin)
    painted = _disc(33, 30, 12).long() * skin
    before = _front_iou(head, painted)
    moved = follow_painted_regions(head, painted)
    assert _front_iou(moved, painted) > max(0.9, before + 0.15), (before, _front_iou(moved, painted))
    assert torch.equal(moved.labels, head.labels) and torch.equal(moved.sh, head.sh)  # only centres move
    cam = canonical_camera(SIZE, "cpu")
    depth = lambda g: (g.means @ cam.world_to_cam[:3, :3].T + cam.world_to_cam[:3, 3])[:, 2]  # noqa: E731
    torch.testing.assert_close(depth(moved), depth(head), atol=1e-5, rtol=0)  # across the view only

    matching = _disc(28, 32, 12).long() * skin
    still = follow_painted_regions(head, matching)
    px_world = float(cam.world_to_cam[2, 3]) / float(cam.K[0, 0])
    assert (still.means - head.means).norm(dim=-1).max().item() < px_world  # at most the splats' edge spill
    assert _front_iou(still, matching) >= _front_iou(head, matching) - 0.01


def test_the_back_of_the_head_keeps_its_place() -> None:
    """A front layer and a back layer under the same painted region: the front one follows the paint,
    the back one (beyond the falloff) stays where the network put it; with no falloff both move."""
    skin, hair = palette().id_of("skin"), palette().id_of("hair")
    front = _splats_on(_disc(28, 32, 12), skin)
    back = _splats_on(_disc(28, 32, 12), hair, depth_offset=0.3)
    head = Gaussians(*(torch.cat([getattr(front, k), getattr(back, k)]) for k in
                       ("means", "quats", "log_scales", "opacity_logits", "sh", "labels")))
    painted = _disc(33, 32, 12).long() * skin
    n = len(front)
    shift = (follow_painted_regions(head, painted).means - head.means).norm(dim=-1)
    assert shift[:n].mean() > 10 * shift[n:].max() and shift[n:].max() < 1e-6
    loose = follow_painted_regions(head, painted, replace(DEFAULT_FOLLOW, back_falloff=None))
    assert (loose.means - head.means)[n:].norm(dim=-1).mean() > 0.5 * shift[:n].mean()


def test_tiny_heads_and_small_maps_pass_through() -> None:
    one = _splats_on(_disc(10, 10, 0.5, 16), 2)
    assert len(one) == 1
    assert torch.equal(follow_painted_regions(one, torch.ones(16, 16, dtype=torch.long)).means, one.means)
    empty = Gaussians(*(t[:0] for t in (one.means, one.quats, one.log_scales, one.opacity_logits, one.sh, one.labels)))
    assert len(follow_painted_regions(empty, torch.ones(16, 16, dtype=torch.long))) == 0


def test_canonical_camera_is_the_seg_map_camera() -> None:
    cam = canonical_camera(SIZE, "cpu")
    ref = canonical_view().camera(SIZE)
    assert torch.equal(cam.K, ref.K) and torch.equal(cam.world_to_cam, ref.world_to_cam)
    assert np.isclose(cam.width, SIZE)


@pytest.mark.gpu
def test_the_graphed_steps_match_the_eager_ones() -> None:
    """On a GPU the registration and the outline fill's moves replay CUDA graphs: the same results as running
    them eagerly, for fresh inputs on each call (the graph reads its input buffers, not the first call's)."""
    from models.device import resolve_device
    from models.fitting.graphs import is_graphed
    from models.fitting.regions import _field
    from models.fitting.outline import fill_outline

    device = resolve_device("cuda")
    classes = palette().num_classes
    for shift in (3, -2):
        moving = class_shares(_disc(30, 32, 10).long() * 2, classes, SIZE).to(device)
        fixed = class_shares(_disc(30 + shift, 31, 10).long() * 2, classes, SIZE).to(device)
        torch.testing.assert_close(_field(moving, fixed, DEFAULT_FOLLOW), demons_field(moving, fixed), atol=1e-4, rtol=0)
    assert is_graphed(f"demons_field {DEFAULT_FOLLOW}"), "captured, not run eagerly"
    skin, hair = palette().id_of("skin"), palette().id_of("hair")
    head = Gaussians.cat([_splats_on(_disc(32, 34, 10), skin), _splats_on(_disc(32, 24, 9) & ~_disc(32, 34, 10), hair)])
    head = Gaussians(*(t.to(device) for t in (head.means, head.quats, head.log_scales, head.opacity_logits, head.sh,
                                              head.labels)))
    for r in (14, 12):  # painted hair further out than the head's, by two amounts
        painted = torch.where(_disc(32, 34, 10), skin, torch.where(_disc(32, 24, r), hair, 0)).to(device)
        eager, graphed = fill_outline(head, painted), fill_outline(head, painted, graphed=True)
        torch.testing.assert_close(graphed.means, eager.means, atol=1e-5, rtol=0)
        assert (eager.means - head.means).norm(dim=-1).max() > 0
    assert is_graphed("outline_moves")
    moved = follow_painted_regions(head, painted)
    assert (moved.means - head.means).norm(dim=-1).mean().item() > 0.0


@pytest.mark.skipif(not (CHECKPOINT_DIR / "edit.safetensors").is_file(), reason="no shipped edit model")
def test_the_pipeline_gives_the_outline_fit_first_and_the_followed_head_second() -> None:
    """edit_stages: the first head is what silhouette="outline" decodes, the follow-up is what edit() decodes
    (the app shows the first at once and the second when no newer stroke waits), and it follows the painted
    map better."""
    m = drawn_maps(2, 256)[1]
    pipes = {mode: HeadPipeline(device="cpu", silhouette=mode) for mode in ("fit", "outline")}
    style = torch.zeros(1, pipes["fit"].net("edit").cfg.style_dim)
    first, follow = pipes["fit"].edit_stages(m.labels, style)
    assert follow is not None and pipes["outline"].edit_stages(m.labels, style)[1] is None
    outline = pipes["outline"].edit(m.labels, style)
    assert torch.equal(first.means, outline.means) and torch.equal(first.opacity_logits, outline.opacity_logits)
    followed = follow()
    assert torch.equal(followed.means, pipes["fit"].edit(m.labels, style).means)
    labels = torch.from_numpy(m.labels.astype(np.int64))
    assert _front_iou(followed, labels.clone()) > _front_iou(first, labels) + 0.02
