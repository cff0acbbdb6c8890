"""Colour words with their colours, and which part of the head each colour word in a prompt describes.

Why: the frozen e5 backbone places colour words as one category, not by hue ("crimson" is as near
*blue* as *red*), and a mean-pooled sentence vector does not bind a colour to its noun (docs/style.md).
A colour-name dictionary knows what colour a name means; this module turns a prompt into a few
numbers the trained text head reads beside the e5 embedding:

    prompt --clauses / words--> colour mentions ("crimson", "dark blue", "jade-eyed")
           --bind each to the nearest part noun in its clause (hair by default)-->
           per slot (hair, eyes, beard, skin, clothes): present, CIE Lab, soft nearness to that
           slot's reference colours  ->  features [F] (``feature_dim()``)

Knowledge source: the xkcd colour-survey names (CC0, 949 names) and the CSS Color Module 4 names
(148), as shipped in matplotlib (``matplotlib.colors.XKCD_COLORS`` / ``CSS4_COLORS``), and colour terms
of seven languages written by hand (``assets/style/colour_terms.yaml``). The table is built when a style
model is made (``models/style/train/colour_dictionary.py``, needs matplotlib) and stored inside the style
checkpoint, so the app reads it from the file it already loads and needs no extra import at run time.

Tenth session: names of things used as colours ("honeycomb", "pine needles", "wet peat"; 5 510 of
meodai's color-name-list, MIT, vetted by WordNet: ``assets/style/object_colours.tsv``), stored as
``ColourLexicon.objects`` and read only where a prompt uses them as a colour (``_object_colour_position``):
they never enter training prompts.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import replace, dataclass, field
from functools import cache
from typing import Any, Iterable, Sequence

import torch
from torch import Tensor

from models.assets import read_data
from models.synthetic.attributes import REFERENCE_COLORS

LEXICON_SOURCE = "matplotlib XKCD_COLORS (xkcd colour survey, CC0) + CSS4_COLORS"

# Slot -> the reference table its colours are compared with (same tables the engine paints from).
SLOTS: dict[str, str] = {"hair": "hair", "eyes": "eyes", "beard": "hair", "skin": "skin", "clothes": "garment"}

# Nouns that bind a colour to a slot. Hair is the default slot (most colour words in a head prompt
# describe hair), so it needs no list; "other" swallows colours of parts we do not score (lips, hats,
# glasses, brows) so they do not leak into hair. Base words of each language the backbone reads.
_NOUNS: dict[str, tuple[str, ...]] = {
    "hair": ("hair", "haired", "hairs", "hairdo", "haircut", "cheveux", "chevelure", "haare", "haaren", "haar",
             "pelo", "cabello", "capelli", "cabelo"),
    "eyes": ("eye", "eyes", "eyed", "iris", "irises", "yeux", "oeil", "œil", "augen", "auge", "äugig", "ojos", "ojo",
             "occhi", "occhio", "olhos", "olho", "ogen", "oog"),
    "beard": ("beard", "bearded", "moustache", "mustache", "moustached", "mustached", "stubble", "goatee", "sideburns",
              "barbe", "bart", "barba", "baard", "snor", "bigote", "baffi", "bigode", "schnurrbart"),
    "skin": ("skin", "skinned", "complexion", "peau", "haut", "piel", "pelle", "pele", "huid"),
    "clothes": ("shirt", "t-shirt", "tshirt", "top", "sweater", "jumper", "turtleneck", "hoodie", "jacket", "dress",
                "blouse", "coat", "suit", "collar", "scarf", "polo", "tee", "cardigan", "vest", "clothes", "outfit",
                "wearing", "dressed"),
    "other": ("lips", "lip", "lipstick", "hat", "beanie", "cap", "glasses", "spectacles", "frames", "sunglasses",
              "shades", "eyebrows", "brows", "eyebrow", "brow", "background", "earrings"),
}
_NOUN_SLOT = {w: slot for slot, words in _NOUNS.items() for w in words}
# More part nouns, read by lexicons with categories (older checkpoints keep the lists above): common
# synonyms of "eyes" and "hair" and the hairstyle nouns a colour is often put on ("a copper bob"), in the
# seven languages. A colour before one of these describes the hair (or eyes), whatever follows.
_MORE_NOUNS: dict[str, tuple[str, ...]] = {
    "hair": ("locks", "mane", "tresses", "strands", "curls", "waves", "ringlets", "braid", "braids", "plait",
             "plaits", "ponytail", "ponytails", "pigtails", "bun", "buns", "bob", "afro", "fringe", "bangs", "crop",
             "cut", "hairstyle", "mop", "dreadlocks", "dreads", "locs", "quiff", "mohawk", "updo", "pixie",
             "highlights", "streaks", "roots", "topknot", "chignon", "mèches", "boucles", "crinière", "tresse",
             "tresses", "natte", "coiffure", "frisur", "locken", "mähne", "zopf", "zöpfe", "pferdeschwanz", "dutt",
             "strähnen", "rizos", "melena", "trenza", "trenzas", "coleta", "moño", "peinado", "riccioli", "ricci",
             "chioma", "treccia", "trecce", "coda", "cachos", "juba", "trança", "tranças", "rabo", "coque", "madeixas",
             "krullen", "vlecht", "vlechten", "paardenstaart", "staart", "kapsel", "lokken", "manen"),
    "eyes": ("gaze", "peepers", "orbs", "pupils", "eyecolour", "eyecolor", "regard", "blick", "augenfarbe",
             "mirada", "sguardo", "olhar", "blik"),
    "other": ("eyeliner", "eyeshadow", "mascara", "lashes", "eyelashes", "nails", "freckles"),
}
_MORE_NOUN_SLOT = {w: slot for slot, words in _MORE_NOUNS.items() for w in words}
# Fixed phrases that hold a clause word ("and") or a hyphen and name one colour: read as one word.
_PHRASES = {"salt and pepper": "saltandpepper", "salt-and-pepper": "saltandpepper",
            "pepper and salt": "saltandpepper", "poivre et sel": "saltandpepper", "sale e pepe": "saltandpepper",
            "peper en zout": "saltandpepper", "sal y pimienta": "saltandpepper", "sal e pimenta": "saltandpepper",
            "top knot": "topknot", "top-knot": "topknot"}
# One-word adjectives "<colour><noun>" of German and Dutch (and English run-together forms): split off the noun.
_NOUN_SUFFIXES = (("äugige", "eyes"), ("äugig", "eyes"), ("augig", "eyes"), ("ogige", "eyes"), ("ogig", "eyes"),
                  ("haarige", "hair"), ("haarig", "hair"), ("harige", "hair"), ("harig", "hair"), ("haired", "hair"),
                  ("eyed", "eyes"))
# Words that end a clause: a colour never binds across them.
_CLAUSE_WORDS = {"and", "with", "but", "plus", "while", "et", "avec", "und", "mit", "y", "con", "e", "com", "en", "met"}
# Endings that turn a colour name into an adjective of it ("reddish", "sandy", "olivey").
_SUFFIXES = ("ish", "y")
# Words that only say "colour" after a name ("mint-coloured"); skipped when matching names.
_COLOUR_FILLERS = {"coloured", "colored", "colour", "color", "tinted", "toned", "hued", "shade", "shaded"}
_MAX_WORDS = 3  # longest colour name matched, in words ("light grey blue")
_SOFT_TEMPERATURE = 8.0  # deltaE over which nearness to a class colour fades (~ a clearly visible step)
# Weight of lightness in class distances. 0.5 (CMC's 2:1) was used while hue had no other say; with the
# colour's category choosing the hue family first (``CATEGORY_CLASSES``), plain CIE76 inside the family
# agrees best with hand-labelled hair names (experiments/colour_naming_check.py: 0.81 at 0.5, 0.86 at 1.0).
_LIGHTNESS_WEIGHT = 1.0
_OLD_LIGHTNESS_WEIGHT = 0.5  # what lexicons stored before categories were read with


# Basic colour categories (Berlin & Kay's terms, plus the few that hair and eye talk treats as their own).
# A name's category is its own head word when that is such a term ("sky blue" -> blue); otherwise the
# majority of its nearest dictionary names that do end in one (k-NN over the xkcd survey's own naming).
CATEGORY_WORDS: dict[str, str] = {
    "red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "blue": "blue", "purple": "purple",
    "violet": "purple", "pink": "pink", "brown": "brown", "grey": "grey", "gray": "grey", "black": "black",
    "white": "white", "teal": "teal", "turquoise": "teal", "aqua": "teal", "cyan": "teal", "magenta": "magenta",
    "fuchsia": "magenta", "beige": "beige", "tan": "beige", "cream": "beige", "maroon": "maroon",
    "burgundy": "maroon", "navy": "navy", "silver": "silver", "lavender": "lavender", "lilac": "lavender",
    "olive": "olive", "khaki": "olive", "gold": "gold", "golden": "gold", "blonde": "gold", "blond": "gold",
}
# Which attribute values a colour of each category may mean: hair and eyes are named by hue family first
# ("sky blue hair" is blue hair, however light; "navy hair" is blue, not black). Missing: no restriction.
CATEGORY_CLASSES: dict[str, dict[str, tuple[str, ...]]] = {
    "hair": {"red": ("red", "auburn"), "orange": ("red", "auburn"), "yellow": ("blonde", "platinum"),
             "gold": ("blonde", "platinum"), "green": ("green",), "blue": ("blue",), "navy": ("blue",),
             "teal": ("blue", "green"), "purple": ("purple",), "lavender": ("purple",),
             "pink": ("pink",), "magenta": ("pink", "purple"), "maroon": ("auburn", "red", "purple"),
             "brown": ("brown", "dark_brown", "auburn", "black"), "beige": ("blonde", "platinum", "brown"),
             "olive": ("green", "brown", "blonde"), "grey": ("grey", "platinum", "white", "black"),
             "silver": ("grey", "platinum", "white"), "white": ("white", "platinum", "grey"),
             "black": ("black", "dark_brown")},
    "eyes": {"orange": ("amber", "brown"), "yellow": ("amber", "hazel"), "gold": ("amber", "hazel"),
             "green": ("green", "hazel"), "olive": ("hazel", "green"), "blue": ("blue", "grey"), "navy": ("blue",),
             "teal": ("blue", "green"), "purple": ("blue", "grey"), "lavender": ("blue", "grey"),
             "brown": ("brown", "dark_brown", "amber", "hazel"), "beige": ("brown", "amber", "hazel"),
             "maroon": ("brown", "dark_brown"), "grey": ("grey", "blue"), "silver": ("grey", "blue"),
             "white": ("grey", "blue"), "black": ("dark_brown",)},
}
# Reading rules 1 (ColourLexicon.rules): silver-family hair is grey (the engine's grey says "silver-grey"; its
# white is "silver-white", which reads white by its head word) and blue-family eyes are blue ("ice blue",
# "pale blue" eyes were read grey), as hand labels of such names say (experiments/colour_naming_check.py).
_RULES_1_CLASSES: dict[str, dict[str, tuple[str, ...]]] = {
    "hair": {**CATEGORY_CLASSES["hair"], "silver": ("grey",)},
    "eyes": {**CATEGORY_CLASSES["eyes"], "blue": ("blue",)},
}
_VIVID_CHROMA = 58.0  # the auburn prototypes reach 64 only at hue 48; "brownish red" (chroma 55) is left to Lab
_VIVID_HUE = 42.0
# Names that are shade words more than hues: "dark eyes" are dark brown, "pale hair" is platinum.
_CATEGORY_PENALTY = 100.0  # deltaE added to classes outside a colour's category (the family decides; within it, Lab)
_CLAMPED_TABLES = frozenset({"hair", "eyes", "garment"})  # tables training prompts draw dictionary names for
_MODIFIER_WEIGHT = 1 / 3  # "strawberry blonde": the head word's colour, pulled a third towards the modifier


# ---- colour maths --------------------------------------------------------------------------
def srgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB 0..255 [..., 3] -> CIE Lab (D65) [..., 3]."""
    c = rgb.float() / 255.0
    lin = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / torch.tensor([0.95047, 1.0, 1.08883])
    f = torch.where(xyz > (6 / 29) ** 3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lab_to_srgb(lab: Tensor) -> tuple[int, int, int]:
    """CIE Lab (D65) [3] -> sRGB 0..255, clipped to the gamut (inverse of ``srgb_to_lab``)."""
    L, a, b = (float(x) for x in lab)
    fy = (L + 16) / 116
    f = torch.tensor([fy + a / 500, fy, fy - b / 200])
    e = 6 / 29
    xyz = torch.where(f > e, f ** 3, 3 * e * e * (f - 4 / 29)) * torch.tensor([0.95047, 1.0, 1.08883])
    m = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    lin = torch.linalg.solve(m, xyz).clamp(0, 1)
    c = torch.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin.clamp_min(1e-12) ** (1 / 2.4) - 0.055)
    r, g, bb = (int(round(float(x) * 255)) for x in c.clamp(0, 1))
    return (r, g, bb)


