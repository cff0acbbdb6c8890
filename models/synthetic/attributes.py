"""What a synthetic head is: its structured attributes, their vocabularies, and reference colours.

``sample_attributes(seed)`` draws every discrete choice and continuous shape number of one head
from ``random.Random(seed)`` (pure Python, so the same seed gives the same attributes on any
machine and device); a training head's own beard colour comes from a second generator of its seed, so that
draw moves no other. The geometry builder reads nothing else, so a head is fully described by
its ``HeadAttributes`` plus the seed-derived noise offset.

``REFERENCE_COLORS`` is the one table of attribute -> sRGB colour that other modules import
(evaluation compares a rendered region's mean colour against it with CIE deltaE). The values are
the *albedo* means the engine draws around; rendered pixels add baked shading, so a lit region's
mean sits somewhat darker than the table (see docs/engine.md, "Colours").
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from models.assets import read_data

# ---- vocabularies ---------------------------------------------------------------------------
HAIR_STYLES = ("bald", "buzz", "short", "side_part", "bob", "long_straight", "long_wavy",
               "ponytail", "bun", "afro")
HAIR_COLORS = ("black", "dark_brown", "brown", "auburn", "red", "blonde", "platinum", "grey", "white",
               "blue", "pink", "green", "purple")
DYED_HAIR_COLORS = ("blue", "pink", "green", "purple")
EYE_COLORS = ("dark_brown", "brown", "amber", "hazel", "green", "blue", "grey")
SKIN_TONES = ("very_light", "light", "light_medium", "medium", "tan", "brown", "dark", "very_dark")
FACIAL_HAIR = ("none", "stubble", "moustache", "goatee", "full_beard")
GLASSES = ("none", "round", "rectangular", "sunglasses")
HATS = ("none", "beanie", "cap")
NECKLINES = ("crew", "v_neck", "collar", "turtleneck")
GARMENT_COLORS = ("black", "white", "grey", "navy", "blue", "red", "burgundy", "green", "olive",
                  "yellow", "orange", "pink", "purple", "beige", "brown", "teal")
FRAME_COLORS = ("black", "tortoiseshell", "gold", "silver", "red")
LIP_COLORS = ("natural", "red", "pink", "berry", "nude")
PRESENTATIONS = ("woman", "man", "androgynous")
AGES = ("young", "adult", "older")
EXPRESSIONS = ("neutral", "slight_smile", "smile", "open_mouth", "raised_brows", "frown", "squint", "blink", "pout")
FRECKLES = ("none", "freckles")  # HeadAttributes.freckles read as a class: 0, or any
ANCESTRIES = ("african", "asian", "caucasian")  # the head basis's phenotype mixes (models/synthetic/basis.py)

# ---- reference colours (sRGB 0-255 albedo means) ------------------------------------------
REFERENCE_COLORS: dict[str, dict[str, tuple[int, int, int]]] = {
    "hair": {
        "black": (28, 24, 22), "dark_brown": (58, 40, 28), "brown": (104, 72, 46),
        "auburn": (120, 52, 30), "red": (170, 74, 36), "blonde": (206, 170, 108),
        "platinum": (228, 220, 198), "grey": (142, 140, 136), "white": (226, 224, 218),
        "blue": (40, 84, 196), "pink": (232, 112, 172), "green": (38, 150, 82), "purple": (112, 50, 164),
    },
    "eyes": {
        "dark_brown": (52, 30, 18), "brown": (92, 56, 30), "amber": (170, 112, 40),
        "hazel": (128, 100, 52), "green": (78, 122, 72), "blue": (72, 122, 176), "grey": (122, 132, 140),
    },
    "skin": {
        "very_light": (246, 222, 204), "light": (234, 198, 170), "light_medium": (218, 174, 138),
        "medium": (194, 146, 106), "tan": (168, 118, 80), "brown": (132, 88, 58),
        "dark": (94, 60, 40), "very_dark": (62, 40, 28),
    },
    "garment": {
        "black": (30, 30, 32), "white": (232, 232, 228), "grey": (128, 128, 130), "navy": (30, 40, 84),
        "blue": (44, 92, 184), "red": (184, 34, 40), "burgundy": (110, 24, 40), "green": (34, 120, 60),
        "olive": (104, 108, 52), "yellow": (226, 190, 50), "orange": (222, 110, 36), "pink": (226, 140, 170),
        "purple": (100, 54, 140), "beige": (206, 186, 150), "brown": (104, 70, 44), "teal": (30, 120, 120),
    },
    "frame": {
        "black": (22, 22, 24), "tortoiseshell": (96, 58, 30), "gold": (196, 160, 80),
        "silver": (176, 178, 184), "red": (160, 30, 36),
    },
    "lips": {
        "red": (176, 28, 42), "pink": (212, 104, 132), "berry": (120, 30, 64), "nude": (190, 130, 112),
    },
}
# Natural lips are the skin tone shifted towards red and darker (see ``natural_lip_color``).

# ---- words used in captions (several synonyms per value): assets/engine/caption_words.yaml ------------------
CAPTION_WORDS_FILE = "engine/caption_words.yaml"  # under assets/
_CAPTION_DATA = read_data(CAPTION_WORDS_FILE)


def _word_table(name: str) -> dict[str, tuple[str, ...]]:
    return {value: tuple(words) for value, words in _CAPTION_DATA[name].items()}


HAIR_COLOR_WORDS = _word_table("hair_color")
HAIR_STYLE_WORDS = _word_table("hair_style")
EYE_COLOR_WORDS = _word_table("eye_color")
SKIN_WORDS = _word_table("skin")
GARMENT_WORDS = _word_table("garment")
NECKLINE_WORDS = _word_table("neckline")
FACIAL_HAIR_WORDS = _word_table("facial_hair")
GLASSES_WORDS = _word_table("glasses")
EXPRESSION_WORDS = _word_table("expression")  # neutral goes unsaid; open_mouth is said as before (captions.py)
FRECKLE_WORDS = _word_table("freckles")
HAT_WORDS = _word_table("hat")
LIPSTICK_PHRASES = _word_table("lipstick")
PERSON_WORDS = {tuple(key.split()): words for key, words in _word_table("person").items()}  # (presentation, age)
BALD_PHRASES = tuple(_CAPTION_DATA["bald"])
MOUTH_OPEN_PHRASES = tuple(_CAPTION_DATA["mouth_open"])
CAPTION_TEMPLATES = tuple(_CAPTION_DATA["templates"])


@dataclass
class HeadAttributes:
    """Everything that defines one head. Discrete fields use the vocabularies above."""

    seed: int
    presentation: str
    age: str
    skin_tone: str
    hair_style: str
    hair_color: str
    eyebrow_color: str          # a HAIR_COLORS name; tied to the hair unless the hair is dyed
    eye_color: str
    facial_hair: str
    facial_hair_color: str      # a HAIR_COLORS name (the hair's, grey, or on some training heads its own)
    glasses: str
    frame_color: str
    hat: str
    hat_color: str              # a GARMENT_COLORS name
    neckline: str
    clothes_color: str          # a GARMENT_COLORS name
    lip_color: str              # a LIP_COLORS name
    mouth_open: bool
    shape: dict[str, float] = field(default_factory=dict)  # continuous numbers, see SHAPE_RANGES
    # engine v2 (drawn after everything above, so a seed keeps its earlier attributes)
    expression: str = "neutral"       # an EXPRESSIONS name (open_mouth whenever mouth_open)
    freckles: float = 0.0             # 0 (none) .. 1 (many)
    phenotype: dict[str, float] = field(default_factory=dict)  # the head basis's numbers, see PHENOTYPE_RANGES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def color_of(self, part: str) -> tuple[int, int, int]:
        """Reference sRGB colour for a part: hair, eyes, skin, clothes, hat, lips, frame, eyebrows, facial_hair."""
        if part == "hair":
            return REFERENCE_COLORS["hair"][self.hair_color]
        if part == "eyebrows":
            return REFERENCE_COLORS["hair"][self.eyebrow_color]
        if part == "facial_hair":
            return REFERENCE_COLORS["hair"][self.facial_hair_color]
        if part == "eyes":
            return REFERENCE_COLORS["eyes"][self.eye_color]
        if part == "skin":
            return REFERENCE_COLORS["skin"][self.skin_tone]
        if part == "clothes":
            return REFERENCE_COLORS["garment"][self.clothes_color]
        if part == "hat":
            return REFERENCE_COLORS["garment"][self.hat_color]
        if part == "frame":
            return REFERENCE_COLORS["frame"][self.frame_color]
        if part == "lips":
            if self.lip_color == "natural":
                return natural_lip_color(self.skin_tone)
            return REFERENCE_COLORS["lips"][self.lip_color]
        raise KeyError(f"no reference colour for part {part!r}")


def attribute_class(attrs: "HeadAttributes", name: str) -> str:
    """A head's value of a discrete attribute, as its vocabulary names it (freckles, a number, as FRECKLES)."""
    if name == "freckles":
        return FRECKLES[int(attrs.freckles > 0)]
    return getattr(attrs, name)


