"""Second held-out paraphrase set (``paraphrases-v2``): fresh words, phrasings and languages.

Written for issue 7 before any model trained on the new text path was scored on ``paraphrases-v1``,
so that one held-out number exists that no design choice was checked against. Rules (tested in
``tests/test_style_paraphrases.py``):

- descriptive words (colours, styles, beards) use no token of the engine's caption tables and no
  descriptive token of ``paraphrases-v1``;
- other frames than v1 (questions, character sheets, "she's got", negations, lists with "/");
- seven languages: English plus French, German, Spanish, Italian, Portuguese and Dutch, the
  foreign phrases worded differently from v1's;
- never used in training; training augmentation words are checked disjoint from it.

Targets as in v1: only what a prompt says is scored (a bald prompt has no hair colour target).
"""
from __future__ import annotations

import random
import re

from models.style.paraphrases import Paraphrase, _article

VERSION = "paraphrases-v2"

# ---- English descriptor tables ----------------------------------------------------------------
HAIR_COLOR = {
    "black": ("obsidian", "midnight", "sooty", "liquorice"),
    "dark_brown": ("walnut", "mink", "molasses"),
    "brown": ("nutmeg", "fawn", "biscuit", "latte"),
    "auburn": ("rust", "titian", "burnt-sienna", "brick"),
    "red": ("tomato", "cherry", "vermilion", "flame"),
    "blonde": ("sandy", "butterscotch", "sunflower", "sun-kissed"),
    "platinum": ("tow-coloured", "towheaded", "moonbeam"),
    "grey": ("gunmetal", "graphite", "grizzled", "iron-coloured"),
    "white": ("frost", "bone", "cotton", "paper"),
    "blue": ("indigo", "denim", "ultramarine", "periwinkle"),
    "pink": ("coral", "salmon", "blush", "peony"),
    "green": ("chartreuse", "pistachio", "seafoam", "kelly"),
    "purple": ("grape", "mauve", "orchid", "aubergine"),
}
# {c} is the colour word; bald has no colour slot.
HAIR_STYLE = {
    "bald": ("a polished dome", "a head razored to the skin", "no hair anywhere on the cranium", "a chrome dome"),
    "buzz": ("a {c} number-two everywhere", "{c} hair clipped to two millimetres", "a {c} burr"),
    "short": ("a {c} boyish crop", "an ear-skimming {c} crop", "a tousled {c} crop"),
    "side_part": ("a {c} parting far off-centre", "{c} hair with an off-centre parting", "a slick {c} parting on the right"),
    "bob": ("a {c} wedge ending at the jawbone", "a jawbone-grazing {c} crop", "a {c} Louise Brooks helmet"),
    "long_straight": ("glossy {c} sheets of hair down to the elbows", "{c} hair falling like a curtain to the elbows",
                      "{c} hair falling plumb-line to the elbows"),
    "long_wavy": ("{c} ringlets cascading past the shoulders", "undulating {c} hair down to the shoulder blades",
                  "tumbling {c} curls down to the elbows"),
    "ponytail": ("{c} hair cinched behind the head with an elastic", "{c} hair yanked behind the head and fastened",
                 "a swinging {c} horsetail"),
    "bun": ("{c} hair wound into a firm knob above the head", "a prim {c} ballet bundle", "{c} hair piled into a doughnut"),
    "afro": ("a spherical puff of {c} curls", "natural {c} 4C texture in a rounded cloud", "a tightly curled {c} globe"),
}
EYE_COLOR = {
    "dark_brown": ("sloe", "umber", "treacle"),
    "brown": ("nut", "acorn", "cognac", "sepia"),
    "amber": ("saffron", "marigold", "citrine", "wolf-gold"),
    "hazel": ("speckled", "two-tone", "autumn-leaf"),
    "green": ("fern", "leafy", "bottle-coloured", "viridian", "clover"),
    "blue": ("arctic", "aquamarine", "cyan", "ocean"),
    "grey": ("gunmetal", "foggy", "misty", "overcast"),
}
FACIAL_HAIR = {
    "none": ("no facial hair", "a freshly razored face", "a baby-faced, razored look"),
    "stubble": ("a sandpaper jawline", "a bristly jawline", "a week without a razor"),
    "moustache": ("a caterpillar under the nose", "a horseshoe mo", "a droopy mo"),
    "goatee": ("a billy-goat point at the jawline", "a soul patch", "an anchor-shaped point at the jawline"),
    "full_beard": ("a Viking face-rug", "a jawline-covering mane", "dense ear-to-ear facial fur", "a Father Christmas face fleece"),
}
EYE_NOUN = ("eyes", "eye colour")
MAN = ("guy", "man", "male knight", "grandpa", "boy")
WOMAN = ("woman", "girl", "queen", "grandma", "sorceress")
ANY = ("person", "model", "kid", "teen", "portrait subject")