def _reference_lab(table: str) -> tuple[list[str], Tensor]:
    names = list(REFERENCE_COLORS[table])
    return names, srgb_to_lab(torch.tensor([REFERENCE_COLORS[table][n] for n in names]))


_REFS = {table: _reference_lab(table) for table in set(SLOTS.values())}


def nearest_reference(rgb: Sequence[int], table: str) -> str:
    """The engine reference colour name of ``table`` nearest (CIE76) to an sRGB colour."""
    names, labs = _REFS[table]
    d = (labs - srgb_to_lab(torch.tensor([list(rgb)]))).norm(dim=-1)
    return names[int(d.argmin())]


# ---- the dictionary ------------------------------------------------------------------------
def normalise_name(name: str) -> str:
    """'Dark-Sky Blue' -> 'dark sky blue' (the form prompts are matched in)."""
    return " ".join(re.findall(r"[^\W_]+", name.lower().replace("'", "")))


def _singular(word: str) -> str:
    """English plural -> singular for colour nouns ("emeralds", "cherries", "ashes"; not "pools" -> "poo")."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("shes", "ches", "xes", "sses")):
        return word[:-2]
    return word[:-1]


@dataclass
class ColourLexicon:
    """Colour names (normalised, 1-3 words) -> sRGB 0..255, and the colours that stand for each class.

    ``prototypes[table][value]`` lists the colours that mean that attribute value: the engine's
    reference colour plus the dictionary colours of the caption tables' own words for it (so class
    "brown" hair is what the dictionary calls "brown" / "chestnut", not only the engine's albedo,
    which is less saturated than any named colour).
    """

    colours: dict[str, tuple[int, int, int]]
    prototypes: dict[str, dict[str, list[tuple[int, int, int]]]]
    source: str = LEXICON_SOURCE
    # Basic colour terms of the other languages the backbone reads, and English hair-colour words the
    # colour lists lack ("blonde", "ginger"), with the colour of their English counterpart. Kept apart
    # from ``colours`` so training prompts draw only dictionary names (``augment.ColourNames``).
    aliases: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # name or alias -> basic colour category (CATEGORY_WORDS values); empty in lexicons made before it,
    # which then read colours by nearest class alone.
    categories: dict[str, str] = field(default_factory=dict)
    lightness_weight: float = _LIGHTNESS_WEIGHT  # stored, so a checkpoint reads colours as it was trained to
    # A named colour farther than this (deltaE) from every colour of the class it reads as is pulled in to this
    # distance before it becomes features: training prompts only use names this near a class
    # (``augment._MAX_DELTA_E``), and the text head extrapolates badly outside that range ("mint green" hair
    # read as grey). 0 = off (lexicons stored before it).
    clamp_delta_e: float = 0.0
    # Reading rules: 0 = as stored before the ninth session; 1 = hair and eye colour words read as their hair
    # sense (``_RULES_1_CLASSES``: silver hair is grey, blue-family eyes are blue; a vivid true red is red hair,
    # not auburn, however dark: "crimson", "dark red"). A checkpoint's text head was trained with one of them.
    rules: int = 0
    # Names of things used as colours (``assets/style/object_colours.tsv``), read only in a colour position
    # (``_object_colour_position``: "champagne hair", "the colour of champagne"); empty in older lexicons.
    objects: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "colours": self.colours, "prototypes": self.prototypes,
                           "aliases": self.aliases, "categories": self.categories,
                           "lightness_weight": self.lightness_weight, "clamp_delta_e": self.clamp_delta_e,
                           "rules": self.rules, "objects": self.objects},
                          separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ColourLexicon":
        d = json.loads(text)
        protos = {t: {v: [tuple(c) for c in cs] for v, cs in vals.items()} for t, vals in d["prototypes"].items()}
        return cls({k: tuple(v) for k, v in d["colours"].items()}, protos, d.get("source", ""),
                   {k: tuple(v) for k, v in d.get("aliases", {}).items()}, d.get("categories", {}),
                   float(d.get("lightness_weight", _OLD_LIGHTNESS_WEIGHT)), float(d.get("clamp_delta_e", 0.0)),
                   int(d.get("rules", 0)), {k: tuple(v) for k, v in d.get("objects", {}).items()})

    def category(self, words: Sequence[str]) -> str:
        """Basic colour category of a matched name ('' when the lexicon has none)."""
        name = " ".join(words)
        if name in self.categories:
            return self.categories[name]
        if name not in self.colours and name not in self.aliases and self.object_colour(words) is not None:
            return self.categories.get(" ".join([*words[:-1], _singular(words[-1])]), "")  # "pebbles"
        if words and words[-1] in CATEGORY_WORDS and self.categories:
            return CATEGORY_WORDS[words[-1]]
        rgb = self.lookup(words)
        if rgb is not None and self.categories and name not in self.colours and len(words[-1]) > 4 and words[-1].endswith("s"):
            single = [*words[:-1], _singular(words[-1])]
            if self.lookup(single) is not None:  # a plural ("emeralds") has its singular's category
                return self.category(single)
        return self.categories.get(_stem_name(self, words), "") if rgb is not None else ""

    def lookup(self, words: Sequence[str]) -> tuple[int, int, int] | None:
        """Colour of a 1-3 word name, also through an adjective ending ('reddish', 'sandy') or an alias."""
        name = " ".join(words)
        if name in self.colours:
            return self.colours[name]
        if name in self.aliases:
            return self.aliases[name]
        last = words[-1]
        for suf in _SUFFIXES:
            if last.endswith(suf) and len(last) > len(suf) + 2:
                stem = last[: -len(suf)]
                for cand in (stem, stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else None, stem + "e"):
                    if cand and " ".join([*words[:-1], cand]) in self.colours:
                        return self.colours[" ".join([*words[:-1], cand])]
        if self.categories and len(last) > 4 and last.endswith("s"):  # "eyes like emeralds", "sapphires"
            name = " ".join([*words[:-1], _singular(last)])
            return self.colours.get(name) or self.aliases.get(name)
        return None

    def object_colour(self, words: Sequence[str]) -> tuple[int, int, int] | None:
        """Colour of a thing's name ("champagne", "autumn leaves"), also through a plural; None when not one."""
        name = " ".join(words)
        if name in self.objects:
            return self.objects[name]
        last = words[-1]
        if len(last) > 4 and last.endswith("s"):
            return self.objects.get(" ".join([*words[:-1], _singular(last)]))
        return None

    def _weights(self) -> Tensor:
        """Per-axis weights [3] of the Lab distance (lightness, a, b)."""
        return torch.tensor([self.lightness_weight, 1.0, 1.0])

    def class_distances(self, lab: Tensor, table: str, categories: Sequence[str] = (),
                        rule_lab: Tensor | None = None) -> tuple[list[str], Tensor]:
        """Attribute values of ``table`` (in ``REFERENCE_COLORS`` order, which the features keep) and the
        deltaE [K] from ``lab`` [3] to each one's nearest prototype; values outside every one of the
        colour's ``categories`` (when all are known) get ``_CATEGORY_PENALTY`` more. ``rule_lab`` [3]: the colour the
        reading rules judge (the named colour before ``clamped`` pulled it in), default ``lab``."""
        names = list(REFERENCE_COLORS[table])
        labs = _proto_labs(self, table)
        w = self._weights()
        d = torch.stack([((pl - lab) * w).norm(dim=-1).min() for pl in labs])
        allowed = _allowed(table, categories, self.rules, lab if rule_lab is None else rule_lab)
        if allowed is not None:
            d = d + torch.tensor([0.0 if n in allowed else _CATEGORY_PENALTY for n in names])
        return names, d

    def clamped(self, lab: Tensor, table: str, categories: Sequence[str] = ()) -> Tensor:
        """``lab`` [3] pulled towards the nearest colour of the class it reads as, to at most
        ``clamp_delta_e`` from it (unchanged when nearer, when the clamp is off, or for a table that
        training names are not chosen from)."""
        if self.clamp_delta_e <= 0 or table not in _CLAMPED_TABLES:
            return lab
        _, d = self.class_distances(lab, table, categories)
        k = int(d.argmin())
        protos = _proto_labs(self, table)[k]                                   # [P, 3]
        w = self._weights()
        gaps = ((protos - lab) * w).norm(dim=-1)                               # [P]
        near = protos[int(gaps.argmin())]
        gap = float(gaps.min())
        if gap <= self.clamp_delta_e:
            return lab
        return near + (lab - near) * (self.clamp_delta_e / gap)

    def classify_many(self, rgbs: Sequence[Sequence[int]], table: str,
                      categories: Sequence[str] | None = None) -> tuple[list[str], Tensor]:
        """Nearest attribute value of ``table`` for many sRGB colours [N] (each within its category, when
        ``categories`` [N] is given): (values, deltaE [N], penalty included)."""
        names = list(REFERENCE_COLORS[table])
        lab = srgb_to_lab(torch.tensor([list(c) for c in rgbs], dtype=torch.float32))  # [N, 3]
        w = self._weights()
        d = torch.stack([((lab[:, None] - pl[None]) * w).norm(dim=-1).min(dim=1).values
                         for pl in _proto_labs(self, table)], dim=1)  # [N, K]
        if categories is not None:
            for i, cat in enumerate(categories):
                allowed = _allowed(table, [cat] if cat else [], self.rules, lab[i])
                if allowed is not None:
                    d[i] += torch.tensor([0.0 if n in allowed else _CATEGORY_PENALTY for n in names])
        best = d.min(dim=1)
        return [names[i] for i in best.indices.tolist()], best.values

    def classify(self, rgb: Sequence[int], table: str, categories: Sequence[str] = ()) -> tuple[str, float]:
        """Nearest attribute value of ``table`` for an sRGB colour (within its categories), and its deltaE."""
        names, d = self.class_distances(srgb_to_lab(torch.tensor([list(rgb)]))[0], table, categories)
        i = int(d.argmin())
        return names[i], float(d[i])


