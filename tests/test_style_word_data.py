"""Word tables and prompt sets as data (assets/style, assets/eval): each says where it comes from on its first
line, one reader reads them all, the shipped style checkpoint's dictionaries are what they build, and the held-out
sets are the ones every reported number was scored on."""
from __future__ import annotations

import hashlib
import json

import pytest
from safetensors import safe_open

import models.assets as assets
from models.assets import ASSETS_DIR, provenance, read_data

DATA_FILES = sorted(p.relative_to(ASSETS_DIR).as_posix() for folder in ("style", "eval")
                    for p in (ASSETS_DIR / folder).iterdir() if p.suffix in (".yaml", ".json", ".tsv"))
# sha256 of json.dumps([(prompt, targets, language), ...], ensure_ascii=False) of each held-out set, in order:
# the sets docs/ and the model cards report numbers on (they were generated in code before they became data)
HELD_OUT_SHA256 = {"v1": "7ad9e2168cd573094aa2198f7c7c54915758ab891f426188f50c65f76cef0cb4",
                   "v2": "09b822d11269b9b9d09606bb5d91a90b2b854e4d2ea3fdbcd931d3072c4ddb37"}


def test_every_data_file_names_its_source_and_licence_first() -> None:
    assert {"style/colour_terms.yaml", "style/hair_words.yaml", "style/object_colours.tsv",
            "eval/paraphrases_v1.yaml", "eval/paraphrases_v2.yaml"} <= set(DATA_FILES)
    for name in DATA_FILES:
        line = provenance(name)
        assert line.startswith("source: ") and "; licence: " in line, name
        assert read_data(name), name  # parses, and holds something


def test_the_reader_refuses_a_file_without_provenance_or_of_an_unknown_kind(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(assets, "ASSETS_DIR", tmp_path)
    (tmp_path / "a.yaml").write_text("# source: here; licence: none\nwords: [a, 'no']\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("# source: here; licence: none\nred\t#ff0000\n\n# note\nblue\t#0000ff\n",
                                    encoding="utf-8")
    (tmp_path / "c.json").write_text("# source: here; licence: none\n{\"k\": 1}\n", encoding="utf-8")
    assert read_data("a.yaml") == {"words": ["a", "no"]}
    assert read_data("b.tsv") == [["red", "#ff0000"], ["blue", "#0000ff"]]
    assert read_data("c.json") == {"k": 1}
    (tmp_path / "d.yaml").write_text("words: [a]\n", encoding="utf-8")
    (tmp_path / "e.txt").write_text("# source: here; licence: none\nwords\n", encoding="utf-8")
    with pytest.raises(ValueError, match="first line"):
        read_data("d.yaml")
    with pytest.raises(ValueError, match="no reader"):
        read_data("e.txt")


def test_held_out_sets_are_unchanged() -> None:
    from models.style.paraphrases import paraphrase_set

    for name, want in HELD_OUT_SHA256.items():
        rows = [(p.prompt, p.targets, p.language) for p in paraphrase_set(name)]
        assert hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest() == want, name


def test_the_shipped_checkpoint_carries_what_the_word_tables_build() -> None:
    """scripts/style_relexicon.py on the shipped checkpoint changes nothing: its dictionaries are the data files'."""
    from dataclasses import replace

    from models.style.lexicon import ColourLexicon
    from models.style.train.colour_dictionary import build_colour_lexicon
    from models.style.train.hair_dictionary import build_hair_lexicon

    with safe_open("checkpoints/style.safetensors", "pt") as f:
        meta = f.metadata()
    shipped = ColourLexicon.from_json(meta["lexicon"])  # the reading settings its head was trained with
    built = replace(build_colour_lexicon(), rules=shipped.rules, clamp_delta_e=shipped.clamp_delta_e,
                    lightness_weight=shipped.lightness_weight)
    hint = "word tables changed: python scripts/style_relexicon.py checkpoints/style.safetensors -o ..."
    assert built.to_json() == meta["lexicon"], hint
    assert build_hair_lexicon().to_json() == meta["hair_lexicon"], hint
