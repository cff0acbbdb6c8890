"""The base model's pixel-aligned colour (models/networks/pixel_aligned.py): it starts as the model without it,
reads the pixel a Gaussian projects to, tells the front surface from what lies behind it, follows a moved input
view, and round-trips through a checkpoint."""
from __future__ import annotations

import torch

from models.cameras import canonical_view, project_points
from models.networks.checkpoint import load_checkpoint, save_checkpoint
from models.networks.config import NetConfig
from models.networks.decoder import PredictedHeads
from models.networks.perchead import PercHeadNet
from models.networks.pixel_aligned import PixelAligned
from tests.test_networks import TINY, tiny_template

SIZE = 64


def heads_at(means: torch.Tensor, opacity_logit: float = 3.0) -> PredictedHeads:
    b, n, _ = means.shape
    return PredictedHeads(means, torch.tensor([1.0, 0, 0, 0]).expand(b, n, 4).clone(), torch.full((b, n, 3), -5.0),
                          torch.full((b, n), opacity_logit), torch.zeros(b, n, 3), torch.zeros(b, n, 15))


def red_reader(module: PixelAligned) -> PixelAligned:
    """The MLP set to turn the image's red under a Gaussian into its red colour change, nothing else."""
    c = module.mlp[0].in_features - 10  # feature channels; then image RGB, alpha, ...
    with torch.no_grad():
        for layer in module.mlp:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        module.mlp[0].weight[0, c] = 1.0   # hidden unit 0 = sampled red
        module.mlp[2].weight[0, 0] = 1.0   # passed on
        module.mlp[-1].weight[0, 0] = 1.0  # to the red colour change
    return module


def red_spot(u: int, v: int) -> torch.Tensor:
    image = torch.zeros(1, 3, SIZE, SIZE)
    image[0, 0, v - 1:v + 2, u - 1:u + 2] = 1.0
    return image


def test_a_new_pixel_aligned_model_decodes_as_the_model_without_it() -> None:
    torch.manual_seed(0)
    plain = PercHeadNet(NetConfig(kind="base", **TINY), tiny_template()).eval()
    aligned = PercHeadNet(NetConfig(kind="base", pixel_aligned=True, **TINY), tiny_template()).eval()
    missing, unexpected = aligned.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("pixel.") for k in missing)
    image, alpha = torch.rand(2, 3, SIZE, SIZE), torch.ones(2, SIZE, SIZE)
    a, b = plain(image, alpha), aligned(image, alpha)
    assert torch.equal(a.sh_dc, b.sh_dc) and torch.equal(a.opacity_logits, b.opacity_logits)


def test_front_points_read_their_pixel_and_hidden_points_are_told_apart() -> None:
    cfg = NetConfig(kind="base", pixel_aligned=True, **TINY)
    camera = canonical_view().camera(SIZE)
    module = PixelAligned(cfg, camera)
    target = torch.tensor(canonical_view().orbit.target)
    towards_camera = torch.nn.functional.normalize(camera.position - target, dim=0)
    front = target + 0.05 * towards_camera
    back = target - 0.05 * towards_camera        # the same pixel, 10 cm further
    aside = front + torch.tensor([0.04, 0.0, 0.0])
    means = torch.stack([front, back, aside])[None]
    pix = project_points(means[0], camera)
    behind, in_view = module._depth_order(pix[None], (means[0] - camera.position).norm(dim=-1)[None],
                                          torch.full((1, 3), 3.0))
    assert in_view.tolist() == [[1.0, 1.0, 1.0]]
    assert behind[0, 0] == 0 and behind[0, 2] == 0 and behind[0, 1] > 4.0  # 10 cm = 5 units behind
    outside = torch.stack([target + torch.tensor([5.0, 0.0, 0.0])])[None]
    _, flag = module._depth_order(project_points(outside[0], camera)[None], torch.ones(1, 1), torch.zeros(1, 1))
    assert flag.item() == 0.0
    # what a point reads is the image at its pixel: a red spot under the front point only
    red_reader(module)
    u, v = pix[0].long().tolist()
    out = module(red_spot(u, v), torch.ones(1, SIZE, SIZE), heads_at(means))
    assert out.sh_dc[0, 0, 0] > 0.3 and out.sh_dc[0, 2, 0].abs() < 0.05


def test_a_moved_input_view_moves_what_is_read() -> None:
    camera = canonical_view().camera(SIZE)
    module = red_reader(PixelAligned(NetConfig(kind="base", pixel_aligned=True, **TINY), camera))
    target = torch.tensor(canonical_view().orbit.target)[None]
    u, v = project_points(target, camera)[0].long().tolist()
    image = red_spot(u + 10, v)                   # the head's centre drawn 10 px right of the canonical place
    moved = camera.K.clone()
    moved[0, 2] += 10.0                           # ... because the input view was moved that way
    heads = heads_at(target[None])
    canonical = module(image, torch.ones(1, SIZE, SIZE), heads)
    following = module(image, torch.ones(1, SIZE, SIZE), heads, camera.world_to_cam[None], moved[None])
    assert canonical.sh_dc[0, 0, 0].abs() < 0.05 and following.sh_dc[0, 0, 0] > 0.3


def test_checkpoint_round_trip_keeps_the_pixel_part(tmp_path) -> None:
    torch.manual_seed(1)
    model = PercHeadNet(NetConfig(kind="base", pixel_aligned=True, **TINY), tiny_template()).eval()
    with torch.no_grad():
        model.pixel.mlp[-1].weight.normal_(std=0.1)
    path = tmp_path / "base.safetensors"
    save_checkpoint(path, model)
    loaded, _ = load_checkpoint(path)
    assert loaded.cfg.pixel_aligned and loaded.pixel is not None
    image, alpha = torch.rand(1, 3, SIZE, SIZE), torch.ones(1, SIZE, SIZE)
    a, b = model(image, alpha), loaded(image, alpha)
    assert torch.allclose(a.sh_dc, b.sh_dc, atol=0.05)  # fp16 weights
    with torch.no_grad():
        loaded.pixel.mlp[-1].weight.zero_()
    assert (loaded(image, alpha).sh_dc - b.sh_dc).abs().max() > 0.1  # what matched was the pixel part's doing
