"""Held-out paraphrase prompts with their target attributes (never used in training).

``prompt_attribute_accuracy`` (issue 5, item 7) asks: for prompts worded the way artists write,
not the way our caption templates do, do hair colour, hairstyle, eye colour and facial hair come
out as asked? This set is that test. Its descriptive words (colours, styles, beards) avoid every
word in the engine's caption synonym tables (``*_WORDS`` in ``models.synthetic.attributes``):
"crimson" not "red", "pageboy" not "bob", "scruff" not "stubble"; sentences use other word orders;
prompts run from two words to long briefs; about a quarter are French, German or Spanish.
``tests/test_style_paraphrases.py`` checks the vocabulary and that no prompt occurs in any
training caption.

Each prompt carries targets only for what it says: a woman's prompt that does not mention facial
hair is not scored on facial hair; a bald prompt has no hair colour target. A prompt counts as
correct when every scored attribute it names is predicted as asked.

The set is fixed: a seeded generator over the phrase tables below (same list on every machine)
plus hand-written prompts. Changing the tables changes the benchmark; bump ``VERSION`` if so.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

VERSION = "paraphrases-v1"
SCORED = ("hair_color", "hair_style", "eye_color", "facial_hair")


@dataclass(frozen=True)
class Paraphrase:
    prompt: str
    targets: dict[str, str] = field(hash=False)  # attribute -> vocabulary value (models.synthetic.attributes)
    language: str = "en"


# ---- English descriptor tables: no word here appears in the caption synonym tables ----------
HAIR_COLOR = {
    "black": ("inky", "onyx", "sable", "coal"),
    "dark_brown": ("espresso", "coffee", "cocoa"),
    "brown": ("mousy", "hazelnut", "toffee"),
    "auburn": ("russet", "mahogany", "henna"),
    "red": ("crimson", "scarlet", "carrot", "fiery"),
    "blonde": ("flaxen", "straw", "buttery", "wheat"),
    "platinum": ("bleached", "peroxide", "champagne"),
    "grey": ("ash", "pewter", "slate", "salt-and-pepper"),
    "white": ("chalk", "ivory", "alabaster", "milky"),
    "blue": ("cobalt", "azure", "sapphire", "cerulean"),
    "pink": ("fuchsia", "flamingo", "magenta", "candyfloss"),
    "green": ("lime", "mint", "jade", "moss"),
    "purple": ("lavender", "lilac", "plum", "amethyst"),
}
# {c} is the colour word; bald has no colour slot (and no colour target).
HAIR_STYLE = {
    "bald": ("a smooth bare scalp", "a cue-ball scalp", "not a single strand on the scalp"),
    "buzz": ("{c} hair shorn down to fuzz", "a shorn {c} fuzz", "clippered {c} hair"),
    "short": ("a {c} pixie", "neatly trimmed {c} hair above the ears", "{c} hair in a tidy trim"),
    "side_part": ("{c} hair combed over to the left", "a {c} comb-over", "{c} hair brushed sideways"),
    "bob": ("a {c} pageboy", "a blunt {c} pageboy", "a {c} lob"),
    "long_straight": ("lengthy silky {c} tresses", "flat-ironed {c} locks down to the waist", "waist-reaching smooth {c} hair"),
    "long_wavy": ("{c} mermaid waves down to the waist", "lengthy rippling {c} locks", "{c} beachy waves down to the hips"),
    "ponytail": ("{c} hair gathered into a pony", "a {c} pony held by a scrunchie", "{c} locks gathered at the nape in a tail"),
    "bun": ("a {c} chignon", "{c} hair in an updo", "{c} locks coiled into a twist on the crown"),
    "afro": ("a {c} halo of tight coils", "coily {c} 'fro", "{c} kinky coils"),
}
EYE_COLOR = {
    "dark_brown": ("espresso", "coffee-coloured", "nearly ink-coloured"),
    "brown": ("cinnamon", "toffee", "mocha"),
    "amber": ("whisky", "topaz", "tawny"),
    "hazel": ("mottled", "marbled", "flecked"),
    "green": ("jade", "verdant", "mossy"),
    "blue": ("azure", "sapphire", "cornflower", "cobalt"),
    "grey": ("slate", "pewter", "stormy", "smoky"),
}
FACIAL_HAIR = {
    "none": ("clean-shaven", "beardless", "smooth-chinned"),
    "stubble": ("some scruff", "a few days' growth", "scruffy unshaven cheeks"),
    "moustache": ("a handlebar 'tache", "a walrus 'stache", "a pencil 'tache"),
    "goatee": ("a Van Dyke", "a pointed tuft under the lip", "a little tuft below the mouth"),
    "full_beard": ("lumberjack whiskers", "a face covered in whiskers", "heavy woodsman whiskers"),
}
EYE_NOUN = ("eyes", "irises", "gaze")
MAN = ("dude", "fellow", "bloke", "chap")
WOMAN = ("lass", "gal", "female character", "heroine")
ANY = ("character", "figure", "avatar", "NPC")

# ---- other languages: hand-picked phrases (none of these words occur in the caption tables) --
_FR = {
    "hair_color": {"black": "noirs", "dark_brown": "brun foncé", "brown": "châtains clairs", "red": "roux",
                   "blonde": "blonds dorés", "grey": "poivre et sel", "white": "blancs comme neige",
                   "blue": "bleus", "green": "verts", "purple": "lilas"},
    "eye_color": {"dark_brown": "marron foncé", "brown": "marron", "hazel": "noisette", "green": "verts",
                  "blue": "bleus", "grey": "gris"},
    "hair_style": {"short": "des cheveux courts {c}", "long_straight": "de longs cheveux lisses {c}",
                   "long_wavy": "de longs cheveux ondulés {c}", "ponytail": "une queue de cheval aux cheveux {c}",
                   "bun": "un chignon aux cheveux {c}", "bob": "une coupe au carré aux cheveux {c}"},
    "facial_hair": {"none": "rasé de près", "stubble": "une barbe de trois jours", "goatee": "un bouc",
                    "full_beard": "une barbe fournie"},
}
_DE = {
    "hair_color": {"black": "schwarze", "dark_brown": "dunkelbraune", "brown": "braune", "red": "rote",
                   "blonde": "goldblonde", "grey": "graue", "white": "weiße", "blue": "blaue", "green": "grüne",
                   "purple": "lila"},
    "eye_color": {"dark_brown": "dunkelbraunen", "brown": "braunen", "hazel": "haselnussbraunen", "green": "grünen",
                  "blue": "blauen", "grey": "grauen"},
    "hair_style": {"short": "kurze {c} Haare", "long_straight": "lange, glatte {c} Haare",
                   "long_wavy": "lange, gewellte {c} Haare", "ponytail": "einen Pferdeschwanz, {c} Haare",
                   "bun": "einen Dutt, {c} Haare", "buzz": "raspelkurze {c} Haare"},
    "facial_hair": {"none": "glattrasiert", "stubble": "einem Dreitagebart", "moustache": "einem Schnurrbart",
                    "goatee": "einem Spitzbart", "full_beard": "einem Vollbart"},
}
_ES = {
    "hair_color": {"black": "negro", "dark_brown": "castaño oscuro", "brown": "castaño", "red": "pelirrojo",
                   "blonde": "rubio", "grey": "canoso", "white": "blanco", "blue": "azul", "green": "verde",
                   "purple": "morado"},
    "eye_color": {"dark_brown": "marrones oscuros", "brown": "marrones", "hazel": "color avellana", "green": "verdes",
                  "blue": "azules", "grey": "grises"},
    "hair_style": {"short": "pelo corto {c}", "long_straight": "una melena lisa de pelo {c}",
                   "long_wavy": "una melena ondulada de pelo {c}", "ponytail": "una coleta de pelo {c}",
                   "bun": "un moño de pelo {c}", "buzz": "el pelo {c} rapado"},
    "facial_hair": {"none": "bien afeitado", "stubble": "barba de tres días", "moustache": "bigote",
                    "goatee": "perilla", "full_beard": "barba poblada"},
}

_EN_TEMPLATES_LONG = (
    "{who} with {hair}, {eye} {eyen}{fh}",
    "{eye} {eyen} and {hair} on this {who}{fh}",
    "I want {who_a}: {hair}; {eyen} {eye}{fh_semi}",
    "make the {who} have {hair} and {eye} {eyen}{fh}",
    "{hair} + {eye} {eyen}{fh_plus}",
    "Give my {who} {hair}. {Eyen} should be {eye}.{fh_sentence}",
    "{who}, {eye_adj}, {hair}{fh}",
)
_EN_TEMPLATES_SHORT = ("{hair}", "{eye} {eyen}, {hair}", "{hair}{fh}")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _english(rng: random.Random, n: int) -> list[Paraphrase]:
    out: list[Paraphrase] = []
    styles, colours = list(HAIR_STYLE), list(HAIR_COLOR)
    for i in range(n):
        style = styles[i % len(styles)]                       # every style equally often
        colour = colours[(i * 5 + i // len(styles)) % len(colours)]
        eye = rng.choice(list(EYE_COLOR))
        sex = rng.choice(("man", "woman", "any"))
        fh = rng.choice(list(FACIAL_HAIR)) if sex == "man" else None
        cword = rng.choice(HAIR_COLOR[colour])
        hair = rng.choice(HAIR_STYLE[style]).format(c=cword)
        eword = rng.choice(EYE_COLOR[eye])
        eyen = rng.choice(EYE_NOUN)
        who = rng.choice(MAN if sex == "man" else WOMAN if sex == "woman" else ANY)
        short = i % 4 == 3
        tmpl = rng.choice(_EN_TEMPLATES_SHORT if short else _EN_TEMPLATES_LONG)
        fh_word = rng.choice(FACIAL_HAIR[fh]) if fh else ""
        text = tmpl.format(
            who=who, who_a=f"{_article(who)} {who}", hair=hair, eye=eword, eyen=eyen, Eyen=eyen.capitalize(),
            eye_adj=f"{eword}-eyed" if " " not in eword and "-" not in eword else f"with {eword} eyes",
            fh=f", {fh_word}" if fh else "", fh_semi=f"; {fh_word}" if fh else "",
            fh_plus=f" + {fh_word}" if fh else "", fh_sentence=f" Facial fuzz: {fh_word}." if fh else "")
        text = re.sub(r"\b([aA]) (?=[aeiouAEIOU])", r"\1n ", text)  # "a ash" -> "an ash"
        targets = {"hair_style": style}
        if style != "bald":
            targets["hair_color"] = colour
        if "{eye" in tmpl:
            targets["eye_color"] = eye
        if fh and "{fh" in tmpl:
            targets["facial_hair"] = fh
        out.append(Paraphrase(text, targets, "en"))
    return out


def _foreign(rng: random.Random, lang: str, table: dict, n: int) -> list[Paraphrase]:
    out = []
    styles = list(table["hair_style"])
    for i in range(n):
        style = styles[i % len(styles)]
        colour = rng.choice(list(table["hair_color"]))
        eye = rng.choice(list(table["eye_color"]))
        fh = rng.choice(list(table["facial_hair"])) if i % 2 == 0 else None
        c, e = table["hair_color"][colour], table["eye_color"][eye]
        hair = table["hair_style"][style].format(c=c)
        if lang == "fr":
            who = "un homme" if fh else "une femme"
            text = f"{who} avec {hair} et les yeux {e}" + (f", {table['facial_hair'][fh]}" if fh else "")
        elif lang == "de":
            who = "Ein Mann" if fh else "Eine Frau"
            f = table["facial_hair"][fh] if fh else ""
            fh_txt = "" if not fh else (", glattrasiert" if fh == "none" else f", mit {f}")
            text = f"{who} mit {e} Augen und {hair}{fh_txt}"
        else:
            who = "Un hombre" if fh else "Una mujer"
            text = f"{who} con {hair} y ojos {e}" + (f", {table['facial_hair'][fh]}" if fh else "")
        targets = {"hair_style": style, "hair_color": colour, "eye_color": eye}
        if fh:
            targets["facial_hair"] = fh
        out.append(Paraphrase(text, targets, lang))
    return out


# Hand-written prompts: the way people actually type (typos-free, but loose).
_HANDWRITTEN = (
    Paraphrase("crimson locks", {"hair_color": "red"}),
    Paraphrase("scarlet pixie", {"hair_color": "red", "hair_style": "short"}),
    Paraphrase("inky hair, azure eyes", {"hair_color": "black", "eye_color": "blue"}),
    Paraphrase("flaxen pageboy", {"hair_color": "blonde", "hair_style": "bob"}),
    Paraphrase("bloke with lumberjack whiskers and a cue-ball scalp", {"hair_style": "bald", "facial_hair": "full_beard"}),
    Paraphrase("lavender chignon", {"hair_color": "purple", "hair_style": "bun"}),
    Paraphrase("cobalt mermaid waves", {"hair_color": "blue", "hair_style": "long_wavy"}),
    Paraphrase("pewter-haired chap, handlebar 'tache", {"hair_color": "grey", "facial_hair": "moustache"}),
    Paraphrase("jade irises", {"eye_color": "green"}),
    Paraphrase("stormy eyes and a peroxide lob", {"eye_color": "grey", "hair_color": "platinum", "hair_style": "bob"}),
    Paraphrase("a fellow sporting a Van Dyke and espresso hair brushed sideways",
               {"facial_hair": "goatee", "hair_color": "dark_brown", "hair_style": "side_part"}),
    Paraphrase("fuchsia 'fro", {"hair_color": "pink", "hair_style": "afro"}),
    Paraphrase("whisky-coloured eyes, russet pony", {"eye_color": "amber", "hair_color": "auburn", "hair_style": "ponytail"}),
    Paraphrase("chalk hair in a tidy trim, beardless", {"hair_color": "white", "hair_style": "short", "facial_hair": "none"}),
    Paraphrase("scruffy dude, mousy comb-over", {"facial_hair": "stubble", "hair_color": "brown", "hair_style": "side_part"}),
    Paraphrase("carrot-topped heroine with lengthy silky tresses",
               {"hair_color": "red", "hair_style": "long_straight"}),
    Paraphrase("mint-coloured shorn fuzz", {"hair_color": "green", "hair_style": "buzz"}),
    Paraphrase("Rousse aux longs cheveux ondulés", {"hair_color": "red", "hair_style": "long_wavy"}, "fr"),
    Paraphrase("Mann mit Glatze und Vollbart", {"hair_style": "bald", "facial_hair": "full_beard"}, "de"),
    Paraphrase("chica rubia con coleta", {"hair_color": "blonde", "hair_style": "ponytail"}, "es"),
)


def paraphrase_set() -> list[Paraphrase]:
    """The fixed held-out set (>= 200 prompts; same list on every machine)."""
    rng = random.Random(20251125)
    items = list(_HANDWRITTEN)
    items += _english(rng, 170)
    items += _foreign(rng, "fr", _FR, 24)
    items += _foreign(rng, "de", _DE, 24)
    items += _foreign(rng, "es", _ES, 24)
    seen, out = set(), []
    for p in items:  # drop exact repeats the generator may draw
        if p.prompt not in seen:
            seen.add(p.prompt)
            out.append(p)
    return out
