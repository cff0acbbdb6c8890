"""Fitting a decoded head to the painted silhouette (models/fitting/outline.py): filling the painted hair
outline, following the painted regions and carving what lies outside the paint, in the pipeline and the
eval."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.cameras import canonical_view, project_points
from models.errors import PercheadError
from models.evaluation.drawn_maps import drawn_maps
from models.evaluation.metrics import foreground_weighted_iou
from models.gaussians import Gaussians
from models.palette import palette
from models.pipeline import CHECKPOINT_DIR, TRANSPARENT_LOGIT, HeadPipeline, prune
from models.render import render
from models.fitting.outline import closed_foreground, fill_outline, inside_silhouette
from models.fitting.painted import fit_silhouette

pytestmark = pytest.mark.usefixtures("one_thread")
needs_model = pytest.mark.skipif(not (CHECKPOINT_DIR / "edit.safetensors").is_file(), reason="no shipped edit model")


def _points_at_pixels(pixels: torch.Tensor, size: int = 256, depth_offset: float = 0.0) -> torch.Tensor:
    """World points [N, 3] that the canonical camera sees at pixel centres ``pixels`` [N, 2] (x, y)."""
    cam = canonical_view().camera(size)
    depth = float(cam.world_to_cam[2, 3]) + depth_offset
    k_inv = torch.linalg.inv(cam.K)
    rays = torch.cat([pixels + 0.5, torch.ones(len(pixels), 1)], 1) @ k_inv.T  # [N, 3], z = 1
    cam_pts = rays * depth
    inv = torch.linalg.inv(cam.world_to_cam)
    return cam_pts @ inv[:3, :3].T + inv[:3, 3]


def test_inside_silhouette_reads_the_painted_pixel_of_each_centre() -> None:
    labels = torch.zeros(256, 256, dtype=torch.long)
    labels[100:150, 80:120] = 3  # a painted rectangle
    pixels = torch.tensor([[90.0, 120.0], [119.0, 149.0], [79.0, 120.0], [200.0, 20.0], [100.0, 150.0]])
    pts = _points_at_pixels(pixels)
    torch.testing.assert_close(project_points(pts, canonical_view().camera(256)), pixels + 0.5, atol=1e-3, rtol=0)
    assert inside_silhouette(pts, labels).tolist() == [True, True, False, False, False]
    # depth does not matter: the silhouette bounds the whole cone behind the painted pixel
    assert inside_silhouette(_points_at_pixels(pixels, depth_offset=0.2), labels).tolist() == [True, True, False,
                                                                                               False, False]
    off_image = _points_at_pixels(torch.tensor([[-5.0, 120.0], [300.0, 120.0], [120.0, 270.0]]))
    assert inside_silhouette(off_image, labels).all()  # the map says nothing there: kept


def test_specks_and_cracks_do_not_carve_but_real_gaps_do() -> None:
    labels = torch.zeros(256, 256, dtype=torch.long)
    labels[60:200, 60:200] = 2
    labels[120, 120] = 0          # a stray background pixel in the face
    labels[90:92, 60:140] = 0     # a 2 px crack from the edge inwards
    labels[150:200, 100:106] = 0  # a 6 px wide gap: real background
    fg = closed_foreground(labels > 0)
    assert fg[120, 120] and fg[90, 100] and fg[91, 70]
    assert not fg[170, 102] and not fg[30, 30] and fg[60, 60] and fg[199, 199]  # corners of the square kept
    pts = _points_at_pixels(torch.tensor([[120.0, 120.0], [102.0, 170.0]]))
    assert inside_silhouette(pts, labels).tolist() == [True, False]


def test_hidden_gaussians_become_transparent_and_carving_selects() -> None:
    n = 4
    g = Gaussians(torch.zeros(n, 3), torch.tensor([[1.0, 0, 0, 0]]).expand(n, 4), torch.zeros(n, 3), torch.zeros(n),
                  torch.zeros(n, 1, 3), torch.ones(n, dtype=torch.long))
    keep = torch.tensor([True, False, True, False])
    hidden = prune(g, hide=True, keep=keep)
    assert hidden.opacity_logits.tolist() == [0.0, TRANSPARENT_LOGIT, 0.0, TRANSPARENT_LOGIT]
    assert len(prune(g, keep=keep)) == 2
    with pytest.raises(PercheadError, match="silhouette mode"):
        fit_silhouette(g, torch.ones(256, 256, dtype=torch.long), "sometimes")  # type: ignore[arg-type]
    with pytest.raises(PercheadError, match="silhouette mode"):
        HeadPipeline(device="cpu", silhouette="maybe")  # type: ignore[arg-type]


@needs_model
def test_the_edited_head_stays_inside_the_painted_silhouette_and_fills_it() -> None:
    """On a drawn map the network puts Gaussians outside the painted outline and leaves part of the
    painted hair and shirt empty; fitted, none is left outside, the hair reaches further, and the front
    view follows the map more closely than the outline fill without region following, carving alone or
    the raw head."""
    pipes = {m: HeadPipeline(device="cpu", silhouette=m) for m in ("fit", "outline", "carve", "off")}
    style = torch.zeros(1, pipes["fit"].net("edit").cfg.style_dim)
    m = drawn_maps(1, 256)[0]  # a "shapes" map with a big hair blob
    labels = torch.from_numpy(m.labels.astype(np.int64))
    heads = {k: p.edit(m.labels, style) for k, p in pipes.items()}
    assert not inside_silhouette(heads["off"].means, labels).all()  # what there is to carve
    for k in ("fit", "outline", "carve"):
        assert inside_silhouette(heads[k].means, labels).all() and len(heads[k]) < len(heads["off"])
    cam = canonical_view().camera()
    cls = {k: render(h, cam, classes=True).class_map for k, h in heads.items()}
    hair = palette().id_of("hair")
    assert (cls["outline"] == hair).sum() > (cls["carve"] == hair).sum()  # the painted blob is filled further
    ious = {k: foreground_weighted_iou(c, labels) for k, c in cls.items()}
    assert ious["fit"] > ious["outline"] + 0.02 and ious["outline"] > ious["carve"] > ious["off"], ious


@needs_model
def test_filling_leaves_a_head_that_already_matches_its_map() -> None:
    """Engine maps decode to heads whose render reaches the painted hair: the hair is not moved, and
    only a few clothes Gaussians at the steep shoulder edges (where a pixel of width is many of height)
    are lifted; the front view does not get worse."""
    import yaml

    from models.assets import ASSETS_DIR
    from models.io.segmap import load_segmap

    pal = palette()
    # maps of the engine the shipped edit model learned from: the gallery's first two samples (engine heads' class
    # maps, rebuilt with every retrain; a newer engine's fresh maps are not what this model reproduces until then)
    index = yaml.safe_load((ASSETS_DIR / "samples" / "index.yaml").read_text())["samples"]
    maps = [load_segmap(ASSETS_DIR / "samples" / s["file"], size=256).labels for s in index[:2]]
    pipe = HeadPipeline(device="cpu", silhouette="off")
    cam = canonical_view().camera()
    for b in range(2):
        labels = torch.from_numpy(maps[b].astype(np.int64))
        head = pipe.edit(labels.numpy().astype(np.uint8), torch.zeros(1, pipe.net("edit").cfg.style_dim))
        filled = fill_outline(head, labels)
        moved = (filled.means - head.means).norm(dim=-1) > 0.002  # [N] more than ~1 px
        hair = (head.labels == pal.id_of("hair")) | (head.labels == pal.id_of("hat"))
        assert not (moved & hair).any()
        assert moved.float().mean() < 0.02 and (head.labels[moved] == pal.id_of("clothes")).all()
        ious = [foreground_weighted_iou(render(h, cam, classes=True).class_map, labels) for h in (filled, head)]
        assert ious[0] > ious[1] - 0.002, ious