_TEMPLATES = (
    "{who} — hair: {hair}; eyes: {eye}{fh_semi}",
    "can you make a {who} with {hair} and {eye} {eyen}{fh}?",
    "{Pron}'s got {hair} and {eye} {eyen}{fh}",
    "{eye}-eyed {who}, {hair}{fh}",
    "{hair} / {eye} {eyen}{fh_slash}",
    "Render {who_a} sporting {hair}, {eye} {eyen}{fh}",
    "Character sheet. Hair: {hair}. Eyes: {eye}.{fh_sheet}",
    "{who} with {eye} {eyen}; {hair}{fh}",
)
_SHORT_TEMPLATES = ("{hair}", "{hair}, {eye} {eyen}", "{eye} {eyen}")

# ---- other languages: whole phrases, written apart from v1's tables --------------------------
_FOREIGN = {
    "fr": {"hair_color": {"black": "de jais", "red": "cuivrés flamboyants", "blonde": "blond miel", "grey": "argentés",
                          "purple": "aubergine", "blue": "bleu nuit", "auburn": "acajou"},
           "eye_color": {"blue": "azur", "green": "émeraude", "brown": "chocolat", "grey": "ardoise", "amber": "ambrés"},
           "hair_style": {"bald": "un crâne lisse", "long_wavy": "une longue crinière bouclée {c}",
                          "ponytail": "les cheveux {c} noués derrière la tête", "afro": "des cheveux crépus {c} en boule",
                          "bob": "un casque {c} à la Louise Brooks", "buzz": "les cheveux {c} en brosse"},
           "facial_hair": {"moustache": "des bacchantes", "full_beard": "une grande barbe", "none": "imberbe",
                           "goatee": "une barbiche"}},
    "de": {"hair_color": {"black": "pechschwarzen", "red": "feuerroten", "blonde": "strohblonden", "grey": "silbergrauen",
                          "white": "schneeweißen", "pink": "rosaroten", "green": "giftgrünen"},
           "eye_color": {"blue": "himmelblauen", "green": "smaragdgrünen", "dark_brown": "fast schwarzen", "hazel": "grünbraunen"},
           "hair_style": {"bald": "einer Vollglatze", "bob": "einem {c} Bubikopf", "long_wavy": "langen, lockigen {c} Haaren",
                          "bun": "einem {c} Haarknoten", "short": "kurz geschnittenen {c} Haaren",
                          "side_part": "einem {c} Seitenscheitel"},
           "facial_hair": {"moustache": "Schnauzer", "stubble": "Bartstoppeln", "goatee": "Kinnbart", "full_beard": "Rauschebart"}},
    "es": {"hair_color": {"black": "azabache", "red": "cobrizo", "blonde": "dorado", "grey": "plateado", "blue": "celeste",
                          "pink": "rosado", "brown": "trigueño"},
           "eye_color": {"blue": "celestes", "green": "esmeralda", "brown": "cafés", "amber": "color miel", "grey": "plomizos"},
           "hair_style": {"bald": "la cabeza rapada al cero", "long_straight": "una larga cabellera lacia {c}",
                          "ponytail": "el pelo {c} recogido atrás", "afro": "un cabello crespo {c} en forma de bola", "bun": "un rodete {c}",
                          "short": "el cabello {c} cortito"},
           "facial_hair": {"full_beard": "una barba larga", "moustache": "un mostacho", "stubble": "una sombra de barba",
                           "none": "lampiño"}},
    "it": {"hair_color": {"black": "neri", "red": "rossi", "blonde": "biondi", "grey": "grigi", "white": "bianchi",
                          "brown": "castani", "blue": "azzurri", "green": "verdognoli"},
           "eye_color": {"blue": "azzurri", "green": "verdi", "brown": "castani", "dark_brown": "scurissimi", "grey": "grigi"},
           "hair_style": {"bald": "la testa calva", "ponytail": "i capelli {c} raccolti in una coda",
                          "long_wavy": "lunghi capelli {c} mossi", "bob": "un caschetto di capelli {c}", "short": "i capelli {c} corti",
                          "bun": "i capelli {c} raccolti in un tuppo"},
           "facial_hair": {"full_beard": "una barba folta", "moustache": "i baffi", "goatee": "il pizzetto",
                           "none": "sbarbato"}},
    "pt": {"hair_color": {"black": "preto", "red": "ruivo", "blonde": "loiro", "grey": "grisalho", "brown": "castanho",
                          "pink": "cor-de-rosa", "purple": "roxo"},
           "eye_color": {"blue": "azuis", "green": "esverdeados", "brown": "castanhos", "dark_brown": "pretos", "amber": "cor de mel"},
           "hair_style": {"bald": "careca", "ponytail": "cabelo {c} preso num rabo de cavalo", "bun": "cabelo {c} num coque",
                          "long_straight": "cabelo {c} comprido e liso", "afro": "cabelo crespo {c} volumoso",
                          "short": "cabelo {c} curtinho"},
           "facial_hair": {"full_beard": "barba cheia", "moustache": "bigode", "goatee": "cavanhaque", "stubble": "barba por fazer"}},
    "nl": {"hair_color": {"black": "zwart", "red": "rood", "blonde": "blond", "grey": "grijs", "white": "wit",
                          "blue": "blauw", "green": "groen", "brown": "bruin"},
           "eye_color": {"blue": "blauwe", "green": "groene", "brown": "bruine", "grey": "grijze"},
           "hair_style": {"bald": "kaal", "ponytail": "{c} haar in een paardenstaart", "bun": "{c} haar in een dot",
                          "long_wavy": "lang golvend {c} haar", "short": "kort {c} haar", "buzz": "{c} stekeltjeshaar"},
           "facial_hair": {"full_beard": "een volle baard", "moustache": "een snor", "stubble": "een stoppelbaard",
                           "none": "gladgeschoren"}},
}


