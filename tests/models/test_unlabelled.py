"""The unlabelled written shapes: fill for every group, never the probe's shapes."""

from __future__ import annotations

from models.authored import GROUPS, examples, fill
from models.bias import TEMPLATES as IDENTITY_TEMPLATES
from models.near_copies import near_copies
from models.transfer import EXTRA_GROUPS, sentences
from models.unlabelled import TEMPLATES, templates

ALL = [t for templates in TEMPLATES.values() for t in templates]


def test_every_template_names_a_group_and_fills_for_every_group() -> None:
    assert set(TEMPLATES) == {"hostile", "benign"}
    assert len(ALL) == len(set(ALL))
    for template in ALL:
        assert any(s in template for s in ("{people}", "{People}", "{adj}", "{a_adj}")), template
        for group in GROUPS + EXTRA_GROUPS:
            text = fill(template, group)
            assert "{" not in text and "}" not in text, text
            assert group.adj.lower() in text.lower() or group.people.lower() in text.lower()


def test_no_template_is_a_written_sentence_shape_or_a_near_copy_of_a_probe_template() -> None:
    probe = {e.template for e in examples("probe")}
    labelled = {e.template for half in ("train", "probe") for e in examples(half)}  # type: ignore[arg-type]
    assert not set(ALL) & labelled
    assert near_copies(ALL, probe) == []
    assert near_copies(ALL, [t.replace("{}", "{adj}") for t in IDENTITY_TEMPLATES]) == []


def test_the_halves_alternate_and_the_training_half_holds_no_near_copy_of_the_other() -> None:
    train, held_out = templates("train"), templates("probe")
    assert not set(train) & set(held_out)
    assert held_out == [t for written in TEMPLATES.values() for t in written[1::2]]
    assert set(train) <= {t for written in TEMPLATES.values() for t in written[0::2]}
    assert near_copies(train, held_out) == []
    # Only near copies are left out of the training half.
    assert len(train) >= 0.9 * sum(len(written[0::2]) for written in TEMPLATES.values())
    assert templates("probe", "hostile") == list(TEMPLATES["hostile"][1::2])


def test_the_transfer_set_fills_only_the_training_half() -> None:
    made = {s.text for s in sentences(3000, seed=1, kinds=("written",))}
    held_out = {fill(t, g) for t in templates("probe") for g in GROUPS + EXTRA_GROUPS}
    train = {fill(t, g) for t in templates("train") for g in GROUPS + EXTRA_GROUPS}
    assert made <= train and not made & held_out
