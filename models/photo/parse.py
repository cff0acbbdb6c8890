"""A first seg map of an aligned photo: face-mesh polygons for the face, colour for the rest.

A start for painting, not ground truth. The face (skin, eyes, eyebrows, nose, lips, inner
mouth) comes from landmark polygons, which are reliable. Outside the face oval the person mask
is split by layout and colour: three colour models (Gaussians in CIELAB) are fitted to pixels
whose class is sure by position (cheeks for skin, the top of the head for hair, the bottom rows
for clothes), and every other person pixel takes the likeliest model its position allows
(neck only in a column under the jaw, clothes only below the chin). Ears are ellipses beside
the face where the colour is skin. Beards, glasses and hats are not detected.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from models.palette import palette
from models.photo import topology as T
from models.photo.align import polygon_centroid

MIN_SAMPLES = 40          # pixels a colour model needs to be trusted
COV_FLOOR = 9.0           # added to each colour variance (Lab units^2): flat regions stay tolerant
CLOTHES_BAND = 0.08       # bottom share of the crop sampled as clothes
SKIN_LIKE = 16.0          # squared Mahalanobis distance under which a pixel passes as skin
NECK_WIDTH = 0.8          # neck column width, as a share of the jaw width
UNDER_CHIN = 0.3          # clothes are sampled in the neck column this many face heights below the chin
LONG_HAIR_BAND = 0.15     # band above the jaw line (face heights) where hanging hair is looked for ...
LONG_HAIR_SHARE = 0.15    # ... and the hair area there (share of face width x band) that makes it long hair
EAR_WIDTH = 0.09          # ear half-width, as a share of the face width
SAME_COLOUR_DE = 12.0     # hair and skin models closer than this (CIE76 dE) cannot be told apart by colour ...
TEXTURE_RATIO = 1.0       # ... then the top of the head is hair if its detail (median |grad L|) is at least the cheeks'


@dataclass
class ParsedFace:
    labels: np.ndarray                          # [S, S] uint8 class ids (assets/classes.yaml)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _ColourModel:
    mean: np.ndarray     # [3] Lab
    inv_cov: np.ndarray  # [3, 3]
    log_det: float

    @classmethod
    def fit(cls, lab: np.ndarray) -> "_ColourModel | None":
        """Fit to Lab pixels [N, 3], trimming the 10% farthest from the median (stray pixels)."""
        if len(lab) < MIN_SAMPLES:
            return None
        d = np.linalg.norm(lab - np.median(lab, 0), axis=1)
        lab = lab[d <= np.quantile(d, 0.9)]
        cov = np.cov(lab.T) + COV_FLOOR * np.eye(3)
        return cls(lab.mean(0), np.linalg.inv(cov), float(np.log(np.linalg.det(cov))))

    def mahalanobis2(self, lab: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of Lab pixels [..., 3]. [...]"""
        d = lab - self.mean
        return np.einsum("...i,ij,...j->...", d, self.inv_cov, d)

    def cost(self, lab: np.ndarray) -> np.ndarray:
        """Negative log-likelihood up to a constant. [...]"""
        return 0.5 * (self.mahalanobis2(lab) + self.log_det)


