"""The categories the service scores, and how foreign label names map onto them."""

from __future__ import annotations

import re

CATEGORIES: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "insult",
    "profanity",
    "threat",
    "identity_attack",
)

# Label names used by other public toxicity checkpoints (Jigsaw/Detoxify-style,
# Perspective-style, single-label "toxic / non-toxic" heads), normalised by
# `_key` below.
_ALIASES: dict[str, str] = {
    "toxic": "toxicity",
    "toxicity": "toxicity",
    "label_1": "toxicity",
    "offensive": "toxicity",
    "hate": "toxicity",
    "severetoxic": "severe_toxicity",
    "severetoxicity": "severe_toxicity",
    "verytoxic": "severe_toxicity",
    "insult": "insult",
    "insulting": "insult",
    "obscene": "profanity",
    "profanity": "profanity",
    "sexualexplicit": "profanity",
    "threat": "threat",
    "threatening": "threat",
    "identityhate": "identity_attack",
    "identityattack": "identity_attack",
    "hatespeech": "identity_attack",
}

# Labels that mean "nothing wrong": dropped from a single-label model's output.
_BENIGN = {"nontoxic", "neutral", "normal", "notoxic", "label_0", "not", "clean", "ok"}


def _key(label: str) -> str:
    return (
        re.sub(r"[^a-z0-9_]", "", label.lower()).replace("_", "")
        if label.lower()
        not in (
            "label_0",
            "label_1",
        )
        else label.lower()
    )


def map_label(label: str) -> str | None:
    """Return our category name for a foreign label, None for a benign or unknown one."""
    key = _key(label)
    if key in _BENIGN:
        return None
    if label in CATEGORIES:
        return label
    return _ALIASES.get(key)
