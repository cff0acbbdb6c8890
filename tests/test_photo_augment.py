"""Photo-like base-model inputs (models/training/photo_augment.py): each step does what a photo does, the
targets stay clean, a moved head is re-rendered in every view, and bad options are refused."""
from __future__ import annotations

import pytest
import torch

from models.errors import PercheadError
from models.training.photo_augment import (PhotoAugment, PhotoAugmentConfig, cut_out, depth_normals, jpeg,
                                           procedural_background)

SIZE = 96
OFF = dict(frame_prob=0.0, light_prob=0.0, background_prob=0.0, blur_prob=0.0, white_balance=0.0,
           exposure_stops=0.0, gamma=0.0, noise_prob=0.0, jpeg_prob=0.0, mask_edge_px=0.0)


@pytest.fixture(scope="module")
def batch_source():
    from models.synthetic.sampler import HeadSampler

    sampler = HeadSampler("train", stream=4242)
    return lambda: sampler.make_batch(2, views=3, size=SIZE)


def centroid(alpha: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(alpha.shape[0]).float(), torch.arange(alpha.shape[1]).float(), indexing="ij")
    return torch.stack([(xs * alpha).sum(), (ys * alpha).sum()]) / alpha.sum()


def test_everything_off_gives_the_engine_image_cut_out(batch_source) -> None:
    """A photo is cut out by its person mask as it was taken: the engine head on black, times its alpha."""
    batch = batch_source()
    clean = batch.rgb[:, 0] * batch.alpha[:, 0, ..., None]
    _, image, alpha = PhotoAugment(PhotoAugmentConfig(prob=1.0, **OFF), seed=0)(batch)
    assert torch.allclose(image.permute(0, 2, 3, 1), clean, atol=1e-6)
    assert torch.equal(alpha, batch.alpha[:, 0])


@pytest.mark.parametrize("background", ["black", "white"])  # training batches share one background (HeadBatch)
def test_a_row_left_clean_gives_the_head_times_alpha_once(background: str) -> None:
    """Rows that are not made photo-like reach the base model as an RGBA image's colour times its alpha does at
    inference (models/pipeline.py reconstruct): the head's colour times alpha once, whatever the background."""
    from models.networks.config import NetConfig
    from models.networks.inputs import HeadBatch, model_inputs
    from models.synthetic.sampler import HeadSampler

    batch = HeadSampler("train", stream=4243, background=background).make_batch(2, views=2, size=SIZE)
    alpha = batch.alpha[:, 0, ..., None]
    bg = batch.background[:, 0, None, None, :]
    straight = (batch.rgb[:, 0] - (1 - alpha) * bg) / alpha.clamp_min(1e-6)  # the head's own colour
    inside = alpha[..., 0] > 0.02
    _, image, _ = PhotoAugment(PhotoAugmentConfig(prob=0.0), seed=0)(batch)
    image = image.permute(0, 2, 3, 1)
    assert torch.allclose(image[inside], (straight * alpha)[inside].clamp(0, 1), atol=1e-4)
    assert float(image[~inside].abs().max()) < 0.03
    engine_input, _ = model_inputs(NetConfig(kind="base"), HeadBatch.from_engine(batch))
    assert torch.allclose(engine_input.permute(0, 2, 3, 1), image, atol=1e-6)


def test_the_capture_changes_the_input_only(batch_source) -> None:
    batch = batch_source()
    targets = batch.rgb.clone()
    capture = dict(OFF, background_prob=1.0, blur_prob=1.0, noise_prob=1.0, jpeg_prob=1.0, mask_edge_px=1.5)
    out, image, alpha = PhotoAugment(PhotoAugmentConfig(prob=1.0, **capture), seed=1)(batch)
    assert torch.allclose(out.rgb, targets, atol=1e-5)  # background, blur, noise, JPEG, cut-out: the camera's
    assert image.shape == (2, 3, SIZE, SIZE) and alpha.shape == (2, SIZE, SIZE)
    assert 0 <= float(alpha.min()) and float(alpha.max()) <= 1
    assert (image <= alpha[:, None] + 1e-5).all()  # premultiplied by its own cut-out
    clean = (targets[:, 0] * batch.alpha[:, 0, ..., None]).permute(0, 3, 1, 2)
    assert (image - clean).abs().mean() > 0.01
    # a cut-out of the head still: the mask covers it and little else
    inter = (alpha > 0.5) & (batch.alpha[:, 0] > 0.5)
    union = (alpha > 0.5) | (batch.alpha[:, 0] > 0.5)
    assert inter.sum() / union.sum() > 0.9


def test_the_appearance_changes_input_and_targets_alike(batch_source) -> None:
    batch = batch_source()
    before = batch.rgb.clone()
    look = dict(OFF, light_prob=1.0, white_balance=0.12, exposure_stops=0.5, gamma=0.15)
    out, image, alpha = PhotoAugment(PhotoAugmentConfig(prob=1.0, **look), seed=2)(batch)
    assert (out.rgb - before).abs().mean() > 0.005          # every view relit and recoloured ...
    assert (out.rgb[:, 1:] - before[:, 1:]).abs().mean() > 0.005
    assert torch.allclose(image.permute(0, 2, 3, 1), out.rgb[:, 0] * alpha[..., None], atol=1e-5)  # ... the input too
    assert float(out.rgb.min()) >= 0 and float(out.rgb.max()) <= 1


