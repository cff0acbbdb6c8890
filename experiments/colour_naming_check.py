"""Measured: how often the colour dictionary's hair / eye class for a colour name agrees with hand labels (135 hair names; held-out words dropped). Result: docs/style.md, second pass, "What changed" item 2 (0.695 -> 0.88); eighth session, "Noticed, not changed".

How well the colour dictionary's class mapping agrees with what a colour word means for hair / eyes.

A development check for issue 7 item 2 (why colour words the dictionary knows are read right only ~0.6):
the labels below were written by hand from general knowledge of how people name hair and eye colours
(they are not taken from the held-out paraphrase sets), and every word that holds a held-out descriptive
word is dropped before scoring (``augment.usable_term``), so decisions made on this check do not see
those words. Only names the dictionary knows are scored.

    python experiments/colour_naming_check.py
"""
from __future__ import annotations

import argparse
import json
import sys

# name -> hair class (clear cases only; ambiguous names such as teal or magenta are left out)
HAIR_LABELS: dict[str, tuple[str, ...]] = {
    "red": ("scarlet", "cherry red", "ruby", "tomato red", "fire engine red", "blood red", "vermilion", "carrot",
            "orange", "tangerine", "flame", "bright red", "copper", "fiery red", "red orange", "rust orange",
            "pumpkin", "poppy", "cardinal", "lipstick red", "candy apple red", "brick red", "rose red"),
    "auburn": ("mahogany", "russet", "chestnut red", "oxblood", "burgundy", "maroon", "dark red", "reddish brown",
               "cinnamon", "red brown", "wine", "claret", "brick", "sienna", "burnt sienna", "rust"),
    "brown": ("chestnut", "hazelnut", "walnut", "cocoa", "coffee", "mocha", "toffee", "tawny", "light brown",
              "medium brown", "caramel", "milk chocolate", "cappuccino", "brown", "nut brown", "mousy brown",
              "camel", "bronze", "tan"),
    "dark_brown": ("espresso", "dark chocolate", "chocolate", "dark brown", "umber", "deep brown", "coffee bean",
                   "bitter chocolate", "chocolate brown", "dark coffee", "burnt umber"),
    "black": ("jet", "jet black", "ebony", "ink", "coal", "charcoal", "onyx", "obsidian", "pitch black", "raven",
              "midnight", "licorice", "sable", "soot", "black", "inky", "off black", "blackish"),
    "blonde": ("golden", "honey", "butter", "wheat", "straw", "sandy", "flaxen", "corn", "gold", "dirty blonde",
               "strawberry blonde", "butterscotch", "honey blonde", "golden blonde", "sand", "dark blonde",
               "mustard", "maize", "dark yellow", "yellow", "canary", "lemon", "sunflower", "buttercup", "amber",
               "marigold", "ochre", "khaki"),
    "platinum": ("platinum", "ash blonde", "icy blonde", "pearl", "bleached", "white blonde", "champagne", "cream",
                 "ivory", "pale blonde", "light blonde", "eggshell", "vanilla", "beige", "bone", "buff", "ecru"),
    "grey": ("silver", "ash grey", "slate", "pewter", "steel", "smoke", "graphite", "stone", "gunmetal",
             "grey", "gray", "salt and pepper", "steel grey", "charcoal grey", "dove grey", "ash", "greyish",
             "silvery", "battleship grey", "cool grey"),
    "white": ("snow", "snow white", "chalk", "milk", "paper white", "cotton", "frost", "alabaster", "white",
              "pure white", "bright white", "off white", "milky"),
    "blue": ("navy", "navy blue", "cobalt", "azure", "sapphire", "cyan", "sky blue", "denim", "royal blue", "cerulean",
             "electric blue", "baby blue", "ocean blue", "ultramarine", "powder blue", "cornflower", "steel blue",
             "midnight blue", "dark blue", "light blue", "bright blue", "ice blue", "blue"),
    "pink": ("fuchsia", "hot pink", "bubblegum", "rose", "blush", "cotton candy", "flamingo", "pastel pink", "baby pink",
             "neon pink", "bright pink", "salmon pink", "light pink", "dusty pink", "pink", "rosy", "candy pink",
             "shocking pink", "barbie pink"),
    "green": ("emerald", "jade", "lime", "mint", "forest green", "neon green", "sage", "moss", "chartreuse", "seafoam",
              "kelly green", "bottle green", "grass green", "olive green", "pistachio", "apple green", "pine green",
              "dark green", "light green", "green", "mint green", "acid green"),
    "purple": ("violet", "lavender", "lilac", "plum", "amethyst", "grape", "eggplant", "aubergine", "orchid", "purple",
               "deep purple", "royal purple", "pastel purple", "dark purple", "light purple", "heather", "wisteria",
               "periwinkle purple"),
}
EYE_LABELS: dict[str, tuple[str, ...]] = {
    "dark_brown": ("espresso", "dark chocolate", "chocolate", "coffee", "dark brown", "black", "ebony", "onyx",
                   "jet", "coal", "deep brown", "umber", "ink", "walnut"),
    "brown": ("chestnut", "hazelnut", "cocoa", "toffee", "caramel", "brown", "light brown", "cinnamon", "tawny",
              "mocha", "bronze", "copper", "medium brown"),
    "amber": ("amber", "honey", "gold", "golden", "whiskey", "topaz", "yellow", "golden brown", "butterscotch",
              "ochre", "mustard", "saffron"),
    "hazel": ("hazel", "olive", "khaki", "green brown", "brownish green", "moss", "olive green", "army green"),
    "green": ("emerald", "jade", "forest green", "green", "bottle green", "sea green", "sage", "mint", "lime",
              "grass green", "pine", "leaf green", "kelly green", "seafoam", "teal green"),
    "blue": ("sapphire", "cobalt", "azure", "sky blue", "navy", "cerulean", "baby blue", "ice blue", "ocean blue",
             "cornflower", "blue", "light blue", "dark blue", "royal blue", "turquoise", "aquamarine", "aqua",
             "cyan", "denim", "electric blue", "powder blue", "periwinkle"),
    "grey": ("silver", "slate", "steel", "grey", "gray", "storm grey", "ash", "pewter", "smoke", "graphite",
             "stone", "dove grey", "gunmetal", "steel grey", "charcoal grey", "silvery"),
}


def main(argv: list[str] | None = None) -> int:
    from models.style.train.augment import held_out_tokens, usable_term
    from models.style.lexicon import find_colours
    from models.style.train.colour_dictionary import build_colour_lexicon

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print each disagreement (kept words only)")
    args = ap.parse_args(argv)
    lex = build_colour_lexicon()
    banned = held_out_tokens()
    report = {}
    for table, labels in (("hair", HAIR_LABELS), ("eyes", EYE_LABELS)):
        kept = dropped = unknown = right = 0
        confusions = []
        for value, names in labels.items():
            for name in names:
                if not usable_term(name, banned):
                    dropped += 1
                    continue
                ms = find_colours(f"{name} {'hair' if table == 'hair' else 'eyes'}", lex)
                if not ms:
                    unknown += 1
                    continue
                kept += 1
                got = lex.classify(ms[0].rgb, table, [ms[0].category] if ms[0].category else [])[0]
                right += got == value
                if got != value:
                    confusions.append((name, value, got))
        report[table] = {"scored": kept, "right": right, "accuracy": round(right / max(kept, 1), 3),
                         "dropped_held_out": dropped, "not_in_dictionary": unknown}
        if args.show:
            for c in confusions:
                print(table, *c)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