def _allowed(table: str, categories: Sequence[str], rules: int = 0, lab: Tensor | None = None) -> set[str] | None:
    """Values of ``table`` that colours of these categories (and, under reading rules 1, this Lab colour [3])
    may mean; None = no restriction."""
    classes = (_RULES_1_CLASSES if rules >= 1 else CATEGORY_CLASSES).get(table)
    if not classes or not categories or any(c not in classes for c in categories):
        return None
    allowed = {v for c in categories for v in classes[c]}
    if rules >= 1 and table == "hair" and allowed == {"red", "auburn"} and lab is not None and _vivid_red(lab):
        return {"red"}
    return allowed


def _vivid_red(lab: Tensor) -> bool:
    """``lab`` [3] is a saturated true red (hue below the auburn colours' ~45-62 degrees, chroma above theirs): dyed-red
    hair words ("crimson", "dark red", "blood red") whatever their lightness. Auburn is a brownish red. Bluish reds
    (negative hue) count too; the red family's category already keeps purples out."""
    a, b = float(lab[1]), float(lab[2])
    return math.hypot(a, b) > _VIVID_CHROMA and math.degrees(math.atan2(b, a)) < _VIVID_HUE


def _stem_name(lex: "ColourLexicon", words: Sequence[str]) -> str:
    """The dictionary name an adjective form reached ('reddish' -> 'red'), else the words as they are."""
    last = words[-1]
    for suf in _SUFFIXES:
        if last.endswith(suf) and len(last) > len(suf) + 2:
            stem = last[: -len(suf)]
            for cand in (stem, stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else None, stem + "e"):
                if cand and " ".join([*words[:-1], cand]) in lex.colours:
                    return " ".join([*words[:-1], cand])
    return " ".join(words)


