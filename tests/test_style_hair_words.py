"""The hair-word dictionary (models/style/hair_words.py): terms bound to their part, negation, the other
languages, unknown words giving zero features; colour categories (models/style/lexicon.py); training
prompts built from it that keep the held-out words out; a distilled head that reads its features."""
from __future__ import annotations

import json

import pytest
import torch

from models.style import hair_words as H
from models.style import lexicon as L
from models.style.checkpoint import load_style_model, save_style_model
from models.style.encoders import PRESETS, StyleModel
from models.style.train import hair_dictionary as HD
from models.style.train.augment import (THIRD_PASS_VARIANT, WORD_VARIANT, ColourNames, TextPathCaptions, _near_banned,
                                        held_out_tokens, usable_term)
from models.style.train.bank import build_bank
from models.style.train.captions import training_seeds
from models.style.train.colour_dictionary import build_colour_lexicon
from models.style.train.dictionary_reading import predicted_class
from models.style.train.distill import DistillConfig, student_from_teacher, train_text_path
from models.synthetic.attributes import sample_attributes


@pytest.fixture(scope="module")
def words() -> H.HairLexicon:
    return HD.build_hair_lexicon()


@pytest.fixture(scope="module")
def colours() -> L.ColourLexicon:
    return build_colour_lexicon()


def _read(text: str, lex: H.HairLexicon) -> dict[str, str]:
    return {slot: H.WORD_SLOTS[slot][int(p.argmax())] for slot, p in H.slot_posteriors(text, lex).items()}


@pytest.mark.parametrize("text, want", [
    ("a woman with a pixie cut", {"hair_style": "short"}),
    ("crew cut", {"hair_style": "buzz"}),
    ("waist-length wavy hair", {"hair_style": "long_wavy"}),
    ("long, poker-straight hair", {"hair_style": "long_straight"}),
    ("tight coily curls", {"hair_style": "afro"}),
    ("hair up in a top knot", {"hair_style": "bun"}),
    ("pigtails", {"hair_style": "ponytail"}),
    ("chin-length bob", {"hair_style": "bob"}),
    ("hair parted on the side", {"hair_style": "side_part"}),
    ("bald as a cue ball", {"hair_style": "bald"}),
    ("a van dyke", {"facial_hair": "goatee"}),
    ("a walrus moustache", {"facial_hair": "moustache"}),
    ("five o'clock shadow", {"facial_hair": "stubble"}),
    ("mutton chops and a full beard", {"facial_hair": "full_beard"}),
    ("horn-rimmed specs", {"glasses": "rectangular"}),
    ("aviators", {"glasses": "sunglasses"}),
    ("a bobble hat", {"hat": "beanie"}),
])
def test_english_terms(words: H.HairLexicon, text: str, want: dict[str, str]) -> None:
    assert _read(text, words) == want


def test_facets_compose_and_forms_win(words: H.HairLexicon) -> None:
    assert _read("long curly hair", words) == {"hair_style": "long_wavy"}
    assert _read("long straight hair", words) == {"hair_style": "long_straight"}
    assert _read("short ponytail", words) == {"hair_style": "ponytail"}   # a form word decides over a length
    assert _read("long hair in a bun", words) == {"hair_style": "bun"}
    assert _read("beard and goatee", words) == {"facial_hair": "goatee"}  # the specific word over the generic


def test_binding_to_the_part(words: H.HairLexicon) -> None:
    """Generic length / texture words describe the part noun of their clause, not always the hair."""
    assert _read("a long beard", words) == {"facial_hair": "full_beard"}
    assert _read("long beard, short hair", words) == {"facial_hair": "full_beard", "hair_style": "short"}
    assert _read("long eyelashes", words) == {}
    assert _read("a short-sleeved shirt", words) == {}
    assert _read("straight nose and long neck", words) == {}


@pytest.mark.parametrize("text, want", [
    ("no beard", {"facial_hair": "none"}),
    ("a man without a beard", {"facial_hair": "none"}),
    ("clean-shaven", {"facial_hair": "none"}),
    ("beard-free face", {"facial_hair": "none"}),
    ("no moustache", {"facial_hair": "none"}),
    ("without glasses", {"glasses": "none"}),
    ("not wearing a hat", {"hat": "none"}),
    ("a full beard but no moustache", {"facial_hair": "full_beard"}),  # "but" starts a clause of its own
    ("sans lunettes", {"glasses": "none"}),
    ("ohne Brille, ohne Bart", {"glasses": "none", "facial_hair": "none"}),
    ("sin gafas", {"glasses": "none"}),
    ("senza occhiali e senza barba", {"glasses": "none", "facial_hair": "none"}),
    ("sem óculos", {"glasses": "none"}),
    ("zonder bril, geen baard", {"glasses": "none", "facial_hair": "none"}),
])
def test_negation(words: H.HairLexicon, text: str, want: dict[str, str]) -> None:
    assert _read(text, words) == want


