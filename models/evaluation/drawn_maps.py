"""Seg maps drawn like an artist draws them, not rendered by the engine: the robustness set.

Artists paint an ellipse for a face, a blob for hair, circles for eyes; their edges wobble
and anti-alias, they leave parts out (no ears, no neck), they bring maps from face parsers in
the CelebAMask-HQ label layout, and they do not frame the head exactly like the canonical
camera. ``drawn_map(i)`` draws map i of that kind, procedurally and reproducibly: a pure
function of ``i`` (Python's ``random.Random(DRAWN_SEED_BASE + i)``, PIL polygons, a torch
warp on the CPU with a fixed generator), never an engine render, and never used in training
(the training augmentations in models/training/augment.py have their own generator and act
on engine heads). ``perchead eval`` scores ``edit_front_iou_drawn`` on these maps.

Kinds (map i is ``DRAWN_KINDS[i % 5]``):
  shapes      clean simple shapes in palette ids
  rough       wobbly edges (smooth random warp + pixel jitter), painted in palette colours
              with an anti-aliased brush, read back through models.io.segmap (nearest colour)
  missing     one to three parts left out: ears, neck, eyebrows, nose, clothes
  celebamask  drawn at 512 px in the 19 CelebAMask-HQ labels (left/right brows, eyes and
              ears, earrings, necklace; no beard class), read with ``--labels celebamask``
  shifted     the whole map moved 5-12 px, scaled 0.9-1.1 and turned up to 5 degrees
The loaded map (what the model gets, after any conversion) is the reference the output's
front view is scored against, as for ``edit_front_iou``.
"""
from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from models.palette import palette
from models.io.segmap import load_segmap

DRAWN_KINDS = ("shapes", "rough", "missing", "celebamask", "shifted")
DRAWN_SEED_BASE = 7_300_000  # drawn map i uses random.Random(DRAWN_SEED_BASE + i)
DRAWN_COUNT = 40             # maps in the eval set (8 of each kind)
DRAW_SIZE = 256              # the canonical framing's pixel grid the shapes are laid out on
CELEBAMASK_SIZE = 512        # CelebAMask-HQ maps are 512 px; loading resamples them

# Parts in drawing order (back to front). Each maps to our class name, and for the
# CelebAMask-HQ layout to its label ids (left, right) where it has two.
_OURS = {"clothes": "clothes", "hair_back": "hair", "neck": "neck", "ear": "ears", "face": "skin",
         "beard": "facial_hair", "hair": "hair", "brow": "eyebrows", "eye": "eyes", "nose": "nose",
         "mouth": "mouth", "upper_lip": "upper_lip", "lower_lip": "lower_lip", "glasses": "eyeglasses",
         "hat": "hat", "earring": "ears", "necklace": "neck"}
_CELEBAMASK = {"clothes": (16, 16), "hair_back": (17, 17), "neck": (14, 14), "ear": (7, 8), "face": (1, 1),
               "hair": (17, 17), "brow": (2, 3), "eye": (4, 5), "nose": (10, 10), "mouth": (11, 11),
               "upper_lip": (12, 12), "lower_lip": (13, 13), "glasses": (6, 6), "hat": (18, 18),
               "earring": (9, 9), "necklace": (15, 15)}

_HAIR_STYLES = ("bald", "buzz", "short", "bob", "long", "afro", "bun")
_HAIR_WORDS = {"buzz": "buzz-cut", "short": "short", "bob": "bob-cut", "long": "long", "afro": "afro",
               "bun": "tied-up"}
_HAIR_COLOURS = ("black", "brown", "blonde", "red", "grey", "dark brown")
_EYE_COLOURS = ("brown", "blue", "green", "grey", "hazel")
_GARMENTS = ("blue shirt", "grey sweater", "black t-shirt", "white shirt", "red sweater", "green jacket")


@dataclass(frozen=True)
class DrawnMap:
    index: int
    kind: str
    labels: np.ndarray        # [size, size] uint8 class ids, as loaded (the model's input and the IoU reference)
    prompt: str               # the style prompt that goes with it (names what was drawn)
    parts: tuple[str, ...]    # parts drawn, e.g. ("face", "hair:long", "ear", ...)
    loader_notes: tuple[str, ...] = ()  # models.io.segmap warnings met on the way in
    source: str = ""          # the file it was read from (``perchead eval --maps``); "" for generated maps


