from __future__ import annotations

from moderation.spans import split_sentences


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
