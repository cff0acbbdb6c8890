"""The C tile rasteriser against the torch reference: same pixels, same class maps, same rules."""
from __future__ import annotations

import pytest
import torch

from models.cameras import canonical_view, orbit_camera
from models.render import native, render
from tests.test_render import one, random_scene

pytestmark = pytest.mark.skipif(not native.available(), reason="no C compiler here to build the native rasteriser")


@pytest.mark.parametrize("seed", range(4))
def test_native_matches_the_torch_rasteriser(seed: int) -> None:
    g = random_scene(3000, seed=seed)
    cam = orbit_camera(canonical_view().orbit_at(45.0 * seed, 15.0 - 10 * seed), 96)
    with torch.inference_mode():
        ref = render(g, cam, backend="torch", background=(0.2, 0.3, 0.4))
        fast = render(g, cam, backend="native", background=(0.2, 0.3, 0.4))
    assert fast.backend == "native" and ref.backend == "torch"
    torch.testing.assert_close(fast.rgb, ref.rgb, atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(fast.alpha, ref.alpha, atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(fast.depth, ref.depth, atol=1e-4, rtol=1e-5)
    assert (fast.class_map == ref.class_map).float().mean() >= 0.999


def test_opaque_front_gaussian_stops_the_pixel() -> None:
    """Two overlapping Gaussians, the front one nearly opaque: the back one barely shows, in both."""
    front = one((0.0, 0.0, 0.05), (0.03, 0.03, 0.03), rgb=(1.0, 0.0, 0.0), opacity=0.999, label=9)
    back = one((0.0, 0.0, -0.05), (0.03, 0.03, 0.03), rgb=(0.0, 0.0, 1.0), opacity=0.999, label=1)
    from models.gaussians import Gaussians

    g = Gaussians.cat([back, front])  # back first in the arrays: depth order decides, not array order
    cam = canonical_view().camera(48)
    with torch.inference_mode():
        ref, fast = render(g, cam, backend="torch"), render(g, cam, backend="native")
    peak = int(torch.argmax(fast.alpha))
    rgb, ids = fast.rgb.reshape(-1, 3)[peak], fast.class_map.reshape(-1)[peak]
    assert rgb[0] > 0.9 and rgb[2] < 0.05, "the front Gaussian hides the back one"
    assert int(ids) == 9
    torch.testing.assert_close(fast.rgb, ref.rgb, atol=2e-5, rtol=1e-5)


def test_cpu_backend_uses_native_only_without_gradients() -> None:
    g = random_scene(500, seed=7)
    cam = canonical_view().camera(32)
    with torch.inference_mode():
        assert render(g, cam, backend="cpu").backend == "native"
    g.means.requires_grad_(True)
    out = render(g, cam, backend="cpu")
    assert out.backend == "cpu"
    out.rgb.sum().backward()
    assert g.means.grad is not None


def test_disabled_native_falls_back_to_torch(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(native.DISABLE_ENV, "1")
    native._library.cache_clear()
    try:
        assert not native.available()
        with torch.inference_mode():
            assert render(random_scene(200, seed=1), canonical_view().camera(24), backend="cpu").backend == "cpu"
    finally:
        monkeypatch.delenv(native.DISABLE_ENV)
        native._library.cache_clear()
    assert native.available()


def test_library_is_built_once_into_the_cache(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(native.CACHE_ENV, str(tmp_path))
    native._library.cache_clear()
    try:
        assert native.available()
        built = list(tmp_path.glob("raster-*.so"))
        assert len(built) == 1
        stamp = built[0].stat().st_mtime_ns
        native._library.cache_clear()
        assert native.available() and built[0].stat().st_mtime_ns == stamp, "a cached build is reused"
        assert not list(tmp_path.glob(".*")), "no temp files left"
    finally:
        native._library.cache_clear()


def test_too_many_tile_entries_fall_back_to_the_banded_torch_path(monkeypatch) -> None:
    g = random_scene(800, seed=3)
    cam = canonical_view().camera(48)
    with torch.inference_mode():
        ref = render(g, cam, backend="torch")
        monkeypatch.setattr(native, "MAX_TILE_ENTRIES", 0)
        bounded = render(g, cam, backend="native")
    torch.testing.assert_close(bounded.rgb, ref.rgb, atol=1e-6, rtol=1e-6)


def test_an_unwritable_cache_falls_back_to_a_private_temp_folder(monkeypatch, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(native.CACHE_ENV, str(blocker / "cache"))
    native._library.cache_clear()
    try:
        assert native.available()
    finally:
        native._library.cache_clear()
