"""An author's standing on a site: what moderators decided about the person, not one comment."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moderation.audit import AuditAction, AuditEntry
from moderation.categories import Category
from moderation.clock import aware, utcnow
from moderation.comments import Reason, ReasonCode, Status, Verdict
from moderation.errors import Invalid

if TYPE_CHECKING:
    from moderation.repositories import Repositories

# A trusted author's comment is held only for these: the categories that mean real
# harm, the site's blocked words, and a failed scoring (never approved unseen).
SEVERE_CATEGORIES = frozenset({Category.SEVERE_TOXICITY, Category.THREAT, Category.IDENTITY_ATTACK})
TRUSTED_HOLDS = frozenset({ReasonCode.BLOCKED_WORD, ReasonCode.SCORING_UNAVAILABLE})


class AuthorAction(enum.StrEnum):
    """What a moderator can do about an author; `clear` ends the one in force."""

    BAN = "ban"
    PREMODERATE = "premoderate"
    TRUST = "trust"
    CLEAR = "clear"


@dataclass(frozen=True)
class NewAuthorAction:
    """A moderator's action on an author, with why, and until when (None: until cleared)."""

    action: AuthorAction
    note: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AuthorActionEntry:
    """One recorded action on an author."""

    action: AuthorAction
    note: str | None
    expires_at: datetime | None
    actor: str
    created_at: datetime

    def in_force(self, now: datetime) -> bool:
        """Whether this action still applies (not a clear, not expired)."""
        if self.action is AuthorAction.CLEAR:
            return False
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class AuthorProfile:
    """An author on one site: the action in force, every action taken, and their history."""

    site_id: str
    author_id: str
    standing: AuthorActionEntry | None
    actions: tuple[AuthorActionEntry, ...]
    comments: Mapping[str, int] = field(default_factory=dict)


def apply_standing(verdict: Verdict, standing: AuthorActionEntry | None) -> Verdict:
    """The policy's verdict for a comment, as the author's standing changes it.

    ban: rejected (`author_banned`); premoderate: held (`author_premoderated`);
    trust: held only for a severe category, a blocked word or failed scoring.
    """
    if standing is None:
        return verdict
    if standing.action is AuthorAction.BAN:
        reasons = (*verdict.reasons, Reason(code=ReasonCode.AUTHOR_BANNED))
        return Verdict(Status.REJECTED, reasons, max(verdict.risk, 1.0))
    if standing.action is AuthorAction.PREMODERATE:
        reasons = (*verdict.reasons, Reason(code=ReasonCode.AUTHOR_PREMODERATED))
        return Verdict(Status.HELD, reasons, verdict.risk)
    if standing.action is AuthorAction.TRUST:
        kept = tuple(
            r
            for r in verdict.reasons
            if r.code in TRUSTED_HOLDS
            or (r.code == ReasonCode.CATEGORY and r.category in SEVERE_CATEGORIES)
        )
        status = Status.HELD if kept else Status.APPROVED
        return Verdict(status, kept, verdict.risk if kept else 0.0)
    return verdict


def _entry_dict(entry: AuthorActionEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "action": entry.action.value,
        "note": entry.note,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }


class AuthorStandings:
    """What moderators know and decide about an author of one of their sites."""

    def __init__(self, repos: Repositories, clock: Callable[[], datetime] = utcnow) -> None:
        self.repos = repos
        self.clock = clock

    def profile(self, site_id: str, author_id: str) -> AuthorProfile:
        """The action in force, every action taken, and how the author's comments stand."""
        actions = self.repos.author_actions.history(site_id, author_id)
        standing = actions[-1] if actions and actions[-1].in_force(self.clock()) else None
        counts = self.repos.comments.author_history(site_id, [author_id])[author_id]
        return AuthorProfile(site_id, author_id, standing, tuple(actions), counts)

    def act(self, site_id: str, author_id: str, new: NewAuthorAction, actor: str) -> AuthorProfile:
        """Ban, premoderate, trust or clear the author from now on (until `expires_at`); audited."""
        now = self.clock()
        expires = aware(new.expires_at)
        if expires is not None and expires <= now:
            raise Invalid("expires_at is in the past; leave it out for no expiry.")
        if expires is not None and new.action is AuthorAction.CLEAR:
            raise Invalid("A clear does not expire; leave expires_at out.")
        before = self.profile(site_id, author_id).standing
        entry = AuthorActionEntry(new.action, new.note, expires, actor, now)
        audit = AuditEntry(
            AuditAction.AUTHOR_STANDING,
            actor,
            site_id=site_id,
            before=_entry_dict(before),
            after={"author_id": author_id, **(_entry_dict(entry) or {})},
        )
        self.repos.author_actions.add(site_id, author_id, entry, audit)
        return self.profile(site_id, author_id)
