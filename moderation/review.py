"""The moderator queue: list, claim under a lease, decide with optimistic concurrency, undo."""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moderation.audit import AuditAction, AuditEntry
from moderation.clock import utcnow
from moderation.comments import (
    Decider,
    Decision,
    RejectReason,
    Revision,
    Status,
    StoredComment,
)
from moderation.errors import Conflict, DomainError, Invalid, NotFound, Stale
from moderation.events import EventName
from moderation.reports import ReportSummary
from moderation.repositories import Repositories
from moderation.sites import Role, User
from moderation.standing import AuthorActionEntry
from moderation.webhooks import event_for

LEASE = timedelta(minutes=5)


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class DecisionIn:
    comment_id: str
    action: Action
    version: int
    reason: RejectReason | None = None
    note: str | None = None


@dataclass(frozen=True)
class QueueItem:
    """A comment as a moderator reviews it, with what a moderator needs beside it."""

    comment: StoredComment
    author_history: dict[str, int]
    reports: ReportSummary | None = None  # readers' reports since the last moderator decision
    parent: StoredComment | None = None  # the comment this one replies to
    author_standing: AuthorActionEntry | None = None  # a ban, premoderation or trust in force
    revisions: tuple[Revision, ...] = ()  # earlier texts, oldest first


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    next_cursor: str | None


@dataclass(frozen=True)
class BulkResult:
    """What happened to one comment of a bulk decision: the decided comment, or why not."""

    comment_id: str
    comment: StoredComment | None = None
    error: DomainError | None = None


