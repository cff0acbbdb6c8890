"""The head template: points where Gaussians start, grouped into equal-size 3D patches.

PercHead starts from an upsampled FLAME mesh; we have no FLAME, so the template is sampled from
the procedural engine's heads (a pool of many heads, so hair volumes are covered, not only a
bald skull). Points are thinned on a voxel grid to an even density, ordered along a Morton
(Z-order) curve and cut into consecutive groups: each group is one 3D token's patch, compact in
space and of one size, so the Gaussian head is a plain reshape.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save
from torch import Tensor

from models.errors import PercheadError
from models.io.atomic import write_bytes_atomic
from models.io.checkpoints import load_tensors, read_header


@dataclass
class Template:
    points: Tensor          # [T * K, 3] ordered so points [t*K:(t+1)*K] form patch t
    base_log_scale: Tensor  # [T * K] log std of a Gaussian that tiles the surface at this density
    points_per_token: int
    # a shaped template: each point starts as the engine Gaussian it was taken from, turned as that one is
    # (unit quaternions w, x, y, z) and stretched as it is (log-scale per axis about base_log_scale, mean 0), so
    # hair points start as strands; None: round Gaussians, unturned (every template before the shaped v2)
    base_quats: Tensor | None = None        # [T * K, 4]
    shape_log_scales: Tensor | None = None  # [T * K, 3]

    @property
    def shaped(self) -> bool:
        return self.base_quats is not None

    def rounded(self) -> "Template":
        """The same points without their shapes (round Gaussians, unturned)."""
        return Template(self.points, self.base_log_scale, self.points_per_token)

    @property
    def num_tokens(self) -> int:
        return self.points.shape[0] // self.points_per_token

    def centres(self) -> Tensor:
        """Patch centres [T, 3]."""
        return self.points.view(self.num_tokens, self.points_per_token, 3).mean(1)


def morton_order(points: Tensor, bits: int = 10) -> Tensor:
    """Indices sorting points [N, 3] along a Z-order curve (spatially coherent runs)."""
    lo, hi = points.min(0).values, points.max(0).values
    q = ((points - lo) / (hi - lo).clamp_min(1e-9) * (2**bits - 1)).long()  # [N, 3]
    code = torch.zeros(points.shape[0], dtype=torch.long)
    for b in range(bits):
        for axis in range(3):
            code |= ((q[:, axis] >> b) & 1) << (3 * b + axis)
    return torch.argsort(code)


TEMPLATE_STREAM = 7_777  # the training stream templates pool their heads from, used for nothing else
POOL_OPACITY = 0.2       # engine Gaussians fainter than this do not join the pool


def engine_pool(heads: int, chunk: int = 16) -> tuple[Tensor, Tensor]:
    """The visible Gaussians of ``heads`` engine heads of TEMPLATE_STREAM, pooled: positions [M, 3] and shapes [M, 7]
    (quaternion, log-scales), on the CPU, for ``build_template``."""
    from models.synthetic.attributes import sample_attributes
    from models.synthetic.head import build_heads
    from models.synthetic.sampler import training_seed

    clouds, shapes = [], []
    for start in range(0, heads, chunk):
        seeds = [training_seed(TEMPLATE_STREAM, i) for i in range(start, min(heads, start + chunk))]
        for g in build_heads([sample_attributes(s) for s in seeds], "cpu"):
            keep = g.activated_opacities() > POOL_OPACITY
            clouds.append(g.means[keep])
            shapes.append(torch.cat([g.quats[keep], g.log_scales[keep]], 1))
    return torch.cat(clouds), torch.cat(shapes)


def build_template(cloud: Tensor, num_tokens: int, points_per_token: int, seed: int = 0,
                   coverage_share: float = 0.3, shapes: Tensor | None = None) -> Template:
    """Pick num_tokens * points_per_token points from a pooled cloud [M, 3].

    Most points are a plain random subset, which keeps the pool's density: surfaces every head
    shares (the face, drawn densely by the engine) get many points. ``coverage_share`` of them
    come from voxel thinning instead, so rare volumes (an afro, a ponytail) are covered too.
    Each point's base scale is half the mean distance to its 3 nearest neighbours. ``shapes`` [M, 7]: the pooled
    Gaussians' quaternions (4) and log-scales (3); given, each point keeps its own Gaussian's turn and stretch
    (a shaped template; its size stays the base scale).
    """
    target = num_tokens * points_per_token
    if cloud.shape[0] < target:
        raise ValueError(f"cloud has {cloud.shape[0]} points, need at least {target}")
    if shapes is not None and shapes.shape != (cloud.shape[0], 7):
        raise ValueError(f"shapes must be [M, 7] for a cloud of {cloud.shape[0]} points, got {tuple(shapes.shape)}")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(cloud.shape[0], generator=gen)
    n_cover = int(target * coverage_share)
    cover = _voxel_thin(cloud[order], n_cover, gen)
    chosen = torch.cat([order[: target - n_cover], order[cover]])  # rows of the cloud
    chosen = chosen[morton_order(cloud[chosen])]
    points = cloud[chosen].contiguous()
    base = torch.log(0.5 * _knn_mean_distance(points, 3).clamp(1e-4, 0.02))
    if shapes is None:
        return Template(points, base, points_per_token)
    quats = torch.nn.functional.normalize(shapes[chosen, :4].float(), dim=-1)
    stretch = shapes[chosen, 4:].float()
    return Template(points, base, points_per_token, quats.contiguous(),
                    (stretch - stretch.mean(-1, keepdim=True)).contiguous())


def _voxel_thin(cloud: Tensor, count: int, gen: torch.Generator) -> Tensor:
    """Indices of about ``count`` points spread evenly over the cloud's volume (one per occupied voxel)."""
    if count == 0:
        return torch.zeros(0, dtype=torch.long)
    extent = (cloud.max(0).values - cloud.min(0).values).prod().item()
    voxel = (extent / count) ** (1 / 3)
    for _ in range(60):
        keys = torch.unique(torch.floor(cloud / voxel).long(), dim=0, return_inverse=True)[1]
        occupied = int(keys.max()) + 1
        if occupied >= count:
            break
        voxel *= 0.93
    first = torch.full((occupied,), cloud.shape[0], dtype=torch.long)
    first.scatter_reduce_(0, keys, torch.arange(cloud.shape[0]), reduce="amin")
    return first[torch.randperm(occupied, generator=gen)[:count]]


