"""``perchead eval``'s real-photo metrics (models/evaluation/photos.py).

The metrics are checked where the answer is known: an engine head rendered in the canonical view is the "photo",
and a stand-in pipeline returns that very head as its reconstruction, so the render in the photo's view must land
on the photo (high PSNR, landmarks within a small share of the eye distance, the face found from the sides); a
head moved sideways must score worse. The shipped base model then runs once on a real portrait of the set.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.cameras import canonical_view
from models.evaluation.photos import PHOTO_SIZE, EvalPhoto, eval_photos, evaluate_photos, score_photo
from models.gaussians import Gaussians
from models.photo import prepare_photo
from models.pipeline import HeadPipeline
from models.render import render
from models.synthetic import build_heads, sample_attributes
from tests.cli_support import require_mediapipe

require_mediapipe()

ENGINE_SEED = 1648669198  # models.synthetic.training_seed(11, 0): short dark hair, no glasses, hat or beard


class OneHead:
    """A stand-in for HeadPipeline: every reconstruction is the same head (the photo framed as the app frames it)."""

    photo_head = HeadPipeline.photo_head

    def __init__(self, head: Gaussians) -> None:
        self.head = head

    photo_fit = "off"

    def reconstruct(self, rgba: np.ndarray, painted: np.ndarray | None = None) -> Gaussians:
        assert rgba.shape == (PHOTO_SIZE, PHOTO_SIZE, 4) and rgba.dtype == np.float32
        return self.head


def moved_in_view(head: Gaussians, affine: np.ndarray) -> Gaussians:
    """The head moved so its canonical render moves by the pixel similarity ``affine`` [2, 3] (photo px ->
    canonical px, as PreparedPhoto.alignment): in camera space each point's x, y go to A x + z (A c + b - c) / f,
    so every centre projects exactly where the similarity sends it; sizes scale with it (its 1-degree turn is
    left out)."""
    cam = canonical_view().camera(PHOTO_SIZE)
    rot, trans = cam.world_to_cam[:3, :3].double(), cam.world_to_cam[:3, 3].double()
    a, b = torch.from_numpy(affine[:, :2]), torch.from_numpy(affine[:, 2])
    f, c = float(cam.K[0, 0]), cam.K[:2, 2].double()
    x = head.means.double() @ rot.T + trans
    xy = x[:, :2] @ a.T + x[:, 2:3] * (a @ c + b - c) / f
    moved = torch.cat([xy, x[:, 2:]], 1)
    means = ((moved - trans) @ rot).float()
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    return dataclasses.replace(head, means=means, log_scales=head.log_scales + math.log(scale))


@pytest.fixture(scope="module")
def engine_photo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Gaussians, EvalPhoto]:
    head = build_heads([sample_attributes(ENGINE_SEED)], "cpu")[0]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = render(head, canonical_view().camera(PHOTO_SIZE), classes=False)  # on black, as heads are scored
    finally:
        torch.set_num_threads(before)
    rgb = (out.rgb.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    path = tmp_path_factory.mktemp("photos") / "engine.png"
    Image.fromarray(rgb).save(path)
    # the photo's aligner maps this head's own eyes and mouth onto the targets (the mean engine head's): the head
    # a perfect reconstruction of the aligned photo gives is this one moved the same way
    aligned = prepare_photo(rgb, PHOTO_SIZE).alignment
    return moved_in_view(head, aligned), EvalPhoto("engine", path, "an engine head")


def test_a_head_scored_against_its_own_render_lands_on_it(engine_photo) -> None:
    head, photo = engine_photo
    row, pictures = score_photo(OneHead(head), photo)
    assert row["front_psnr"] > 28.0  # the mask's edge and the warp's resampling are the differences
    assert row["front_found"] and row["landmark_nme"] < 0.03
    assert row["found_yaw-30"] and row["found_yaw+30"]
    assert 0.8 < row["front_detail"] < 1.1  # 0.86: the aligner's bicubic resampling sharpens the photo a little
    assert set(pictures) == {"photo", "yaw0", "yaw90", "yaw180", "yaw270"}
    assert all(p.shape == (PHOTO_SIZE, PHOTO_SIZE, 3) and p.dtype == np.uint8 for p in pictures.values())


def test_a_head_moved_sideways_scores_worse(engine_photo) -> None:
    head, photo = engine_photo
    eye_distance = 0.064  # m, about the engine's; the head moves by a quarter of it
    moved = dataclasses.replace(head, means=head.means + torch.tensor([0.25 * eye_distance, 0.0, 0.0]))
    good, _ = score_photo(OneHead(head), photo)
    bad, _ = score_photo(OneHead(moved), photo)
    assert bad["front_psnr"] < good["front_psnr"] - 3.0
    assert bad["landmark_nme"] > good["landmark_nme"] + 0.15


def test_means_counts_and_pictures(engine_photo, tmp_path: Path) -> None:
    head, photo = engine_photo
    result = evaluate_photos(OneHead(head), [photo, photo], pictures=tmp_path)
    assert result["photos"] == 2 and len(result["photo_rows"]) == 2
    assert result["photo_front_found"] == 1.0 and result["photo_side_found"] == 1.0
    assert math.isclose(result["photo_front_psnr"], result["photo_rows"][0]["front_psnr"])
    strip = Image.open(tmp_path / "engine.jpg")
    assert strip.size == (5 * PHOTO_SIZE, PHOTO_SIZE)


def test_the_evaluation_portraits_are_listed_with_their_origin() -> None:
    photos = eval_photos()
    assert len(photos) >= 3
    for p in photos:
        assert p.path.is_file(), p.path
        with Image.open(p.path) as im:
            assert min(im.size) >= 256


def test_the_shipped_base_model_on_a_real_portrait() -> None:
    from models.evaluation.metrics import psnr
    from models.io.images import load_rgba

    photo = next(p for p in eval_photos() if p.name == "obama")
    row, pictures = score_photo(HeadPipeline(None, "cpu"), photo)
    prepared = prepare_photo(load_rgba(photo.path), PHOTO_SIZE)
    truth = torch.from_numpy(prepared.aligned_rgba[..., :3].astype(np.float32) / 255)
    nothing = psnr(torch.zeros_like(truth), truth, torch.from_numpy(prepared.mask) > 0.5)  # no head at all
    assert row["front_psnr"] > nothing + 3.0 and math.isfinite(row["front_detail"])
    assert row["gaussians"] > 1000
    assert pictures["photo"].std() > 10 and pictures["yaw0"].std() > 10