def parse_face(rgb: np.ndarray, mask: np.ndarray, landmarks: np.ndarray) -> ParsedFace:
    """Aligned RGB [S, S, 3] uint8 + person mask [S, S] 0..1 + face-mesh points [478, 2] (px) -> seg map."""
    pal = palette()
    ids = {n: pal.id_of(n) for n in pal.names}
    s = rgb.shape[0]
    lm = landmarks[:, :2]
    lab = srgb_to_lab(rgb)  # [S, S, 3]
    yy, xx = np.mgrid[0:s, 0:s] + 0.5  # pixel centres
    person = mask > 0.5
    notes: list[str] = []

    oval = fill_polygon(lm[list(T.FACE_OVAL)], s)
    eyes = fill_polygon(lm[list(T.RIGHT_EYE)], s) | fill_polygon(lm[list(T.LEFT_EYE)], s)
    brows = fill_polygon(lm[list(T.RIGHT_BROW)], s) | fill_polygon(lm[list(T.LEFT_BROW)], s)
    nose = fill_polygon(convex_hull(lm[list(T.NOSE)]), s)
    upper, lower = fill_polygon(lm[list(T.upper_lip())], s), fill_polygon(lm[list(T.lower_lip())], s)
    inner = fill_polygon(lm[list(T.inner_mouth())], s)
    lips = upper | lower | inner

    eye_y = 0.5 * (polygon_centroid(lm[list(T.RIGHT_EYE)])[1] + polygon_centroid(lm[list(T.LEFT_EYE)])[1])
    mouth_y = polygon_centroid(lm[list(T.outer_lips())])[1]
    chin_y, top_y = lm[T.CHIN, 1], lm[T.FOREHEAD_TOP, 1]
    jaw_y = 0.5 * (lm[T.JAW_RIGHT, 1] + lm[T.JAW_LEFT, 1])
    face_w = abs(lm[T.FACE_SIDE_LEFT, 0] - lm[T.FACE_SIDE_RIGHT, 0])
    jaw_w = abs(lm[T.JAW_LEFT, 0] - lm[T.JAW_RIGHT, 0])
    cx = 0.5 * (lm[T.JAW_LEFT, 0] + lm[T.JAW_RIGHT, 0])

    face_h = max(chin_y - top_y, 1.0)
    column = np.abs(xx - cx) < 0.5 * NECK_WIDTH * jaw_w  # under the jaw: neck, then the clothes' neckline
    features = _dilate(eyes | brows | nose | lips, 2)
    cheeks = oval & ~features & (yy > eye_y + 0.3 * (mouth_y - eye_y)) & (yy < mouth_y)
    skin_m = _ColourModel.fit(lab[cheeks])
    hair_m = _ColourModel.fit(lab[person & ~_dilate(oval, 3) & (yy < top_y)])
    skin_like = skin_m.mahalanobis2(lab) < SKIN_LIKE if skin_m else np.zeros((s, s), bool)
    # clothes: the bottom rows, and what is not skin well under the chin (a turtleneck, a collar)
    clothes_ms = [m for m in (
        _ColourModel.fit(lab[person & (yy > (1 - CLOTHES_BAND) * s) & (yy > chin_y)]),
        _ColourModel.fit(lab[person & column & (yy > chin_y + UNDER_CHIN * face_h) & ~skin_like]),
    ) if m is not None]
    if skin_m is None:
        notes.append("the cheeks were too small to sample the skin colour; neck and ears are guesses")
    # Hair as dark as dark skin, or as fair as fair skin, has the skin's colour; texture still tells them
    # apart: hair is streaked, a bald scalp is as smooth as the cheeks.
    hair_is_skin = hair_by_texture = False
    if hair_m is not None and skin_m is not None and float(np.linalg.norm(hair_m.mean - skin_m.mean)) < SAME_COLOUR_DE:
        detail = _detail(lab[..., 0])  # [S, S]
        top = person & ~_dilate(oval, 3) & (yy < top_y)
        if float(np.median(detail[top])) >= TEXTURE_RATIO * float(np.median(detail[cheeks])):
            hair_by_texture = True
            notes.append("the hair has about the skin's colour; it was told apart by texture, so check its edges")
        else:
            hair_is_skin = True
            notes.append("the top of the head is smooth and has the skin's colour: read as a bald scalp (skin)")

    big = 1e9
    cost_skin = skin_m.cost(lab) if skin_m else np.full((s, s), big)
    cost_hair = hair_m.cost(lab) if hair_m and not hair_is_skin else np.full((s, s), big)
    cost_clothes = np.min([m.cost(lab) for m in clothes_ms], 0) if clothes_ms else np.full((s, s), big)

    coarse = np.zeros((s, s), dtype=np.uint8)
    rest = person & ~oval
    # above the jaw: hair, or skin (a bald scalp, a high forehead) when the colour says so
    above = rest & (yy < jaw_y)
    coarse[above] = ids["hair"]
    if not hair_by_texture:
        coarse[above & skin_like & (cost_skin < cost_hair)] = ids["skin"]
    # below the jaw: skin is neck (and a low neckline's chest); hair only where it already hangs beside the
    # jaw (long hair) and joins the hair above, or between the jaw and the chin; the rest is clothes
    below = rest & (yy >= jaw_y)
    beside_jaw = above & (yy >= jaw_y - LONG_HAIR_BAND * face_h) & ~column
    long_hair = int((coarse[beside_jaw] == ids["hair"]).sum()) >= LONG_HAIR_SHARE * face_w * LONG_HAIR_BAND * face_h
    neck = below & skin_like & (cost_skin <= np.minimum(cost_hair, cost_clothes))
    hair_below = np.zeros((s, s), bool)
    if long_hair and hair_m is not None and not hair_is_skin:
        hairy = below & ~neck & (cost_hair < cost_clothes) & ~(column & (yy > chin_y))
        hair_below = _grow(coarse == ids["hair"], hairy | (coarse == ids["hair"])) & hairy
    coarse[below] = ids["clothes"]
    coarse[below & (yy <= chin_y) & (cost_hair < cost_clothes)] = ids["hair"]  # hair behind the jaw
    coarse[neck] = ids["neck"]
    coarse[hair_below] = ids["hair"]

    coarse[_ears(lm, s, xx, yy, face_w, eye_y) & rest & skin_like & (yy < jaw_y)] = ids["ears"]
    coarse[oval] = ids["skin"]
    if hair_m is not None and not hair_is_skin:  # a fringe over the forehead
        brow_top = lm[list(T.RIGHT_BROW + T.LEFT_BROW), 1].min()
        coarse[oval & (yy < brow_top) & (cost_hair < cost_skin) & ~skin_like] = ids["hair"]
    coarse = _mode_filter(coarse, 5)  # colour decisions are per pixel: remove speckle

    labels = coarse
    labels[nose] = ids["nose"]
    labels[brows] = ids["eyebrows"]
    labels[eyes] = ids["eyes"]
    labels[upper] = ids["upper_lip"]
    labels[lower] = ids["lower_lip"]
    labels[inner] = ids["mouth"]
    return ParsedFace(labels, notes)


