"""Our written sets in five languages: split by template and by name, labels agree with the decision."""

from __future__ import annotations

from models.authored_multilingual import FAMILIES, GROUPS, LANGUAGES, NAMES, examples
from models.labels import CATEGORIES


def test_halves_share_no_template_no_sentence_and_no_name() -> None:
    for lang in LANGUAGES:
        train, probe = examples("train", lang), examples("probe", lang)
        assert {e.template for e in train}.isdisjoint({e.template for e in probe})
        assert {e.text for e in train}.isdisjoint({e.text for e in probe})
        assert not set(NAMES[lang]["train"]) & set(NAMES[lang]["probe"])


def test_every_language_has_every_family_in_both_halves() -> None:
    for lang in LANGUAGES:
        names = {f.name for f in FAMILIES[lang]}
        assert names == {f.name for f in FAMILIES["de"]}
        for half in ("train", "probe"):
            assert {e.family for e in examples(half, lang)} == names
            assert {e.language for e in examples(half, lang)} == {lang}


def test_every_slot_is_filled_with_every_group_and_name() -> None:
    for lang in LANGUAGES:
        rows = examples("train", lang) + examples("probe", lang)
        for e in rows:
            assert "{" not in e.text and "}" not in e.text, e.text
            first_letter = next(c for c in e.text if c.isalpha())
            assert first_letter.isupper(), e.text  # after a leading ¡ or ¿
        benign = [e for e in rows if e.family == "benign_identity"]
        assert {e.group for e in benign} == set(GROUPS[lang])
        for half in ("train", "probe"):
            named = [e.text for e in examples(half, lang) if e.family == "name_benign"]
            assert all(any(n in t for t in named) for n in NAMES[lang][half])


def test_both_halves_of_every_language_hold_benign_and_toxic_sentences() -> None:
    for lang in LANGUAGES:
        for half in ("train", "probe"):
            holds = {e.hold for e in examples(half, lang)}
            assert holds == {True, False}


def test_labels_agree_with_the_decision() -> None:
    toxicity = CATEGORIES.index("toxicity")
    threat = CATEGORIES.index("threat")
    rows = examples("train") + examples("probe")
    assert {e.language for e in rows} == set(LANGUAGES)
    for e in rows:
        assert len(e.labels) == len(CATEGORIES)
        assert (e.labels[toxicity] == 1.0) == e.hold, e
        assert (e.labels[threat] == 1.0) == e.family.endswith("threat"), e


def test_the_english_set_is_still_english() -> None:
    from models.authored import examples as english

    assert {e.language for e in english("probe")} == {"en"}
