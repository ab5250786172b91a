"""The six categories every comment is scored in: defined here once for the whole service.

`models.labels` (which imports nothing of ours) names the same six in the same order;
tests/test_vocabulary.py checks that the two agree.
"""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """A kind of harm the model scores; member names are Perspective's attribute names."""

    TOXICITY = "toxicity"
    SEVERE_TOXICITY = "severe_toxicity"
    INSULT = "insult"
    PROFANITY = "profanity"
    THREAT = "threat"
    IDENTITY_ATTACK = "identity_attack"


# The category names in their fixed order (scores, thresholds and charts list them so).
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
