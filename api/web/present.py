"""View models for the web pages: highlighted text, score bars, reasons, audit lines, charts.

Pure functions of domain objects, so templates stay simple and the rules are unit-testable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moderation.audit import MODERATOR_ACTIONS, AuditAction, AuditEntry
from moderation.categories import CATEGORIES, Category
from moderation.comments import Reason, ReasonCode, Span, StoredComment
from moderation.reports import ReportSummary
from moderation.review import QueueItem
from moderation.sites import Site
from moderation.standing import AuthorActionEntry

CATEGORY_LABELS: Mapping[str, str] = {
    Category.TOXICITY: "Toxicity",
    Category.SEVERE_TOXICITY: "Severe toxicity",
    Category.INSULT: "Insult",
    Category.PROFANITY: "Profanity",
    Category.THREAT: "Threat",
    Category.IDENTITY_ATTACK: "Identity attack",
}
REASON_CODES: Mapping[str, str] = {
    ReasonCode.CATEGORY: "Score over threshold",
    ReasonCode.BLOCKED_WORD: "Blocked word",
    ReasonCode.SUSPECT_WORD: "Suspect word",
    ReasonCode.TOO_MANY_LINKS: "Too many links",
    ReasonCode.PREMODERATION: "Pre-moderation",
    ReasonCode.LANGUAGE_UNSUPPORTED: "Unsupported language",
    ReasonCode.SCORING_UNAVAILABLE: "Not scored yet",
    ReasonCode.REPORTED: "Reported by readers",
    ReasonCode.AUTHOR_BANNED: "Author banned",
    ReasonCode.AUTHOR_PREMODERATED: "Author pre-moderated",
}
STANDING_LABELS = {
    "ban": "Banned",
    "premoderate": "Pre-moderated",
    "trust": "Trusted",
    "clear": "Cleared",
}
AUTHOR_ACTION_LABELS = {  # what the author panel offers
    "ban": "Ban: reject new comments",
    "premoderate": "Pre-moderate: hold new comments",
    "trust": "Trust: hold only severe ones",
    "clear": "Clear",
}
REPORT_LABELS = {
    "abusive": "abusive",
    "harassment": "harassment",
    "hate": "hate",
    "spam": "spam",
    "off_topic": "off topic",
    "other": "other",
}
WORD_CODES = (ReasonCode.BLOCKED_WORD, ReasonCode.SUSPECT_WORD)
REJECT_LABELS = {
    "abusive": "Abusive",
    "harassment": "Harassment",
    "hate_speech": "Hate speech",
    "threat": "Threat",
    "spam": "Spam",
    "off_topic": "Off topic",
    "other": "Other (say why)",
}


def label(category: str) -> str:
    """A category's human name."""
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


# -- highlighted text ---------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of text; `word` is "blocked" or "suspect" when it is a listed word."""

    text: str
    word: str | None = None


@dataclass(frozen=True)
class Segment:
    """A sentence (or the text between sentences); `trigger` marks the ones that caused a hold."""

    pieces: tuple[Piece, ...]
    trigger: bool = False
    note: str = ""


def _triggers(spans: Sequence[Span], reasons: Sequence[Reason]) -> dict[int, str]:
    """Index of each triggering span and a note naming its worst tripped category."""
    tripped = [
        (r.category, r.threshold)
        for r in reasons
        if r.code == ReasonCode.CATEGORY and r.category and r.threshold is not None
    ]
    if not tripped or not spans:
        return {}
    out: dict[int, str] = {}
    for i, span in enumerate(spans):
        over = [
            (span.scores.get(cat, 0.0), cat)
            for cat, thr in tripped
            if span.scores.get(cat, 0.0) >= thr
        ]
        if over:
            score, cat = max(over)
            out[i] = f"{label(cat)} {score:.2f}"
    if not out:
        # No single sentence crosses a threshold on its own: mark the one that scores highest.
        best = max(
            range(len(spans)),
            key=lambda i: max(spans[i].scores.get(cat, 0.0) for cat, _ in tripped),
        )
        score, cat = max((spans[best].scores.get(c, 0.0), c) for c, _ in tripped)
        out[best] = f"{label(cat)} {score:.2f}"
    return out


def _pieces(text: str, begin: int, end: int, words: Sequence[tuple[int, int, str]]) -> list[Piece]:
    out: list[Piece] = []
    at = begin
    for b, e, kind in words:
        b, e = max(b, at), min(e, end)
        if b >= e:
            continue
        if b > at:
            out.append(Piece(text[at:b]))
        out.append(Piece(text[b:e], kind))
        at = e
    if at < end:
        out.append(Piece(text[at:end]))
    return out


