"""DINOv2 and SAM2.1 feature losses with random-initialised weights of the real transformers
architectures (tiny configs), loaded from folders written by ``save_pretrained``."""
from __future__ import annotations

import json

import pytest
import torch

transformers = pytest.importorskip("transformers")  # the DINOv2 / SAM2.1 losses need it; the rest do not

from models.errors import PercheadError  # noqa: E402
from models.losses.foundation import (DinoFeatureLoss, SamFeatureLoss, load_dinov2, load_sam2_vision,  # noqa: E402
                                      target_size)


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_dinov2(registers: int = 0):
    cfg = dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
               image_size=56, patch_size=14)
    if registers:
        return transformers.Dinov2WithRegistersModel(transformers.Dinov2WithRegistersConfig(
            num_register_tokens=registers, **cfg)).eval()
    return transformers.Dinov2Model(transformers.Dinov2Config(**cfg)).eval()


def tiny_sam2(full: bool = True):
    """Hiera with 4 stages (the real layout, narrow), FPN neck; optionally the whole Sam2Model."""
    backbone = transformers.Sam2HieraDetConfig(
        hidden_size=16, num_attention_heads=1, blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 2, 2], window_size_per_stage=[8, 4, 4, 4], global_attention_blocks=[3],
        window_positional_embedding_background_size=[4, 4])
    vision = transformers.Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[128, 64, 32, 16],
                                           fpn_hidden_size=32)
    if not full:
        return transformers.Sam2VisionModel(vision).eval()
    return transformers.Sam2Model(transformers.Sam2Config(
        vision_config=vision, prompt_encoder_config=transformers.Sam2PromptEncoderConfig(hidden_size=32),
        mask_decoder_config=transformers.Sam2MaskDecoderConfig(hidden_size=32, num_attention_heads=2, mlp_dim=64,
                                                               iou_head_hidden_dim=32))).eval()


@pytest.fixture(scope="module")
def dino_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dinov2")
    torch.manual_seed(1)
    tiny_dinov2().save_pretrained(path)  # safetensors by default
    return path


@pytest.fixture(scope="module")
def sam_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("sam2")
    torch.manual_seed(2)
    tiny_sam2().save_pretrained(path)
    return path


def check_loss(loss_fn, size: int) -> None:
    target = torch.rand(2, size, size, 3)
    assert loss_fn(target, target).item() == pytest.approx(0.0, abs=1e-5)
    pred = (target + 0.3 * torch.randn_like(target)).clamp(0, 1).requires_grad_(True)
    loss = loss_fn(pred, target)
    assert torch.isfinite(loss) and loss.item() > 1e-4
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_dinov2_loads_from_a_saved_folder_and_gives_a_differentiable_loss(dino_dir) -> None:
    assert (dino_dir / "model.safetensors").is_file()
    loss_fn = DinoFeatureLoss.from_folder(dino_dir, image_size=56)
    assert loss_fn.layers == [1, 2, 3, 4] and loss_fn.prefix_tokens == 1
    torch.manual_seed(1)
    reference = tiny_dinov2()  # same seed as the saved one: the folder's weights were really loaded
    for a, b in zip(reference.state_dict().values(), loss_fn.frozen.net.state_dict().values()):
        torch.testing.assert_close(a, b)
    check_loss(loss_fn, 45)  # resized to 56 = 4 patches of 14
    assert list(loss_fn.parameters()) == [] and loss_fn.state_dict() == {}


def test_dinov2_with_registers_drops_register_tokens(tmp_path) -> None:
    tiny_dinov2(registers=2).save_pretrained(tmp_path)
    loss_fn = DinoFeatureLoss.from_folder(tmp_path, image_size=28, layers=[2, 4])
    assert loss_fn.prefix_tokens == 3
    feats = loss_fn.features(loss_fn.prepare(torch.rand(1, 3, 28, 28)))
    assert [f.shape for f, _ in feats] == [(1, 4, 32)] * 2


