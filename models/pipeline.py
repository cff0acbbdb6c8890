"""Decode heads with the shipped networks: seg map + style -> head, image -> head.

The one place that finds checkpoints (``checkpoints/`` or a folder the user gives), loads them
once, and turns user inputs into network inputs. The CLI and the app's engine both use it.
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
from models.gaussians import PRUNE_OPACITY, TRANSPARENT_LOGIT, Gaussians  # noqa: F401 (re-exported)
from models.region_follow import follow_painted_regions
from models.segmap_framing import (FRAMING_MODES, Framing, FramingMode, canonicalise, estimate_framing, off_framing,
                                   place_head)
from models.silhouette import SilhouetteMode, check_silhouette_mode, fill_outline, inside_silhouette

log = logging.getLogger(__name__)

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
EAGER_DECODE_ENV = "PERCHEAD_EAGER_DECODE"
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


# A map that differs from the previous one in fewer than this share of pixels is an edit of it (the
# strokes or fills painted between two decodes) and keeps the previous map's framing; a larger change
# is a new map. One dab of the app's largest brush (96 px) covers 11% of a 256² map.
STROKE_SHARE = 0.10


class HeadPipeline:
    """Loads networks lazily (the first edit does not pay for the base model) and keeps them."""

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str = "auto",
                 dino_dir: str | Path | None = None, framing: FramingMode = "auto",
                 silhouette: SilhouetteMode = "fit") -> None:
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
        # "auto": a seg map framed outside what the engine's maps show (moved, scaled, tilted) is decoded
        # in the engine's framing and the head moved back onto it (models/segmap_framing.py); "off": as drawn
        if framing not in FRAMING_MODES:
            raise PercheadError(f"unknown framing mode {framing!r}; use one of {', '.join(FRAMING_MODES)}")
        self.framing: FramingMode = framing
        # "fit": the head fills the painted hair / hat outline, its regions follow the painted ones and Gaussians
        # outside the painted silhouette are left out; "outline": no region following; "carve": only the last;
        # "off": the network's head (models/silhouette.py, models/region_follow.py)
        self.silhouette: SilhouetteMode = check_silhouette_mode(silhouette)
        self.last_framing: Framing | None = None  # what the last edit undid (None: decoded as drawn)
        # the last map edit() saw and its framing, kept for strokes once settled; the worker thread's only
        self._framed: tuple[str, np.ndarray, Framing | None, bool] | None = None  # (mode, last map, plan, settled)
        self._agreed: tuple[Framing, Framing | None] | None = None  # a settled plan and the framing its choice kept

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
        """A reference image RGBA [H, W, 4] in 0..1 -> style vector [1, D]."""
        t = torch.from_numpy(np.ascontiguousarray(rgba)).float().to(self.device)
        if float(t[..., 3].max()) <= 0.0:
            raise PercheadError("the style image is fully transparent; use an image with visible content")
        img = t[..., :3].permute(2, 0, 1)[None]
        alpha = t[..., 3][None, None]
        return self.style_model().encode_images(img, alpha)

    # ---- decoding ---------------------------------------------------------------------------
    @torch.no_grad()
    def edit(self, labels: np.ndarray | Tensor, style: Tensor) -> Gaussians:
        """A seg map [S, S] of class ids at the model's input size + style [1, D] -> one head, fitted to the
        painted map as ``silhouette`` says (for "fit" with its regions following the painted ones).
        ``edit_stages`` gives the same head in two steps."""
        head, drawn = self._decode_filled(labels, style)
        if self.silhouette == "fit":
            head = follow_painted_regions(head, drawn)
        return self._carved(head, drawn)

    @torch.no_grad()
    def edit_stages(self, labels: np.ndarray | Tensor,
                    style: Tensor) -> tuple[Gaussians, Callable[[], Gaussians] | None]:
        """A seg map [S, S] of class ids at the model's input size + style [1, D] -> (the head fitted as
        ``silhouette`` says but without region following, a function giving it with its regions moved onto the
        painted ones, or None where ``silhouette`` is not "fit"). Why two steps: region following costs
        ~120 ms a stroke on a 2-core CPU (~5 ms on a GPU), so the live editor shows the first head at once and
        the followed one when no newer stroke waits (perchead_gui.engine); ``edit`` runs both.
        """
        head, drawn = self._decode_filled(labels, style)
        first = self._carved(head, drawn)
        if self.silhouette != "fit":
            return first, None

        def follow() -> Gaussians:
            with torch.no_grad():
                return self._carved(follow_painted_regions(head, drawn), drawn)

        return first, follow

    def _decode_filled(self, labels: np.ndarray | Tensor, style: Tensor) -> tuple[Gaussians, Tensor]:
        """(the decoded head, its outline filled where ``silhouette`` asks, the map as drawn [S, S] on the device).

        The map is checked on the host (no device sync). On a CUDA GPU the network runs as a
        captured CUDA graph in half precision (``fast_decode``), and faint or background
        Gaussians are made fully transparent instead of removed, so nothing waits for the GPU.
        With ``framing="auto"`` a map framed outside the engine's range is decoded in the engine's
        framing and the head moved back onto it (models/segmap_framing.py; ``last_framing`` says how).
        """
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
                                "load it through models.segmap.load_segmap")
        plan = self._framing_for(host)
        if plan is not None and plan.cue == "landmarks":
            plan = self._agreed_framing(host, plan, style, net)
        self.last_framing = plan
        framed = (host if plan is None else canonicalise(host, plan))[None]  # [1, S, S]
        lab = torch.as_tensor(framed.astype(np.int64), device=self.device)  # [1, S, S]
        # the silhouette fit reads the map as drawn (the head goes back to its framing); copied before the decode
        # is queued, since a host-to-GPU copy waits for the work queued ahead of it
        drawn = (lab[0] if plan is None or self.silhouette == "off"
                 else torch.as_tensor(host.astype(np.int64), device=self.device))  # [S, S]
        graphed = self._graphed_edit(net)
        heads = graphed(lab, style) if graphed is not None else net(lab, style)
        head = heads.head(0) if plan is None else place_head(heads.head(0), plan)
        if self.silhouette in ("fit", "outline"):  # a GPU's heads hide Gaussians: one count, one CUDA graph
            head = fill_outline(head, drawn, graphed=is_accelerator(self.device))
        return head, drawn

    def _carved(self, head: Gaussians, drawn: Tensor) -> Gaussians:
        """``head`` without faint Gaussians and, unless ``silhouette`` is "off", those outside the painted
        silhouette (hidden on a GPU, dropped on a CPU)."""
        inside = inside_silhouette(head.means, drawn) if self.silhouette != "off" else None  # [N]
        return _prune(head, hide=is_accelerator(self.device), keep=inside)

    def _framing_for(self, labels: np.ndarray) -> Framing | None:
        """The framing to undo for ``labels`` [S, S]: estimated afresh for a new map, kept for a brush
        stroke on the last one (fewer than ``STROKE_SHARE`` of its pixels changed) once it is settled.

        Why: framing belongs to the document, not to each stroke. Re-estimated per stroke, painting
        the eyes lower would move the head instead of its eyes, and the estimate cost ~1 ms a stroke
        on a GPU host. Settled means read from the eyes and the mouth: until a map has both (a head
        drawn from scratch), each stroke is estimated again, so the framing follows the drawing up
        to that point and then stays.
        """
        if self.framing not in FRAMING_MODES:
            raise PercheadError(f"unknown framing mode {self.framing!r}; use one of {', '.join(FRAMING_MODES)}")
        memo = self._framed
        if (memo is not None and memo[0] == self.framing and memo[3] and memo[1].shape == labels.shape
                and np.count_nonzero(memo[1] != labels) < STROKE_SHARE * labels.size):
            plan, settled = memo[2], True
        elif self.framing == "off":
            plan, settled = None, True
        else:  # may raise: then nothing is remembered
            estimate = estimate_framing(labels)
            plan = estimate if estimate is not None and off_framing(estimate) else None
            settled = estimate is not None and estimate.cue == "landmarks"
        self._framed = (self.framing, labels.copy(), plan, settled)
        return plan

    def _agreed_framing(self, labels: np.ndarray, plan: Framing, style: Tensor, net) -> Framing | None:
        """Of decoding ``labels`` [S, S] as drawn, re-framed by ``plan`` or by half of it, the framing whose head
        follows the painted map best (models/framing_choice.py). Decided once per settled plan: strokes that keep
        the plan keep the answer."""
        if self._agreed is not None and self._agreed[0] is plan:
            return self._agreed[1]
        from models.framing_choice import choose_framing

        _, chosen = choose_framing(net, labels, plan, style, self.silhouette)  # eager, once per document
        self._agreed = (plan, chosen)
        return chosen

    def forget_framing(self) -> None:
        """Estimate the next map's framing afresh (a new document, or a benchmark of the estimate)."""
        self._framed = None
        self._agreed = None

    def prepare_fast_decode(self) -> None:
        """Capture the CUDA graphs of a stroke now (a no-op off CUDA): the edit net's, the outline fill's and the
        registration's. The engine calls it at start-up, before any head is on screen: a capture made while
        another thread renders could fail or disturb that render."""
        if not is_accelerator(self.device):
            return
        net = self.net("edit")
        graphed = self._graphed_edit(net) if self.fast_decode else None
        if self.silhouette == "off":
            return
        size = net.cfg.image_size
        lab = torch.zeros(1, size, size, dtype=torch.long, device=self.device)  # [1, S, S] a plausible map
        lab[:, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
        inside_silhouette(torch.zeros(1, 3, device=self.device), lab[0])  # its camera to the device
        if self.silhouette in ("fit", "outline"):  # the fill's graph: a decoded head has the network's count
            style = torch.zeros(1, net.cfg.style_dim, device=self.device)
            with torch.no_grad():
                heads = graphed(lab, style) if graphed is not None else net(lab, style)
                head = fill_outline(heads.head(0), lab[0], graphed=True)
                if self.silhouette == "fit":  # the registration's graph
                    follow_painted_regions(head, lab[0])

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
    def reconstruct(self, rgba: np.ndarray) -> Gaussians:
        """An image in the canonical framing, RGBA [H, W, 4] (alpha = foreground) -> one head."""
        net = self.net("base")
        t = torch.from_numpy(np.ascontiguousarray(rgba)).float().permute(2, 0, 1)[None].to(self.device)
        size = net.cfg.image_size
        t = _fit_square(t, size)
        image, alpha = t[:, :3] * t[:, 3:], t[:, 3]
        if float(alpha.sum()) == 0:
            raise PercheadError("the image has no foreground (alpha is 0 everywhere)")
        return _prune(net(image.contiguous(), alpha).head(0))


def _fit_square(t: Tensor, size: int) -> Tensor:
    """Pad [1, C, H, W] to a square (transparent) and resize to size x size."""
    _, _, h, w = t.shape
    s = max(h, w)
    t = torch.nn.functional.pad(t, ((s - w) // 2, s - w - (s - w) // 2, (s - h) // 2, s - h - (s - h) // 2))
    if s != size:
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                                            antialias=s > size)
    return t


def _prune(g: Gaussians, hide: bool = False, keep: Tensor | None = None) -> Gaussians:
    """Drop faint and background-class Gaussians, and those ``keep`` [N] (if given) says to leave out.
    ``hide`` makes them fully transparent instead (renderers cull them): selecting by a mask waits
    for the GPU, which the live editor avoids."""
    visible_fg = (g.activated_opacities() > PRUNE_OPACITY) & (g.labels > 0)  # [N]
    keep = visible_fg if keep is None else visible_fg & keep
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