def _proto_labs(lex: ColourLexicon, table: str) -> list[Tensor]:
    """Lab of each value's prototypes, in ``REFERENCE_COLORS`` order (JSON files sort keys; order must not
    depend on that), cached on the lexicon."""
    cache = lex.__dict__.setdefault("_labs", {})
    if table not in cache:
        cache[table] = [srgb_to_lab(torch.tensor(lex.prototypes[table][v], dtype=torch.float32))
                        for v in REFERENCE_COLORS[table]]
    return cache[table]


# ---- prompt -> colour mentions per slot ----------------------------------------------------
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[,;.!?/+()\[\]:|\n—–]")


@dataclass(frozen=True)
class ColourMention:
    words: str                      # the colour name as matched ("dark blue")
    rgb: tuple[int, int, int]
    slot: str                       # hair / eyes / beard / skin / clothes / other
    category: str = ""              # basic colour category (CATEGORY_WORDS values); '' = unknown


def _clauses_seps(text: str) -> list[tuple[str, list[str]]]:
    """Clauses of a prompt, each with the token that ended the clause before it ('' for the first)."""
    clauses: list[tuple[str, list[str]]] = []
    cur: list[str] = []
    sep = ""
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        if tok in _CLAUSE_WORDS or not tok[0].isalnum():
            if tok == ":" and cur:  # "hair: red" stays one clause
                continue
            if cur:
                clauses.append((sep, cur))
                sep = tok
            elif sep not in _CLAUSE_WORDS or tok in _CLAUSE_WORDS:
                sep = tok  # ", and" ends a clause as "and" does; "and," as "and"
            cur = []
        else:
            cur.append(tok)
    if cur:
        clauses.append((sep, cur))
    return clauses