def test_sam2_full_model_folder_gives_its_vision_encoder(sam_dir) -> None:
    encoder = load_sam2_vision(sam_dir)
    assert type(encoder).__name__ == "Sam2VisionModel" and not encoder.training
    assert all(not p.requires_grad for p in encoder.parameters())
    loss_fn = SamFeatureLoss(encoder, image_size=64)
    assert loss_fn.multiple == 32 and len(loss_fn.levels) == 3
    check_loss(loss_fn, 50)
    stages = SamFeatureLoss(encoder, source="backbone", levels=[0, 3], image_size=64)
    check_loss(stages, 40)


def test_sam2_vision_only_folder_and_preprocessor_stats(tmp_path) -> None:
    tiny_sam2(full=False).save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.5, 0.5, 0.5],
                                                                   "image_std": [0.5, 0.5, 0.5]}))
    loss_fn = SamFeatureLoss.from_folder(tmp_path, image_size=32)
    torch.testing.assert_close(loss_fn.mean.flatten(), torch.full((3,), 0.5))
    check_loss(loss_fn, 32)


def test_missing_or_invalid_folders_are_clear_errors(tmp_path, dino_dir, sam_dir) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(PercheadError, match=r"DINOv2 weights folder .*nope does not exist; give a folder with "
                                            r"config\.json and model\.safetensors"):
        load_dinov2(missing)
    with pytest.raises(PercheadError, match="SAM2.1 weights folder .*nope does not exist"):
        SamFeatureLoss.from_folder(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PercheadError, match="has no config.json"):
        load_dinov2(empty)
    (empty / "config.json").write_text(json.dumps({"model_type": "dinov2"}))
    with pytest.raises(PercheadError, match="has no model.safetensors"):
        load_dinov2(empty)
    (empty / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(PercheadError, match="only pickle weights"):
        load_dinov2(empty)
    # a folder of the other model
    with pytest.raises(PercheadError, match="describes a 'sam2' model, not DINOv2"):
        load_dinov2(sam_dir)
    with pytest.raises(PercheadError, match="describes a 'dinov2' model, not SAM2"):
        load_sam2_vision(dino_dir)


def test_truncated_weights_are_refused(tmp_path, dino_dir) -> None:
    from safetensors.torch import load_file, save_file

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((dino_dir / "config.json").read_text())
    state = load_file(str(dino_dir / "model.safetensors"))
    save_file({k: v for k, v in state.items() if "layer.3." not in k}, str(bad / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(PercheadError, match="lacks .* of the DINOv2 weights"):
        load_dinov2(bad)
    (bad / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(PercheadError, match="could not load DINOv2 from"):
        load_dinov2(bad)


def test_target_size_rounds_to_the_patch_grid() -> None:
    assert target_size(256, 256, 224, 14) == (224, 224)
    assert target_size(100, 50, 224, 14) == (224, 112)
    assert target_size(10, 10, 5, 14) == (14, 14)


def test_reconstruction_loss_switches_foundation_terms_on_with_folders(dino_dir, sam_dir, tmp_path) -> None:
    from models.losses.combined import LossConfig, ReconstructionLoss

    off = ReconstructionLoss(LossConfig(feature=0.0))
    assert off.terms == ("l1", "ssim", "class_ce") and not off.describe()["dino"]["on"]
    cfg = LossConfig(feature=0.0, dino=0.5, sam=0.25, dino_dir=str(dino_dir), sam_dir=str(sam_dir),
                     dino_image_size=28, sam_image_size=32)
    loss_fn = ReconstructionLoss(cfg)
    assert loss_fn.terms == ("l1", "ssim", "class_ce", "dino", "sam")
    assert loss_fn.describe()["sam"] == {"weight": 0.25, "on": True, "weights_from": str(sam_dir)}
    assert loss_fn.state_dict() == {}
    labels = torch.randint(0, 15, (2, 24, 24))
    target = {"rgb": torch.rand(2, 24, 24, 3), "class_map": labels}
    rgb = torch.rand(2, 24, 24, 3, requires_grad=True)
    pred = {"rgb": rgb, "alpha": torch.rand(2, 24, 24), "class_weights": torch.rand(2, 24, 24, 15) * 0.05}
    total, terms = loss_fn(pred, target)
    total.backward()
    assert set(terms) == {"l1", "ssim", "class_ce", "dino", "sam"}
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0
    with pytest.raises(PercheadError, match="nope does not exist"):
        ReconstructionLoss(LossConfig(feature=0.0, dino_dir=str(tmp_path / "nope")))