def natural_lip_color(skin_tone: str) -> tuple[int, int, int]:
    """Unpainted lips: the skin tone, darker and redder."""
    r, g, b = REFERENCE_COLORS["skin"][skin_tone]
    return (int(r * 0.86), int(g * 0.62), int(b * 0.66))


# Continuous shape numbers: name -> (low, high). Lengths in metres, angles in radians.
SHAPE_RANGES: dict[str, tuple[float, float]] = {
    "skull_width": (0.068, 0.080),      # half-width of the cranium
    "skull_height": (0.090, 0.102),     # half-height of the cranium
    "skull_depth": (0.094, 0.106),      # half-depth of the cranium
    "jaw_width": (0.050, 0.064),        # half-width of the lower face
    "face_length": (0.070, 0.086),      # half-height of the lower-face ellipsoid
    "chin": (0.0, 1.0),                 # chin prominence
    "cheeks": (0.0, 1.0),               # cheekbone fullness
    "neck_width": (0.056, 0.068),       # neck half-width
    "eye_size": (0.85, 1.15),           # eye-opening scale
    "eye_spacing": (0.029, 0.035),      # half the distance between pupils
    "eye_height": (0.004, 0.016),       # eye line above the head centre
    "brow_thickness": (0.0035, 0.0075),
    "brow_arch": (0.0, 0.006),
    "nose_length": (0.038, 0.050),
    "nose_width": (0.013, 0.020),       # half-width at the nostrils
    "nose_bridge": (0.004, 0.010),      # bridge height above the face
    "nose_tip": (0.015, 0.022),         # tip height above the face
    "mouth_width": (0.020, 0.028),      # half-width
    "upper_lip": (0.004, 0.008),        # upper lip height
    "lower_lip": (0.006, 0.011),        # lower lip height
    "mouth_open": (0.003, 0.011),       # opening height when open
    "ear_size": (0.85, 1.15),
    "ear_protrusion": (0.15, 0.6),      # radians away from the head side
    "hair_volume": (0.7, 1.3),
    "hair_length": (0.0, 1.0),          # within the style's own range
    "hairline": (-1.0, 1.0),            # lower (-) or higher (+) than average
    "hair_part": (-1.0, 1.0),           # side of the parting (sign) and its offset
    "skin_variation": (0.0, 1.0),
    "beard_length": (0.004, 0.018),
    "shoulder_width": (0.17, 0.22),
    "light_yaw": (-0.9, 0.9),           # key light direction (radians about +y)
    "light_pitch": (0.25, 0.9),
    "light_strength": (0.45, 0.65),
}