def _clauses(text: str) -> list[list[str]]:
    return [words for _sep, words in _clauses_seps(text)]


def _colour_clauses(text: str, extended: bool) -> list[list[str]]:
    """Clauses for colour reading; ``extended`` adds the fixed phrases and the split compound adjectives
    ("blauäugig" -> "blau", "äugig")."""
    return [words for _sep, words in _colour_clauses_seps(text, extended)]


def _colour_clauses_seps(text: str, extended: bool) -> list[tuple[str, list[str]]]:
    """``_colour_clauses`` with the separator before each clause."""
    if not extended:
        return _clauses_seps(text)
    low = text.lower().replace("’", "'")
    for phrase, word in _PHRASES.items():
        low = low.replace(phrase, word)
    out = []
    for sep, words in _clauses_seps(low):
        split: list[str] = []
        for w in words:
            for suf, _slot in _NOUN_SUFFIXES:
                if w.endswith(suf) and len(w) > len(suf) + 2 and w not in _NOUN_SLOT:
                    split += [w[: -len(suf)], suf]
                    break
            else:
                split.append(w)
        out.append((sep, split))
    return out


def _has_colour(lexicon: ColourLexicon, words: Sequence[str]) -> bool:
    """Whether any single word of ``words`` is a colour name."""
    return any(lexicon.lookup([w]) is not None for w in words)


COLOUR_TERMS = "style/colour_terms.yaml"  # under assets/


@cache
def colour_terms() -> dict[str, Any]:
    """The colour-term tables of ``assets/style/colour_terms.yaml`` (shared: do not change them).

    "basic", "hair", "eyes", "read_only": {language: {English counterpart or "@hair:VALUE": forms}};
    "terms": the basic terms with the eye, hair and read-only words merged in, in that order;
    "shades", "german_endings": as in the file.
    """
    data = read_data(COLOUR_TERMS)
    tables = {k: {lang: {base: tuple(forms) for base, forms in t.items()} for lang, t in data[k].items()}
              for k in ("basic", "hair", "eyes", "read_only")}
    terms = {lang: dict(t) for lang, t in tables["basic"].items()}
    for table in (tables["eyes"], tables["hair"], tables["read_only"]):
        for lang, t in table.items():
            for base, forms in t.items():
                terms[lang][base] = tuple(dict.fromkeys(terms[lang].get(base, ()) + forms))
    return {**tables, "terms": terms, "shades": data["shades"], "german_endings": tuple(data["german_endings"])}


