"""Renderer correctness: analytic projection, compositing order, orientation, a naive reference."""
from __future__ import annotations

import math

import pytest
import torch

import models.render.cpu_rasterizer as cpu_rasterizer
from models.cameras import OrbitParams, canonical_view, orbit_camera, project_points
from models.gaussians import Gaussians
from models.render import render, render_views
from models.render.projection import ALPHA_THRESHOLD, EPS2D, MAX_ALPHA, TRANSMITTANCE_STOP, project_gaussians


def one(mean, scale, rgb=(1.0, 0.0, 0.0), opacity=0.9, label=1, quat=(1.0, 0.0, 0.0, 0.0)) -> Gaussians:
    return Gaussians.from_activated(torch.tensor([mean], dtype=torch.float32), torch.tensor([quat]),
                                    torch.tensor([scale]), torch.tensor([opacity]), torch.tensor([rgb]),
                                    torch.tensor([label]))


def random_scene(n: int, seed: int, spread: float = 0.12) -> Gaussians:
    g = torch.Generator().manual_seed(seed)
    return Gaussians.from_activated(
        (torch.rand(n, 3, generator=g) - 0.5) * 2 * spread, torch.randn(n, 4, generator=g),
        0.002 + 0.01 * torch.rand(n, 3, generator=g), 0.2 + 0.8 * torch.rand(n, generator=g),
        torch.rand(n, 3, generator=g), torch.randint(1, 15, (n,), generator=g))


def test_single_gaussian_centre_and_footprint_match_analytic_projection() -> None:
    cam = orbit_camera(OrbitParams(radius=1.0, fov_deg=30.0), 128)
    sx, sy = 0.01, 0.02  # isotropic in depth, axis-aligned in the image
    g = one([0.031, -0.017, 0.0], [sx, sy, 0.01], opacity=0.99)
    out = render(g, cam, backend="cpu")
    a = out.alpha
    # centre: alpha-weighted centroid against the projected mean
    ys, xs = torch.meshgrid(torch.arange(128) + 0.5, torch.arange(128) + 0.5, indexing="ij")
    cx, cy = (a * xs).sum() / a.sum(), (a * ys).sum() / a.sum()
    expect = project_points(g.means, cam)[0]
    assert abs(cx - expect[0]) < 0.02 and abs(cy - expect[1]) < 0.02
    # footprint: second moments of the (unclamped, un-thresholded) alpha vs J Sigma J^T + eps2d
    f = cam.K[0, 0].item()
    z = 1.0
    var_x = (f * sx / z) ** 2 + EPS2D
    var_y = (f * sy / z) ** 2 + EPS2D
    mx = ((a * (xs - cx) ** 2).sum() / a.sum()).item()
    my = ((a * (ys - cy) ** 2).sum() / a.sum()).item()
    # the 0.999 clamp and the 1/255 cut trim the tails a little; 2% on the std is the contract
    assert math.sqrt(mx) == pytest.approx(math.sqrt(var_x), rel=0.02)
    assert math.sqrt(my) == pytest.approx(math.sqrt(var_y), rel=0.02)
    # peak alpha equals the opacity (clamped at MAX_ALPHA)
    assert a.max().item() == pytest.approx(min(0.99, MAX_ALPHA), abs=0.02)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_front_gaussian_covers_back_whatever_the_array_order(order) -> None:
    cam = canonical_view().camera(64)
    front = one([0.0, -0.02, 0.1], [0.03, 0.03, 0.03], rgb=(1.0, 0.0, 0.0), opacity=0.99, label=2)
    back = one([0.0, -0.02, -0.1], [0.03, 0.03, 0.03], rgb=(0.0, 0.0, 1.0), opacity=0.99, label=9)
    parts = [front, back]
    out = render(Gaussians.cat([parts[i] for i in order]), cam, backend="cpu")
    centre = out.rgb[32, 32]
    assert centre[0] > 0.95 and centre[2] < 0.02
    assert out.class_map[32, 32].item() == 2
    # depth is the front Gaussian's camera depth (camera at z = 1.2, front at z = 0.1)
    assert out.depth[32, 32].item() == pytest.approx(1.1, abs=0.01)


