"""Our written sets: split by template, every slot filled, labels agree with the decision."""

from __future__ import annotations

from models.authored import FAMILIES, GROUPS, TRAIN_NAMES, examples, half_of
from models.bias import NAME_GROUPS, NAME_TEMPLATES
from models.bias import TEMPLATES as IDENTITY_TEMPLATES
from models.labels import CATEGORIES
from models.near_copies import near_copies


def test_halves_share_no_template_and_no_sentence() -> None:
    train, probe = examples("train"), examples("probe")
    assert {e.template for e in train}.isdisjoint({e.template for e in probe})
    assert {e.text for e in train}.isdisjoint({e.text for e in probe})


def test_every_family_is_in_both_halves() -> None:
    for half in ("train", "probe"):
        assert {e.family for e in examples(half)} == {f.name for f in FAMILIES}


def test_templates_alternate_between_halves_within_a_family() -> None:
    family = FAMILIES[0]
    probe_templates = {e.template for e in examples("probe") if e.family == family.name}
    assert probe_templates == {t for i, t in enumerate(family.templates) if half_of(i) == "probe"}


def test_every_slot_is_filled_and_every_group_or_name_appears() -> None:
    for e in examples("train") + examples("probe"):
        assert "{" not in e.text and "}" not in e.text, e.text
        assert e.text[0].isupper() or e.text[0] in "\"'@", e.text  # @: a reply
    benign = [e for e in examples("probe") if e.family == "benign_neutral"]
    assert {e.group for e in benign} == {g.key for g in GROUPS}
    names = [e for e in examples("train") if e.family == "name_benign"]
    assert {e.group for e in names} == set(TRAIN_NAMES)


def test_training_names_are_not_the_probe_names() -> None:
    train_names = {n for names in TRAIN_NAMES.values() for n in names}
    probe_names = {n for names in NAME_GROUPS.values() for n in names}
    assert not train_names & probe_names


def test_labels_agree_with_the_decision() -> None:
    toxicity = CATEGORIES.index("toxicity")
    for e in examples("train") + examples("probe"):
        assert len(e.labels) == len(CATEGORIES)
        assert (e.labels[toxicity] == 1.0) == e.hold, e


def test_training_only_templates_join_the_training_half_and_never_the_probe() -> None:
    from models.authored_training import TEMPLATES

    assert set(TEMPLATES) <= {f.name for f in FAMILIES}
    train = {(e.family, e.template) for e in examples("train")}
    probe = {e.template for e in examples("probe")}
    for family, templates in TEMPLATES.items():
        assert templates, family
        for template in templates:
            assert (family, template) in train
            assert template not in probe


def test_no_training_only_template_is_a_near_copy_of_a_probe_template() -> None:
    from models.authored_training import TEMPLATES

    probe = {e.template for e in examples("probe")}
    training_only = [t for templates in TEMPLATES.values() for t in templates]
    assert near_copies(training_only, probe) == []


def test_no_training_name_template_is_a_near_copy_of_a_name_probe_remark() -> None:
    # models.bias also probes kind remarks by name with templates of its own: the
    # training half must not hold them reworded either.
    name_families = {f.name for f in FAMILIES if f.slot == "name"}
    training = {e.template for e in examples("train") if e.family in name_families}
    probe = [t.replace("{}", "{name}") for t in NAME_TEMPLATES]
    assert near_copies(training, probe) == []


def test_no_training_group_template_is_a_near_copy_of_an_identity_term_template() -> None:
    # models.bias scores six neutral templates per identity term of its own ("... live on
    # our street."); the training half must not hold them reworded either.
    group_families = {f.name for f in FAMILIES if f.slot == "group"}
    training = {e.template for e in examples("train") if e.family in group_families}
    probe = [t.replace("{}", "{adj}") for t in IDENTITY_TEMPLATES]
    assert near_copies(training, probe) == []


def test_the_near_copy_check_catches_a_probe_template_reworded() -> None:
    probe = next(iter({e.template for e in examples("probe")}))
    assert near_copies(["Honestly, " + probe], [probe]) == [("Honestly, " + probe, probe)]
