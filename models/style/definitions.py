"""Short definitions of each hairstyle and facial-hair value, for zero-shot similarity features.

Why: the caption templates name a hairstyle with three words each, so a head trained on them knows
nothing about other words for the same style. The e5 backbone, though, matches a description against
a definition much better than against those template words (docs/style.md, "Hairstyle words"). The
text head therefore also reads the cosine of the prompt's embedding with each definition's embedding
(``TextStyleHead.definitions``, stored in the checkpoint), so no extra backbone call is needed.

Written for this purpose in our own words; like every training phrase they avoid the descriptive
words of both held-out paraphrase sets (tested in tests/test_style_text_path.py).
"""
from __future__ import annotations

STYLE_DEFINITIONS: dict[str, str] = {
    "bald": "bald: the head has no hair at all",
    "buzz": "buzz cut: hair shaved with electric clippers to an even, very small length on the whole head",
    "short": "short haircut: hair cut short and neat, centimetres long, cropped",
    "side_part": "side part: hair parted at the side and swept across the head",
    "bob": "bob: a haircut in which the hair is cut straight around the head at about jaw or chin level",
    "long_straight": "long straight hair: very long hair that is straight and sleek and extends to the chest or further",
    "long_wavy": "long wavy hair: very long hair that is wavy or curly",
    "ponytail": "ponytail: hair pulled back and tied with a band so the length hangs loose at the back",
    "bun": "bun: hair tied up into a round knot on the top or back of the head",
    "afro": "afro: very curly hair grown out into a big, round, voluminous shape around the head",
}
FACIAL_DEFINITIONS: dict[str, str] = {
    "none": "no beard: a shaved face with no beard and no moustache",
    "stubble": "stubble: very short beard hair, grown for a day or so after shaving",
    "moustache": "moustache: a mustache only, with the chin and jaw shaved",
    "goatee": "goatee: a small chin beard, with the rest of the face shaved",
    "full_beard": "full beard: a thick beard grown on the chin, jaw and the sides of the face, usually with a moustache",
}


def definition_texts() -> list[str]:
    """All definitions in a fixed order (hairstyles, then facial hair): rows of ``TextStyleHead.definitions``."""
    return list(STYLE_DEFINITIONS.values()) + list(FACIAL_DEFINITIONS.values())
