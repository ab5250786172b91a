"""The moderator queue: list, claim under a lease, decide with optimistic concurrency, undo."""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moderation.comments import Status, StoredComment
from moderation.sites import Role, User
from moderation.store import SqlStore, utcnow
from moderation.webhooks import event_row

LEASE = timedelta(minutes=5)


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class RejectReason(enum.StrEnum):
    ABUSIVE = "abusive"
    HARASSMENT = "harassment"
    HATE_SPEECH = "hate_speech"
    THREAT = "threat"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReviewError(Exception):
    """A decision that cannot be made; `status` says how the API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class DecisionIn:
    comment_id: str
    action: Action
    version: int
    reason: RejectReason | None = None
    note: str | None = None


@dataclass(frozen=True)
class QueueItem:
    comment: StoredComment
    author_history: dict[str, int]


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    next_cursor: str | None


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
        raise ReviewError(422, "The cursor is not valid; start again without one.") from exc


class Review:
    """What moderators do. Sites outside the moderator's own look like they do not exist."""

    def __init__(self, store: SqlStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def _sites(self, user: User, site: str | None) -> list[str]:
        if site is not None:
            found = self.store.get_site(site)
            if found is None or not user.can_access(found.id):
                raise ReviewError(404, "No such site.")
            return [found.id]
        if user.role is Role.ADMIN:
            return [s.id for s in self.store.list_sites()]
        return sorted(user.site_ids)

    def comment(self, user: User, comment_id: str) -> StoredComment:
        """A comment the user may see; anything else is a 404."""
        found = self.store.get_comment(comment_id)
        if found is None or not user.can_access(found.site_id):
            raise ReviewError(404, "No such comment.")
        return found

    def _with_history(self, items: Sequence[StoredComment]) -> list[QueueItem]:
        by_site: dict[str, list[str]] = {}
        for c in items:
            if c.author.id:
                by_site.setdefault(c.site_id, []).append(c.author.id)
        history = {site: self.store.author_history(site, ids) for site, ids in by_site.items()}
        empty = {"approved": 0, "rejected": 0, "held": 0}
        return [
            QueueItem(c, history.get(c.site_id, {}).get(c.author.id or "", empty)) for c in items
        ]

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
        items = self.store.queue(
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
        items = self.store.claim(user.id, self._sites(user, site), n, now, now + LEASE)
        return self._with_history(items)

    def renew(self, user: User, ids: Sequence[str]) -> list[str]:
        now = self.clock()
        return self.store.renew_claims(user.id, ids, now + LEASE, now)

    def release(self, user: User, ids: Sequence[str]) -> None:
        self.store.release_claims(user.id, ids)

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
            raise ReviewError(409, "Another moderator has claimed this comment.")
        if decision.version != comment.version:
            raise ReviewError(
                409,
                f"The comment changed since version {decision.version} "
                f"(now {comment.version}); reload it.",
            )
        if decision.action is Action.REJECT and decision.reason is None:
            raise ReviewError(422, "A rejection needs a reason.")
        if decision.reason is RejectReason.OTHER and not (decision.note or "").strip():
            raise ReviewError(422, "The reason 'other' needs a note.")
        status = Status.APPROVED if decision.action is Action.APPROVE else Status.REJECTED
        before = _snapshot(comment)
        values = {
            "status": status.value,
            "decided_by": user.id,
            "decided_at": now,
            "decision_reason": decision.reason.value if decision.reason else None,
            "decision_note": decision.note,
            "claimed_by": None,
            "claim_expires_at": None,
            "updated_at": now,
        }
        after = {
            **before,
            **{k: values[k] for k in ("status", "decided_by", "decision_reason", "decision_note")},
        }
        return self._apply(
            user, comment, values, "comment.decision", before, after, f"comment.{status.value}"
        )

    def undo(self, user: User, comment_id: str) -> StoredComment:
        """Revert the comment's last moderator decision (which may itself have been an undo)."""
        comment = self.comment(user, comment_id)
        last = self.store.last_decision_audit(comment_id)
        if last is None or last["action"] != "comment.decision":
            raise ReviewError(409, "There is no decision to undo.")
        if last["after"].get("status") != comment.status.value:
            raise ReviewError(409, "The comment changed after that decision; reload it.")
        restored = last["before"]
        status = Status(restored["status"])
        values = {
            "status": status.value,
            "decided_by": restored["decided_by"],
            "decision_reason": restored.get("decision_reason"),
            "decision_note": restored.get("decision_note"),
            "decided_at": self.clock() if restored["decided_by"] != "auto" else None,
            "updated_at": self.clock(),
        }
        return self._apply(
            user,
            comment,
            values,
            "comment.undo",
            _snapshot(comment),
            {**restored},
            f"comment.{status.value}",
        )

    def _apply(
        self,
        user: User,
        comment: StoredComment,
        values: dict[str, Any],
        action: str,
        before: dict[str, Any],
        after: dict[str, Any],
        event: str,
    ) -> StoredComment:
        site = self.store.get_site(comment.site_id)
        assert site is not None
        outbox = event_row(
            site,
            event,
            comment.id,
            comment.external_id,
            Status(values["status"]),
            comment.reasons,
            self.clock(),
        )
        audit = {
            "site_id": comment.site_id,
            "comment_id": comment.id,
            "actor": user.id,
            "action": action,
            "before": before,
            "after": after,
        }
        if not self.store.update_comment(comment.id, comment.version, values, audit, outbox):
            raise ReviewError(409, "Someone else decided this comment first; reload it.")
        updated = self.store.get_comment(comment.id)
        assert updated is not None
        return updated

    def decide_many(self, user: User, decisions: Sequence[DecisionIn]) -> list[dict[str, Any]]:
        """Decide several comments; each result says what happened to that one."""
        results = []
        for d in decisions:
            try:
                c = self.decide(user, d)
                results.append({"id": d.comment_id, "status": 200, "comment": c})
            except ReviewError as exc:
                results.append({"id": d.comment_id, "status": exc.status, "message": exc.message})
        return results

    def audit(self, user: User, comment_id: str) -> list[dict[str, Any]]:
        self.comment(user, comment_id)
        return self.store.audit_entries(comment_id=comment_id)


def _snapshot(c: StoredComment) -> dict[str, Any]:
    return {
        "status": c.status.value,
        "decided_by": c.decided_by,
        "decision_reason": c.decision_reason,
        "decision_note": c.decision_note,
    }