def test_front_view_orientation_and_documented_yaw() -> None:
    view = canonical_view()
    right = one([0.1, -0.02, 0.0], [0.01, 0.01, 0.01])
    up = one([0.0, 0.1, 0.0], [0.01, 0.01, 0.01])
    size = 128

    def peak(g, cam):
        a = render(g, cam, backend="cpu").alpha
        idx = int(a.argmax())
        return idx % size, idx // size  # x, y

    front = view.camera(size)
    x, y = peak(right, front)
    assert x > size * 0.7 and abs(y - size / 2) < size * 0.1  # +x on the image's right
    x, y = peak(up, front)
    assert y < size * 0.3  # +y at the top
    # yaw +90 looks at the head's +x side: the face (+z) is then on the image's left
    side = orbit_camera(view.orbit_at(90.0), size)
    face = one([0.0, -0.02, 0.1], [0.01, 0.01, 0.01])
    x, _ = peak(face, side)
    assert x < size * 0.3
    # pitch > 0 looks down from above: a point on top (+y) moves towards the image centre-bottom
    top = orbit_camera(view.orbit_at(0.0, 60.0), size)
    x, y = peak(one([0.0, -0.02, 0.1], [0.01, 0.01, 0.01]), top)
    assert y > size / 2  # the face (+z, in front) is below the centre seen from above


def test_background_colour_fills_empty_pixels() -> None:
    out = render(one([0.0, -0.02, 0.0], [0.01, 0.01, 0.01]), canonical_view().camera(32), backend="cpu",
                 background=(0.2, 0.4, 0.6))
    assert torch.allclose(out.rgb[0, 0], torch.tensor([0.2, 0.4, 0.6]))
    assert out.class_map[0, 0].item() == 0