@pytest.mark.parametrize("text, want", [
    ("cheveux courts et bouclés, moustache", {"hair_style": "short", "facial_hair": "moustache"}),
    ("queue de cheval, lunettes de soleil", {"hair_style": "ponytail", "glasses": "sunglasses"}),
    ("lange glatte Haare, Dreitagebart", {"hair_style": "long_straight", "facial_hair": "stubble"}),
    ("Pferdeschwanz und Vollbart", {"hair_style": "ponytail", "facial_hair": "full_beard"}),
    ("pelo rizado largo, bigote", {"hair_style": "long_wavy", "facial_hair": "moustache"}),
    ("calvo con perilla", {"hair_style": "bald", "facial_hair": "goatee"}),
    ("capelli lisci lunghi, pizzetto", {"hair_style": "long_straight", "facial_hair": "goatee"}),
    ("caschetto", {"hair_style": "bob"}),
    ("cabelo cacheado comprido, bigode", {"hair_style": "long_wavy", "facial_hair": "moustache"}),
    ("coque e cavanhaque", {"hair_style": "bun", "facial_hair": "goatee"}),
    ("kort haar met een snor", {"hair_style": "short", "facial_hair": "moustache"}),
    ("paardenstaart, volle baard", {"hair_style": "ponytail", "facial_hair": "full_beard"}),
])
def test_other_languages(words: H.HairLexicon, text: str, want: dict[str, str]) -> None:
    assert _read(text, words) == want


def test_accents_may_be_left_out(words: H.HairLexicon) -> None:
    assert _read("cheveux ondulés", words) == _read("cheveux ondules", words) == {"hair_style": "long_wavy"}


def test_unknown_words_give_zero_features(words: H.HairLexicon, colours: L.ColourLexicon) -> None:
    f = H.word_features(["a smiling person in a garden", "", "zxqv blorp"], words)
    assert f.shape == (3, H.word_feature_dim()) and not f.any()
    assert not L.colour_features(["a smiling person in a garden"], colours).any()
    f = H.word_features(["pixie cut"], words)[0]
    off = H.slot_offsets()["hair_style"]
    assert f[off] == 1 and torch.isclose(f[off + 1: off + 1 + len(H.WORD_SLOTS["hair_style"])].sum(), torch.tensor(1.0))


def test_lexicon_json_round_trip(words: H.HairLexicon) -> None:
    back = H.HairLexicon.from_json(words.to_json())
    texts = ["waist-length braids, no glasses", "Vollbart und Glatze", "a bob"]
    assert torch.equal(H.word_features(texts, back), H.word_features(texts, words))


@pytest.mark.parametrize("text, want", [
    ("sky blue hair", "blue"), ("navy hair", "blue"), ("powder blue hair", "blue"), ("lilac hair", "purple"),
    ("strawberry blonde hair", "blonde"), ("dark blonde hair", "blonde"), ("scarlet hair", "red"),
    ("mahogany hair", "auburn"), ("jet black hair", "black"),
])
def test_colour_category_decides_the_hue_family(colours: L.ColourLexicon, text: str, want: str) -> None:
    """A colour is read within its basic category first ("sky blue" hair is blue however light)."""
    ms = [m for m in L.find_colours(text, colours) if m.slot == "hair"]
    assert len(ms) == 1
    assert colours.classify(ms[0].rgb, "hair", [ms[0].category])[0] == want


def test_word_prompts_teach_their_targets_with_usable_terms(words: H.HairLexicon, colours: L.ColourLexicon) -> None:
    banned = held_out_tokens()
    cap = TextPathCaptions(colours)
    n_named = 0
    for seed in training_seeds(60):
        a = sample_attributes(seed)
        for v in range(WORD_VARIANT, WORD_VARIANT + 3):
            text, targets = cap.prompt(a, v)
            assert text == cap.prompt(a, v)[0]  # reproducible from (seed, variant)
            unusable = [m.words for m in H.find_words(text, words) if not usable_term(m.words, banned)]
            assert not unusable, text  # (the held-out word list itself is never printed)
            read = _read(text, words)
            for slot in ("hair_style", "facial_hair", "glasses", "hat"):
                if slot in targets:
                    n_named += 1
                    assert targets[slot] == getattr(a, slot) == read.get(slot), (text, slot)
    assert n_named > 100


