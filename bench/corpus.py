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


# Our own sentences per language: five benign ones, then a rude one.
SENTENCES = {
    "de": [
        "Danke für den ausführlichen Bericht über die Sanierung der Brücke.",
        "Ich sehe das anders, aber der Artikel erklärt die Entscheidung gut.",
        "Die Fotos vom Hafen im Morgenlicht sind wirklich schön geworden.",
        "Weiß jemand, wann der Wochenmarkt wieder öffnet?",
        "Der Gemeinderat hätte die Anwohner früher fragen sollen.",
        "Was für ein Unsinn, der Autor hat keine Ahnung.",
    ],
    "es": [
        "Gracias por el reportaje tan completo sobre las obras del puente.",
        "No estoy de acuerdo, pero el artículo explica bien la decisión.",
        "Las fotos del puerto al amanecer han quedado preciosas.",
        "¿Alguien sabe cuándo vuelve a abrir el mercado del barrio?",
        "El ayuntamiento debería haber consultado antes a los vecinos.",
        "Qué tontería, el autor no tiene ni idea.",
    ],
    "fr": [
        "Merci pour ce reportage détaillé sur les travaux du pont.",
        "Je ne suis pas d'accord, mais l'article explique bien la décision.",
        "Les photos du port au lever du soleil sont magnifiques.",
        "Quelqu'un sait-il quand le marché du quartier rouvrira?",
        "La mairie aurait dû consulter les habitants plus tôt.",
        "Quelle bêtise, l'auteur n'y connaît rien.",
    ],
    "it": [
        "Grazie per il servizio dettagliato sui lavori del ponte.",
        "Non sono d'accordo, ma l'articolo spiega bene la decisione.",
        "Le foto del porto all'alba sono davvero bellissime.",
        "Qualcuno sa quando riapre il mercato del quartiere?",
        "Il comune avrebbe dovuto consultare prima i residenti.",
        "Che sciocchezza, l'autore non capisce niente.",
    ],
    "pt": [
        "Obrigado pela reportagem detalhada sobre as obras da ponte.",
        "Não concordo, mas o artigo explica bem a decisão.",
        "As fotos do porto ao amanhecer ficaram lindas.",
        "Alguém sabe quando o mercado do bairro volta a abrir?",
        "A câmara devia ter ouvido os moradores mais cedo.",
        "Que disparate, o autor não percebe nada disto.",
    ],
}


def other_languages(n: int, seed: int = 5) -> list[str]:
    """n comments in the five languages (equal shares), one to eight sentences each.

    As in `corpus`, one comment in six is rude: one rude sentence among benign ones.
    """
    rng = random.Random(seed)
    codes = sorted(SENTENCES)
    out = []
    for i in range(n):
        *benign, rude = SENTENCES[codes[i % len(codes)]]
        parts = [rng.choice(benign) for _ in range(rng.randint(1, 8))]
        if rng.random() < 1 / 6:
            parts.insert(rng.randint(0, len(parts)), rude)
        out.append(" ".join(parts))
    return out


def mixed(english: list[str], share: float, seed: int = 3) -> list[str]:
    """English comments with `share` of them replaced by comments in the other languages."""
    rng = random.Random(seed)
    others = iter(other_languages(len(english)))
    return [next(others) if rng.random() < share else text for text in english]


if __name__ == "__main__":
    import statistics

    c = corpus()
    lengths = sorted(len(x.split()) for x in c)
    print(
        f"{len(c)} comments; words: median {statistics.median(lengths)}, "
        f"p90 {lengths[int(0.9 * len(lengths))]}, p99 {lengths[int(0.99 * len(lengths))]}, max {lengths[-1]}"
    )