def highlight(text: str, spans: Sequence[Span], reasons: Sequence[Reason]) -> list[Segment]:
    """Split the text into sentences, marking triggering sentences and listed words."""
    words = sorted(
        (r.begin, r.end, "blocked" if r.code == ReasonCode.BLOCKED_WORD else "suspect")
        for r in reasons
        if r.code in WORD_CODES and r.begin is not None and r.end is not None
    )
    ordered = sorted((s for s in spans if 0 <= s.begin < s.end <= len(text)), key=lambda s: s.begin)
    triggers = _triggers(ordered, reasons)
    segments: list[Segment] = []
    at = 0
    for i, span in enumerate(ordered):
        if span.begin < at:
            continue  # overlapping spans: keep the first
        if span.begin > at:
            segments.append(Segment(tuple(_pieces(text, at, span.begin, words))))
        segments.append(
            Segment(
                tuple(_pieces(text, span.begin, span.end, words)),
                trigger=i in triggers,
                note=triggers.get(i, ""),
            )
        )
        at = span.end
    if at < len(text) or not segments:
        segments.append(Segment(tuple(_pieces(text, at, len(text), words))))
    return segments


# -- scores and reasons -------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One category's score against the site's threshold (both 0..1)."""

    category: str
    label: str
    score: float
    threshold: float

    @property
    def over(self) -> bool:
        return self.score >= self.threshold

    @property
    def width(self) -> str:
        return f"{max(0.0, min(1.0, self.score)) * 100:.1f}"

    @property
    def mark(self) -> str:
        return f"{max(0.0, min(1.0, self.threshold)) * 100 - 0.6:.1f}"


def bars(
    scores: Mapping[str, float], thresholds: Mapping[str, float], brief: bool = False
) -> list[Bar]:
    """Score bars in the usual category order; `brief` keeps the notable ones (at least three)."""
    order = [c for c in CATEGORIES if c in scores] + [c for c in scores if c not in CATEGORIES]
    out = [Bar(c, label(c), float(scores[c]), float(thresholds.get(c, 1.0))) for c in order]
    if brief:
        ranked = sorted(out, key=lambda b: (b.over, b.score), reverse=True)
        keep = {b.category for b in ranked[:3]} | {
            b.category for b in out if b.over or b.score >= 0.2
        }
        out = [b for b in out if b.category in keep]
    return out


def reason_text(r: Reason) -> str:
    """A reason in words, with the figures that tripped it."""
    if r.code == ReasonCode.CATEGORY and r.category:
        return f"{label(r.category)} {r.score or 0:.2f} ≥ {r.threshold or 0:.2f}"
    if r.code in WORD_CODES:
        return f"{REASON_CODES[r.code]} “{r.word}”"
    if r.code == ReasonCode.TOO_MANY_LINKS:
        return f"{r.count} links (limit {r.limit})"
    if r.code == ReasonCode.LANGUAGE_UNSUPPORTED:
        return f"Language “{r.language}” is not scored"
    if r.code == ReasonCode.REPORTED and r.count:
        return f"Reported by {r.count} reader{'s' if r.count != 1 else ''}"
    return REASON_CODES.get(r.code, r.code.replace("_", " "))


def history_text(history: Mapping[str, int]) -> str:
    """An author's record on the site, in words."""
    parts = [f"{history.get(k, 0)} {k}" for k in ("approved", "rejected", "held")]
    if history.get("withdrawn"):
        parts.append(f"{history['withdrawn']} withdrawn")
    return " · ".join(parts)


