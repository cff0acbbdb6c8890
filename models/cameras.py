"""Pinhole cameras in the OpenCV convention, as gsplat expects them.

World frame: head at the origin, +y up, the face looking along +z. Camera frame: x right,
y down, z forward. ``orbit_camera`` places the camera on a sphere around a target:
yaw 0 is in front of the face; yaw +90 looks at the head's +x side (the subject's left ear),
so the face then sits on the image's left; pitch > 0 looks down from above.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import yaml
from torch import Tensor

from models.assets import ASSETS_DIR

MAX_PITCH_DEG = 89.0  # keep the look-at basis well defined (no gimbal flip at the poles)


@dataclass(frozen=True)
class Camera:
    """One view: world-to-camera extrinsics, intrinsics and image size."""

    world_to_cam: Tensor  # [4, 4] float32
    K: Tensor             # [3, 3] float32
    width: int
    height: int

    @property
    def position(self) -> Tensor:
        """Camera centre in world coordinates. [3]"""
        r = self.world_to_cam[:3, :3]
        t = self.world_to_cam[:3, 3]
        return -r.T @ t

    def to(self, device: torch.device | str) -> "Camera":
        return Camera(self.world_to_cam.to(device), self.K.to(device), self.width, self.height)

    def cropped(self, zoom: float, left: float, top: float) -> "Camera":
        """A window of this camera's size into the same view rendered at ``zoom`` times the resolution, its top-left
        corner ``left``, ``top`` px into that larger image (0..size * (zoom - 1)): as many pixels as this view, at
        ``zoom`` times the detail."""
        k = self.K.clone()
        k[:2] *= zoom
        k[0, 2] -= left
        k[1, 2] -= top
        return Camera(self.world_to_cam, k, self.width, self.height)

    def resized(self, width: int, height: int) -> "Camera":
        """Same view at another resolution (intrinsics scaled)."""
        k = self.K.clone()
        k[0] *= width / self.width
        k[1] *= height / self.height
        return Camera(self.world_to_cam, k, width, height)


@dataclass(frozen=True)
class OrbitParams:
    """Human-facing camera parameters (what the viewport and CLI flags set)."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    radius: float = 1.2
    fov_deg: float = 20.0
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)


def look_at(position: Tensor, target: Tensor, up: Tensor | None = None) -> Tensor:
    """World-to-camera [4, 4] for a camera at ``position`` looking at ``target`` (OpenCV axes)."""
    up = torch.tensor([0.0, 1.0, 0.0], dtype=position.dtype) if up is None else up
    forward = torch.nn.functional.normalize(target - position, dim=0)  # camera +z
    right = torch.nn.functional.normalize(torch.linalg.cross(forward, up), dim=0)  # camera +x
    down = torch.linalg.cross(forward, right)  # camera +y
    rot = torch.stack([right, down, forward])  # rows: camera axes in world coordinates
    w2c = torch.eye(4, dtype=position.dtype)
    w2c[:3, :3] = rot
    w2c[:3, 3] = -rot @ position
    return w2c


def intrinsics(fov_deg: float, width: int, height: int) -> Tensor:
    """Square-pixel K with a vertical field of view and the principal point at the centre. [3, 3]"""
    f = 0.5 * height / math.tan(math.radians(fov_deg) / 2)
    return torch.tensor([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]], dtype=torch.float32)


def orbit_position(yaw_deg: float, pitch_deg: float, radius: float, target: Tensor) -> Tensor:
    """Camera centre on the orbit sphere. [3]"""
    yaw = math.radians(yaw_deg)
    pitch = math.radians(max(-MAX_PITCH_DEG, min(MAX_PITCH_DEG, pitch_deg)))
    offset = torch.tensor([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])
    return target + radius * offset


def orbit_camera(params: OrbitParams, width: int, height: int | None = None) -> Camera:
    """A camera on the orbit sphere around ``params.target``."""
    height = width if height is None else height
    target = torch.tensor(params.target, dtype=torch.float32)
    pos = orbit_position(params.yaw_deg, params.pitch_deg, params.radius, target)
    return Camera(look_at(pos, target), intrinsics(params.fov_deg, width, height), width, height)


@dataclass(frozen=True)
class CanonicalView:
    """The fixed input view (assets/canonical_camera.yaml)."""

    orbit: OrbitParams
    image_size: int

    def camera(self, size: int | None = None) -> Camera:
        s = self.image_size if size is None else size
        return orbit_camera(self.orbit, s, s)

    def orbit_at(self, yaw_deg: float, pitch_deg: float = 0.0) -> OrbitParams:
        """The canonical framing seen from another yaw/pitch (same radius, fov and target)."""
        o = self.orbit
        return OrbitParams(yaw_deg, pitch_deg, o.radius, o.fov_deg, o.target)


@lru_cache(maxsize=1)
def canonical_view() -> CanonicalView:
    """Load the canonical input camera once from ``assets/``."""
    cfg = yaml.safe_load((ASSETS_DIR / "canonical_camera.yaml").read_text())
    orbit = OrbitParams(float(cfg["yaw_deg"]), float(cfg["pitch_deg"]), float(cfg["radius"]),
                        float(cfg["fov_deg"]), tuple(float(v) for v in cfg["target"]))
    return CanonicalView(orbit, int(cfg["image_size"]))


def project_points(points: Tensor, camera: Camera) -> Tensor:
    """Pixel coordinates (x right, y down; pixel centres at +0.5) of world points [N, 3] -> [N, 2]."""
    return project(points, camera.world_to_cam, camera.K)[0]


def project(points: Tensor, world_to_cam: Tensor, K: Tensor, min_depth: float = 0.0) -> tuple[Tensor, Tensor]:
    """World points [..., N, 3] through cameras world_to_cam [..., 4, 4], K [..., 3, 3] (leading axes broadcast) ->
    pixel coordinates [..., N, 2] and camera depth z [..., N]. ``min_depth`` > 0 clamps the divisor (a point behind
    the camera then projects somewhere finite); the returned z is not clamped, so it says the point is behind."""
    cam = points @ world_to_cam[..., :3, :3].transpose(-1, -2) + world_to_cam[..., None, :3, 3]
    z = cam[..., 2]
    divisor = z.clamp_min(min_depth) if min_depth > 0 else z
    return (cam @ K.transpose(-1, -2))[..., :2] / divisor[..., None], z
