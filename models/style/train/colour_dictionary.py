"""The colour dictionary a style model is made with (``build_colour_lexicon``; stored inside its checkpoint).

Colour names: the xkcd colour-survey names (CC0, 949 names) and the CSS Color Module 4 names (148), as shipped in
matplotlib; with the engine's caption words as each class's prototypes. Aliases: colour terms of seven languages and
English hair and eye words the lists lack (``assets/style/colour_terms.yaml``), each with its English counterpart's
colour. Categories: a name's basic colour term, or the vote of its nearest names. Objects: names of things used as
colours (``assets/style/object_colours.tsv``, made by ``scripts/build_object_colours.py``). The app reads the
result through ``models/style/lexicon.py``.
"""
from __future__ import annotations

import torch

from models.assets import read_data
from models.style.lexicon import (_MAX_WORDS, CATEGORY_WORDS, LEXICON_SOURCE, ColourLexicon, colour_terms, find_colours,
                                  normalise_name, srgb_to_lab)
from models.synthetic.attributes import REFERENCE_COLORS

OBJECTS_SOURCE = "objects: meodai color-name-list 14.51.0 (MIT), kept by WordNet 3.1 (scripts/build_object_colours.py)"
OBJECT_COLOURS = "style/object_colours.tsv"  # under assets/
CLAMP_DELTA_E = 22.0  # = augment._MAX_DELTA_E: the farthest a training name sits from its class
_NAME_CATEGORIES = {"dark": "black", "pale": "white"}  # shade words more than hues: "dark eyes" are dark brown
_CATEGORY_K = 5  # neighbours voting for the category of a name without a category word


def colour_categories(colours: dict[str, tuple[int, int, int]],
                      extra: dict[str, tuple[int, int, int]] | None = None) -> dict[str, str]:
    """Category of every name: its head word's when that is a category word, else the majority of the
    ``_CATEGORY_K`` nearest names (CIE76) that have one. ``extra`` (aliases) are categorised by colour only
    unless their own words say it."""
    named = {n: CATEGORY_WORDS[n.split()[-1]] for n in colours if n.split()[-1] in CATEGORY_WORDS}
    named.update({n: c for n, c in _NAME_CATEGORIES.items() if n in colours})
    ref_names = list(named)
    ref_lab = srgb_to_lab(torch.tensor([list(colours[n]) for n in ref_names], dtype=torch.float32))  # [R, 3]
    out: dict[str, str] = dict(named)
    todo = {n: c for n, c in {**colours, **(extra or {})}.items() if n not in out}
    for n in list(todo):
        if n.split()[-1] in CATEGORY_WORDS:
            out[n] = CATEGORY_WORDS[n.split()[-1]]
            del todo[n]
    if todo:
        names = list(todo)
        lab = srgb_to_lab(torch.tensor([list(todo[n]) for n in names], dtype=torch.float32))  # [N, 3]
        near = torch.cdist(lab, ref_lab).topk(_CATEGORY_K, largest=False).indices                # [N, K]
        for n, idx in zip(names, near.tolist()):
            votes: dict[str, int] = {}
            for i in idx:
                votes[named[ref_names[i]]] = votes.get(named[ref_names[i]], 0) + 1
            out[n] = max(votes, key=lambda c: (votes[c], -idx.index(next(j for j in idx if named[ref_names[j]] == c))))
    return out