@cache
def _hair_only() -> frozenset[str]:
    """Words that name a person by their hair colour ("blonde", "brunette", "redhead", "rubia", "ruivo"; the basic
    "@hair:" terms, not the wider vocabulary): they describe the hair unless a part noun is right next to them
    ("blonde eyebrows", "occhi biondi")."""
    terms = colour_terms()
    return frozenset(normalise_name(f) for lang, table in terms["terms"].items() for base, forms in table.items()
                     if base in ("@hair:blonde", "@hair:red", "@hair:dark_brown") for f in forms
                     if f not in terms["hair"].get(lang, {}).get(base, ()))


# "-eyed" / "-haired" forms: adjectives, not the noun a following hair word would describe.
_ADJECTIVE_NOUNS = frozenset({"eyed", "haired", "skinned", "bearded", "äugig", "augig", "ogig", "haarig", "harig",
                              "äugige", "ogige", "haarige", "harige"})


# Third pass: binding across clauses (lexicons with categories). Separators a colour may reach a bare noun
# of the clause before over ("her eyes, which are green", "eyes (green)", "eyes with a green tint"), the
# "and" words, and the little words that may stand before the noun of a clause that shares a colour
# ("brown hair and [her] eyes") or that stop a colour list from reaching a noun ("red and a beard").
_BACK_SEPS = frozenset({",", ";", "(", "—", "–", "with", "avec", "mit", "con", "com", "met"})
_AND_WORDS = frozenset({"and", "et", "und", "y", "e", "en", "plus"})
_SHARE_WORDS = frozenset({"her", "his", "their", "its", "my", "your", "matching", "the"})
_ARTICLES = frozenset({"a", "an", "the", "her", "his", "their", "its", "my", "your", "some", "no"})
_SHARED_SLOTS = frozenset({"hair", "eyes", "beard"})  # parts that share a colour over "and" ("red lips and eyes" do not)
_RELATIVE_WORDS = frozenset({"which", "that", "who", "whose", "both"})
_ACROSS_RULES = {"share", "back", "and", "forward"}  # all on; experiments/english_readout_diagnosis.py turns some off
_LIST_EXTRA = 2  # non-colour words a colour-only clause may hold ("a deep green", "flecks of gold")


def find_colours(text: str, lexicon: ColourLexicon) -> list[ColourMention]:
    """Colour names in a prompt, each bound to the part it describes.

    Within a clause a colour binds to the nearest part noun after it (English puts the adjective
    first), else the nearest before it ("eyes: azure", "les yeux verts"), else hair. Two names in a
    row are one compound whose last name is the head ("strawberry blonde", "dark blonde", "apple red":
    the head's category, its colour pulled a third towards the modifier), in lexicons with categories.
    Those lexicons also bind across clauses (``_bind_across``): "her eyes, which are green", "eyes of
    green and gold", "green and gold eyes", "blue, almond-shaped eyes", "brown hair and eyes".
    """
    extended = bool(lexicon.categories)
    noun_slot = {**_NOUN_SLOT, **_MORE_NOUN_SLOT, **{s: slot for s, slot in _NOUN_SUFFIXES}} if extended else _NOUN_SLOT
    clauses = _colour_clauses_seps(text, extended)
    found: list[list[tuple[ColourMention, str, int]]] = []  # per clause: (mention, how bound, word index)
    for _sep, words in clauses:
        out: list[tuple[ColourMention, str, int]] = []
        last_end = -1
        nouns = [(i, noun_slot[w]) for i, w in enumerate(words) if w in noun_slot]
        if extended:  # "shades of red" is not sunglasses
            nouns = [(i, s) for i, s in nouns if not (words[i] == "shades" and i + 1 < len(words) and words[i + 1] == "of")]
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
                span = words[i:i + n]
                if span[-1] in _COLOUR_FILLERS or span[-1] in noun_slot:
                    continue
                rgb, bound_to = lexicon.lookup(span), None
                if rgb is None and extended and lexicon.objects:
                    rgb, span = _object_colour(words, i, n, lexicon)
                    bound_to = _object_colour_position(words, i, n, noun_slot, lexicon) if rgb is not None else None
                    if bound_to is None:
                        rgb, span = None, words[i:i + n]
                if rgb is not None:
                    hit = (n, rgb, span, bound_to)
                    break
            if hit is None:
                i += 1
                continue
            n, rgb, span, bound_to = hit
            after = [(j, s) for j, s in nouns if j >= i + n]
            before = [s for j, s in nouns if j < i]
            if extended and after and before and _has_colour(lexicon, words[i + n:after[0][0]]):
                after = []  # "eyes that shine green under black bangs": that noun has its own colour
            slot = after[0][1] if after else (before[-1] if before else "hair")
            how = "after" if after else ("before" if before else "none")
            right_before = i > 0 and words[i - 1] in noun_slot and words[i - 1] not in _ADJECTIVE_NOUNS
            if extended and " ".join(span) in _hair_only() and not (after and after[0][0] == i + n) and not right_before:
                slot, how = "hair", "hair_word"  # "blue-eyed blonde": a hair-colour noun describes the hair
            if bound_to:  # "hair like honeycomb under a hat": the simile's own noun, not the next one
                slot, how = bound_to, "simile"
            mention = ColourMention(" ".join(span), rgb, slot, lexicon.category(span))
            if lexicon.categories and out and last_end == i:  # compound: the earlier name modifies this one
                prev = out.pop()[0]
                mix = srgb_to_lab(torch.tensor([list(prev.rgb), list(rgb)], dtype=torch.float32))
                lab = _MODIFIER_WEIGHT * mix[0] + (1 - _MODIFIER_WEIGHT) * mix[1]
                mention = ColourMention(f"{prev.words} {mention.words}", lab_to_srgb(lab), slot, mention.category)
            out.append((mention, how, i))
            i += n
            last_end = i
        found.append(out)
    if extended:
        _bind_across(clauses, found, noun_slot)
    return [m for out in found for m, _how, _i in out]


