"""Viewport camera maths: orbit, zoom, pan, turntable, reset, as plain numbers the app stores.

The camera is built by ``models.cameras.orbit_camera`` so the viewport uses exactly the
renderer's conventions; the reset view is the canonical input view (assets/). Mouse gestures
follow "grab the head": dragging right turns the head so that its right side comes into
view (the camera's yaw decreases), dragging down shows the top of the head.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from models.cameras import Camera, OrbitParams, canonical_view, orbit_camera
from models.errors import PercheadError

DEG_PER_PX = 0.4          # orbit speed: a 450 px drag turns the head half way round
MAX_PITCH_DEG = 85.0      # short of the poles, where the look-at basis would spin
ZOOM_PER_STEP = 0.9       # one wheel notch moves the camera 10% closer
MIN_RADIUS_SCALE = 0.35   # zoom range as a multiple of the canonical radius: never inside the head,
MAX_RADIUS_SCALE = 5.0    # never so far that the head is a few pixels


@dataclass(init=False)
class OrbitController:
    """Yaw/pitch/radius around the canonical target, plus a pan in the camera plane.

    A new controller starts at the canonical view; gestures change the fields below.
    """

    yaw: float = 0.0                        # degrees, wrapped to (-180, 180]
    pitch: float = 0.0                      # degrees, clamped to [-85, 85]; > 0 looks from above
    radius: float = 1.2                     # world units from the (panned) target
    pan: tuple[float, float] = (0.0, 0.0)   # world units along the camera's x (right) and y (down)

    def __init__(self) -> None:
        self.reset()

    # ----- gestures --------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the canonical input view (double-click)."""
        o = canonical_view().orbit
        self.yaw = _wrap_deg(o.yaw_deg)
        self.pitch = _clamp(o.pitch_deg, -MAX_PITCH_DEG, MAX_PITCH_DEG)
        self.radius = o.radius
        self.pan = (0.0, 0.0)

    def drag(self, dx_px: float, dy_px: float) -> None:
        """Orbit by a mouse drag in pixels (x right, y down)."""
        if not (math.isfinite(dx_px) and math.isfinite(dy_px)):
            return
        self.yaw = _wrap_deg(self.yaw - DEG_PER_PX * dx_px)
        self.pitch = _clamp(self.pitch + DEG_PER_PX * dy_px, -MAX_PITCH_DEG, MAX_PITCH_DEG)

    def zoom(self, wheel_steps: float) -> None:
        """Wheel notches: positive moves closer, by a constant factor per notch."""
        if not math.isfinite(wheel_steps):
            return
        lo, hi = radius_range()
        # log-space clamp first, so a huge step count never overflows the power
        exponent = _clamp(wheel_steps, -1e3, 1e3)
        self.radius = _clamp(self.radius * ZOOM_PER_STEP ** exponent, lo, hi)

    def pan_by(self, dx_px: float, dy_px: float, viewport_px: int) -> None:
        """Move the view so the point under the cursor (at the target's depth) follows it.

        ``viewport_px`` is the viewport height, which the vertical field of view spans.
        """
        if not (math.isfinite(dx_px) and math.isfinite(dy_px)) or viewport_px <= 0:
            return
        world_per_px = 2.0 * self.radius * math.tan(math.radians(self.fov_deg) / 2.0) / viewport_px
        # content moves with the cursor, so the look-at target moves the other way
        limit = self.radius * MAX_RADIUS_SCALE
        px, py = self.pan
        self.pan = (_clamp(px - dx_px * world_per_px, -limit, limit),
                    _clamp(py - dy_px * world_per_px, -limit, limit))

    def advance_turntable(self, dt_s: float, deg_per_s: float = 30.0) -> None:
        """Auto-rotate: the camera circles the head at ``deg_per_s`` (positive yaw direction)."""
        if math.isfinite(dt_s) and math.isfinite(deg_per_s):
            self.yaw = _wrap_deg(self.yaw + deg_per_s * dt_s)

    # ----- camera ----------------------------------------------------------------------------

    @property
    def fov_deg(self) -> float:
        return canonical_view().orbit.fov_deg

    def orbit_params(self) -> OrbitParams:
        """The orbit as the renderer's parameters, the pan folded into the look-at target."""
        o = canonical_view().orbit
        target = o.target
        if self.pan != (0.0, 0.0):
            axes = orbit_camera(OrbitParams(self.yaw, self.pitch, self.radius, o.fov_deg, o.target), 1, 1)
            rot = axes.world_to_cam[:3, :3].double()  # rows: camera x, y, z in world coordinates
            shift = self.pan[0] * rot[0] + self.pan[1] * rot[1]
            target = tuple(float(t) for t in torch.tensor(o.target, dtype=torch.float64) + shift)
        return OrbitParams(self.yaw, self.pitch, self.radius, o.fov_deg, target)

    def camera(self, width: int, height: int | None = None) -> Camera:
        """The viewport camera at this size (vertical field of view as in the canonical view)."""
        return orbit_camera(self.orbit_params(), width, height)

    # ----- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Plain JSON numbers (project files, autosave)."""
        return {"yaw_deg": self.yaw, "pitch_deg": self.pitch, "radius": self.radius,
                "pan": [self.pan[0], self.pan[1]]}

    @classmethod
    def from_dict(cls, d: dict) -> "OrbitController":
        """Rebuild from ``to_dict`` output. Missing keys keep the canonical value, unknown keys
        are ignored, values out of range are clamped; wrong types or non-finite numbers fail."""
        if not isinstance(d, dict):
            raise PercheadError(f"camera settings must be a JSON object, got {type(d).__name__}; "
                                "the project file is damaged")
        orbit = cls()
        if "yaw_deg" in d:
            orbit.yaw = _wrap_deg(_number(d["yaw_deg"], "yaw_deg"))
        if "pitch_deg" in d:
            orbit.pitch = _clamp(_number(d["pitch_deg"], "pitch_deg"), -MAX_PITCH_DEG, MAX_PITCH_DEG)
        if "radius" in d:
            lo, hi = radius_range()
            orbit.radius = _clamp(_number(d["radius"], "radius"), lo, hi)
        if "pan" in d:
            pan = d["pan"]
            if not isinstance(pan, (list, tuple)) or len(pan) != 2:
                raise PercheadError("camera 'pan' must be a list of two numbers; the project file is damaged")
            limit = orbit.radius * MAX_RADIUS_SCALE
            orbit.pan = (_clamp(_number(pan[0], "pan"), -limit, limit), _clamp(_number(pan[1], "pan"), -limit, limit))
        return orbit


def radius_range() -> tuple[float, float]:
    """(closest, farthest) camera distance allowed, in world units."""
    r = canonical_view().orbit.radius
    return r * MIN_RADIUS_SCALE, r * MAX_RADIUS_SCALE


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PercheadError(f"camera {key!r} must be a number, got {type(value).__name__}; "
                            "the project file is damaged")
    out = float(value)
    if not math.isfinite(out):
        raise PercheadError(f"camera {key!r} is {value!r}, not a finite number; the project file is damaged")
    return out


def _wrap_deg(deg: float) -> float:
    """Angle in (-180, 180]."""
    out = math.fmod(deg, 360.0)
    if out <= -180.0:
        out += 360.0
    elif out > 180.0:
        out -= 360.0
    return out


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(float(value), lo), hi)