def test_third_pass_word_prompts_use_the_new_words_and_no_held_out_one(words: H.HairLexicon,
                                                                       colours: L.ColourLexicon) -> None:
    """Variants >= THIRD_PASS_VARIANT add the third pass's English eye- and hair-colour words and hair phrases;
    each prompt still names the head's own classes, holds no held-out word (nor a form of one), and the older
    variants read as before."""
    banned = held_out_tokens()
    cap = TextPathCaptions(colours)
    names = ColourNames.build(colours, banned, english_aliases=True)
    plain = ColourNames.build(colours, banned)
    added = {n for t in names.by_class for v in names.by_class[t] for n in names.by_class[t][v]} - {
        n for t in plain.by_class for v in plain.by_class[t] for n in plain.by_class[t][v]}
    assert {"icy", "bourbon", "greying"} <= added  # eye and hair words the colour lists lack
    assert not [n for n in added if _near_banned(n, banned)]
    assert _near_banned("hennaed", {"henna"}) and _near_banned("mousey", {"mousy"}) and not _near_banned("icy", {"henna"})
    seen_new = 0
    for seed in training_seeds(60):
        a = sample_attributes(seed)
        text, targets = cap.prompt(a, THIRD_PASS_VARIANT)
        assert (text, targets) == cap.prompt(a, THIRD_PASS_VARIANT)
        assert not [m.words for m in H.find_words(text, words) if not usable_term(m.words, banned)], text
        read = _read(text, words)
        for slot in ("hair_style", "facial_hair", "glasses", "hat"):
            if slot in targets:
                assert targets[slot] == getattr(a, slot) == read.get(slot), (text, slot)
        for m in L.find_colours(text, colours):
            seen_new += m.words in added
            assert not set(m.words.split()) & banned, text
    assert seen_new > 0


def test_student_reads_word_features_and_round_trips(colours: L.ColourLexicon, words: H.HairLexicon, tmp_path,
                                                     one_thread) -> None:
    torch.manual_seed(0)
    teacher = StyleModel(PRESETS["tiny"]).eval()
    student = student_from_teacher(teacher, colours, None, words).eval()
    assert student.cfg.text_word_features == H.word_feature_dim()
    emb = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    prompts = ["pixie cut", "van dyke, no glasses", "teal hair"]
    torch.testing.assert_close(student.encode_prompts(prompts, emb), teacher.encode_text_embeddings(emb))
    back, _ = load_style_model(save_style_model(tmp_path / "s.safetensors", student))
    assert back.hair_lexicon is not None and back.hair_lexicon.terms == words.terms
    # a student of that student keeps every input
    again = student_from_teacher(back, colours, None, words).eval()
    torch.testing.assert_close(again.encode_prompts(prompts, emb), back.encode_prompts(prompts, emb))


def test_distillation_learns_hairstyle_from_word_features(colours: L.ColourLexicon, words: H.HairLexicon,
                                                          one_thread) -> None:
    """With one embedding for every prompt, hairstyle can only come from the hair-word features."""
    cap = TextPathCaptions(colours)
    same = torch.nn.functional.normalize(torch.randn(1, 384), dim=-1)
    bank, _ = build_bank(training_seeds(150), 3, embed=lambda t: same.expand(len(t), -1), caption_fn=cap,
                         first_variant=WORD_VARIANT - 1)
    torch.manual_seed(0)
    teacher = StyleModel(PRESETS["tiny"]).eval()
    with torch.no_grad():
        for head in teacher.attributes.heads.values():
            head.weight.mul_(50)
    # variant 0 rows are required (distillation targets): add them
    tmpl, _ = build_bank(training_seeds(150), 1, embed=lambda t: same.expand(len(t), -1), caption_fn=cap)
    from models.style.train.bank import merge_banks

    _, m = train_text_path(teacher, merge_banks([tmpl, bank]), colours,
                           DistillConfig(steps=400, batch_size=64, lr=3e-3, warmup_steps=10, distill_weight=0.1,
                                         val_fraction=0.2), None, words)
    assert m["val_acc_hair_style"] > 0.4 > m["val_teacher_acc_hair_style"]  # 10 classes; teacher 0.13
    assert m["val_acc_facial_hair"] > 0.6 > m["val_teacher_acc_facial_hair"]


