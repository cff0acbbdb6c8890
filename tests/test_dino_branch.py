"""The base model's DINOv2 branch, with randomly initialised weights of the real architecture."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is in the test extra")
from transformers import Dinov2Config, Dinov2Model  # noqa: E402

from models.errors import PercheadError  # noqa: E402
from models.networks.checkpoint import checkpoint_bytes, load_checkpoint  # noqa: E402
from models.networks.config import NetConfig  # noqa: E402
from models.networks.dino_branch import DinoPatchFeatures  # noqa: E402
from models.networks.perchead import PercHeadNet  # noqa: E402
from tests.test_networks import TINY, tiny_template  # noqa: E402


@pytest.fixture(scope="module")
def dino_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dinov2")
    torch.manual_seed(0)
    cfg = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                       patch_size=8, image_size=32)
    Dinov2Model(cfg).save_pretrained(folder, safe_serialization=True)
    return folder


def test_branch_gives_four_layers_per_patch_on_our_grid(dino_folder: Path) -> None:
    branch = DinoPatchFeatures.from_folder(dino_folder, grid=4)
    feats = branch(torch.rand(2, 3, 64, 64))
    assert feats.shape == (2, 16, 4 * 32) and branch.out_dim == 128
    assert not any(p.requires_grad for p in branch.holder.net.parameters())


def test_base_model_with_dino_runs_and_checkpoint_leaves_dino_out(dino_folder: Path, tmp_path: Path) -> None:
    branch = DinoPatchFeatures.from_folder(dino_folder, grid=4)
    model = PercHeadNet(NetConfig(kind="base", dino_dim=branch.out_dim, **TINY), tiny_template())
    with pytest.raises(PercheadError, match="DINOv2"):
        model(torch.rand(1, 3, 64, 64), torch.ones(1, 64, 64))
    model.attach_dino(branch)
    pred = model(torch.rand(2, 3, 64, 64), torch.ones(2, 64, 64))
    assert pred.means.shape[0] == 2
    pred.means.sum().backward()
    assert model.encoder.dino_fuse[0].weight.grad is not None  # the fusion MLP trains
    # DINOv2's weights stay the user's files: none in our checkpoint
    (tmp_path / "m.safetensors").write_bytes(checkpoint_bytes(model))
    loaded, _ = load_checkpoint(tmp_path / "m.safetensors")
    assert not any("holder" in k or "dino." in k for k in loaded.state_dict())
    assert loaded.cfg.dino_dim == 128


def test_wrong_size_dino_is_refused(dino_folder: Path) -> None:
    model = PercHeadNet(NetConfig(kind="base", dino_dim=64, **TINY), tiny_template())
    with pytest.raises(PercheadError, match="size"):
        model.attach_dino(DinoPatchFeatures.from_folder(dino_folder, grid=4))
