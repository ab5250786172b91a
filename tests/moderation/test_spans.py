"""Sentences of a comment with their offsets: what a moderator sees highlighted."""

from __future__ import annotations

import pytest

from moderation.spans import split_sentences

TEXT = (
    'He said "stop." Then he left!  Was it 3.5 miles?\n'
    "No idea... really\n\n"
    "  last line without a period  "
)


def test_sentences_with_offsets() -> None:
    text = "  First one. Second?! Third\nFourth line  "
    spans = split_sentences(text)
    assert [text[b:e] for b, e in spans] == ["First one.", "Second?!", "Third", "Fourth line"]


def test_empty_and_whitespace() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n ") == []


def test_no_boundary_inside_numbers_or_urls() -> None:
    text = "It costs 3.50 at example.com today."
    assert [text[b:e] for b, e in split_sentences(text)] == [text]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert [TEXT[b:e] for b, e in split_sentences(TEXT)] == [
        'He said "stop."',
        "Then he left!",
        "Was it 3.5 miles?",
        "No idea...",
        "really",
        "last line without a period",
    ]
    text = "She wrote (in the margin.) It was “fine.” Done… Next (yes?) Fine."
    assert [text[b:e] for b, e in split_sentences(text)] == [
        "She wrote (in the margin.)",
        "It was “fine.”",
        "Done…",
        "Next (yes?)",
        "Fine.",
    ]


@pytest.mark.parametrize("text", [TEXT, "one", "a.b.c", "?!", "x\ny", "Dots... and more", "“Hi.”"])
def test_sentences_cover_all_non_whitespace(text: str) -> None:
    spans = split_sentences(text)
    covered: set[int] = set()
    for b, e in spans:
        assert text[b:e] == text[b:e].strip() != ""
        covered.update(range(b, e))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered
    assert spans == sorted(spans)
