"""The moderator queue without HTTP: claims, decisions, undo, and what each one writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from moderation.audit import AuditAction
from moderation.comments import Decider, Status, StoredComment
from moderation.errors import Conflict, Invalid, NotFound, Stale
from moderation.repositories import Repositories
from moderation.review import LEASE, Action, DecisionIn, RejectReason, Review
from moderation.sites import Role, Site, User
from tests.fakes import Clock

Held = Callable[[str], StoredComment]


def reject(
    comment: StoredComment, reason: RejectReason | None = RejectReason.ABUSIVE
) -> DecisionIn:
    return DecisionIn(comment.id, Action.REJECT, comment.version, reason)


def test_a_decision_writes_the_comment_its_audit_entry_and_its_event_together(
    review: Review, repos: Repositories, moderator: User, held: Held, site: Site, clock: Clock
) -> None:
    comment = held("You nitwit.")
    decided = review.decide(moderator, reject(comment))
    assert decided.status is Status.REJECTED
    assert decided.decided_by == moderator.id and decided.decided_by_moderator
    assert decided.decision_reason == "abusive" and decided.decided_at == clock.now
    assert decided.version == comment.version + 1
    entry = repos.audit.entries(comment_id=comment.id)[0]
    assert entry.action is AuditAction.COMMENT_DECISION and entry.actor == moderator.id
    assert entry.before["status"] == "held" and entry.after["status"] == "rejected"
    events = [e for e in repos.outbox.recent(site.id) if e.comment_id == comment.id]
    assert [e.event for e in events] == ["comment.rejected", "comment.held"]
    assert events[0].payload["status"] == "rejected"


def test_a_stale_version_is_refused_and_changes_nothing(
    review: Review, repos: Repositories, moderator: User, held: Held, site: Site
) -> None:
    comment = held("You nitwit.")
    review.decide(moderator, DecisionIn(comment.id, Action.APPROVE, comment.version))
    with pytest.raises(Stale, match="changed since version 1"):
        review.decide(moderator, reject(comment))
    assert repos.comments.get(comment.id).status is Status.APPROVED  # type: ignore[union-attr]
    assert sum(e.event == "comment.rejected" for e in repos.outbox.recent(site.id)) == 0


def test_another_moderators_live_claim_is_a_conflict_until_it_lapses(
    review: Review, repos: Repositories, moderator: User, held: Held, site: Site, clock: Clock
) -> None:
    comment = held("You nitwit.")
    other, _ = repos.users.create("noor", Role.MODERATOR, [site.id])
    assert [i.comment.id for i in review.claim(other, 5)] == [comment.id]
    assert review.claim(moderator, 5) == []  # nothing left unclaimed
    with pytest.raises(Conflict, match="Another moderator"):
        review.decide(moderator, reject(comment))
    clock.advance(LEASE + timedelta(seconds=1))
    assert review.decide(moderator, reject(comment)).status is Status.REJECTED


def test_a_rejection_needs_a_reason_and_other_needs_a_note(
    review: Review, moderator: User, held: Held
) -> None:
    comment = held("You nitwit.")
    with pytest.raises(Invalid, match="needs a reason"):
        review.decide(moderator, reject(comment, reason=None))
    with pytest.raises(Invalid, match="needs a note"):
        review.decide(moderator, reject(comment, reason=RejectReason.OTHER))


def test_undo_restores_the_automatic_decision_and_an_undo_can_be_undone(
    review: Review, repos: Repositories, moderator: User, held: Held
) -> None:
    comment = held("You nitwit.")
    with pytest.raises(Conflict, match="no decision to undo"):
        review.undo(moderator, comment.id)
    review.decide(moderator, reject(comment))
    undone = review.undo(moderator, comment.id)
    assert undone.status is Status.HELD and undone.decided_by == Decider.AUTO
    assert undone.decided_at is None and undone.decision_reason is None
    with pytest.raises(Conflict, match="no decision to undo"):
        review.undo(moderator, comment.id)  # the last moderator action is the undo itself
    actions = [e.action for e in repos.audit.entries(comment_id=comment.id)]
    assert actions == [
        AuditAction.COMMENT_UNDO,
        AuditAction.COMMENT_DECISION,
        AuditAction.COMMENT_AUTO_DECISION,
    ]


def test_decide_many_says_what_happened_to_each(
    review: Review, moderator: User, held: Held
) -> None:
    first, second = held("You nitwit."), held("Blasted dunderhead.")
    results = review.decide_many(
        moderator,
        [reject(first), reject(second, reason=None), DecisionIn("cmt_gone", Action.APPROVE, 1)],
    )
    assert results[0].comment is not None and results[0].comment.status is Status.REJECTED
    assert isinstance(results[1].error, Invalid)
    assert isinstance(results[2].error, NotFound)


def test_other_sites_comments_and_sites_look_absent(
    review: Review, repos: Repositories, moderator: User, held: Held
) -> None:
    comment = held("You nitwit.")
    outsider, _ = repos.users.create("olu", Role.MODERATOR, [])
    with pytest.raises(NotFound):
        review.comment(outsider, comment.id)
    with pytest.raises(NotFound, match="No such site"):
        review.queue(moderator, site="elsewhere")
    assert review.queue(outsider).items == []


def test_the_queue_pages_by_cursor_and_refuses_a_foreign_one(
    review: Review, moderator: User, held: Held
) -> None:
    ids = {held(f"You nitwit number {n}.").id for n in range(3)}
    first = review.queue(moderator, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = review.queue(moderator, limit=2, cursor=first.next_cursor)
    assert {i.comment.id for i in first.items + rest.items} == ids and rest.next_cursor is None
    with pytest.raises(Invalid, match="cursor"):
        review.queue(moderator, sort="age", cursor=first.next_cursor)