def test_template_rows_can_follow_the_teacher_alone(colours: L.ColourLexicon, words: H.HairLexicon, one_thread) -> None:
    """``template_attr=False``: template-caption rows get no attribute loss, so a strong attribute weight cannot
    pull the decoder's own inputs away from the teacher; with it on, the same weight does."""
    cap = TextPathCaptions(colours)
    torch.manual_seed(0)
    tmpl, _ = build_bank(training_seeds(60), 1, embed=lambda t: torch.nn.functional.normalize(torch.randn(len(t), 384), dim=-1),
                         caption_fn=cap)
    teacher = StyleModel(PRESETS["tiny"]).eval()
    cos = {}
    for on in (True, False):
        _, m = train_text_path(teacher, tmpl, colours,
                               DistillConfig(steps=60, batch_size=32, lr=3e-4, warmup_steps=5, distill_weight=1.0,
                                             attr_weight=30.0, template_attr=on, val_fraction=0.2, emb_noise=0.0,
                                             weight_decay=0.0), None, words)
        cos[on] = m["val_template_cos_to_teacher"]
    # Adam turns even float-noise gradients into steps, so "off" drifts a little too (0.989); "on" drifts far (0.934)
    assert cos[False] > 0.98 and cos[True] < cos[False] - 0.03


@pytest.mark.parametrize("text, want", [
    ("blue-eyed blonde", [("blue", "eyes"), ("blonde", "hair")]),               # a hair-colour noun stays hair
    ("eyes that shine green under black bangs", [("green", "eyes"), ("black", "hair")]),  # the later noun has its own colour
    ("a teal bob and grey gaze", [("teal", "hair"), ("grey", "eyes")]),          # hairstyle and eye synonyms as part nouns
    ("a red top knot", [("red", "hair")]),                                      # not a top (clothes)
    ("blauäugig, rothaarig", [("blau", "eyes"), ("rot", "hair")]),              # one-word adjectives split
    ("salt-and-pepper hair", [("saltandpepper", "hair")]),
    ("green eyes and blonde eyebrows", [("green", "eyes"), ("blonde", "other")]),
])
def test_colour_binding_second_pass(colours: L.ColourLexicon, text: str, want: list[tuple[str, str]]) -> None:
    assert [(m.words, m.slot) for m in L.find_colours(text, colours)] == want


def test_old_lexicons_keep_their_reading(colours: L.ColourLexicon) -> None:
    """A lexicon stored before colour families (no categories) reads prompts as it was trained to."""
    import json

    d = json.loads(colours.to_json())
    d.pop("categories"), d.pop("lightness_weight")
    old = L.ColourLexicon.from_json(json.dumps(d))
    assert old.lightness_weight == 0.5 and not old.categories
    assert [(m.words, m.slot) for m in L.find_colours("blauäugig", old)] == []  # no compound splitting
    assert [m.category for m in L.find_colours("navy hair", old)] == [""]


@pytest.mark.parametrize("text, expected", [
    ("woman without glasses long curly hair", [("glasses", True), ("long", False), ("curly", False)]),
    ("kein Bart lange Haare", [("bart", True), ("lange", False)]),
    ("no hat short hair", [("hat", True), ("short", False)]),
    ("man with no beard or moustache", [("beard", True), ("moustache", True)]),
])
def test_a_negator_negates_the_first_term_after_it_and_or_carries_it(text: str, expected: list) -> None:
    """A negator used to reach past the term it negated: 'no hat short hair' read as not-short (bald)."""
    lex = HD.build_hair_lexicon()
    assert [(m.words, m.negated) for m in H.find_words(text, lex)] == expected


@pytest.mark.parametrize("text, want", [
    ("golden hair down to her waist", "long_straight"),
    ("hair falling past his shoulders", "long_straight"),
    ("hair cut to the earlobes", "short"),
    ("hair just below her ears", "bob"),
    ("a woman whose hair reaches the chin", "bob"),
    ("a man touching his chin", None),       # no hair named: a reach phrase says nothing
    ("boots to the knees, long coat", None),
    ("hair pulled to the back", None),       # "the back" is not a length
])
def test_length_said_by_where_the_hair_reaches(text: str, want: str | None) -> None:
    lex = HD.build_hair_lexicon()
    assert predicted_class(text, lex, "hair_style") == want
    back = H.HairLexicon.from_json(lex.to_json())
    assert back.needs_hair == lex.needs_hair and predicted_class(text, back, "hair_style") == want
    assert all(len(t.split()) <= HD._MAX_TERM_WORDS for ws in HD.reach_phrases().values() for t in ws)


def test_a_lexicon_stored_before_reach_phrases_reads_its_terms_anywhere() -> None:
    d = json.loads(HD.build_hair_lexicon().to_json())
    del d["needs_hair"]
    old = H.HairLexicon.from_json(json.dumps(d))
    assert old.needs_hair == [] and predicted_class("a man touching his chin", old, "hair_style") == "bob"
