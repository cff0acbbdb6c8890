"""Pixel-aligned colour for the base model (issue 25): each Gaussian also reads the input image where its centre
projects into the input view.

The decoder sees the photo only through 16 px patch tokens, so what the photo shows (the eyes' colour, the skin's
texture, a strand's edge) reaches each Gaussian as a patch average. Here, after the decoder has placed the
Gaussians, each one samples a small convolutional feature map of the input image (and the image itself) at its
centre's projection, and a per-Gaussian MLP turns that, with a visibility cue, into a change of its colour and
opacity. Visibility is the depth order: the input view is cut into cells, the nearest fairly opaque Gaussian of
each cell sets the cell's depth, and a Gaussian learns to trust what it reads when it lies near that depth and to
leave its colour to the decoder when it lies behind (the back of the head reads the face's pixels otherwise).
The last layer starts at zero, so a base model without this part loads and decodes as before.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.cameras import Camera, project
from models.gaussians import SH_C0
from models.networks.config import NetConfig

OCCLUSION_CELLS = 64     # cells across the input view for the depth order
OCCLUDER_OPACITY = 0.3   # Gaussians at least this opaque set a cell's depth
DEPTH_UNIT = 0.02        # m: depths enter the MLP in these units (about an eye's width)
FAR = 1.0e3              # m: the depth of an empty cell
MAX_BEHIND = 10.0        # ... and "behind the front surface" saturates here (20 cm: the whole head)
_INPUTS = 3 + 1 + 1 + 1 + 1 + 3  # image RGB, alpha, behind, depth, in view, decoded colour (besides features)


class PixelAligned(nn.Module):
    """(image [B, 3, H, W], alpha [B, H, W], decoded heads) -> the heads with colour and opacity refined."""

    def __init__(self, cfg: NetConfig, camera: Camera) -> None:
        super().__init__()
        c = cfg.pixel_dim
        self.features = nn.Sequential(
            nn.Conv2d(4, 32, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.GELU(),
            nn.Conv2d(32, c, 3, padding=1))
        self.mlp = nn.Sequential(nn.Linear(c + _INPUTS, cfg.pixel_hidden), nn.GELU(),
                                 nn.Linear(cfg.pixel_hidden, cfg.pixel_hidden), nn.GELU(),
                                 nn.Linear(cfg.pixel_hidden, 4))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        # the canonical input view: what reconstruct() is given (a training batch may pass its own view 0)
        self.register_buffer("world_to_cam", camera.world_to_cam.clone(), persistent=False)  # [4, 4]
        self.register_buffer("K", camera.K.clone(), persistent=False)                        # [3, 3]
        self.size = camera.width

    def forward(self, image: Tensor, alpha: Tensor, heads, world_to_cam: Tensor | None = None,
                K: Tensor | None = None):
        """heads: PredictedHeads [B, N]; world_to_cam [B, 4, 4] and K [B, 3, 3]: the input view of each image
        (default: the canonical one). Returns PredictedHeads with sh_dc and opacity_logits changed."""
        b = image.shape[0]
        w2c = (self.world_to_cam.expand(b, -1, -1) if world_to_cam is None else world_to_cam).float()
        k = (self.K.expand(b, -1, -1) if K is None else K).float()
        rgba = torch.cat([image, alpha[:, None]], 1).float()                   # [B, 4, H, W]
        feat = self.features(rgba)
        # float32 even under bf16 autocast: bf16 depths step by ~8 mm and pixels by ~1 px, as coarse as the cue
        with torch.autocast(device_type=image.device.type, enabled=False):
            pix, z = project(heads.means.float(), w2c, k, min_depth=1e-4)         # [B, N, 2] px, [B, N]
            z = z.clamp_min(1e-4)
            grid = (2 * pix / self.size - 1)[:, :, None, :]                        # [B, N, 1, 2]
            sampled = torch.cat([F.grid_sample(feat.float(), grid, align_corners=False),
                                 F.grid_sample(rgba, grid, align_corners=False)], 1)[..., 0].transpose(1, 2)
            behind, in_view = self._depth_order(pix.detach(), z.detach(), heads.opacity_logits.detach().float())
            depth = (z - z.mean(1, keepdim=True)) / DEPTH_UNIT
        colour = heads.sh_dc.float() * SH_C0 + 0.5                               # the decoder's own colour
        x = torch.cat([sampled, behind[..., None], depth[..., None], in_view[..., None], colour], -1)
        out = self.mlp(x).float()
        return type(heads)(heads.means, heads.quats, heads.log_scales,
                           heads.opacity_logits + out[..., 3], heads.sh_dc + out[..., :3], heads.class_logits)

    def _depth_order(self, pix: Tensor, z: Tensor, opacity_logits: Tensor) -> tuple[Tensor, Tensor]:
        """How far each Gaussian lies behind the nearest fairly opaque one of its cell (in DEPTH_UNIT, capped),
        and whether it projects inside the view (1 / 0). pix [B, N, 2], z [B, N]."""
        b, n = z.shape
        g = OCCLUSION_CELLS
        cell = (pix / self.size * g).floor().long()                             # [B, N, 2]
        in_view = ((cell >= 0) & (cell < g)).all(-1)
        index = cell[..., 1].clamp(0, g - 1) * g + cell[..., 0].clamp(0, g - 1)  # [B, N]
        occluder = in_view & (torch.sigmoid(opacity_logits) >= OCCLUDER_OPACITY)
        far = FAR  # a constant, not z.max(): reading a value back would stall the GPU every step
        front = torch.full((b, g * g), far, device=z.device, dtype=z.dtype)
        front = front.scatter_reduce(1, index, torch.where(occluder, z, far), "amin")
        behind = ((z - front.gather(1, index)) / DEPTH_UNIT).clamp(0.0, MAX_BEHIND)
        return torch.where(in_view, behind, torch.full_like(behind, MAX_BEHIND)), in_view.to(z.dtype)
