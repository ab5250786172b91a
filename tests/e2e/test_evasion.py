"""Disguised toxicity is held as often as plain toxicity: the real model behind the real API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.serving import in_process_client

# Our own toxic comments: insults, a threat, an identity attack, profanity.
TOXIC = [
    "You are a pathetic moron and everyone here hates you.",
    "Shut up, you stupid idiot.",
    "What a worthless piece of garbage you are.",
    "Only a brainless loser would write such trash.",
    "You disgusting pig, crawl back under your rock.",
    "I will hunt you down and hurt you.",
    "Go back to your own country, you filthy animals.",
    "This is fucking bullshit, you dumb asshole.",
]


def zero_width(t: str) -> str:
    return "\u200b".join(t)


def homoglyphs(t: str) -> str:
    return t.translate(str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у"}))


def fullwidth(t: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t)


def leetspeak(t: str) -> str:
    return t.translate(str.maketrans({"o": "0", "i": "1", "e": "3", "a": "4", "s": "5"}))


def spaced_out(t: str) -> str:
    # Each word of five or more letters spelled out with spaces, as trolls do.
    return " ".join(" ".join(w) if len(w) >= 5 else w for w in t.split())


def soft_hyphens(t: str) -> str:
    return " ".join(w[:2] + "\u00ad" + w[2:] if len(w) > 3 else w for w in t.split())


DISGUISES: dict[str, Callable[[str], str]] = {
    "zero-width": zero_width,
    "homoglyphs": homoglyphs,
    "fullwidth": fullwidth,
    "leetspeak": leetspeak,
    "spaced-out": spaced_out,
    "soft hyphens": soft_hyphens,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield in_process_client(tmp_path_factory.mktemp("evasion"), "evasion")


def held(client: Any, texts: list[str]) -> list[bool]:
    r = client.post("/v1/comments/batch", json={"comments": [{"text": t} for t in texts]})
    assert r.status_code == 201, r.get_json()
    return [x["comment"]["status"] == "held" for x in r.get_json()["results"]]


def test_disguises_do_not_lower_the_hold_rate(client: Any) -> None:
    plain = held(client, TOXIC)
    assert sum(plain) == len(TOXIC)  # the plain set is clearly toxic
    rates = {"plain": sum(plain) / len(plain)}
    for name, disguise in DISGUISES.items():
        disguised = held(client, [disguise(t) for t in TOXIC])
        rates[name] = sum(disguised) / len(disguised)
        assert disguised == plain, (name, disguised)
    print("\nhold rate by disguise:", rates)


def test_benign_comments_with_numbers_and_accents_are_not_held(client: Any) -> None:
    benign = [
        "The 3rd meeting is at 7pm in room 101.",
        "Café prices went up by 5% this year.",
        "Thanks for the lovely write-up on the harbour festival!",
    ]
    assert held(client, benign) == [False] * len(benign)


def test_toxic_sentence_after_long_polite_filler_is_held(client: Any) -> None:
    filler = (
        "Thank you for this thoughtful article about the new library opening hours. "
        "I really appreciate the detail on the weekend schedule and the parking. "
    ) * 25
    r = client.post("/v1/comments", json={"text": filler + "You are a pathetic moron."})
    body = r.get_json()
    assert body["status"] == "held"
    worst = max(body["spans"], key=lambda s: s["scores"]["toxicity"])
    assert body["text"][worst["begin"] : worst["end"]] == "You are a pathetic moron."
