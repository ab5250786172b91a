"""Sentence spans of a comment, so a moderator sees which part triggered a hold."""

from __future__ import annotations

import re

# A sentence runs from a non-space character to terminal punctuation (plus closing
# quotes or brackets, which stay with it) followed by whitespace, to a line break,
# or to the end.
_SENTENCE = re.compile(r"\S.*?(?:[.!?…]+[\"'”’»)\]]*(?=\s|\Z)|(?=\n)|\Z)", re.S)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character offsets (begin inclusive, end exclusive) of each sentence, whitespace trimmed."""
    spans = []
    for m in _SENTENCE.finditer(text):
        end = m.start() + len(m.group().rstrip())
        spans.append((m.start(), end))
    return spans
