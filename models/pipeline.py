"""The app's heads, stage by stage: load -> style -> decode -> fit -> prune.

The one place that finds checkpoints (``checkpoints/`` or a folder the user gives), loads them once, turns
user inputs into network inputs, and hands decoded heads to the fit (models/fitting/) and the prune. The CLI
and the app's engine both use it.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from models.cameras import canonical_view
from models.device import is_accelerator, resolve_device
from models.errors import PercheadError
from models.fitting import FramingMode, MapFitter, PaintedFit, SilhouetteMode, fit_silhouette
from models.fitting.photo_colour import FIT_PRIOR_PX, FIT_STEPS, fitted_colour, seen_colour
from models.gaussians import PRUNE_OPACITY, TRANSPARENT_LOGIT, Gaussians  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
EAGER_DECODE_ENV = "PERCHEAD_EAGER_DECODE"
# on a CPU a head keeps at most this many Gaussians, its strongest (Gaussians.strongest): the 51,200-point edit model
# shows ~28,000 above the faint threshold, and every frame and an orbit cost in proportion; the 16,384
# strongest render a 512 px view within about a quarter of an 8-bit level (RMS) of all of them (docs/quality.md,
# nineteenth session)
CPU_GAUSSIANS = 16_384
# The style used until the artist sets one (the app) or a map comes without a prompt (``perchead eval --maps``):
# plain, common attributes the style model knows well.
DEFAULT_STYLE_PROMPT = "dark brown hair, brown eyes, medium skin, grey t-shirt"


@dataclass(frozen=True)
class CheckpointSet:
    folder: Path

    @property
    def base(self) -> Path:
        return self.folder / "base.safetensors"

    @property
    def edit(self) -> Path:
        return self.folder / "edit.safetensors"

    @property
    def style(self) -> Path:
        return self.folder / "style.safetensors"


class HeadPipeline:
    """Loads networks lazily (the first edit does not pay for the base model) and keeps them."""

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str = "auto",
                 dino_dir: str | Path | None = None, framing: FramingMode = "auto",
                 silhouette: SilhouetteMode = "fit", photo_colour: bool = True, colour_fit_steps: int = FIT_STEPS,
                 colour_fit_prior_px: float = FIT_PRIOR_PX) -> None:
        folder = Path(checkpoint_dir) if checkpoint_dir else CHECKPOINT_DIR
        if not folder.is_dir():
            raise PercheadError(f"checkpoint folder {folder} does not exist; pass --checkpoint DIR")
        self.files = CheckpointSet(folder)
        self.device = resolve_device(device)
        self._nets: dict[str, torch.nn.Module] = {}
        # CUDA graph + half precision for the edit net on CUDA GPUs (PERCHEAD_EAGER_DECODE=1: plain float32
        # eager decoding, the "before" of docs/performance.md)
        self.fast_decode = os.environ.get(EAGER_DECODE_ENV, "") in ("", "0")
        self._graphed = None
        self._style = None
        self._text = None
        self.dino_dir = dino_dir
        # framing "auto": a map framed unlike the engine's maps is decoded in their framing and the head moved back;
        # silhouette "fit": the head fitted to the painted outline and regions (models/fitting/)
        self.fit = MapFitter(framing, silhouette, remember=True)
        # the most Gaussians a head keeps once fitted (None: all; the GPU's, whose frames do not wait on the count)
        self.budget = None if is_accelerator(self.device) else CPU_GAUSSIANS
        # a reconstructed head takes its input image's own colours where the input view sees it
        # (models/fitting/photo_colour.py); False: the base model's colours alone
        self.photo_colour = photo_colour
        self.colour_fit_steps = colour_fit_steps  # > 0: colours fitted to the input view (fitted_colour); 0: seen_colour
        self.colour_fit_prior_px = colour_fit_prior_px
        # a photo's head fitted to the photo's parsed map as a painted map is ("fit": outline and regions; "off": as
        # the base model decodes it; experiments/photo_silhouette_fit.py)
        self.photo_fit: SilhouetteMode = "off"

    # ---- networks ---------------------------------------------------------------------------
    def net(self, kind: str):
        if kind not in self._nets:
            from models.networks.checkpoint import load_checkpoint

            path = getattr(self.files, kind)
            net, _ = load_checkpoint(path, self.device)
            if net.cfg.image_size != self.image_size:  # a valid network, but not for our canonical view
                raise PercheadError(f"checkpoint {path} reads {net.cfg.image_size} px inputs but the canonical view "
                                    f"is {self.image_size} px; restore the shipped checkpoints")
            if kind == "base" and net.cfg.dino_dim > 0 and self.dino_dir:
                from models.networks.dino_branch import DinoPatchFeatures

                net.attach_dino(DinoPatchFeatures.from_folder(self.dino_dir, net.cfg.grid).to(self.device))
            self._nets[kind] = net
        return self._nets[kind]

    def style_model(self):
        if self._style is None:
            from models.style.checkpoint import load_style_model

            self._style, _ = load_style_model(self.files.style, self.device)
        return self._style

    @property
    def image_size(self) -> int:
        return canonical_view().image_size

    # ---- style ------------------------------------------------------------------------------
    @torch.no_grad()
    def describe_style(self, style: Tensor) -> str:
        """The colours the style model reads from a style vector [1, D], in words (models/style/readout.py)."""
        from models.style.readout import describe_style

        return describe_style(self.style_model(), style)

    def unread_words(self, prompt: str) -> list[str]:
        """Words the prompt puts on the hair or eyes that the style model's dictionaries do not know
        (models/style/readout.py), for the line under the prompt."""
        from models.style.readout import unread_words

        return unread_words(prompt, self.style_model())

    @torch.no_grad()
    def style_from_text(self, prompt: str) -> Tensor:
        """A text prompt -> style vector [1, D]."""
        from models.style.text_backbone import clean_prompt, get_backbone

        text = clean_prompt(prompt)
        if not text:
            raise PercheadError("the prompt is empty; type a few words, e.g. 'long red hair, green eyes'")
        if self._text is None:
            self._text = get_backbone()
        text = self._text.fit(text)  # cut to the backbone's token limit (one warning), so both parts read the same words
        emb = self._text.embed(text).to(self.device)
        return self.style_model().encode_prompts([text], emb)  # embedding + colour-dictionary features

    @torch.no_grad()
    def style_from_image(self, rgba: np.ndarray) -> Tensor:
        """A reference image RGBA [H, W, 4] in 0..1 (models.style.image_input.read_style_image) -> style [1, D]."""
        from models.style.image_input import style_image_tensors

        img, alpha = style_image_tensors(rgba)
        return self.style_model().encode_images(img.to(self.device), alpha.to(self.device))

    # ---- decode -> fit -> prune --------------------------------------------------------------
    @torch.no_grad()
    def edit(self, labels: np.ndarray | Tensor, style: Tensor) -> Gaussians:
        """A seg map [S, S] of class ids at the model's input size + style [1, D] -> one head, fitted to the
        painted map as ``fit.silhouette`` says. ``edit_stages`` gives the same head in two steps."""
        return self._pruned(self._fitted(labels, style).followed())

    @torch.no_grad()
    def edit_stages(self, labels: np.ndarray | Tensor,
                    style: Tensor) -> tuple[Gaussians, Callable[[], Gaussians] | None]:
        """A seg map [S, S] of class ids at the model's input size + style [1, D] -> (the head fitted without
        region following, a function giving it with its regions moved onto the painted ones, or None where the
        silhouette mode has no region following). Why two steps: region following costs ~120 ms a stroke on a
        2-core CPU (~5 ms on a GPU), so the live editor shows the first head at once and the followed one when
        no newer stroke waits (perchead_gui.engine); ``edit`` runs both.
        """
        fitted = self._fitted(labels, style)
        first = self._pruned(fitted)
        if not fitted.follows:
            return first, None

        def follow() -> Gaussians:
            with torch.no_grad():
                return self._pruned(fitted.followed())

        return first, follow

    def _fitted(self, labels: np.ndarray | Tensor, style: Tensor) -> PaintedFit:
        """Decode one map [S, S] (checked on the host: no device sync) and fit it (models/fitting/). On a CUDA GPU
        the network runs as a captured CUDA graph in half precision (``fast_decode``)."""
        host = labels.detach().cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
        if not (host > 0).any():
            raise PercheadError("the seg map has no head: it is all background; paint skin, hair, eyes, ...")
        if (host > 0).all():  # a blank canvas: white and light colours read as skin everywhere
            raise PercheadError("the seg map has no background: no pixel is black (0,0,0), so it is a blank or "
                                "filled canvas, not a head; paint the background black or transparent")
        net = self.net("edit")
        if style.shape[-1] != net.cfg.style_dim:  # style and edit files from different trainings
            raise PercheadError(f"the style model gives {style.shape[-1]}-d styles but {self.files.edit} expects "
                                f"{net.cfg.style_dim}-d; use style.safetensors and edit.safetensors from one release")
        if host.shape != (net.cfg.image_size, net.cfg.image_size):
            raise PercheadError(f"seg map is {tuple(host.shape)}, the model needs {net.cfg.image_size}^2; "
                                "load it through models.io.segmap.load_segmap")
        graphed = self._graphed_edit(net)
        return self.fit.decode(graphed if graphed is not None else net, host[None], style, candidates=net,
                               graphed=is_accelerator(self.device))[0]

    def _pruned(self, fitted: PaintedFit) -> Gaussians:
        """The fitted head without faint Gaussians (hidden on a GPU, so that nothing waits for it; dropped on a
        CPU, which keeps its ``budget`` strongest). After the fit, not before: the fit moves the weak ones too, and
        without them it followed the painted regions less (drawn maps' front IoU -0.013 on 12 maps; after it,
        -0.0001)."""
        head = prune(fitted.head, hide=is_accelerator(self.device))
        return head if self.budget is None else head.strongest(self.budget)

    @torch.no_grad()
    def prepare_fast_decode(self) -> None:
        """Capture the CUDA graphs of a stroke now (a no-op off CUDA): the edit net's, the outline fill's and the
        registration's, by decoding and fitting a plausible map once. The engine calls it at start-up, before any
        head is on screen: a capture made while another thread renders could fail or disturb that render."""
        if not is_accelerator(self.device):
            return
        net = self.net("edit")
        size = net.cfg.image_size
        lab = np.zeros((size, size), dtype=np.int64)  # a plausible map: a head-sized square of skin
        lab[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
        try:
            self._fitted(lab, torch.zeros(1, net.cfg.style_dim, device=self.device)).followed()
        finally:
            self.fit.forget_framing()  # the warm-up map is no document

    def _graphed_edit(self, net):
        """The CUDA-graph form of the edit net, built on first use; None off CUDA or if capture fails."""
        if not self.fast_decode or not is_accelerator(self.device):
            return None
        if self._graphed is None:
            from models.networks.graphed import GraphedEditNet

            try:
                with torch.cuda.device(self.device):
                    self._graphed = GraphedEditNet(net)
            except Exception as e:  # an older driver or a capture error: the eager path still works
                log.warning("CUDA graph capture of the edit network failed (%s); decoding eagerly", e)
                net.encoder.trunk.fixed_shape = False
                self.fast_decode = False
                return None
        return self._graphed

    @torch.no_grad()
    def reconstruct(self, rgba: np.ndarray, painted: np.ndarray | None = None) -> Gaussians:
        """An image in the canonical framing, RGBA [H, W, 4] (alpha = foreground) -> one head; with photo_colour,
        what the input view sees of it takes the image's own colours. ``painted`` [S, S] class ids in the same
        framing (a photo's parsed map): the head is fitted to it as ``photo_fit`` says before its colours."""
        net = self.net("base")
        t = torch.from_numpy(np.ascontiguousarray(rgba)).float().permute(2, 0, 1)[None].to(self.device)
        size = net.cfg.image_size
        t = _fit_square(t, size)
        image, alpha = t[:, :3] * t[:, 3:], t[:, 3]
        if float(alpha.sum()) == 0:
            raise PercheadError("the image has no foreground (alpha is 0 everywhere)")
        head = prune(net(image.contiguous(), alpha).head(0))
        if painted is not None and self.photo_fit != "off":
            if painted.ndim != 2 or painted.shape[0] != painted.shape[1]:
                raise PercheadError(f"the painted map must be square [S, S] in the image's framing, not {painted.shape}")
            head = fit_silhouette(head, torch.as_tensor(painted.astype(np.int64), device=self.device), self.photo_fit)
        if self.budget is not None:
            head = head.strongest(self.budget)
        if self.photo_colour and self.colour_fit_steps > 0:
            head = fitted_colour(head, image[0], alpha[0], canonical_view().camera(size), self.colour_fit_steps,
                                 self.colour_fit_prior_px)
        elif self.photo_colour:
            head = seen_colour(head, image[0], alpha[0], canonical_view().camera(size))
        return head

    def photo_head(self, rgba: np.ndarray, size: int | None = None, name: str = "the photo"):
        """A photograph [H, W, 3|4] -> (head, PreparedPhoto): framed by ``prepare_photo`` at ``size`` px (default the
        canonical view's), then reconstructed. PercheadError for a photo without one clear face."""
        from models.photo import prepare_photo

        prepared = prepare_photo(rgba, size, name=name)
        if self.photo_fit == "off":
            return self.reconstruct(prepared.rgba_float()), prepared
        return self.reconstruct(prepared.rgba_float(), prepared.labels), prepared


def _fit_square(t: Tensor, size: int) -> Tensor:
    """Pad [1, C, H, W] to a square (transparent) and resize to size x size."""
    _, _, h, w = t.shape
    s = max(h, w)
    t = torch.nn.functional.pad(t, ((s - w) // 2, s - w - (s - w) // 2, (s - h) // 2, s - h - (s - h) // 2))
    if s != size:
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                                            antialias=s > size)
    return t


def prune(g: Gaussians, hide: bool = False) -> Gaussians:
    """Drop faint and background-class Gaussians. ``hide`` makes them fully transparent instead (renderers cull
    them): selecting by a mask waits for the GPU, which the live editor avoids."""
    keep = (g.activated_opacities() > PRUNE_OPACITY) & (g.labels > 0)  # [N]
    g = g.to(dtype=torch.float32)
    if not hide:
        return g[keep]
    hidden = torch.full_like(g.opacity_logits, TRANSPARENT_LOGIT)
    return Gaussians(g.means, g.quats, g.log_scales, torch.where(keep, g.opacity_logits, hidden), g.sh, g.labels)


def visible(g: Gaussians) -> Gaussians:
    """Only the Gaussians that can be seen (for export and counting; syncs on a GPU)."""
    return g[g.activated_opacities() > PRUNE_OPACITY]


def opaque_foreground(rgba: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """For an opaque image on a black background (an engine render), mark non-black pixels as foreground."""
    if rgba[..., 3].min() < 1.0:
        return rgba
    out = rgba.copy()
    out[..., 3] = (rgba[..., :3].max(-1) > threshold).astype(np.float32)
    return out