@dataclass
class _Look:
    """The random choices of one drawing, in the 256 px canonical framing."""

    cx: float
    cy: float           # face centre
    fw: float
    fh: float           # face half-width, half-height
    jaw: float          # 0 = ellipse, 1 = strongly tapered chin
    hair: str
    hairline: float     # y of the hairline
    eye_dx: float
    eye_y: float
    eye_r: float
    eye_round: bool
    nose_tri: bool
    mouth_open: bool
    beard: str          # none | moustache | full
    glasses: bool
    hat: bool
    neck_w: float
    shoulder_y: float
    drop: frozenset[str]


def _sample_look(rng: random.Random, kind: str) -> _Look:
    hair = rng.choice(_HAIR_STYLES)
    fh = rng.uniform(66, 76)  # head outline: skull top ~40 px, chin ~185 px, as the canonical camera frames it
    drop: set[str] = set()
    if kind == "missing":
        drop = set(rng.sample(("ear", "neck", "brow", "nose", "clothes"), rng.randint(1, 3)))
    celeba = kind == "celebamask"
    return _Look(
        cx=128 + rng.uniform(-2, 2), cy=rng.uniform(108, 116), fw=rng.uniform(38, 46), fh=fh,
        jaw=rng.uniform(0.0, 0.8), hair=hair, hairline=rng.uniform(72, 84),
        eye_dx=rng.uniform(20, 26), eye_y=rng.uniform(104, 111), eye_r=rng.uniform(3.5, 6.0),
        eye_round=rng.random() < 0.5, nose_tri=rng.random() < 0.5, mouth_open=rng.random() < 0.25,
        beard="none" if celeba or rng.random() < 0.7 else rng.choice(("moustache", "full")),
        glasses=rng.random() < 0.2, hat=hair not in ("afro", "bun", "long") and rng.random() < 0.15,
        neck_w=rng.uniform(28, 40), shoulder_y=rng.uniform(200, 214), drop=frozenset(drop))


def _face_outline(look: _Look, n: int = 72) -> list[tuple[float, float]]:
    """The head outline: an ellipse narrowing towards the chin (jaw > 0). Points clockwise, 256 px frame."""
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        lower = max(0.0, -math.cos(t))  # 1 at the chin, 0 on the upper half
        a = look.fw * (1 - 0.35 * look.jaw * lower**2)
        pts.append((look.cx + a * math.sin(t), look.cy - look.fh * math.cos(t)))
    return pts