# The head basis's phenotype per attribute (anny's 0..1 scales: gender 0 male .. 1 female; age 0.667 = 25 years,
# 1.0 = 90), and the build numbers every head draws
GENDER_RANGES = {"man": (0.0, 0.3), "woman": (0.7, 1.0), "androgynous": (0.35, 0.65)}
AGE_RANGES = {"young": (0.62, 0.72), "adult": (0.72, 0.86), "older": (0.86, 1.0)}
PHENOTYPE_RANGES = {"muscle": (0.3, 0.7), "weight": (0.2, 0.8), "proportions": (0.3, 0.7)}
# ancestry mix leaning by skin tone (Dirichlet concentrations over ANCESTRIES): a tone makes some mixes likelier,
# never impossible
ANCESTRY_LEAN = {"very_light": (0.3, 0.8, 2.0), "light": (0.3, 1.0, 2.0), "light_medium": (0.4, 1.5, 1.5),
                 "medium": (0.6, 1.5, 1.2), "tan": (1.0, 1.2, 1.0), "brown": (1.6, 0.8, 0.6),
                 "dark": (2.2, 0.4, 0.4), "very_dark": (2.5, 0.3, 0.3)}
EXPRESSION_WEIGHTS = {"neutral": 0.44, "slight_smile": 0.2, "smile": 0.1, "raised_brows": 0.06, "frown": 0.06,
                      "squint": 0.05, "blink": 0.04, "pout": 0.05}