def _english(rng: random.Random, n: int) -> list[Paraphrase]:
    out: list[Paraphrase] = []
    styles, colours = list(HAIR_STYLE), list(HAIR_COLOR)
    for i in range(n):
        style = styles[(i * 3) % len(styles)]
        colour = colours[(i * 7 + i // len(colours)) % len(colours)]
        eye = rng.choice(list(EYE_COLOR))
        sex = rng.choice(("man", "woman", "any"))
        fh = rng.choice(list(FACIAL_HAIR)) if sex == "man" else None
        hair = rng.choice(HAIR_STYLE[style]).format(c=rng.choice(HAIR_COLOR[colour]))
        eword = rng.choice(EYE_COLOR[eye])
        who = rng.choice(MAN if sex == "man" else WOMAN if sex == "woman" else ANY)
        tmpl = rng.choice(_SHORT_TEMPLATES if i % 5 == 4 else _TEMPLATES)
        fh_word = rng.choice(FACIAL_HAIR[fh]) if fh else ""
        text = tmpl.format(
            who=who, who_a=f"{_article(who)} {who}", hair=hair, eye=eword, eyen=rng.choice(EYE_NOUN),
            Pron="He" if sex == "man" else "She" if sex == "woman" else "They",
            fh=f", {fh_word}" if fh else "", fh_semi=f"; face: {fh_word}" if fh else "",
            fh_slash=f" / {fh_word}" if fh else "", fh_sheet=f" Beard: {fh_word}." if fh else "")
        text = text.replace("They's got", "They've got")
        text = re.sub(r"\b([aA]) (?=[aeiouAEIOU])", r"\1n ", text)
        text = text[:1].upper() + text[1:]
        targets: dict[str, str] = {}
        if "{hair" in tmpl:
            targets["hair_style"] = style
            if style != "bald":
                targets["hair_color"] = colour
        if "{eye}" in tmpl:
            targets["eye_color"] = eye
        if fh and "{fh" in tmpl:
            targets["facial_hair"] = fh
        out.append(Paraphrase(text, targets, "en"))
    return out


def _foreign(rng: random.Random, lang: str, n: int) -> list[Paraphrase]:
    table = _FOREIGN[lang]
    styles = list(table["hair_style"])
    out = []
    for i in range(n):
        style = styles[i % len(styles)]
        colour = rng.choice(list(table["hair_color"]))
        eye = rng.choice(list(table["eye_color"]))
        fh = rng.choice(list(table["facial_hair"])) if i % 3 == 0 else None
        hair = table["hair_style"][style].format(c=table["hair_color"][colour])
        e, f = table["eye_color"][eye], table["facial_hair"].get(fh, "") if fh else ""
        if lang == "fr":
            text = f"{'Un homme' if fh else 'Une femme'} aux yeux {e}, {hair}" + (f" et {f}" if fh else "")
        elif lang == "de":
            fh_txt = "" if not fh else f" und {f}"
            text = f"{'Mann' if fh else 'Frau'} mit {e} Augen, {hair}{fh_txt}"
        elif lang == "es":
            text = f"{'Chico' if fh else 'Chica'} de ojos {e}, {hair}" + (f", con {f}" if fh else "")
        elif lang == "it":
            text = f"{'Un uomo' if fh else 'Una donna'} con gli occhi {e} e {hair}" + (f", {f}" if fh else "")
        elif lang == "pt":
            text = f"{'Homem' if fh else 'Mulher'} de olhos {e}, {hair}" + (f", com {f}" if fh else "")
        else:
            text = f"{'Een man' if fh else 'Een vrouw'} met {e} ogen en {hair}" + (f", {f}" if fh else "")
        targets = {"hair_style": style, "eye_color": eye}
        if style != "bald":
            targets["hair_color"] = colour
        if fh:
            targets["facial_hair"] = fh
        out.append(Paraphrase(text, targets, lang))
    return out


_HANDWRITTEN = (
    Paraphrase("obsidian crew cut", {"hair_color": "black", "hair_style": "buzz"}),
    Paraphrase("tomato-coloured ringlets", {"hair_color": "red", "hair_style": "long_wavy"}),
    Paraphrase("periwinkle jaw-length cut with arctic eyes", {"hair_color": "blue", "hair_style": "bob", "eye_color": "blue"}),
    Paraphrase("old wizard: polished dome, prophet's flowing beard", {"hair_style": "bald", "facial_hair": "full_beard"}),
    Paraphrase("what would she look like with a coral horse-tail?", {"hair_color": "pink", "hair_style": "ponytail"}),
    Paraphrase("fern eyes", {"eye_color": "green"}),
    Paraphrase("saffron-eyed sorceress, aubergine hair twisted into a tight ball on top of the head",
               {"eye_color": "amber", "hair_color": "purple", "hair_style": "bun"}),
    Paraphrase("grizzled guy with a horseshoe mo", {"hair_color": "grey", "facial_hair": "moustache"}),
    Paraphrase("no facial hair, walnut hair swept to one side",
               {"facial_hair": "none", "hair_color": "dark_brown", "hair_style": "side_part"}),
    Paraphrase("sandy boyish crop", {"hair_color": "blonde", "hair_style": "short"}),
    Paraphrase("chartreuse globe of tight curls", {"hair_color": "green", "hair_style": "afro"}),
    Paraphrase("vermilion mane hanging dead straight to mid-back", {"hair_color": "red", "hair_style": "long_straight"}),
    Paraphrase("give him a soul patch and chin tuft and a bristly... no, just the chin tuft", {"facial_hair": "goatee"}),
    Paraphrase("frost-white elder with misty eyes", {"hair_color": "white", "eye_color": "grey"}),
    Paraphrase("Cognac eyes. Titian waves? No: titian, poker-straight, past the shoulders.",
               {"eye_color": "brown", "hair_color": "auburn", "hair_style": "long_straight"}),
    Paraphrase("Chica con el pelo azabache y ojos esmeralda", {"hair_color": "black", "eye_color": "green"}, "es"),
    Paraphrase("Capelli rossi raccolti in una coda", {"hair_color": "red", "hair_style": "ponytail"}, "it"),
    Paraphrase("Homem careca de barba cheia", {"hair_style": "bald", "facial_hair": "full_beard"}, "pt"),
    Paraphrase("Blond meisje met een paardenstaart", {"hair_color": "blonde", "hair_style": "ponytail"}, "nl"),
    Paraphrase("Femme aux cheveux platine coupés en brosse", {"hair_color": "platinum", "hair_style": "buzz"}, "fr"),
)


def paraphrase_set_v2() -> list[Paraphrase]:
    """The fixed second held-out set (>= 200 prompts, 7 languages; same list on every machine)."""
    rng = random.Random(20261127)
    items = list(_HANDWRITTEN) + _english(rng, 130)
    for lang in ("fr", "de", "es", "it", "pt", "nl"):
        items += _foreign(rng, lang, 14)
    seen, out = set(), []
    for p in items:
        if p.prompt not in seen:
            seen.add(p.prompt)
            out.append(p)
    return out