_LIKE_WORDS = frozenset({"of", "like", "as"})
_COLOUR_NOUNS = frozenset({"colour", "color", "shade", "hue", "tone", "tint", "shades", "hues", "tones"})
_BE_WORDS = frozenset({"is", "are", "was", "were"})
_OBJECT_SLOTS = frozenset({"hair", "eyes", "beard"})
_LINK_WORDS = _LIKE_WORDS | _BE_WORDS
_NEGATIONS = frozenset({"not", "never", "nothing"})
# Words that may follow a thing used as a colour in a simile ("eyes like pebbles on a beach"), and that end the
# modifiers before one ("wet from the rain" is not a colour).
_PHRASE_ENDS = frozenset({"on", "in", "at", "from", "under", "over", "after", "before", "by", "with", "without",
                          "into", "onto", "for", "to", "through", "against", "beneath", "below", "above", "near",
                          "when", "while", "as", "that", "which", "who", "but", "or", "and", "so", "than", "is",
                          "are", "was", "were", "just", "all", "every", "during"})
_OBJECT_MODIFIERS = 2  # words allowed between "like" / "of" and the thing ("like a freshly lit candle")
# Hair nouns that name a style rather than the hair's colour: a thing before one names the style's shape ("a
# pineapple updo", "a butterfly haircut"), not a colour (a dictionary colour still may: "a copper bob").
_STYLE_NOUNS = frozenset({
    "braid", "braids", "plait", "plaits", "ponytail", "ponytails", "pigtails", "bun", "buns", "bob", "afro", "fringe",
    "bangs", "crop", "cut", "hairstyle", "hairdo", "haircut", "mop", "dreadlocks", "dreads", "locs", "quiff",
    "mohawk", "updo", "pixie", "topknot", "chignon", "tresse", "natte", "coiffure", "frisur", "zopf", "zöpfe",
    "pferdeschwanz", "dutt", "trenza", "trenzas", "coleta", "moño", "peinado", "treccia", "trecce", "coda", "trança",
    "tranças", "rabo", "coque", "vlecht", "vlechten", "paardenstaart", "staart", "kapsel"})


def _object_colour(words: Sequence[str], i: int, n: int,
                   lexicon: ColourLexicon) -> tuple[tuple[int, int, int] | None, list[str]]:
    """Colour of the thing ``words[i:i+n]`` names and the words it is read as: a possessive is read without its
    "'s" ("a raven's wing": the raven's colour), through the object table or the dictionary; else (None, span)."""
    span = list(words[i:i + n])
    rgb = lexicon.object_colour(span)
    if rgb is None and span[-1].endswith("'s") and len(span[-1]) > 4:
        bare = [*span[:-1], span[-1][:-2]]
        rgb = lexicon.object_colour(bare) or lexicon.lookup(bare)
        if rgb is not None:
            return rgb, bare
    return rgb, span


def _object_colour_position(words: Sequence[str], i: int, n: int, noun_slot: dict[str, str],
                            lexicon: ColourLexicon) -> str | None:
    """Whether the thing named by ``words[i:i+n]`` is used as a colour here, and what it then describes.

    '' (bind as any colour does): right before a part noun, a colour word or "-coloured" ("champagne hair",
    "champagne-coloured", "candyfloss pink"), but not before a hairstyle noun ("a pineapple updo"). A part slot:
    after that part's noun with "like" / "of" / "is" or a colon ("eyes like jade pebbles", "hair of flax", "her
    hair is champagne", "eyes: peat"), the noun of the simile. '' after "colour / shade of" ("the colour of
    honeycomb"). None elsewhere: a thing is just a thing ("a glass of champagne", "hair like a rock star",
    "Hazel's eyes", "her hair is not honeycomb").
    """
    j = i + n
    possessive = words[j - 1].endswith("'s")
    if not possessive and j < len(words) and (
            words[j] in noun_slot and words[j] not in _STYLE_NOUNS
            or words[j] in _COLOUR_FILLERS or lexicon.lookup(words[j:j + 1]) is not None):
        return ""
    if possessive:
        j += 1  # "like a raven's wing": the possessed part has the raven's colour
    if j < len(words) and words[j] not in _PHRASE_ENDS:
        return None  # "hair like a rock star": the thing names another thing here
    if not possessive and j >= len(words) and i >= 1 and noun_slot.get(words[i - 1]) in _OBJECT_SLOTS:
        return noun_slot[words[i - 1]]  # "eyes: peat" (the colon joins the clause)
    k, free = i - 1, _OBJECT_MODIFIERS
    while k >= 0 and words[k] not in _NEGATIONS and (
            words[k] in _ARTICLES
            or free > 0 and words[k] not in noun_slot and words[k] not in _LINK_WORDS and words[k] not in _PHRASE_ENDS):
        if words[k] not in _ARTICLES:
            free -= 1  # "like a candle flame", "the colour of old pennies"
        k -= 1
    if k < 1 or words[k] not in _LINK_WORDS:
        return None
    before = words[k - 1]
    if words[k] in _LIKE_WORDS:  # "eyes like ...", "hair shines like ...", "the colour of ..."
        if before in _COLOUR_NOUNS:
            return ""
        if noun_slot.get(before) in _OBJECT_SLOTS:
            return noun_slot[before]
        if words[k] == "like" and k >= 2 and noun_slot.get(words[k - 2]) in _OBJECT_SLOTS:
            return noun_slot[words[k - 2]]
        return None
    return noun_slot[before] if noun_slot.get(before) in _OBJECT_SLOTS else None  # "her hair is champagne"


