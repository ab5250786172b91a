"""Fakes for unit and API tests: they satisfy the real protocols. End-to-end tests use the real model."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

CATEGORIES = ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack")

# Words the fake model treats as toxic, and the category each one raises.
TRIGGERS = {
    "nitwit": ("toxicity", "insult"),
    "dunderhead": ("toxicity", "insult"),
    "blasted": ("toxicity", "profanity"),
    "clobber": ("toxicity", "threat"),
}


class KeywordScorer:
    """Scores 0.97 in a trigger word's categories and 0.02 elsewhere; records every call."""

    name = "keyword-fake"
    version = "test"
    categories = CATEGORIES

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail: Exception | None = None
        self.hang = threading.Event()
        self.hanging = False

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls.append(list(texts))
        if self.hanging:
            self.hang.wait(5)
        if self.fail is not None:
            raise self.fail
        out = []
        for text in texts:
            scores = dict.fromkeys(CATEGORIES, 0.02)
            for word, cats in TRIGGERS.items():
                if word in text.lower():
                    for c in cats:
                        scores[c] = 0.97
            out.append(scores)
        return out


# Words the fake multilingual model treats as toxic (our own, one per language).
MULTILINGUAL_TRIGGERS = {
    "trottel": ("toxicity", "insult"),  # de
    "imbécil": ("toxicity", "insult"),  # es
    "crétin": ("toxicity", "insult"),  # fr
    "cretino": ("toxicity", "insult"),  # it
    "idiota": ("toxicity", "insult"),  # pt, es
}


class MultilingualKeywordScorer(KeywordScorer):
    """A second fake model, for the languages routed to it: its own name and trigger words."""

    name = "keyword-multilingual-fake"
    version = "test-ml"

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        out = super().score(texts)
        for text, scores in zip(texts, out, strict=True):
            for word, cats in MULTILINGUAL_TRIGGERS.items():
                if word in text.lower():
                    for c in cats:
                        scores[c] = 0.9
        return out


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
