"""Viewport orbit maths: canonical reset, drag/zoom/pan/turntable, clamps, dict round trip."""
from __future__ import annotations

import json
import math

import pytest
import torch

from models.cameras import canonical_view, project_points
from models.errors import PercheadError
from perchead_gui.orbit import MAX_PITCH_DEG, OrbitController, radius_range


def assert_same_camera(a, b) -> None:
    torch.testing.assert_close(a.world_to_cam, b.world_to_cam, rtol=0, atol=1e-6)
    torch.testing.assert_close(a.K, b.K, rtol=0, atol=0)
    assert (a.width, a.height) == (b.width, b.height)


def test_starts_and_resets_at_the_canonical_camera() -> None:
    canon = canonical_view()
    size = canon.image_size
    orbit = OrbitController()
    assert_same_camera(orbit.camera(size), canon.camera())
    orbit.drag(120, -40)
    orbit.zoom(3)
    orbit.pan_by(30, 10, 512)
    orbit.reset()
    assert_same_camera(orbit.camera(size), canon.camera())
    assert orbit.pan == (0.0, 0.0) and orbit.radius == canon.orbit.radius


def test_non_square_viewport_keeps_vertical_fov() -> None:
    cam = OrbitController().camera(640, 480)
    assert (cam.width, cam.height) == (640, 480)
    f = 0.5 * 480 / math.tan(math.radians(canonical_view().orbit.fov_deg) / 2)
    assert cam.K[0, 0].item() == pytest.approx(f) and cam.K[1, 1].item() == pytest.approx(f)


def test_drag_right_shows_the_heads_right_side() -> None:
    # The subject's right ear is at world -x (the face looks along +z, +y up).
    orbit = OrbitController()
    right_ear = torch.tensor([[-0.08, 0.0, 0.0]])
    left_ear = torch.tensor([[0.08, 0.0, 0.0]])
    orbit.drag(225, 0)  # 90 degrees
    assert orbit.yaw == pytest.approx(-90.0)
    cam = orbit.camera(256)
    depth = lambda p: (p @ cam.world_to_cam[:3, :3].T + cam.world_to_cam[:3, 3])[0, 2].item()
    assert depth(right_ear) < depth(left_ear)  # the right ear now faces the camera
    # consistent: dragging further right keeps turning the same way
    orbit.drag(10, 0)
    assert orbit.yaw < -90.0


def test_drag_down_looks_from_above_and_pitch_clamps() -> None:
    orbit = OrbitController()
    orbit.drag(0, 50)
    assert orbit.pitch == pytest.approx(20.0)
    assert orbit.camera(64).position[1].item() > 0.2  # camera above the head
    orbit.drag(0, 10_000)
    assert orbit.pitch == MAX_PITCH_DEG
    orbit.drag(0, -10_000)
    assert orbit.pitch == -MAX_PITCH_DEG


def test_yaw_wraps() -> None:
    orbit = OrbitController()
    orbit.drag(-500, 0)  # +200 degrees
    assert orbit.yaw == pytest.approx(-160.0)
    for _ in range(10):
        orbit.drag(-1000, 0)
        assert -180.0 < orbit.yaw <= 180.0
    orbit.reset()
    orbit.advance_turntable(12.0)  # 360 degrees at 30 deg/s
    assert orbit.yaw == pytest.approx(0.0, abs=1e-9)


def test_turntable_advances_at_the_given_speed() -> None:
    orbit = OrbitController()
    orbit.advance_turntable(0.5)
    assert orbit.yaw == pytest.approx(15.0)
    orbit.advance_turntable(1.0, deg_per_s=-45.0)
    assert orbit.yaw == pytest.approx(-30.0)
    before = orbit.camera(32).position
    assert before.norm().item() == pytest.approx(orbit.radius, abs=0.03)


def test_zoom_is_multiplicative_and_clamped() -> None:
    orbit = OrbitController()
    r0 = orbit.radius
    orbit.zoom(1)
    r1 = orbit.radius
    orbit.zoom(1)
    assert r1 < r0 and orbit.radius / r1 == pytest.approx(r1 / r0)
    orbit.zoom(-2)
    assert orbit.radius == pytest.approx(r0)
    lo, hi = radius_range()
    orbit.zoom(1e9)
    assert orbit.radius == lo
    orbit.zoom(-1e9)
    assert orbit.radius == hi
    orbit.zoom(float("nan"))
    assert orbit.radius == hi


def test_pan_moves_the_point_under_the_cursor_with_the_cursor() -> None:
    orbit = OrbitController()
    orbit.drag(60, 20)
    size = 400
    target = torch.tensor([canonical_view().orbit.target])
    before = project_points(target, orbit.camera(size))[0]
    orbit.pan_by(37.0, -21.0, size)
    after = project_points(target, orbit.camera(size))[0]
    torch.testing.assert_close(after - before, torch.tensor([37.0, -21.0]), rtol=0, atol=0.05)


def test_pan_stays_in_screen_space_while_orbiting() -> None:
    orbit = OrbitController()
    orbit.pan_by(50.0, 0.0, 256)
    target = torch.tensor([canonical_view().orbit.target])
    for _ in range(4):
        orbit.drag(80, 0)
        u, v = project_points(target, orbit.camera(256))[0].tolist()
        assert u == pytest.approx(128 + 50.0, abs=0.05) and v == pytest.approx(128, abs=0.05)


def test_dict_round_trip_through_json() -> None:
    orbit = OrbitController()
    orbit.drag(33, -12)
    orbit.zoom(2.5)
    orbit.pan_by(7, 9, 300)
    back = OrbitController.from_dict(json.loads(json.dumps(orbit.to_dict())))
    assert back == orbit
    assert_same_camera(back.camera(128), orbit.camera(128))


def test_from_dict_fills_missing_keys_with_canonical_and_clamps() -> None:
    assert OrbitController.from_dict({}) == OrbitController()
    o = OrbitController.from_dict({"pitch_deg": 300, "radius": 0.0, "yaw_deg": 540, "future_key": "x"})
    assert o.pitch == MAX_PITCH_DEG and o.radius == radius_range()[0] and o.yaw == pytest.approx(180.0)


@pytest.mark.parametrize("bad", [
    [1, 2], "camera", None,
    {"yaw_deg": "10"}, {"yaw_deg": True}, {"pitch_deg": None}, {"radius": float("nan")},
    {"radius": float("inf")}, {"pan": [0.0]}, {"pan": "00"}, {"pan": [0.0, float("-inf")]},
    {"pan": [0.0, [1]]}, {"yaw_deg": {"a": 1}},
])
def test_from_dict_rejects_wrong_types_and_non_finite(bad) -> None:
    with pytest.raises(PercheadError) as info:
        OrbitController.from_dict(bad)
    assert "\n" not in str(info.value)