def _ears(lm: np.ndarray, s: int, xx: np.ndarray, yy: np.ndarray, face_w: float, eye_y: float) -> np.ndarray:
    """Ellipses just outside the face's widest points, from eye height to the nose base. [S, S] bool

    An ear on the far side of a turned face is hidden, so it is left out when the nose tip sits
    much nearer that side of the face than the other.
    """
    top, bottom = eye_y - 0.03 * face_w, lm[T.SUBNASALE, 1] + 0.02 * face_w
    cy, ry = 0.5 * (top + bottom), 0.5 * (bottom - top)
    rx = EAR_WIDTH * face_w
    nose_x = lm[T.NOSE_TIP, 0]
    out = np.zeros((s, s), dtype=bool)
    for side, sign in ((T.FACE_SIDE_RIGHT, -1.0), (T.FACE_SIDE_LEFT, 1.0)):
        reach = abs(lm[side, 0] - nose_x) / max(face_w, 1e-6)  # ~0.5 for a frontal face
        if reach < 0.25:
            continue
        ex = lm[side, 0] + sign * 0.6 * rx
        out |= ((xx - ex) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    return out


def fill_polygon(points: np.ndarray, size: int) -> np.ndarray:
    """Rasterise a polygon [N, 2] in continuous px (pixel centres at +0.5) to a mask [size, size] bool."""
    im = Image.new("L", (size, size), 0)
    ImageDraw.Draw(im).polygon([(float(x) - 0.5, float(y) - 0.5) for x, y in points], fill=1, outline=1)
    return np.asarray(im, dtype=bool)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of points [N, 2] in order around it (Andrew's monotone chain). [M, 2]"""
    pts = sorted(map(tuple, points.tolist()))

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB [..., 3] uint8 -> CIELAB (D65) [..., 3] float32."""
    c = rgb.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
                         dtype=np.float32).T
    xyz /= np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1)


def _detail(lightness: np.ndarray) -> np.ndarray:
    """Local detail: |gradient| of the lightness [S, S] (forward differences, last row/column repeated). [S, S]"""
    gy = np.diff(lightness, axis=0, append=lightness[-1:])
    gx = np.diff(lightness, axis=1, append=lightness[:, -1:])
    return np.hypot(gx, gy)


def _grow(seed: np.ndarray, allowed: np.ndarray, max_steps: int = 512) -> np.ndarray:
    """Pixels of ``allowed`` [S, S] bool joined to ``seed`` [S, S] bool through ``allowed`` (8-connected). [S, S]"""
    grown = seed & allowed
    for _ in range(max_steps):
        nxt = _dilate(grown, 1) & allowed
        if np.array_equal(nxt, grown):
            break
        grown = nxt
    return grown


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    im = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(im.filter(ImageFilter.MaxFilter(2 * radius + 1))) > 0


def _mode_filter(labels: np.ndarray, size: int) -> np.ndarray:
    return np.array(Image.fromarray(labels).filter(ImageFilter.ModeFilter(size)))
