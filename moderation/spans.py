"""Sentence spans of a comment, so a moderator sees which part triggered a hold."""

from __future__ import annotations

import re

# A sentence ends at ., ! or ? (possibly repeated, possibly followed by closing
# quotes or brackets) followed by whitespace, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character offsets (begin inclusive, end exclusive) of each sentence, whitespace trimmed."""
    spans = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for b, e in spans:
        segment = text[b:e]
        stripped = segment.strip()
        if stripped:
            lead = len(segment) - len(segment.lstrip())
            out.append((b + lead, b + lead + len(stripped)))
    return out
