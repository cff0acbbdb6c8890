"""The input image's own colours on the Gaussians its view sees (after the base model decodes a head).

The base model sees its input through 16 px patch tokens, so a photo's skin tone, eyes and smile come back as
averages (docs/quality.md, seventeenth session). Two ways to give the Gaussians the input view's colours; what the
view does not see keeps the decoder's colour in both:
- ``fitted_colour`` (the product's): a few steps solve for the colours whose render reproduces the image;
- ``seen_colour`` (the first, and ``HeadPipeline(colour_fit_steps=0)``): each seen Gaussian takes the image's
  colour where its centre projects. Seen means: inside the image and the head's own rendered silhouette there, and
  no more than about ``SEEN_DEPTH_M`` behind the head's rendered depth at that pixel (weight
  exp(-(behind / SEEN_DEPTH_M)^2)), times the image's alpha there.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from models.cameras import Camera, project
from models.gaussians import SH_C0, Gaussians
from models.palette import palette
from models.render import render_views

SEEN_DEPTH_M = 0.005  # m: how far behind the rendered surface a Gaussian still counts as seen
SILHOUETTE = 0.5      # rendered alpha from which a pixel is the head's
# the small parts keep the decoder's colour: their Gaussians are few and large, and one that lands a few pixels off
# the photo's eye or lip takes the skin's colour, so the face loses its features (Biden's eyes and lips, measured)
KEEP_DECODED = ("eyes", "eyebrows", "upper_lip", "lower_lip", "mouth")
FIT_STEPS = 4          # fitted_colour's steps in the product (~0.9 s on a 2-core CPU at 256 px)
FIT_PRIOR_PX = 2.0     # fitted_colour's pull to the decoder's colour, in pixels of footprint (the product's)


def kept_decoded(head: Gaussians) -> Tensor:
    """[N] bool: the Gaussians of the small parts that keep the decoder's colour (KEEP_DECODED)."""
    ids = torch.tensor([palette().id_of(n) for n in KEEP_DECODED], device=head.labels.device)
    return torch.isin(head.labels, ids)


def seen_weights(head: Gaussians, camera: Camera, alpha: Tensor) -> tuple[Tensor, Tensor]:
    """How much each Gaussian is seen by ``camera`` [N] (0..1, times the image's alpha [H, W] at its pixel), and
    the sampling grid of its centre [1, N, 1, 2] (grid_sample's -1..1)."""
    pix, z = project(head.means, camera.world_to_cam.to(head.means), camera.K.to(head.means), min_depth=1e-4)
    size = torch.tensor([camera.width, camera.height], dtype=pix.dtype, device=pix.device)
    grid = (2 * pix / size - 1)[None, :, None, :]
    own = render_views(head, [camera], classes=False)
    # depth times alpha and alpha, so a bilinear sample at the outline is the depth there, not pulled towards the
    # empty pixels' 0
    maps = torch.stack([own.depth[0] * own.alpha[0], own.alpha[0], alpha.to(own.alpha)])[None]  # [1, 3, H, W]
    depth_alpha, silhouette, image_alpha = F.grid_sample(maps, grid.to(maps), align_corners=False)[0, :, :, 0]
    depth = depth_alpha / silhouette.clamp_min(1e-6)
    inside = ((pix >= 0) & (pix < size)).all(-1) & (silhouette > SILHOUETTE) & (z > 0)
    behind = ((z - depth) / SEEN_DEPTH_M).clamp(min=0)
    return inside.to(z) * image_alpha * torch.exp(-behind.square()), grid


def seen_colour(head: Gaussians, image: Tensor, alpha: Tensor, camera: Camera) -> Gaussians:
    """``head`` with the image's colours on what ``camera`` sees of it: image [3, H, W] 0..1 times its alpha [H, W]
    (as the base model reads it), at ``camera``'s size. Places, shapes, opacities and classes stay; view-dependent colour
    (SH above degree 0) stays too."""
    if len(head) == 0:
        return head
    w, grid = seen_weights(head, camera, alpha)
    keep = kept_decoded(head)
    w = torch.where(keep, torch.zeros_like(w), w)
    # colour times alpha, then divided by the sampled alpha: the transparent pixels do not darken the edge
    rgba = torch.cat([image, alpha[None]]).to(head.means)[None]                                 # [1, 4, H, W]
    sampled = F.grid_sample(rgba, grid, align_corners=False)[0, :, :, 0].T                       # [N, 4]
    photo = sampled[:, :3] / sampled[:, 3:].clamp_min(1e-6)
    sh = head.sh.clone()
    decoded = sh[:, 0] * SH_C0 + 0.5
    sh[:, 0] = (decoded + w[:, None] * (photo - decoded) - 0.5) / SH_C0
    return Gaussians(head.means, head.quats, head.log_scales, head.opacity_logits, sh, head.labels)