def translated_colour_terms(colours: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    """Foreign (and missing English hair) colour terms -> sRGB of their English counterpart."""
    def rgb_of(base: str, shade: str = "") -> tuple[int, int, int] | None:
        if base.startswith("@eyes:"):
            return tuple(REFERENCE_COLORS["eyes"][base.split(":", 1)[1]])
        if base.startswith("@hair:"):
            value = base.split(":", 1)[1]
            if shade:
                value = {"brown": "dark_brown" if shade == "dark" else "brown", "blonde": "blonde"}.get(value, value)
            return tuple(REFERENCE_COLORS["hair"][value])
        name = f"{shade} {base}".strip()
        return colours.get(name) or colours.get(base)

    terms = colour_terms()
    shades = terms["shades"]
    out: dict[str, tuple[int, int, int]] = {}
    for lang, table in terms["terms"].items():
        for base, forms in table.items():
            for form in forms:
                endings = terms["german_endings"] if lang == "de" else ("",)
                for end in endings:
                    word = normalise_name(form + end)
                    rgb = rgb_of(base)
                    if rgb is not None:
                        out.setdefault(word, rgb)
                    for shade in ("dark", "light"):
                        post, pre = shades[f"{shade}_after"], shades[f"{shade}_prefix"]
                        shaded = rgb_of(base, shade)
                        if shaded is None:
                            continue
                        for mod in post.get(lang, ()):
                            out.setdefault(normalise_name(f"{form} {mod}"), shaded)
                        if lang in pre:
                            out.setdefault(normalise_name(pre[lang] + form + end), shaded)
                            out.setdefault(normalise_name(f"{pre[lang]} {form}{end}"), shaded)
    return {k: v for k, v in out.items() if k and k not in colours}


def build_colour_lexicon() -> ColourLexicon:
    """The xkcd + CSS4 names from matplotlib with the colour terms, categories and object colours (needs
    matplotlib; run when a style model is made)."""
    from models.synthetic import attributes as A  # noqa: PLC0415

    try:
        from matplotlib.colors import CSS4_COLORS, XKCD_COLORS  # noqa: PLC0415 - training-time only
    except ImportError as e:  # pragma: no cover - matplotlib is a dependency
        raise RuntimeError("building the colour lexicon needs matplotlib: pip install matplotlib") from e
    out: dict[str, tuple[int, int, int]] = {}
    for table in (CSS4_COLORS, XKCD_COLORS):  # xkcd second: its survey names win on a clash
        for name, hexcode in table.items():
            key = normalise_name(name.removeprefix("xkcd:"))
            h = hexcode.lstrip("#")
            if key and len(key.split()) <= _MAX_WORDS:
                out[key] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    lex = ColourLexicon(out, {}, rules=1, clamp_delta_e=CLAMP_DELTA_E)
    words = {"hair": A.HAIR_COLOR_WORDS, "eyes": A.EYE_COLOR_WORDS, "skin": A.SKIN_WORDS, "garment": A.GARMENT_WORDS}
    for table, table_words in words.items():
        lex.prototypes[table] = {}
        for value, ref in REFERENCE_COLORS[table].items():
            protos = [tuple(ref)]
            for w in table_words.get(value, ()):
                ms = find_colours(w, lex)
                if ms:  # a two-name phrase ("copper red") stands for the mean of its names
                    protos.append(tuple(int(round(x)) for x in torch.tensor([m.rgb for m in ms]).float().mean(0).tolist()))
            lex.prototypes[table][value] = sorted(set(protos))
    lex.aliases = translated_colour_terms(out)  # after the prototypes: those come from the dictionary names alone
    lex.categories = colour_categories(out, lex.aliases)
    lex.objects = {k: v for k, v in load_object_colours().items() if k not in out and k not in lex.aliases}
    if lex.objects:
        lex.source = f"{LEXICON_SOURCE}; {OBJECTS_SOURCE}"
    for name, category in colour_categories(out, lex.objects).items():
        if name in lex.objects:
            lex.categories.setdefault(name, category)
    for alias, category in _alias_categories().items():  # a foreign word's category is its English base word's
        if alias in lex.aliases:
            lex.categories[alias] = category
    return lex


def load_object_colours() -> dict[str, tuple[int, int, int]]:
    """The object-colour table (rows: name, #rrggbb) -> name -> sRGB."""
    out: dict[str, tuple[int, int, int]] = {}
    for name, hexcode in read_data(OBJECT_COLOURS):
        h = hexcode.strip().lstrip("#")
        out[name] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    return out


def _alias_categories() -> dict[str, str]:
    """Category of each alias from its English counterpart in the colour terms ('@hair:red' -> red)."""
    hair_cat = {"blonde": "gold", "red": "red", "platinum": "white", "dark_brown": "brown", "brown": "brown",
                "hazel": "olive", "amber": "gold"}  # (the last two: "@eyes:" words)
    eye_cat = {**hair_cat, "grey": "grey", "blue": "blue"}  # "@eyes:grey" is grey ("@hair:grey" words keep none)
    terms = colour_terms()
    shades = terms["shades"]
    out: dict[str, str] = {}
    for lang, table in terms["terms"].items():
        for base, forms in table.items():
            cat = (eye_cat if base.startswith("@eyes:") else hair_cat).get(base.split(":", 1)[1], "") if base.startswith("@") else CATEGORY_WORDS.get(
                base, "brown" if base == "chestnut" else "")
            if not cat:
                continue
            for form in forms:
                for end in (terms["german_endings"] if lang == "de" else ("",)):
                    w = normalise_name(form + end)
                    out.setdefault(w, cat)
                    for mods in (shades["dark_after"].get(lang, ()), shades["light_after"].get(lang, ())):
                        for mod in mods:
                            out.setdefault(normalise_name(f"{form} {mod}"), cat)
                    for pre in (shades["dark_prefix"].get(lang), shades["light_prefix"].get(lang)):
                        if pre:
                            out.setdefault(normalise_name(pre + form + end), cat)
                            out.setdefault(normalise_name(f"{pre} {form}{end}"), cat)
    return out
