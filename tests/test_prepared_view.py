"""The viewport's prepared-head path: per-head activations once, colour-only frames (issue 9)."""
from __future__ import annotations

import math

import pytest
import torch

from models.cameras import canonical_view, orbit_camera
from models.device import to_host
from models.gaussians import Gaussians
from models.render import render
from models.render.prepared import prepare_head, render_prepared_rgb


def scene(n: int, seed: int, sh_bands: int = 1) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    return Gaussians(means=(r(n, 3) - 0.5) * 0.25, quats=r(n, 4) - 0.5, log_scales=torch.log(0.004 + 0.01 * r(n, 3)),
                     opacity_logits=(r(n) - 0.3) * 6, sh=(r(n, sh_bands, 3) - 0.5) * 2,
                     labels=torch.randint(0, 15, (n,), generator=gen))


def test_prepared_head_holds_the_activated_parameters() -> None:
    g = scene(500, seed=0)
    p = prepare_head(g)
    assert len(p) == 500
    torch.testing.assert_close(p.scales, g.activated_scales())
    torch.testing.assert_close(p.opacities, g.activated_opacities())
    torch.testing.assert_close(p.quats.norm(dim=-1), torch.ones(500))
    torch.testing.assert_close(p.rgb, g.base_rgb())
    assert all(t.dtype == torch.float32 and t.is_contiguous() for t in (p.means, p.quats, p.scales, p.opacities))


def test_view_dependent_colour_is_not_frozen_into_the_prepared_head() -> None:
    assert prepare_head(scene(50, seed=1, sh_bands=4)).rgb is None


def test_to_host_keeps_cpu_tensors_without_a_copy() -> None:
    t = torch.arange(6.0).reshape(2, 3)
    assert to_host(t).data_ptr() == t.data_ptr()


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean((a - b).double() ** 2).item()
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


@pytest.mark.gpu
@pytest.mark.parametrize("sh_bands", [1, 4])
def test_prepared_frames_equal_the_general_gsplat_render(sh_bands: int) -> None:
    from models.device import resolve_device

    dev = resolve_device("cuda")
    for seed in range(3):
        g = scene(20_000, seed=seed, sh_bands=sh_bands).to(dev)
        cam = orbit_camera(canonical_view().orbit_at(50.0 * seed, 8.0), 512)
        bg = (0.2, 0.3, 0.4)
        ref = render(g, cam, backend="gsplat", background=bg, classes=False).rgb.clamp(0, 1)
        fast = render_prepared_rgb(prepare_head(g), cam, bg)
        p = _psnr(ref, fast)
        print(f"prepared vs general: sh_bands={sh_bands} seed={seed} psnr={p:.1f} dB")
        assert fast.shape == (512, 512, 3)
        assert p >= 60.0
        host = to_host(fast)
        assert host.is_pinned() and torch.equal(host, fast.cpu())