class _Canvas:
    """A label canvas in the 256 px frame, drawn at ``scale`` x that resolution."""

    def __init__(self, scale: int, ids: Callable[[str, int], int]) -> None:
        self.scale = scale
        self.img = Image.new("L", (DRAW_SIZE * scale, DRAW_SIZE * scale), 0)
        self.draw = ImageDraw.Draw(self.img)
        self.ids = ids  # (part, side 0 = image left / 1 = right) -> label value

    def _xy(self, pts):
        return [(x * self.scale, y * self.scale) for x, y in pts]

    def ellipse(self, part: str, cx: float, cy: float, rx: float, ry: float, side: int = 0) -> None:
        s = self.scale
        self.draw.ellipse([(cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s], fill=self.ids(part, side))

    def polygon(self, part: str, pts, side: int = 0) -> None:
        self.draw.polygon(self._xy(pts), fill=self.ids(part, side))

    def line(self, part: str, pts, width: float, side: int = 0) -> None:
        self.draw.line(self._xy(pts), fill=self.ids(part, side), width=max(1, round(width * self.scale)), joint="curve")

    def array(self) -> np.ndarray:
        return np.asarray(self.img, dtype=np.uint8).copy()


def _draw(look: _Look, rng: random.Random, canvas: _Canvas, celeba: bool) -> list[str]:
    """Paint the head back to front; returns the parts drawn."""
    drawn: list[str] = []
    cx, cy, fw, fh = look.cx, look.cy, look.fw, look.fh
    top = cy - fh  # top of the face outline (the skull top)

    def has(part: str) -> bool:
        return part not in look.drop

    if has("clothes"):
        canvas.ellipse("clothes", 128, look.shoulder_y + rng.uniform(85, 100), rng.uniform(115, 140), rng.uniform(88, 100))
        drawn.append("clothes")
    if look.hair in ("long", "bob", "afro"):
        if look.hair == "afro":
            canvas.ellipse("hair_back", cx, top + 25, fw + rng.uniform(32, 42), rng.uniform(58, 68))
        else:
            long = look.hair == "long"
            bottom = rng.uniform(205, 245) if long else rng.uniform(170, 190)
            half_top = fw + rng.uniform(8, 14)
            half_bottom = fw + (rng.uniform(30, 55) if long else rng.uniform(14, 22))
            canvas.polygon("hair_back", [(cx - half_top, top + 30), (cx + half_top, top + 30), (cx + half_bottom, bottom),
                                         (cx - half_bottom, bottom)])
            canvas.ellipse("hair_back", cx, top + 30, half_top, 38)
        drawn.append(f"hair:{look.hair}")
    if has("neck"):
        canvas.polygon("neck", [(cx - look.neck_w, cy + 28), (cx + look.neck_w, cy + 28),
                                (cx + look.neck_w + 4, look.shoulder_y + 12), (cx - look.neck_w - 4, look.shoulder_y + 12)])
        drawn.append("neck")
        if celeba and rng.random() < 0.5:
            y = look.shoulder_y - rng.uniform(8, 20)
            canvas.line("necklace", [(cx - look.neck_w + 2, y - 6), (cx, y), (cx + look.neck_w - 2, y - 6)], 2.5)
            drawn.append("necklace")
    ears_visible = has("ear") and look.hair not in ("long", "bob", "afro")
    if ears_visible:
        ey, erx, ery = look.eye_y + rng.uniform(6, 12), rng.uniform(5, 8), rng.uniform(12, 17)
        for side, sx in ((0, -1), (1, 1)):
            canvas.ellipse("ear", cx + sx * (fw + 1), ey, erx, ery, side)
            if celeba and rng.random() < 0.4:
                canvas.ellipse("earring", cx + sx * (fw + 2), ey + ery + 2, 2.5, 2.5)
        drawn.append("ear")
    canvas.polygon("face", _face_outline(look))
    drawn.append("face")
    if look.beard == "full":
        pts = [p for p in _face_outline(look) if p[1] > cy + fh * 0.3]
        canvas.polygon("beard", pts + [(cx + fw * 0.55, cy + fh * 0.27), (cx - fw * 0.55, cy + fh * 0.27)])
        drawn.append("beard:full")
    if look.hair in ("buzz", "short", "bun", "long", "bob", "afro") and not look.hat:
        # the hair on top: the skull above the hairline, a little wider than the face
        thick = {"buzz": 2.0, "short": 7.0, "bun": 5.0}.get(look.hair, 9.0)
        a, b = fw + thick, fh + thick
        sideburn = look.hairline + rng.uniform(12, 26)  # where the hair ends beside the temples
        a0 = math.acos(max(-1.0, min(1.0, (cy - sideburn) / b)))
        arc = [(cx + a * math.sin(t), cy - b * math.cos(t)) for t in np.linspace(-a0, a0, 31)]
        canvas.polygon("hair", arc + [(cx + fw * 0.55, look.hairline), (cx - fw * 0.55, look.hairline + rng.uniform(-4, 4))])
        if look.hair == "bun":
            canvas.ellipse("hair", cx + rng.uniform(-4, 4), top - 8, rng.uniform(14, 20), rng.uniform(11, 15))
        if "hair:" not in " ".join(drawn):
            drawn.append(f"hair:{look.hair}")
    if look.hat:
        canvas.ellipse("hat", cx, top + 20, fw + 8, 32)
        canvas.polygon("hat", [(cx - fw - 9, top + 20), (cx + fw + 9, top + 20), (cx + fw + 9, look.hairline + 4),
                               (cx - fw - 9, look.hairline + 4)])
        drawn.append("hat")
    if has("brow"):
        for side, sx in ((0, -1), (1, 1)):
            x0, x1 = cx + sx * (look.eye_dx - 10), cx + sx * (look.eye_dx + 10)
            y = look.eye_y - rng.uniform(8, 12)
            canvas.line("brow", [(x0, y + 1), ((x0 + x1) / 2, y - rng.uniform(0, 3)), (x1, y + 2)], rng.uniform(3, 5), side)
        drawn.append("brow")
    for side, sx in ((0, -1), (1, 1)):
        ex = cx + sx * look.eye_dx
        if look.eye_round:
            canvas.ellipse("eye", ex, look.eye_y, look.eye_r, look.eye_r, side)
        else:
            canvas.ellipse("eye", ex, look.eye_y, look.eye_r * 1.6, look.eye_r * 0.75, side)
    drawn.append("eye")
    if look.glasses:
        for sx in (-1, 1):
            ex = cx + sx * look.eye_dx
            canvas.line("glasses", [(ex - 12, look.eye_y - 8), (ex + 12, look.eye_y - 8), (ex + 12, look.eye_y + 9),
                                    (ex - 12, look.eye_y + 9), (ex - 12, look.eye_y - 8)], 2.0)
        canvas.line("glasses", [(cx - look.eye_dx + 12, look.eye_y - 4), (cx + look.eye_dx - 12, look.eye_y - 4)], 2.0)
        drawn.append("glasses")
    if has("nose"):
        ny0, ny1, nw = look.eye_y + rng.uniform(4, 8), cy + rng.uniform(25, 31), rng.uniform(9, 13)
        if look.nose_tri:
            canvas.polygon("nose", [(cx, ny0), (cx + nw, ny1), (cx - nw, ny1)])
        else:
            canvas.ellipse("nose", cx, (ny0 + ny1) / 2 + 4, nw * 0.8, (ny1 - ny0) / 2)
        drawn.append("nose")
    my, mw = cy + rng.uniform(37, 42), rng.uniform(13, 18)
    if look.beard == "moustache":
        canvas.polygon("beard", [(cx - mw - 3, my - 1), (cx, my - 9), (cx + mw + 3, my - 1), (cx, my - 4)])
        drawn.append("beard:moustache")
    gap = rng.uniform(2, 4) if look.mouth_open else 0.0
    canvas.ellipse("upper_lip", cx, my - 1, mw, rng.uniform(3, 4.5))
    canvas.ellipse("lower_lip", cx, my + 3.5 + gap, mw * 0.9, rng.uniform(3.5, 5))
    if look.mouth_open:
        canvas.ellipse("mouth", cx, my + 1.5 + gap / 2, mw * 0.75, gap / 2 + 1)
        drawn.append("mouth")
    drawn.append("lips")
    return drawn


def _warp(labels: np.ndarray, gen: torch.Generator, smooth_px: float, jitter_px: float) -> np.ndarray:
    """Wobble the edges: a smooth random displacement (a few px) plus per-pixel jitter, nearest lookup."""
    s = labels.shape[0]
    lo = torch.randn(1, 2, 10, 10, generator=gen) * smooth_px
    field = F.interpolate(lo, size=(s, s), mode="bicubic", align_corners=True)  # [1, 2, S, S] pixels
    field = field + (torch.rand(1, 2, s, s, generator=gen) - 0.5) * 2 * jitter_px
    return _resample(labels, field, padding="border")


def _resample(labels: np.ndarray, displacement_px: torch.Tensor, padding: str = "zeros") -> np.ndarray:
    """Nearest-neighbour lookup of labels [S, S] at pixel + displacement [1, 2, S, S] (x, y).

    padding "zeros" fills with background (a moved map); "border" extends the edge (a wobble
    must not open a gap where the shoulders leave the frame)."""
    s = labels.shape[0]
    ys, xs = torch.meshgrid(torch.arange(s, dtype=torch.float32), torch.arange(s, dtype=torch.float32), indexing="ij")
    gx = (xs + displacement_px[0, 0] + 0.5) / s * 2 - 1
    gy = (ys + displacement_px[0, 1] + 0.5) / s * 2 - 1
    grid = torch.stack([gx, gy], -1)[None]  # [1, S, S, 2]
    src = torch.from_numpy(labels.astype(np.float32))[None, None]
    out = F.grid_sample(src, grid, mode="nearest", padding_mode=padding, align_corners=False)
    return out[0, 0].round().to(torch.uint8).numpy()


def similarity(labels: np.ndarray, shift_xy: tuple[float, float], scale: float, angle_deg: float) -> np.ndarray:
    """Move a map [S, S]: rotate and scale about the centre, then shift (px). Nearest, background fill."""
    s = labels.shape[0]
    c = (s - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(s, dtype=torch.float64), torch.arange(s, dtype=torch.float64), indexing="ij")
    a = math.radians(angle_deg)
    # inverse map: output pixel -> source pixel
    u, v = (xs - c - shift_xy[0]) / scale, (ys - c - shift_xy[1]) / scale
    sx = math.cos(a) * u + math.sin(a) * v + c
    sy = -math.sin(a) * u + math.cos(a) * v + c
    disp = torch.stack([sx - xs, sy - ys])[None].float()
    return _resample(labels, disp)


def _brush_rgb(labels_2x: np.ndarray) -> np.ndarray:
    """Palette colours of a 2x map, box-filtered to 1x: the soft edges of an anti-aliased brush. [S, S, 3] uint8"""
    rgb = palette().colorize(labels_2x)
    img = Image.fromarray(rgb, "RGB")
    return np.asarray(img.resize((labels_2x.shape[1] // 2, labels_2x.shape[0] // 2), Image.BOX))


def drawn_map(index: int, size: int = DRAW_SIZE) -> DrawnMap:
    """Drawn map ``index`` (kind ``DRAWN_KINDS[index % 5]``), loaded at ``size`` px like a user's file."""
    rng = random.Random(DRAWN_SEED_BASE + index)
    gen = torch.Generator().manual_seed(DRAWN_SEED_BASE + index)
    kind = DRAWN_KINDS[index % len(DRAWN_KINDS)]
    look = _sample_look(rng, kind)
    pal = palette()
    celeba = kind == "celebamask"
    if celeba:
        ids = lambda part, side: _CELEBAMASK[part][side]  # noqa: E731
        canvas = _Canvas(CELEBAMASK_SIZE // DRAW_SIZE, ids)
    else:
        ids = lambda part, side: pal.id_of(_OURS[part])  # noqa: E731
        canvas = _Canvas(2 if kind == "rough" else 1, ids)
    parts = _draw(look, rng, canvas, celeba)
    raw = canvas.array()
    notes: list[str] = []
    if kind == "rough":
        raw = _warp(raw, gen, smooth_px=rng.uniform(2.0, 4.0) * 2, jitter_px=1.5)
        loaded = load_segmap(_brush_rgb(raw), labels="palette", size=size)
    elif celeba:
        buf = io.BytesIO()
        Image.fromarray(raw, "L").save(buf, "PNG")
        loaded = load_segmap(buf.getvalue(), labels="celebamask", size=size)
    else:
        if kind == "shifted":
            shift = tuple(rng.choice((-1, 1)) * rng.uniform(5, 12) for _ in range(2))
            scale = rng.choice((rng.uniform(0.9, 0.96), rng.uniform(1.04, 1.1)))
            angle = rng.uniform(-5, 5)
            raw = similarity(raw, shift, scale, angle)
            parts.append(f"moved:{shift[0]:+.0f},{shift[1]:+.0f}px,x{scale:.2f},{angle:+.1f}deg")
        loaded = load_segmap(raw, labels="index", size=size)
    notes.extend(loaded.warnings)
    return DrawnMap(index, kind, loaded.labels, _prompt(look, rng), tuple(parts), tuple(notes))


def _prompt(look: _Look, rng: random.Random) -> str:
    """Words that agree with what was drawn, so the style never argues with the map."""
    eyes = rng.choice(_EYE_COLOURS)
    garment = rng.choice(_GARMENTS)
    if look.hair == "bald":
        head = "a bald person"
    else:
        head = f"a person with {_HAIR_WORDS[look.hair]} {rng.choice(_HAIR_COLOURS)} hair"
    extras = []
    if look.beard == "full":
        extras.append("a full beard")
    elif look.beard == "moustache":
        extras.append("a moustache")
    text = f"{head} and {eyes} eyes" + (f", {' and '.join(extras)}" if extras else "")
    wear = [garment] if "clothes" not in look.drop else []
    if look.glasses:
        wear.insert(0, "glasses")
    if look.hat:
        wear.insert(0, "a beanie")
    if wear:
        text += ", wearing " + (", ".join(wear[:-1]) + " and " + wear[-1] if len(wear) > 1 else wear[0])
    return text


def drawn_maps(count: int = DRAWN_COUNT, size: int = DRAW_SIZE) -> list[DrawnMap]:
    """The first ``count`` drawn maps (the eval set is the first DRAWN_COUNT)."""
    return [drawn_map(i, size) for i in range(count)]


def drawn_prompts(count: int = DRAWN_COUNT) -> list[str]:
    """The prompts of the first ``count`` drawn maps (for building caption banks)."""
    return [m.prompt for m in drawn_maps(count)]