def fitted_colour(head: Gaussians, image: Tensor, alpha: Tensor, camera: Camera, steps: int = FIT_STEPS,
                  prior_px: float = FIT_PRIOR_PX, visibility_prior: float = 0.5) -> Gaussians:
    """``head`` with colours fitted to the image in ``camera``'s view: the render is linear in the Gaussians' colours
    (pixel = sum of each Gaussian's blend weight times its colour), so a few row-sum-preconditioned gradient steps
    (SART, as in tomography) solve for the colours that reproduce the photo inside its person mask, each Gaussian
    moved by the blend-weighted mean of its pixels' residuals; a Gaussian the view does not see has no weight and
    keeps the decoder's colour, and eyes, brows, lips and mouth keep theirs (KEEP_DECODED). ``prior_px``: the pull to
    the decoder's colour, in pixels of blend weight (a ridge term): a Gaussian that shows through on fewer pixels than
    that moves little; ``visibility_prior``: the same pull in parts of the Gaussian's own footprint, so one seen through
    others (the back of the head behind a soft face) moves little however large. The product's step since the
    nineteenth session (HeadPipeline colour_fit_steps FIT_STEPS; docs/quality.md: on development portraits and the
    evaluation photos alike it beats seen_colour). image [3, H, W] 0..1 times its alpha
    [H, W] (as the base model reads it), at ``camera``'s size."""
    if len(head) == 0:
        return head
    # the steps take gradients, also where the caller decodes under inference mode (the bench does): tensors made
    # there cannot enter a graph, so the fit works on copies made outside it
    with torch.inference_mode(False), torch.enable_grad():
        head = Gaussians(*(t.clone() for t in (head.means, head.quats, head.log_scales, head.opacity_logits, head.sh,
                                               head.labels)))
        return _fit_colours(head, image.clone(), alpha.clone(), camera, steps, prior_px, visibility_prior)


def _fit_colours(head: Gaussians, image: Tensor, alpha: Tensor, camera: Camera, steps: int, prior_px: float,
                 visibility_prior: float) -> Gaussians:
    keep = kept_decoded(head)
    mask = alpha.to(head.means)
    photo = (image.to(head.means) / mask.clamp_min(1e-6)).permute(1, 2, 0)                       # [H, W, 3]
    colour = (head.sh[:, 0] * SH_C0 + 0.5).clamp(0, 1)
    # each Gaussian's own footprint in the view, as if nothing stood in front: opacity x 2 pi x its two widest axes
    # projected (pixels); a Gaussian seen through others has blend weights far below it and barely moves
    _, z = project(head.means, camera.world_to_cam.to(head.means), camera.K.to(head.means), min_depth=1e-4)
    widest = head.activated_scales().sort(-1, descending=True).values[:, :2].prod(-1)
    fx = camera.K[0, 0].to(head.means)
    footprint = head.activated_opacities() * 2 * math.pi * widest * (fx / z.clamp_min(1e-3)).square()
    rows = None
    for _ in range(steps):
        c = colour.clone().requires_grad_(True)
        sh = torch.cat([((c - 0.5) / SH_C0)[:, None], head.sh[:, 1:]], 1)
        out = render_views(Gaussians(head.means, head.quats, head.log_scales, head.opacity_logits, sh, head.labels),
                           [camera], classes=False)
        pred, cover = out.rgb[0], out.alpha[0].detach()
        residual = mask[..., None] * (pred - cover[..., None] * photo)
        if rows is None:  # each Gaussian's blend weight summed over the mask's pixels, times their coverage
            rows = torch.autograd.grad((mask * cover)[..., None].mul(pred).sum(), c, retain_graph=True)[0]
        grad = torch.autograd.grad((residual.detach() * pred).sum(), c)[0]  # each Gaussian's weighted residuals
        step = torch.where(keep[:, None], torch.zeros_like(grad),
                           grad / (rows + prior_px + visibility_prior * footprint[:, None]))
        colour = (colour - step).clamp(0, 1)
    sh = head.sh.clone()
    sh[:, 0] = (colour - 0.5) / SH_C0
    return Gaussians(head.means, head.quats, head.log_scales, head.opacity_logits, sh, head.labels)

