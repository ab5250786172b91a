"""Re-scoring comments the model missed: claimed before scoring, in batches, decisions kept."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from moderation.comments import NewComment, ScoringState, Status
from moderation.repositories import Repositories
from moderation.review import Action, DecisionIn, RejectReason, Review
from moderation.scoring import GuardedScorer
from moderation.service import RESCORE_LEASE, ModerationService
from moderation.sites import Site, User
from tests.fakes import Clock, KeywordScorer


class MeetingScorer(KeywordScorer):
    """Counts every text scored; each worker's first model call waits for the other's, so
    both have taken their first comments before either scores (the race of issue 18)."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.meet = threading.Barrier(workers)
        self.lock = threading.Lock()
        self.met: set[int] = set()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        me = threading.get_ident()
        with self.lock:
            first = me not in self.met
            self.met.add(me)
        if first:
            # A broken barrier: the other worker found nothing left to take.
            with contextlib.suppress(threading.BrokenBarrierError):
                self.meet.wait(timeout=10)
        with self.lock:
            return super().score(texts)


def pending(repos: Repositories, site: Site, clock: Clock, n: int) -> list[str]:
    """`n` comments stored while the model was down (held as scoring_unavailable)."""
    down = KeywordScorer()
    down.fail = RuntimeError("model down")
    service = ModerationService(repos, GuardedScorer(lambda: down, timeout=5), clock=clock)
    ids = []
    for i in range(n):
        comment = service.submit(site, NewComment(f"Thanks for article {i}, a fine read.")).comment
        assert comment.scoring_state is ScoringState.PENDING
        ids.append(comment.id)
    return ids


def test_two_rescore_workers_never_score_a_comment_twice(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    # Issue 18: two rescore processes each scored all 682 pending comments.
    ids = pending(repos, site, clock, 60)
    scorer = MeetingScorer(2)
    done: list[int] = []

    def worker() -> None:
        service = ModerationService(repos, GuardedScorer(lambda: scorer, timeout=5), clock=clock)
        done.append(service.rescore_pending(1000, batch=8))

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    scored = Counter(text for call in scorer.calls for text in call)
    assert len(scored) == 60 and set(scored.values()) == {1}  # each comment scored once
    assert sorted(done) != [0, 60] and sum(done) == 60  # both worked, between them all
    assert max(len(call) for call in scorer.calls) == 8  # in batches
    for comment_id in ids:
        comment = repos.comments.get(comment_id)
        assert comment is not None and comment.scoring_state is ScoringState.SCORED
        assert comment.status is Status.APPROVED


def test_claimed_comments_wait_for_the_lease_and_a_failed_run_lets_them_go(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    pending(repos, site, clock, 3)
    claimed = repos.comments.claim_pending_scoring(clock(), 2, RESCORE_LEASE)
    assert len(claimed) == 2
    [rest] = repos.comments.claim_pending_scoring(clock(), 10, RESCORE_LEASE)
    assert repos.comments.claim_pending_scoring(clock(), 10, RESCORE_LEASE) == []
    clock.advance(RESCORE_LEASE + timedelta(seconds=1))  # their worker died
    assert len(repos.comments.claim_pending_scoring(clock(), 10, RESCORE_LEASE)) == 3

    down = KeywordScorer()
    down.fail = RuntimeError("still down")
    clock.advance(RESCORE_LEASE + timedelta(seconds=1))
    service = ModerationService(repos, GuardedScorer(lambda: down, timeout=5), clock=clock)
    assert service.rescore_pending() == 0
    # Not held for a lease by a run that could not score them: the next run takes them.
    assert len(repos.comments.claim_pending_scoring(clock(), 10, RESCORE_LEASE)) == 3
    assert rest.id not in {c.id for c in claimed}


def test_rescoring_keeps_a_moderators_decision(
    repos: Repositories, site: Site, clock: Clock, moderator: User
) -> None:
    [comment_id] = pending(repos, site, clock, 1)
    review = Review(repos, clock=clock)
    comment = repos.comments.get(comment_id)
    assert comment is not None
    review.decide(
        moderator, DecisionIn(comment_id, Action.REJECT, comment.version, RejectReason.ABUSIVE)
    )
    service = ModerationService(
        repos, GuardedScorer(lambda: KeywordScorer(), timeout=5), clock=clock
    )
    assert service.rescore_pending() == 1
    after = repos.comments.get(comment_id)
    assert after is not None
    assert after.status is Status.REJECTED and after.scoring_state is ScoringState.SCORED
