"""One vocabulary: the categories `models` scores are the ones `moderation` decides on.

`models` imports nothing of ours, so it names the six categories itself; this is the
test that the two definitions agree, in the same order, and that every foreign label
`models.labels` knows maps onto one of them.
"""

from __future__ import annotations

from models import labels
from moderation.categories import CATEGORIES, Category
from moderation.integrations import PERSPECTIVE_ATTRIBUTES
from moderation.policy import FALLBACK_THRESHOLDS


def test_models_and_moderation_name_the_same_categories_in_the_same_order() -> None:
    assert labels.CATEGORIES == CATEGORIES == tuple(c.value for c in Category)


def test_every_foreign_label_maps_onto_a_category() -> None:
    mapped = {labels.map_label(name) for name in labels._ALIASES}
    assert mapped == set(CATEGORIES)
    assert all(labels.map_label(c) == c for c in CATEGORIES)


def test_perspective_attributes_and_default_thresholds_cover_exactly_the_categories() -> None:
    assert sorted(PERSPECTIVE_ATTRIBUTES.values()) == sorted(CATEGORIES)
    assert set(PERSPECTIVE_ATTRIBUTES) == {c.upper() for c in CATEGORIES}
    assert tuple(FALLBACK_THRESHOLDS) == CATEGORIES
