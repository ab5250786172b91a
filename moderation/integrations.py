"""Other platforms' protocols mapped onto ours: Perspective API's attributes and Coral's phase.

Perspective (Google's AnalyzeComment): attribute names map onto our six categories;
offsets are counted in UTF-16 code units, as Google counts them (a JavaScript
string index), not in Python code points.

Coral Talk's External Moderation Phase: Coral POSTs `JSON.stringify(request, null, 2)`
and signs the exact bytes with HMAC-SHA256 keyed by each of the phase's active
secrets (`empsec_` + hex), sending `X-Coral-Signature: sha256=<hex>[,sha256=<hex>...]`.
It reads back an optional `status`, `actions` and `tags`, and ignores any answer
that fails its validation, so the answer below only uses its enum spellings.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from moderation.categories import Category
from moderation.comments import ReasonCode, Status, StoredComment

# -- Perspective ---------------------------------------------------------------

# Perspective's attribute names are our categories' names, upper case.
PERSPECTIVE_ATTRIBUTES: Mapping[str, str] = {c.name: c.value for c in Category}
EXPERIMENTAL_SUFFIX = "_EXPERIMENTAL"
MAX_PERSPECTIVE_BYTES = 20_480  # Perspective's limit on comment.text, in UTF-8 bytes


@dataclass(frozen=True)
class Attribute:
    """A requested Perspective attribute: the key as the client wrote it, and our category."""

    key: str
    name: str  # the plain attribute name: no @version, no _EXPERIMENTAL
    category: str


def resolve_attribute(key: str) -> Attribute | None:
    """Map `NAME`, `NAME@VERSION` or `NAME_EXPERIMENTAL` to one of our categories (None: unknown)."""
    name = key.split("@", 1)[0].strip().upper()
    name = name.removesuffix(EXPERIMENTAL_SUFFIX)
    category = PERSPECTIVE_ATTRIBUTES.get(name)
    return Attribute(key, name, category) if category else None


def utf16_index(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code point `index` of `text` (astral characters count 2)."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


class _TextOnly(HTMLParser):
    # Block-level tags end a line, so sentences in separate paragraphs stay separate.
    BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4"})
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


# The tags comment HTML is made of (Coral's editor among others); "<3" or
# "<https://...>" in plain text are not markup.
_TAG = re.compile(
    r"</?(?:a|b|i|u|s|em|strong|br|p|div|span|blockquote|ul|ol|li|code|pre|h[1-6]|sub|sup)\b[^>]*>",
    re.IGNORECASE,
)


def html_to_text(html: str) -> str:
    """The text a reader sees in an HTML fragment: tags dropped, entities decoded."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def looks_like_html(text: str) -> bool:
    """Whether a text holds markup (Coral sends HTML or plain text, by phase setting)."""
    return _TAG.search(text) is not None


# -- Coral ---------------------------------------------------------------------

CORAL_SIGNATURE_HEADER = "X-Coral-Signature"
CORAL_SECRET = re.compile(r"empsec_[0-9a-f]{32,}")
_MAX_SIGNATURES = 8  # Coral sends one per active secret; more is someone probing


class ApprovedAnswer(enum.StrEnum):
    """How an approval is answered: 204 lets Coral's later phases run; APPROVED ends them."""

    NO_CONTENT = "no_content"
    STATUS = "status"


@dataclass(frozen=True)
class CoralPhase:
    """A site's Coral settings: its signing secret and the one being rotated out."""

    site_id: str
    secret: str
    previous_secret: str | None
    previous_expires_at: datetime | None
    approved_answer: ApprovedAnswer
    updated_at: datetime

    def secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets a request may be signed with now: a rotated-out one until it expires."""
        if self.previous_secret and self.previous_expires_at and now < self.previous_expires_at:
            return (self.secret, self.previous_secret)
        return (self.secret,)


def coral_signature(body: bytes, secret: str) -> str:
    """One `sha256=<hex>` value, as Coral computes it for one secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def coral_signature_header(body: bytes, secrets: Sequence[str]) -> str:
    """The header value Coral sends when it has several active secrets."""
    return ",".join(coral_signature(body, s) for s in secrets)


def verify_coral_signature(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether any offered signature matches any secret; every pair is compared in constant time."""
    if not header or not secrets:
        return False
    offered = [v.strip() for v in header.split(",")][:_MAX_SIGNATURES]
    expected = [coral_signature(body, s).encode() for s in secrets]
    matched = False
    for value in offered:
        candidate = value.lower().encode("utf-8", "surrogateescape")
        for e in expected:
            # No early exit: the time taken must not tell which value or secret matched.
            matched |= hmac.compare_digest(candidate, e)
    return matched


# Our hold reasons in Coral's words: Coral flags only as toxic or spam.
_TOXIC_REASONS = frozenset({ReasonCode.CATEGORY, ReasonCode.BLOCKED_WORD, ReasonCode.SUSPECT_WORD})
_SPAM_REASONS = frozenset({ReasonCode.TOO_MANY_LINKS})


def coral_answer(comment: StoredComment, approved: ApprovedAnswer) -> dict[str, Any] | None:
    """Coral's ExternalModerationResponse for a decided comment (None: answer 204)."""
    if comment.status is Status.APPROVED:
        return {"status": "APPROVED"} if approved is ApprovedAnswer.STATUS else None
    codes = {r.code for r in comment.reasons}
    actions = []
    if codes & _TOXIC_REASONS:
        actions.append({"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"})
    if codes & _SPAM_REASONS:
        actions.append({"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"})
    answer: dict[str, Any] = {"status": "SYSTEM_WITHHELD"}
    if actions:
        answer["actions"] = actions
    return answer
