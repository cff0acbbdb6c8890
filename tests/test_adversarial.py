"""The adversarial term (models/losses/adversarial.py) and its conditional patch discriminator."""
from __future__ import annotations

import pytest
import torch

from models.errors import PercheadError
from models.losses.adversarial import AdversarialConfig, Adversary
from models.losses.image import gradient_l1
from models.losses.discriminator import DiscriminatorConfig, PatchDiscriminator

DEV = torch.device("cpu")


def _views(b: int = 2, v: int = 3, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    real = torch.rand(b, v, size, size, 3, generator=g)  # textured
    fake = real.mean((2, 3), keepdim=True).expand_as(real).clone()  # the same colours, blurred flat
    classes = torch.randint(0, 15, (b, v, size, size), generator=g)
    return real, fake, classes


def test_discriminator_answers_per_patch_at_each_scale() -> None:
    d = PatchDiscriminator(DiscriminatorConfig(width=8, layers=3, scales=2))
    out = d(torch.rand(4, 3, 64, 64), torch.randint(0, 15, (4, 64, 64)))
    assert len(out) == 2
    (l0, f0), (l1, f1) = out
    assert l0.shape[:2] == (4, 1) and l0.shape[-1] > l1.shape[-1] > 0
    assert len(f0) == 4 and f0[0].shape[1] == 8


def test_warm_up_then_ramp() -> None:
    adv = Adversary(AdversarialConfig(weight=1.0, start=2, ramp=4, views=1, disc={"width": 8, "layers": 2}), DEV)
    real, fake, classes = _views()
    ramps = []
    for _ in range(6):
        total, terms = adv.generator_terms(fake.requires_grad_(), real, classes)
        ramps.append(adv.ramp())
        if adv.ramp() == 0:
            assert total.item() == 0.0 and terms["adv_g"].item() == 0.0
        adv.update()
    assert ramps == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


def test_generator_gradient_reaches_the_render_not_the_discriminator() -> None:
    adv = Adversary(AdversarialConfig(weight=1.0, feature_matching=1.0, start=0, ramp=1, views=2,
                                      disc={"width": 8, "layers": 2}), DEV)
    real, fake, classes = _views()
    fake.requires_grad_(True)
    total, terms = adv.generator_terms(fake, real, classes)
    total.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is None for p in adv.disc.parameters())
    assert terms["adv_g"] > 0 and terms["feature_match"] > 0


def test_discriminator_learns_to_tell_texture_from_blur() -> None:
    torch.manual_seed(0)
    adv = Adversary(AdversarialConfig(weight=1.0, start=0, views=3, lr=1e-3, disc={"width": 8, "layers": 2}), DEV)
    first = last = None
    for i in range(30):
        real, fake, classes = _views(seed=i)
        adv.generator_terms(fake, real, classes)
        d = adv.update()
        loss = (d["d_real"] + d["d_fake"]).item()
        first = loss if first is None else first
        last = loss
    assert last < 0.5 * first, (first, last)


def test_gradient_l1_sees_texture_that_l1_of_means_does_not() -> None:
    real, fake, _ = _views()
    assert gradient_l1(real, real).item() == 0.0
    assert gradient_l1(fake, real).item() > 0.2  # the flat image lost every edge
    shifted = real + 0.1  # a colour shift keeps every edge
    assert gradient_l1(shifted, real).item() == pytest.approx(0.0, abs=1e-6)


def test_config_checks() -> None:
    assert not AdversarialConfig().active
    assert AdversarialConfig(feature_matching=1.0).active
    with pytest.raises(PercheadError, match="views"):
        AdversarialConfig(weight=1.0, views=0)
    with pytest.raises(PercheadError, match="adversarial.disc option"):
        AdversarialConfig(weight=1.0, disc={"depth": 3})
    with pytest.raises(PercheadError, match="unknown adversarial option"):
        AdversarialConfig.from_dict({"wieght": 1.0})