def _knn_mean_distance(points: Tensor, k: int, chunk: int = 2048) -> Tensor:
    """Mean distance of each point [N, 3] to its k nearest other points. [N]"""
    out = []
    for i in range(0, points.shape[0], chunk):
        d = torch.cdist(points[i : i + chunk], points)  # [c, N]
        out.append(d.topk(k + 1, largest=False).values[:, 1:].mean(1))
    return torch.cat(out)


def save_template(path: str | Path, template: Template) -> None:
    """Atomic, like every write (models/io/atomic.py)."""
    tensors = {"points": template.points, "base_log_scale": template.base_log_scale}
    if template.shaped:
        tensors["base_quats"] = template.base_quats
        tensors["shape_log_scales"] = template.shape_log_scales
    # a shaped template (11 numbers a point, 51,200 points) is stored in fp16, as checkpoints store it (0.1 mm at a
    # head's size): every GPU call carries the tree; round templates stay float32 as they were built. Both load as
    # float32.
    dtype = torch.float16 if template.shaped else torch.float32
    tensors = {k: v.to(dtype).contiguous() for k, v in tensors.items()}
    data = save(tensors, metadata={"points_per_token": str(template.points_per_token), "format": "perchead-template-v1"})
    write_bytes_atomic(path, data)


def load_template(path: str | Path) -> Template:
    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"template {p} is missing; rebuild it with scripts/build_template.py")
    name = f"template {p}"
    meta, _ = read_header(p, name)  # refuses pickles, devices and cut files (models/io/checkpoints.py)
    t = load_tensors(p, name)
    try:
        t = {k: v.float() for k, v in t.items()}
        return Template(t["points"], t["base_log_scale"], int(meta["points_per_token"]), t.get("base_quats"),
                        t.get("shape_log_scales"))
    except (KeyError, ValueError) as e:
        raise PercheadError(f"{name} lacks its points or points_per_token ({e}); rebuild it with "
                            "scripts/build_template.py") from e