# the benchmark's seeds (models/synthetic/sampler.py draws its heads from them; no training stream does)
BENCHMARK_SEED_BASE = 2_000_000_000
BENCHMARK_SEED_COUNT = 1000
# of the training heads with facial hair, the share whose beard takes a natural hair colour of its own rather than the
# hair's (a light beard under dark hair: otherwise never seen, so a prompt's beard colour never reached the head;
# docs/quality.md, twentieth session); benchmark heads keep the colours they were measured with
OWN_BEARD_COLOUR_SHARE = 0.35
# the rules sample_attributes follows, stamped into caption banks (models/style/train/bank.py) so that training
# refuses a bank whose captions describe its seeds as older rules drew them: 1 engine v2; 2 beards of their own colour
ATTRIBUTES_VERSION = 2


def is_benchmark_seed(seed: int) -> bool:
    return BENCHMARK_SEED_BASE <= int(seed) < BENCHMARK_SEED_BASE + BENCHMARK_SEED_COUNT


FRECKLE_CHANCE = {"very_light": 0.3, "light": 0.25, "light_medium": 0.12}  # other tones 0.04

_LONG_STYLES = ("bob", "long_straight", "long_wavy", "ponytail", "bun")


def _pick(rng: random.Random, options: dict[str, float]) -> str:
    names = list(options)
    return rng.choices(names, weights=[options[n] for n in names])[0]