def _bind_across(clauses: list[tuple[str, list[str]]], found: list[list[tuple[ColourMention, str, int]]],
                 noun_slot: dict[str, str]) -> None:
    """Rebind, in place, colours of clauses without a part noun, and share a colour over "and".

    A clause with a colour but no part noun (its colours went to hair by default) takes, in order:
    (1) the noun that ends the clause before, over a comma / bracket / dash / "with", when that clause
    has no colour and this one is a relative clause ("her eyes, which are green"), or the noun has an
    article or possessive ("her eyes, a deep green") or this clause says "the colour of" ("eyes, the colour of
    jade"), or it stands bare before a bracket, dash or "with"
    ("eyes (green)", "eyes with a green tint"); not in terse lists ("moustache, copper red ivy league",
    "<unknown word> eyes, copper"), whose bare colour is the hair's; (2) after "and", the
    part of the clause before's last colour if that colour followed its noun ("eyes of green and gold");
    (3) when it holds nothing but colour names, the first noun of the next clause over "and", unless that
    clause starts with an article ("green and gold eyes"; not "red and a beard", "a puce fade and grey
    eyes"). Never over a comma: in terse lists ("curly, charcoal, moustache", "bobbed, camel, stocking
    cap") a bare colour is the hair's far more often than the next noun's ("blue, almond-shaped eyes").
    A clause that is only a part noun after "and" shares the colour that ends the clause before
    ("brown hair and eyes", "red hair and beard"; hair, eyes and beard only). Hair-colour nouns ("blonde", "redhead") stay hair.
    """
    def colour_only(k: int, extra: int = _LIST_EXTRA) -> bool:
        words = clauses[k][1]
        n_colour = sum(len(m.words.split()) for m, _h, _i in found[k])
        return bool(found[k]) and not any(w in noun_slot for w in words) and len(words) - n_colour <= extra

    def rebind(k: int, slot: str, how: str) -> None:
        found[k] = [(replace(m, slot=slot), how, i) if h == "none" else (m, h, i) for m, h, i in found[k]]

    for k in range(len(clauses)):
        sep, words = clauses[k]
        if not found[k] and k > 0 and sep in _AND_WORDS and found[k - 1] and "share" in _ACROSS_RULES:
            nouns = [w for w in words if w in noun_slot and w not in _ADJECTIVE_NOUNS]
            prev_words = clauses[k - 1][1]
            m, how, _i = found[k - 1][-1]
            if (len(nouns) == 1 and words[-1] == nouns[0] and all(w in _SHARE_WORDS for w in words[:-1])
                    and how == "after" and prev_words[-1] in noun_slot and noun_slot[prev_words[-1]] == m.slot
                    and {m.slot, noun_slot[nouns[0]]} <= _SHARED_SLOTS):
                found[k].append((replace(m, slot=noun_slot[nouns[0]]), "shared", len(words) - 1))
            continue
        if not any(h == "none" for _m, h, _i in found[k]) or any(w in noun_slot for w in words):
            continue
        if k > 0:
            prev_sep, prev_words = clauses[k - 1]
            last = prev_words[-1]
            bare = (len(prev_words) > 1 and prev_words[-2] in _ARTICLES) or words[0] in _RELATIVE_WORDS or (
                sep not in {",", ";"} and all(w in _ARTICLES for w in prev_words[:-1][-1:])) or (
                len(words) > 2 and words[0] in _ARTICLES and words[1] in _COLOUR_NOUNS)  # "eyes, the colour of jade"
            if ("back" in _ACROSS_RULES and sep in _BACK_SEPS and not found[k - 1] and last in noun_slot
                    and last not in _ADJECTIVE_NOUNS and bare):
                rebind(k, noun_slot[last], "back")
                continue
            if "and" in _ACROSS_RULES and sep in _AND_WORDS and found[k - 1] and found[k - 1][-1][1] == "before" and colour_only(k):
                rebind(k, found[k - 1][-1][0].slot, "before")
                continue
        if "forward" in _ACROSS_RULES and k + 1 < len(clauses) and colour_only(k, 0):
            nsep, nwords = clauses[k + 1]
            first = next((j for j, w in enumerate(nwords) if w in noun_slot), None)
            if first is None or nsep not in _AND_WORDS or nwords[0] in _ARTICLES:
                continue
            rebind(k, noun_slot[nwords[first]], "forward")


def feature_dim() -> int:
    """Width of ``colour_features``: per slot 1 (present) + 3 (Lab / 100) + one per attribute value."""
    return sum(1 + 3 + len(REFERENCE_COLORS[table]) for table in SLOTS.values())


def colour_features(texts: Iterable[str], lexicon: ColourLexicon) -> Tensor:
    """Prompts -> [B, feature_dim()] float32: what colour each slot was asked to be (zeros: not said).

    Per slot: 1 when a colour was named, its CIE Lab / 100 (mean of several names), and a softmax
    over the slot's attribute values of -deltaE to each value's nearest prototype colour.
    """
    rows = []
    for text in texts:
        mentions = find_colours(text, lexicon)
        parts = []
        for slot, table in SLOTS.items():
            k = len(REFERENCE_COLORS[table])
            rgbs = [m.rgb for m in mentions if m.slot == slot]
            if not rgbs:
                parts.append(torch.zeros(1 + 3 + k))
                continue
            lab = srgb_to_lab(torch.tensor(rgbs)).mean(0)  # [3]
            cats = [m.category for m in mentions if m.slot == slot]
            cats = cats if all(cats) else ()
            pulled = lexicon.clamped(lab, table, cats)  # [3]; the rules still judge the named colour
            _, d = lexicon.class_distances(pulled, table, cats, rule_lab=lab)
            lab = pulled
            parts.append(torch.cat([torch.ones(1), lab / 100.0, torch.softmax(-d / _SOFT_TEMPERATURE, dim=0)]))
        rows.append(torch.cat(parts))
    return torch.stack(rows) if rows else torch.zeros(0, feature_dim())
