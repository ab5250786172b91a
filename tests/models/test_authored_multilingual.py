"""Our written sets in five languages: split by template and by name, labels agree with the decision."""

from __future__ import annotations

from models.authored_multilingual import FAMILIES, GROUPS, LANGUAGES, NAMES, examples
from models.labels import CATEGORIES
from models.near_copies import near_copies


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


def test_training_only_templates_join_the_training_half_and_never_the_probe() -> None:
    from models.authored_multilingual_training import TEMPLATES

    assert set(TEMPLATES) == set(LANGUAGES)
    for lang, families in TEMPLATES.items():
        assert set(families) == {f.name for f in FAMILIES[lang]}, lang
        train = {(e.family, e.template) for e in examples("train", lang)}
        probe = {e.template for e in examples("probe", lang)}
        for family, templates in families.items():
            for template in templates:
                assert (family, template) in train
                assert template not in probe


def test_training_only_templates_fill_their_familys_slot_and_no_other() -> None:
    from models.authored_multilingual_training import TEMPLATES

    slots = {"group": ("{people}", "{People}"), "name": ("{name}",)}
    for lang, families in TEMPLATES.items():
        slot_of = {f.name: f.slot for f in FAMILIES[lang]}
        for family, templates in families.items():
            own = slots[slot_of[family]]
            for template in templates:
                assert any(s in template for s in own), (lang, template)
                rest = template
                for s in own:
                    rest = rest.replace(s, "")
                assert "{" not in rest and "}" not in rest, (lang, template)


def test_no_training_only_template_is_a_near_copy_of_a_probe_template() -> None:
    from models.authored_multilingual_training import TEMPLATES

    for lang, families in TEMPLATES.items():
        probe = {e.template for e in examples("probe", lang)}
        training_only = [t for templates in families.values() for t in templates]
        assert near_copies(training_only, probe) == [], lang
