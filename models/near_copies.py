"""Whether a training-only template is a probe template reworded by a word or two.

A near copy would be a seen shape, not an unseen one: the probe would stop
measuring generalisation. Two templates are near copies when they share a run
of five words or at least 45 % of their words (Jaccard, lower-cased).
"""

from __future__ import annotations

from collections.abc import Iterable

RUN = 5
MAX_SHARED = 0.45


def words(template: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c in "{}'" else " " for c in template).split()


def runs(template_words: list[str], n: int = RUN) -> set[tuple[str, ...]]:
    return {tuple(template_words[i : i + n]) for i in range(len(template_words) - n + 1)}


class Probe:
    """Probe templates read once, so each template checked against them costs only its own reading."""

    def __init__(self, probe: Iterable[str]) -> None:
        self._read = [(p, set(w), runs(w)) for p in set(probe) for w in [words(p)]]

    def copied_by(self, template: str) -> list[str]:
        """The probe templates this template shares a five-word run or 45 % of words with."""
        w = words(template)
        vocabulary, template_runs = set(w), runs(w)
        return [
            other
            for other, other_vocabulary, other_runs in self._read
            if template_runs & other_runs
            or len(vocabulary & other_vocabulary) / len(vocabulary | other_vocabulary) >= MAX_SHARED
        ]


def near_copies(templates: Iterable[str], probe: Iterable[str]) -> list[tuple[str, str]]:
    """Every (template, probe template) pair that shares a five-word run or 45 % of words."""
    read = Probe(probe)
    return [(template, other) for template in templates for other in read.copied_by(template)]