def test_a_moved_head_is_re_rendered_in_every_view(batch_source) -> None:
    batch = batch_source()
    before = [centroid(batch.alpha[i, 0]) for i in range(2)]
    side_before = batch.alpha[:, 1].clone()
    cfg = PhotoAugmentConfig(prob=1.0, **{**OFF, "frame_prob": 1.0, "max_shift_px": 6.0, "max_scale": 0.0,
                                          "max_roll_deg": 0.0})
    out, _, alpha = PhotoAugment(cfg, seed=3)(batch)
    for i in range(2):
        moved = centroid(out.alpha[i, 0]) - before[i]
        assert 0.3 < float(moved.norm()) < 6 * 2 ** 0.5 + 1.0
        assert torch.allclose(centroid(alpha[i]), centroid(out.alpha[i, 0]), atol=0.01)  # input = moved target
    assert not torch.equal(out.alpha[:, 1], side_before)  # the other views follow the head


def test_normals_of_a_plane_facing_the_camera_point_back_at_it() -> None:
    depth = torch.full((1, 16, 16), 1.0)
    k = torch.tensor([[[20.0, 0, 8], [0, 20.0, 8], [0, 0, 1]]])
    n = depth_normals(depth, k)
    assert torch.allclose(n[0, 4:12, 4:12], torch.tensor([0.0, 0.0, -1.0]).expand(8, 8, 3), atol=1e-5)
    tilted = 1.0 + 0.05 * torch.arange(16.0)[None, None, :].expand(1, 16, 16)  # further away to the right
    assert n.shape == depth_normals(tilted, k).shape
    assert float(depth_normals(tilted, k)[0, 8, 8, 0]) > 0.3  # receding to the right: it faces right


def test_side_light_brightens_its_side(batch_source) -> None:
    batch = batch_source()
    aug = PhotoAugment(PhotoAugmentConfig(prob=1.0, **{**OFF, "light_prob": 1.0, "light_strength": 0.9,
                                                        "light_tint": 0.0}), seed=5)
    aug._u = lambda n, lo, hi: torch.full((n,), hi if hi > 1.1 else (0.0 if lo == 0 else hi))  # theta 0, tilt 1.2
    clean = (batch.rgb[:, 0] * batch.alpha[:, 0, ..., None]).permute(0, 3, 1, 2).clone()
    _, image, alpha = aug(batch)
    ratio = image.sum(1) / clean.sum(1).clamp_min(1e-3)  # [B, H, W]
    face = batch.alpha[:, 0] > 0.99
    left, right = face.clone(), face.clone()
    left[..., SIZE // 2:] = False
    right[..., :SIZE // 2] = False
    assert ratio[right].mean() > ratio[left].mean() + 0.1  # light from +x (image right)


def test_cut_out_grows_and_shrinks_the_mask() -> None:
    alpha = torch.zeros(1, 40, 40)
    alpha[0, 10:30, 10:30] = 1.0
    area = lambda a: float((a > 0.5).sum())  # noqa: E731
    assert area(cut_out(alpha, torch.tensor([1.5]))) > area(alpha) > area(cut_out(alpha, torch.tensor([-1.5])))
    assert area(cut_out(alpha, torch.tensor([0.0]))) == area(alpha)


def test_jpeg_and_backgrounds() -> None:
    gen = torch.Generator().manual_seed(0)
    scenes = procedural_background(3, 64, gen)
    assert scenes.shape == (3, 64, 64, 3) and 0 <= float(scenes.min()) and float(scenes.max()) <= 1
    assert float(scenes.std()) > 0.05
    low = jpeg(scenes[0], 30)
    err = float(((low - scenes[0]) ** 2).mean())
    assert 0 < err < 0.01


def test_bad_options_are_refused() -> None:
    with pytest.raises(PercheadError, match="unknown data.photo options"):
        PhotoAugmentConfig.from_dict({"probability": 0.5})
    with pytest.raises(PercheadError, match="between 0 and 1"):
        PhotoAugmentConfig.from_dict({"prob": 1.5})
    with pytest.raises(PercheadError, match="jpeg_quality"):
        PhotoAugmentConfig.from_dict({"jpeg_quality": [90, 20]})
    assert PhotoAugmentConfig.from_dict({"jpeg_quality": [40, 80]}).jpeg_quality == (40, 80)


def test_the_same_seed_makes_the_same_photo(batch_source) -> None:
    first = batch_source()
    copy = lambda v: v.clone() if isinstance(v, torch.Tensor) else list(v) if isinstance(v, list) else v  # noqa: E731
    second = type(first)(**{k: copy(v) for k, v in vars(first).items()})  # the re-framing replaces list items
    cfg = PhotoAugmentConfig(prob=1.0)
    _, a, alpha_a = PhotoAugment(cfg, seed=9)(first)
    _, b, alpha_b = PhotoAugment(cfg, seed=9)(second)
    assert torch.equal(a, b) and torch.equal(alpha_a, alpha_b)
    _, c, _ = PhotoAugment(cfg, seed=10)(batch_source())
    assert not torch.equal(a, c)