def reports_text(summary: ReportSummary | None) -> str | None:
    """Readers' reports in words: how many, and why."""
    if summary is None or not summary.count:
        return None
    why = ", ".join(
        f"{REPORT_LABELS.get(k, k)} ×{n}" if n > 1 else REPORT_LABELS.get(k, k)
        for k, n in sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"{summary.count} report{'s' if summary.count != 1 else ''}: {why}"


def standing_text(standing: AuthorActionEntry | None) -> str | None:
    """The action in force on an author, in words (with its expiry)."""
    if standing is None:
        return None
    label = STANDING_LABELS.get(standing.action.value, standing.action.value)
    if standing.expires_at is not None:
        return f"{label} until {standing.expires_at:%Y-%m-%d %H:%M} UTC"
    return label


def safe_url(url: str | None) -> str | None:
    """Only http(s) links become hrefs: a stored `javascript:` URL must never be clickable."""
    if url and url.lower().startswith(("http://", "https://", "/")) and not url.startswith("//"):
        return url
    return None


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """A short relative time: "just now", "5 min ago", "3 h ago", "2 d ago"."""
    if when is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


@dataclass(frozen=True)
class Card:
    """Everything the queue shows for one held comment."""

    comment: StoredComment
    segments: list[Segment]
    bars: list[Bar]
    reasons: list[str]
    history: str
    article_url: str | None
    site_name: str
    claimed_by: str | None
    mine: bool
    reports: str | None = None
    standing: str | None = None
    parent: StoredComment | None = None


def holder(comment: StoredComment, now: datetime) -> str | None:
    """Who holds a live claim on the comment, if anyone."""
    expires = comment.claim_expires_at
    return comment.claimed_by if comment.claimed_by and expires and expires > now else None


def cards(
    items: Sequence[QueueItem],
    sites: Mapping[str, Site],
    names: Mapping[str, str],
    me: str,
    now: datetime,
) -> list[Card]:
    """One card per held comment, scored against its own site's thresholds."""
    out = []
    for item in items:
        c = item.comment
        site = sites[c.site_id]
        held_by = holder(c, now)
        out.append(
            Card(
                c,
                highlight(c.text, c.spans, c.reasons),
                bars(c.scores, site.policy.thresholds, brief=True),
                [reason_text(r) for r in c.reasons],
                history_text(item.author_history),
                safe_url(c.article.url),
                site.name,
                names.get(held_by, "another moderator") if held_by else None,
                held_by == me,
                reports_text(item.reports),
                standing_text(item.author_standing),
                item.parent,
            )
        )
    return out


# -- audit --------------------------------------------------------------------

ACTIONS = {
    "comment.auto_decision": "Decided automatically",
    "comment.decision": "Moderator decision",
    "comment.undo": "Decision undone",
    "comment.rescored": "Scored again",
    "comment.reported": "Reported by readers",
    "comment.edited": "Edited by the author",
    "comment.withdrawn": "Withdrawn by the author",
    "policy.update": "Policy saved",
    "policy.shadow_set": "Shadow policy set",
    "policy.shadow_clear": "Shadow policy stopped",
    "key.create": "API key created",
    "key.revoke": "API key revoked",
    "webhook.update": "Webhook changed",
    "site.create": "Site created",
    "labels.import": "Labels imported",
    "model.train": "Model training requested",
    "model.promote": "Model version promoted",
    "model.rollback": "Model rolled back",
    "model.shadow_start": "Model version put in shadow",
    "model.shadow_stop": "Model version out of shadow",
    "model.settings": "Model settings changed",
}


def _words(before: Sequence[str], after: Sequence[str], name: str) -> list[str]:
    added = [w for w in after if w not in before]
    removed = [w for w in before if w not in after]
    out = []
    if added:
        out.append(f"{name}: added " + ", ".join(f"“{w}”" for w in added))
    if removed:
        out.append(f"{name}: removed " + ", ".join(f"“{w}”" for w in removed))
    return out


def policy_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """What changed between two stored policies, one line per change."""
    before, after = before or {}, after or {}
    out = []
    old_t, new_t = before.get("thresholds") or {}, after.get("thresholds") or {}
    for cat in [*CATEGORIES, *(c for c in new_t if c not in CATEGORIES)]:
        if cat in new_t and old_t.get(cat) != new_t.get(cat):
            old = f"{old_t[cat]:.2f}" if cat in old_t else "—"
            out.append(f"{label(cat)} threshold {old} → {new_t[cat]:.2f}")
    out += _words(before.get("blocked_words") or [], after.get("blocked_words") or [], "Blocked")
    out += _words(before.get("suspect_words") or [], after.get("suspect_words") or [], "Suspect")
    if before.get("max_links") != after.get("max_links") and "max_links" in after:

        def limit(v: Any) -> str:
            return "none" if v is None else str(v)

        out.append(f"Link limit {limit(before.get('max_links'))} → {limit(after.get('max_links'))}")
    if bool(before.get("premoderation")) != bool(after.get("premoderation")):
        out.append(f"Pre-moderation {'on' if after.get('premoderation') else 'off'}")
    if before.get("other_languages") != after.get("other_languages") and after.get(
        "other_languages"
    ):
        out.append(f"Other languages: {after['other_languages']}")
    out += _language_changes(before.get("languages") or {}, after.get("languages") or {})
    return out


LANGUAGE_NAMES = {
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
LANGUAGE_ACTION_LABELS = {  # what the settings page offers per language
    "score": "Score them",
    "hold": "Hold for a moderator",
    "approve": "Approve (no thresholds)",
}
OTHER_LANGUAGE_LABELS = {
    "hold": "Hold for a moderator",
    "score": "Score them anyway (English model)",
    "approve": "Approve (no thresholds)",
}


def language_name(code: str) -> str:
    """A language's English name, or its code."""
    return LANGUAGE_NAMES.get(code, code)


def _language_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for code, rule in after.items():
        old = before.get(code) or {}
        name = language_name(code)
        if old.get("action") != rule.get("action") and rule.get("action"):
            out.append(f"{name}: {rule['action']}")
        old_t, new_t = old.get("thresholds") or {}, rule.get("thresholds") or {}
        for cat, value in new_t.items():
            if old_t.get(cat) != value:
                was = f"{old_t[cat]:.2f}" if cat in old_t else "—"
                out.append(f"{name} {label(cat)} threshold {was} → {value:.2f}")
    return out


@dataclass(frozen=True)
class AuditLine:
    when: datetime
    who: str
    what: str
    details: list[str]


def _status_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    out = []
    if before.get("status") != after.get("status"):
        out.append(f"{before.get('status') or '—'} → {after.get('status')}")
    if after.get("decision_reason"):
        out.append(f"reason: {after['decision_reason'].replace('_', ' ')}")
    if after.get("decision_note"):
        out.append(f"note: {after['decision_note']}")
    return out


def _model_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Which version of a site's model an entry is about: served, trained, or in shadow."""

    def tag(v: Any) -> str:
        return f"v{v}" if v is not None else "the base model"

    if "auto_promote" in after:
        n = after.get("retrain_after_labels")
        return [
            f"auto-promote {'on' if after['auto_promote'] else 'off'}",
            f"retrain after {n} new labels" if n is not None else "retrain only when asked",
        ]
    if "shadow_version" in after or "shadow_version" in before:
        version = after.get("shadow_version") or before.get("shadow_version")
        return [tag(version)] + ([str(after["why"])] if after.get("why") else [])
    if "version" in before:
        return [f"{tag(before.get('version'))} → {tag(after.get('version'))}"]
    return [tag(after["version"])] if "version" in after else []


READER_AND_AUTHOR_ACTIONS = (
    AuditAction.COMMENT_REPORTED,
    AuditAction.COMMENT_EDITED,
    AuditAction.COMMENT_WITHDRAWN,
)


def audit_line(entry: AuditEntry, names: Mapping[str, str]) -> AuditLine:
    """One audit entry in words: when, who, what, and the change."""
    action = entry.action
    before, after = entry.before or {}, entry.after or {}
    details: list[str]
    if action.startswith("policy."):
        details = policy_changes(before, after) if after else []
    elif action is AuditAction.COMMENT_AUTO_DECISION:
        reasons = [reason_text(Reason.from_dict(r)) for r in after.get("reasons", [])]
        details = [str(after.get("status", "")), *reasons]
    elif action in MODERATOR_ACTIONS or action in READER_AND_AUTHOR_ACTIONS:
        details = _status_change(before, after)
    elif action.startswith("key."):
        details = [str(after.get("key_id", ""))]
    elif action.startswith("model."):
        details = _model_change(before, after)
    elif action is AuditAction.WEBHOOK_UPDATE:
        details = [f"URL {after.get('url') or 'none'}"] + (
            ["secret rotated"] if after.get("secret_rotated") else []
        )
    else:
        details = []
    actor = entry.actor
    assert entry.created_at is not None  # entries read back from the log carry their time
    return AuditLine(
        entry.created_at, names.get(actor, actor), ACTIONS.get(action, action), details
    )


# -- the precision / recall chart -----------------------------------------------

# The plot area inside the chart's 320 x 200 viewBox; page scripts read the same numbers
# from the svg's data attributes.
PLOT = {"x0": 40.0, "y0": 12.0, "w": 266.0, "h": 150.0}


def x_at(threshold: float) -> float:
    """The x coordinate of a threshold."""
    return round(PLOT["x0"] + threshold * PLOT["w"], 1)


def marker_label(threshold: float) -> dict[str, Any]:
    """Where a threshold marker's label goes: beside its line, on the side nearer the middle.

    So a label never runs out of the plot; settings.js places labels by the same rule.
    """
    toward_left = threshold > 0.5
    return {"x": -3 if toward_left else 3, "anchor": "end" if toward_left else "start"}


def path(curve: Sequence[Mapping[str, Any]], key: str) -> str:
    """An SVG path through the curve's points; a gap where the value is unknown."""
    d = []
    pen_up = True
    for point in curve:
        value = point.get(key)
        if value is None:
            pen_up = True
            continue
        y = round(PLOT["y0"] + (1 - value) * PLOT["h"], 1)
        d.append(f"{'M' if pen_up else 'L'}{x_at(point['threshold'])} {y}")
        pen_up = False
    return " ".join(d)


def percent(value: float | None) -> str:
    """A ratio as a percentage; a dash when there is nothing to measure."""
    return "—" if value is None else f"{value * 100:.1f}%"