def naive_render(g: Gaussians, cam, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """gsplat's per-pixel loop written plainly: the definition the vectorised path must meet."""
    proj = project_gaussians(g.means, g.covariances(), g.activated_opacities(), cam.world_to_cam, cam.K, size, size)
    order = torch.argsort(proj.depths)
    rgb = g.base_rgb()[proj.index][order]
    m2, con, op = proj.means2d[order], proj.conics[order], proj.opacities[order]
    radii = proj.radii[order]
    img = torch.zeros(size, size, 3)
    alpha_img = torch.zeros(size, size)
    for py in range(size):
        for px in range(size):
            t = 1.0
            c = torch.zeros(3)
            for i in range(len(order)):
                if abs(m2[i, 0] - px - 0.5) > radii[i, 0] + 1 or abs(m2[i, 1] - py - 0.5) > radii[i, 1] + 1:
                    continue
                dx, dy = m2[i, 0] - (px + 0.5), m2[i, 1] - (py + 0.5)
                sigma = 0.5 * (con[i, 0] * dx * dx + con[i, 2] * dy * dy) + con[i, 1] * dx * dy
                alpha = min(MAX_ALPHA, float(op[i] * torch.exp(-sigma)))
                if sigma < 0 or alpha < ALPHA_THRESHOLD:
                    continue
                if t * (1 - alpha) <= TRANSMITTANCE_STOP:
                    break
                c += rgb[i] * alpha * t
                t *= 1 - alpha
            img[py, px] = c
            alpha_img[py, px] = 1 - t
    return img, alpha_img


def test_vectorised_rasteriser_matches_naive_loop() -> None:
    g = random_scene(40, seed=3, spread=0.06)
    cam = canonical_view().camera(20)
    want_rgb, want_alpha = naive_render(g, cam, 20)
    out = render(g, cam, backend="cpu", classes=False)
    torch.testing.assert_close(out.alpha, want_alpha, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(out.rgb, want_rgb, atol=2e-4, rtol=1e-4)


def test_row_bands_give_the_same_image(monkeypatch) -> None:
    g = random_scene(400, seed=1)
    cam = canonical_view().camera(64)
    whole = render(g, cam, backend="cpu")
    monkeypatch.setattr(cpu_rasterizer, "PAIR_BUDGET", 500)
    banded = render(g, cam, backend="cpu")
    torch.testing.assert_close(banded.rgb, whole.rgb, atol=1e-5, rtol=1e-5)
    assert torch.equal(banded.class_map, whole.class_map)


def test_render_views_matches_single_renders() -> None:
    g = random_scene(300, seed=2)
    view = canonical_view()
    cams = [orbit_camera(view.orbit_at(yaw), 48) for yaw in (0.0, 45.0, 180.0)]
    many = render_views(g, cams, backend="cpu")
    for i, cam in enumerate(cams):
        single = render(g, cam, backend="cpu")
        torch.testing.assert_close(many.rgb[i], single.rgb)


def test_cpu_backend_is_differentiable() -> None:
    g = random_scene(200, seed=4)
    for name in ("means", "log_scales", "opacity_logits", "sh", "quats"):
        getattr(g, name).requires_grad_(True)
    out = render(g, canonical_view().camera(32), backend="cpu")
    loss = out.rgb.mean() + out.alpha.mean() + out.class_weights[..., 9].mean()
    loss.backward()
    for name in ("means", "log_scales", "opacity_logits", "sh", "quats"):
        grad = getattr(g, name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_inference_and_gradient_accumulation_paths_agree() -> None:
    """Without gradients the weighted sums go through a sparse matrix product; with them, index_add."""
    g = random_scene(500, seed=6)
    cam = canonical_view().camera(48)
    with torch.no_grad():
        fast = render(g, cam, backend="cpu")
    g.sh.requires_grad_(True)
    tracked = render(g, cam, backend="cpu")
    torch.testing.assert_close(fast.rgb, tracked.rgb.detach(), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fast.alpha, tracked.alpha.detach(), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fast.class_weights, tracked.class_weights.detach(), atol=1e-6, rtol=1e-5)


def test_gaussians_behind_the_camera_are_culled() -> None:
    cam = canonical_view().camera(32)  # camera at z = 1.2 looking along -z
    out = render(one([0.0, 0.0, 2.0], [0.05, 0.05, 0.05]), cam, backend="cpu")
    assert out.alpha.max().item() == 0.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean((a.clamp(0, 1) - b.clamp(0, 1)).double() ** 2).item()
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


@pytest.mark.gpu
def test_gsplat_parity_on_random_scenes() -> None:
    """CPU rasteriser vs gsplat: 5 random scenes of 20k Gaussians at 256² (docs/rendering.md)."""
    from models.device import resolve_device

    dev = resolve_device("cuda")
    view = canonical_view()
    for seed in range(5):
        g = random_scene(20_000, seed=seed).to(dev)
        cam = orbit_camera(view.orbit_at(30.0 * seed, 10.0), 256)
        ref = render(g, cam, backend="cpu")
        fast = render(g, cam, backend="gsplat")
        p = psnr(ref.rgb, fast.rgb)
        agree = (ref.class_map == fast.class_map).float().mean().item()
        max_diff = (ref.rgb - fast.rgb).abs().max().item()
        alpha_diff = (ref.alpha - fast.alpha).abs().max().item()
        print(f"parity seed={seed} psnr={p:.2f} dB max_abs_rgb={max_diff:.2e} max_abs_alpha={alpha_diff:.2e} "
              f"class_agreement={agree:.5f}")
        assert p >= 40.0
        assert agree >= 0.99


def test_soft_class_probabilities_match_one_hot_labels_and_carry_gradients() -> None:
    g = random_scene(300, seed=5)
    cam = canonical_view().camera(40)
    hard = render(g, cam, backend="cpu")
    probs = torch.nn.functional.one_hot(g.labels, 15).float().requires_grad_(True)
    soft = render(g, cam, backend="cpu", class_probs=probs)
    torch.testing.assert_close(soft.class_weights, hard.class_weights, atol=1e-5, rtol=1e-5)
    soft.class_weights[..., 3].sum().backward()
    assert probs.grad is not None and probs.grad[:, 3].abs().sum() > 0


def _batch_scenes(device: torch.device) -> tuple[list[Gaussians], list[list]]:
    """Three heads of different sizes, two views each (padding is exercised on gsplat)."""
    view = canonical_view()
    heads = [random_scene(n, seed=10 + i).to(device) for i, n in enumerate((500, 1200, 800))]
    cams = [[orbit_camera(view.orbit_at(40.0 * i + 90.0 * v, 5.0), 48) for v in range(2)] for i in range(3)]
    return heads, cams


def _check_batch_matches_views(backend: str, device: torch.device) -> None:
    from models.render import render_batch

    heads, cams = _batch_scenes(device)
    bgs = torch.rand(3, 2, 3)
    out = render_batch(heads, cams, backend=backend, backgrounds=bgs)
    assert out.rgb.shape == (3, 2, 48, 48, 3) and out.class_map.shape == (3, 2, 48, 48)
    for b, (g, row) in enumerate(zip(heads, cams)):
        for v, cam in enumerate(row):
            ref = render(g, cam, backend=backend, background=tuple(bgs[b, v].tolist()))
            torch.testing.assert_close(out.rgb[b, v], ref.rgb, atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(out.alpha[b, v], ref.alpha, atol=1e-4, rtol=1e-4)
            assert (out.class_map[b, v] == ref.class_map).float().mean() >= 0.999


def test_render_batch_matches_one_view_at_a_time_on_cpu() -> None:
    _check_batch_matches_views("cpu", torch.device("cpu"))


@pytest.mark.gpu
def test_render_batch_one_gsplat_launch_matches_per_view_renders() -> None:
    """Heads padded with zero-opacity Gaussians render exactly like each head alone."""
    from models.device import resolve_device

    _check_batch_matches_views("gsplat", resolve_device("cuda"))