def _encode_cursor(sort: str, item: StoredComment) -> str:
    key = item.risk if sort == "risk" else item.created_at.isoformat()
    raw = json.dumps([sort, key, item.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, key, last_id = json.loads(raw)
        if kind != sort or not isinstance(last_id, str):
            raise ValueError("cursor from another sort order")
        if sort == "age":
            key = datetime.fromisoformat(key)
        elif not isinstance(key, int | float):
            raise ValueError("bad risk")
        return key, last_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise Invalid("The cursor is not valid; start again without one.") from exc


class Review:
    """What moderators do. Sites outside the moderator's own look like they do not exist."""

    def __init__(self, repos: Repositories, clock: Callable[[], datetime] = utcnow) -> None:
        self.repos = repos
        self.clock = clock

    def _sites(self, user: User, site: str | None) -> list[str]:
        if site is not None:
            found = self.repos.sites.get(site)
            if found is None or not user.can_access(found.id):
                raise NotFound("No such site.")
            return [found.id]
        if user.role is Role.ADMIN:
            return [s.id for s in self.repos.sites.all()]
        return sorted(user.site_ids)

    def comment(self, user: User, comment_id: str) -> StoredComment:
        """A comment the user may see; anything else is a 404."""
        found = self.repos.comments.get(comment_id)
        if found is None or not user.can_access(found.site_id):
            raise NotFound("No such comment.")
        return found

    def _with_history(self, items: Sequence[StoredComment]) -> list[QueueItem]:
        """Each comment with its author's history and standing, its reports, parent and
        earlier texts (a few queries per page, not per comment)."""
        now = self.clock()
        by_site: dict[str, list[str]] = {}
        parent_ids: dict[str, list[str]] = {}
        for c in items:
            if c.author.id:
                by_site.setdefault(c.site_id, []).append(c.author.id)
            if c.parent_id:
                parent_ids.setdefault(c.site_id, []).append(c.parent_id)
        history = {
            site: self.repos.comments.author_history(site, ids) for site, ids in by_site.items()
        }
        standings = {
            site: self.repos.author_actions.in_force(site, ids, now)
            for site, ids in by_site.items()
        }
        parents = {site: self.repos.comments.parents(site, ids) for site, ids in parent_ids.items()}
        reports = self.repos.reports.summaries(
            [(c.id, c.decided_at if c.decided_by_moderator else None) for c in items]
        )
        revisions = self.repos.comments.revisions([c.id for c in items if c.edited_at])
        empty = {"approved": 0, "rejected": 0, "held": 0, "withdrawn": 0}
        out = []
        for c in items:
            author = c.author.id or ""
            summary = reports.get(c.id)
            out.append(
                QueueItem(
                    c,
                    history.get(c.site_id, {}).get(author, empty),
                    reports=summary if summary and summary.count else None,
                    parent=parents.get(c.site_id, {}).get(c.parent_id or ""),
                    author_standing=standings.get(c.site_id, {}).get(author),
                    revisions=tuple(revisions.get(c.id, ())),
                )
            )
        return out

    def item(self, user: User, comment_id: str) -> QueueItem:
        """One comment the user may see, with everything the queue shows beside it."""
        return self._with_history([self.comment(user, comment_id)])[0]

    def queue(
        self,
        user: User,
        *,
        site: str | None = None,
        category: str | None = None,
        reason: str | None = None,
        sort: str = "risk",
        min_age: timedelta | None = None,
        max_age: timedelta | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> QueuePage:
        """Held comments of the user's sites, one page at a time."""
        now = self.clock()
        after = _decode_cursor(sort, cursor) if cursor else None
        items = self.repos.comments.queue(
            self._sites(user, site),
            sort=sort,
            limit=limit + 1,
            after=after,
            category=category,
            reason=reason,
            older_than=now - min_age if min_age else None,
            newer_than=now - max_age if max_age else None,
        )
        more = len(items) > limit
        items = items[:limit]
        next_cursor = _encode_cursor(sort, items[-1]) if more and items else None
        return QueuePage(self._with_history(items), next_cursor)

    def claim(self, user: User, n: int, site: str | None = None) -> list[QueueItem]:
        """Lease the next n unclaimed held comments to this moderator."""
        now = self.clock()
        items = self.repos.comments.claim(user.id, self._sites(user, site), n, now, now + LEASE)
        return self._with_history(items)

    def renew(self, user: User, ids: Sequence[str]) -> list[str]:
        now = self.clock()
        return self.repos.comments.renew_claims(user.id, ids, now + LEASE, now)

    def release(self, user: User, ids: Sequence[str]) -> None:
        self.repos.comments.release_claims(user.id, ids)

    def decide(self, user: User, decision: DecisionIn) -> StoredComment:
        """Approve or reject a comment the moderator saw at `version`; stale versions are 409."""
        comment = self.comment(user, decision.comment_id)
        now = self.clock()
        if (
            comment.claimed_by
            and comment.claimed_by != user.id
            and comment.claim_expires_at
            and comment.claim_expires_at > now
        ):
            raise Conflict("Another moderator has claimed this comment.")
        if comment.status is Status.WITHDRAWN:
            raise Conflict("The author withdrew this comment; there is nothing to decide.")
        if decision.version != comment.version:
            raise Stale(
                f"The comment changed since version {decision.version} "
                f"(now {comment.version}); reload it."
            )
        if decision.action is Action.REJECT and decision.reason is None:
            raise Invalid("A rejection needs a reason.")
        if decision.reason is RejectReason.OTHER and not (decision.note or "").strip():
            raise Invalid("The reason 'other' needs a note.")
        status = Status.APPROVED if decision.action is Action.APPROVE else Status.REJECTED
        change = Decision(
            status=status,
            decided_by=user.id,
            decided_at=now,
            reason=decision.reason.value if decision.reason else None,
            note=decision.note,
            at=now,
        )
        before = _snapshot(comment)
        after = {
            **before,
            "status": status.value,
            "decided_by": user.id,
            "decision_reason": change.reason,
            "decision_note": change.note,
            "flagged": False,
        }
        return self._apply(user, comment, change, AuditAction.COMMENT_DECISION, before, after)

    def undo(self, user: User, comment_id: str) -> StoredComment:
        """Revert the comment's last moderator decision (which may itself have been an undo)."""
        comment = self.comment(user, comment_id)
        last = self.repos.audit.last_moderator_action(comment_id)
        if last is None or last.action is not AuditAction.COMMENT_DECISION:
            raise Conflict("There is no decision to undo.")
        if last.after.get("status") != comment.status.value:
            raise Stale("The comment changed after that decision; reload it.")
        restored = last.before
        now = self.clock()
        change = Decision(
            status=Status(restored["status"]),
            decided_by=restored["decided_by"],
            decided_at=now if restored["decided_by"] != Decider.AUTO else None,
            reason=restored.get("decision_reason"),
            note=restored.get("decision_note"),
            at=now,
            release_claim=False,
            flagged=bool(restored.get("flagged")),
        )
        return self._apply(
            user, comment, change, AuditAction.COMMENT_UNDO, _snapshot(comment), {**restored}
        )

    def _apply(
        self,
        user: User,
        comment: StoredComment,
        change: Decision,
        action: AuditAction,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> StoredComment:
        site = self.repos.sites.get(comment.site_id)
        assert site is not None
        event = event_for(
            site,
            EventName.for_status(change.status),
            comment.id,
            comment.external_id,
            change.status,
            comment.reasons,
            self.clock(),
        )
        audit = AuditEntry(
            action,
            user.id,
            site_id=comment.site_id,
            comment_id=comment.id,
            before=before,
            after=after,
        )
        if not self.repos.comments.apply(comment.id, comment.version, change, audit, event):
            raise Stale("Someone else decided this comment first; reload it.")
        updated = self.repos.comments.get(comment.id)
        assert updated is not None
        return updated

    def decide_many(self, user: User, decisions: Sequence[DecisionIn]) -> list[BulkResult]:
        """Decide several comments; each result says what happened to that one."""
        results = []
        for d in decisions:
            try:
                results.append(BulkResult(d.comment_id, comment=self.decide(user, d)))
            except DomainError as exc:
                results.append(BulkResult(d.comment_id, error=exc))
        return results

    def audit(self, user: User, comment_id: str) -> list[AuditEntry]:
        """Every audit entry of a comment the user may see, newest first."""
        self.comment(user, comment_id)
        return self.repos.audit.entries(comment_id=comment_id)


def _snapshot(c: StoredComment) -> dict[str, Any]:
    return {
        "status": c.status.value,
        "decided_by": c.decided_by,
        "decision_reason": c.decision_reason,
        "decision_note": c.decision_note,
        "flagged": c.flagged_at is not None,  # in the queue on readers' reports
    }