def sample_attributes(seed: int) -> HeadAttributes:
    """Draw one head's attributes from its seed (pure Python RNG: identical on every machine)."""
    rng = random.Random(int(seed) * 2654435761 % (1 << 61) + 12345)
    presentation = _pick(rng, {"woman": 0.45, "man": 0.45, "androgynous": 0.10})
    age = _pick(rng, {"young": 0.4, "adult": 0.4, "older": 0.2})
    skin = rng.choice(SKIN_TONES)

    if presentation == "woman":
        style_w = {"bald": 0.02, "buzz": 0.03, "short": 0.08, "side_part": 0.1, "bob": 0.14, "long_straight": 0.17,
                   "long_wavy": 0.17, "ponytail": 0.1, "bun": 0.09, "afro": 0.1}
    elif presentation == "man":
        style_w = {"bald": 0.13, "buzz": 0.15, "short": 0.22, "side_part": 0.18, "bob": 0.03, "long_straight": 0.07,
                   "long_wavy": 0.06, "ponytail": 0.04, "bun": 0.04, "afro": 0.08}
    else:
        style_w = {s: 1.0 for s in HAIR_STYLES}
    style = _pick(rng, style_w)

    natural = {"black": 3, "dark_brown": 3, "brown": 3, "auburn": 1.2, "red": 0.8, "blonde": 1.6, "platinum": 0.5,
               "grey": 0.3, "white": 0.1, "blue": 0.35, "pink": 0.35, "green": 0.3, "purple": 0.35}
    if age == "older":
        natural.update(grey=4.0, white=2.0)
    color = _pick(rng, natural)
    dyed = color in DYED_HAIR_COLORS
    if dyed or color in ("platinum",):
        brow = rng.choice(("black", "dark_brown", "brown"))
    elif color == "white":
        brow = rng.choice(("grey", "white"))
    else:
        brow = color
    eye = _pick(rng, {"dark_brown": 3, "brown": 3, "amber": 0.6, "hazel": 1.2, "green": 1, "blue": 1.6, "grey": 0.6})

    facial = "none"
    if presentation == "man" or (presentation == "androgynous" and rng.random() < 0.2):
        facial = _pick(rng, {"none": 0.42, "stubble": 0.18, "moustache": 0.1, "goatee": 0.12, "full_beard": 0.18})
    facial_color = color if (not dyed and rng.random() < 0.8) else ("grey" if age == "older" else
                                                                      ("dark_brown" if dyed else color))
    if facial_color in DYED_HAIR_COLORS and rng.random() < 0.5:
        facial_color = "dark_brown"

    glasses = _pick(rng, {"none": 0.68, "round": 0.1, "rectangular": 0.12, "sunglasses": 0.1})
    hat_opts = {"none": 0.78, "beanie": 0.11, "cap": 0.11}
    if style == "afro":
        hat_opts = {"none": 1.0}
    elif style == "bun":
        hat_opts = {"none": 0.9, "cap": 0.1}
    hat = _pick(rng, hat_opts)
    lip = "natural"
    if presentation == "woman" and rng.random() < 0.35:
        lip = rng.choice(("red", "pink", "berry", "nude"))

    shape = {k: rng.uniform(lo, hi) for k, (lo, hi) in SHAPE_RANGES.items()}
    # sex-presentation shifts the shape distribution a little, never outside the ranges
    if presentation == "man":
        shape["jaw_width"] = min(SHAPE_RANGES["jaw_width"][1], shape["jaw_width"] + 0.004)
        shape["brow_thickness"] = min(SHAPE_RANGES["brow_thickness"][1], shape["brow_thickness"] + 0.0012)
        shape["neck_width"] = min(SHAPE_RANGES["neck_width"][1], shape["neck_width"] + 0.004)
        shape["upper_lip"] *= 0.85
        shape["lower_lip"] *= 0.85
    elif presentation == "woman":
        shape["jaw_width"] = max(SHAPE_RANGES["jaw_width"][0], shape["jaw_width"] - 0.003)
        shape["shoulder_width"] = max(SHAPE_RANGES["shoulder_width"][0], shape["shoulder_width"] - 0.015)
        shape["neck_width"] = max(SHAPE_RANGES["neck_width"][0], shape["neck_width"] - 0.004)
    frame, hat_colour = rng.choice(FRAME_COLORS), rng.choice(GARMENT_COLORS)
    neckline = _pick(rng, {"crew": 0.35, "v_neck": 0.25, "collar": 0.22, "turtleneck": 0.18})
    clothes, mouth_open = rng.choice(GARMENT_COLORS), rng.random() < 0.25
    # engine v2: the face's phenotype, expression and freckles
    lo, hi = GENDER_RANGES[presentation]
    phenotype = {"gender": rng.uniform(lo, hi), "age": rng.uniform(*AGE_RANGES[age])}
    phenotype.update({k: rng.uniform(lo, hi) for k, (lo, hi) in PHENOTYPE_RANGES.items()})
    mix = [rng.gammavariate(c, 1.0) for c in ANCESTRY_LEAN[skin]]
    phenotype.update({a: m / sum(mix) for a, m in zip(ANCESTRIES, mix)})
    phenotype["expression_strength"] = rng.uniform(0.6, 1.0)
    expression = "open_mouth" if mouth_open else _pick(rng, EXPRESSION_WEIGHTS)
    freckles = rng.uniform(0.4, 1.0) if rng.random() < FRECKLE_CHANCE.get(skin, 0.04) else 0.0
    if facial != "none" and not is_benchmark_seed(seed):
        # a generator of its own: every other draw of the head stays as it was
        own = random.Random(int(seed) * 0x9E3779B1 % (1 << 61) + 777)
        if own.random() < OWN_BEARD_COLOUR_SHARE:
            facial_color = own.choice([c for c in HAIR_COLORS if c not in DYED_HAIR_COLORS])
    return HeadAttributes(
        seed=int(seed), presentation=presentation, age=age, skin_tone=skin, hair_style=style, hair_color=color,
        eyebrow_color=brow, eye_color=eye, facial_hair=facial, facial_hair_color=facial_color, glasses=glasses,
        frame_color=frame, hat=hat, hat_color=hat_colour, neckline=neckline, clothes_color=clothes, lip_color=lip,
        mouth_open=mouth_open, shape=shape, expression=expression, freckles=freckles, phenotype=phenotype,
    )


def with_own_shape(a: HeadAttributes, share: float) -> HeadAttributes:
    """``a``, or for a ``share`` of seeds (never the benchmark's) ``a`` with an ancestry mix drawn without regard to
    its skin tone (a flat Dirichlet instead of ``ANCESTRY_LEAN[tone]``). A training recipe's option
    (``data.own_shapes``, models/synthetic/sampler.py), not a rule of ``sample_attributes``: every seed outside the
    recipes keeps its head (assets, tests, measurement streams). Why: with every face's shape leaning on its tone,
    the edit model learnt to read the skin from the map's nose and lips over the prompt ("fair skin" on a map of a
    dark-toned head came out dark; experiments/skin_from_map.py, docs/quality.md, twenty-first session). The
    captions never name the ancestry, so they stay true."""
    if share <= 0 or is_benchmark_seed(a.seed):
        return a
    rng = random.Random(int(a.seed) * 0x85EBCA77 % (1 << 61) + 4242)  # its own: nothing else of the head moves
    if rng.random() >= share:
        return a
    mix = [rng.gammavariate(1.0, 1.0) for _ in ANCESTRIES]
    return replace(a, phenotype={**a.phenotype, **{k: m / sum(mix) for k, m in zip(ANCESTRIES, mix)}})
