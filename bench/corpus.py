"""A synthetic comment corpus shaped like real comment sections (our own words, no training data).

Lengths are log-normal: median about 40 words, a long tail past 1,000 words.
About one comment in six carries an insult, so some are held and get sentence spans.
"""

from __future__ import annotations

import random

_OPENERS = [
    "Great piece.",
    "I disagree with the premise here.",
    "Thanks for writing this.",
    "Has anyone checked the numbers?",
    "My neighbour said the same thing last week.",
    "This is the third article on the topic this month.",
    "Interesting, but incomplete.",
    "As a long-time reader, I expected more.",
    "Finally someone said it.",
    "Not sure about this one.",
]
_WORDS = [
    "council",
    "budget",
    "harbour",
    "ferry",
    "schedule",
    "library",
    "tram",
    "bridge",
    "housing",
    "rent",
    "school",
    "teacher",
    "market",
    "bakery",
    "festival",
    "river",
    "weather",
    "forecast",
    "storm",
    "garden",
    "allotment",
    "bus",
    "route",
    "cyclist",
    "parking",
    "fee",
    "museum",
    "exhibit",
    "concert",
    "ticket",
    "mayor",
    "vote",
    "election",
    "turnout",
    "survey",
    "report",
    "data",
    "chart",
    "figure",
    "percent",
    "increase",
    "decrease",
    "policy",
    "proposal",
    "committee",
    "meeting",
    "minutes",
    "evening",
    "morning",
    "weekend",
    "summer",
    "winter",
    "tourist",
    "resident",
    "family",
    "children",
    "parent",
    "neighbour",
    "street",
    "corner",
    "shop",
    "owner",
    "price",
    "inflation",
    "wage",
    "job",
    "factory",
    "harbourside",
    "pier",
    "lighthouse",
    "coastline",
]
_GLUE = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "that",
    "it",
    "is",
    "was",
    "for",
    "on",
    "with",
    "as",
    "but",
    "not",
    "really",
    "quite",
    "very",
    "just",
    "also",
]
_INSULTS = [
    "You are a pathetic moron.",
    "Only an idiot would believe this garbage.",
    "Shut up, you worthless clown.",
    "What a stupid, ignorant take from a total loser.",
]


def _sentence(rng: random.Random) -> str:
    n = rng.randint(6, 18)
    words = [rng.choice(_WORDS) if rng.random() < 0.55 else rng.choice(_GLUE) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + rng.choice([".", ".", ".", "?", "!"])


def comment(rng: random.Random, words: int, toxic: bool) -> str:
    """One comment of about `words` words; a toxic one has an insult somewhere inside."""
    parts = [rng.choice(_OPENERS)]
    while sum(len(p.split()) for p in parts) < words:
        parts.append(_sentence(rng))
    if toxic:
        parts.insert(rng.randint(0, len(parts)), rng.choice(_INSULTS))
    return " ".join(parts)


def corpus(n: int = 2000, seed: int = 7) -> list[str]:
    """n comments with realistic lengths (median ~40 words, tail to 1,000+)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = int(min(1500, max(3, rng.lognormvariate(3.6, 1.0))))
        out.append(comment(rng, words, toxic=rng.random() < 1 / 6))
    return out


def of_tokens(tokens: int, n: int, seed: int = 11) -> list[str]:
    """n benign comments of about `tokens` model tokens (about 1.3 tokens per word here)."""
    rng = random.Random(seed)
    return [comment(rng, max(3, int(tokens / 1.3)), toxic=False) for _ in range(n)]


if __name__ == "__main__":
    import statistics

    c = corpus()
    lengths = sorted(len(x.split()) for x in c)
    print(
        f"{len(c)} comments; words: median {statistics.median(lengths)}, "
        f"p90 {lengths[int(0.9 * len(lengths))]}, p99 {lengths[int(0.99 * len(lengths))]}, max {lengths[-1]}"
    )
