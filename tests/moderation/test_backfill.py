"""Backfills without a broker: chunks, exactly once, resumable, decisions kept, scope filters."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

import pytest

from moderation.backfill import Backfill, Scope
from moderation.comments import NewComment, Status
from moderation.repositories import Repositories
from moderation.review import Action, DecisionIn, RejectReason, Review
from moderation.scoring import GuardedScorer
from moderation.service import ModerationService
from moderation.sites import Site, User
from tests.fakes import Clock, KeywordScorer, MultilingualKeywordScorer


class NewModel(KeywordScorer):
    """The model after a change: version 2, every score 0.5 lower bound; counts texts scored."""

    version = "v2"

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.fail_after = fail_after

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        with self.lock:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise RuntimeError("the new model went away")
            return [{c: max(0.5, s) for c, s in scores.items()} for scores in super().score(texts)]


def stored(service: ModerationService, site: Site, n: int) -> list[str]:
    return [
        service.submit(site, NewComment(f"Comment {i} on the new bridge: nitwit" if i % 5 == 0
                                        else f"Comment {i} on the new bridge.")).comment.id
        for i in range(n)
    ]  # fmt: skip


def backfill_with(
    repos: Repositories, model: KeywordScorer, clock: Clock, batch: int = 4
) -> Backfill:
    service = ModerationService(repos, GuardedScorer(lambda: model, timeout=5), clock=clock)
    return Backfill(repos, service, clock=clock, batch=batch)


def texts_scored(model: KeywordScorer) -> Counter[str]:
    return Counter(t for call in model.calls for t in call)


def test_a_backfill_rescores_every_comment_once_and_keeps_every_status_and_decision(
    repos: Repositories,
    site: Site,
    service: ModerationService,
    clock: Clock,
    moderator: User,
) -> None:
    ids = stored(service, site, 23)
    held = [i for i in ids if repos.comments.get(i).status is Status.HELD]  # type: ignore[union-attr]
    review = Review(repos, clock=clock)
    first = repos.comments.get(held[0])
    assert first is not None
    review.decide(
        moderator, DecisionIn(first.id, Action.REJECT, first.version, RejectReason.ABUSIVE)
    )
    before = {i: repos.comments.get(i) for i in ids}
    model = NewModel()
    backfill = backfill_with(repos, model, clock)
    run, created = backfill.start(Scope(), chunk_size=5)
    assert created and run.comments == 23 and run.chunks == 5
    assert sum(backfill.run_chunk(run.id, seq) for seq in backfill.open_chunks(run.id)) == 23
    assert set(texts_scored(model).values()) == {1} and len(texts_scored(model)) == 23
    for i in ids:
        old, new = before[i], repos.comments.get(i)
        assert old is not None and new is not None
        assert new.model is not None and new.model.version == "v2"
        assert min(new.scores.values()) == 0.5
        # Status, reasons, decisions and the version moderators hold: untouched.
        assert (new.status, new.decided_by, new.reasons, new.version) == (
            old.status, old.decided_by, old.reasons, old.version
        )  # fmt: skip
    assert repos.comments.get(first.id).status is Status.REJECTED  # type: ignore[union-attr]
    done = repos.backfills.get(run.id)
    assert done is not None and done.finished_at is not None and done.rescored == 23
    # Idempotent: running a finished chunk again, or the command again, scores nothing.
    assert backfill.run_chunk(run.id, 0) == 0
    again, created = backfill.start(Scope(), chunk_size=5)
    assert created and again.id != run.id  # a finished run is not continued: this is a new one


def test_two_workers_share_a_backfill_and_score_each_comment_once(
    repos: Repositories, site: Site, service: ModerationService, clock: Clock
) -> None:
    ids = stored(service, site, 60)
    model = NewModel()
    backfill = backfill_with(repos, model, clock)
    run, _ = backfill.start(Scope(), chunk_size=7)
    chunks = backfill.open_chunks(run.id)
    done: list[int] = []

    def worker() -> None:
        # Both workers are handed every chunk (as if each job were delivered twice).
        done.append(sum(backfill_with(repos, model, clock).run_chunk(run.id, s) for s in chunks))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) == 60
    assert len(texts_scored(model)) == 60 and set(texts_scored(model).values()) == {1}
    assert all(repos.comments.get(i).model.version == "v2" for i in ids)  # type: ignore[union-attr]


def test_a_backfill_that_stopped_continues_from_where_it_got_to(
    repos: Repositories, site: Site, service: ModerationService, clock: Clock
) -> None:
    stored(service, site, 20)
    failing = NewModel(fail_after=3)  # three batches of 4, then the model is gone
    backfill = backfill_with(repos, failing, clock)
    run, _ = backfill.start(Scope(), chunk_size=20)
    with pytest.raises(RuntimeError, match="model is unavailable"):
        backfill.run_chunk(run.id, 0)
    halfway = repos.backfills.get(run.id)
    assert halfway is not None and halfway.rescored == 12 and halfway.finished_at is None
    assert repos.backfills.remaining() == 8
    # The worker died holding the chunk: another takes it over once the lease has run out.
    clock.advance(timedelta(minutes=11))
    model = NewModel()
    resumed, created = backfill_with(repos, model, clock).start(Scope(), chunk_size=20)
    assert not created and resumed.id == run.id
    assert backfill_with(repos, model, clock).run_chunk(run.id, 0) == 8
    scored_twice = set(texts_scored(failing)) & set(texts_scored(model))
    assert len(texts_scored(model)) == 8 and not scored_twice
    assert repos.backfills.remaining() == 0


def test_the_scope_picks_a_site_a_date_and_the_model_version_that_made_the_scores(
    repos: Repositories, site: Site, service: ModerationService, clock: Clock
) -> None:
    other, _ = repos.sites.create("other-paper")
    stored(service, site, 6)  # scored by version "test" (KeywordScorer)
    clock.advance(timedelta(days=2))
    later = stored(service, site, 4)
    stored(service, other, 5)
    model = NewModel()
    backfill = backfill_with(repos, model, clock)
    run, _ = backfill.start(Scope(site_id=site.id, since=clock.now - timedelta(days=1)))
    assert run.comments == 4
    for seq in backfill.open_chunks(run.id):
        backfill.run_chunk(run.id, seq)
    assert {repos.comments.get(i).model.version for i in later} == {"v2"}  # type: ignore[union-attr]
    # --model-version test: only those the old model scored (not the 4 already on v2).
    run, _ = backfill.start(Scope(model_version="test"))
    assert run.comments == 11


def test_each_comment_records_the_model_of_its_language(
    repos: Repositories, site: Site, service: ModerationService, clock: Clock
) -> None:
    english = service.submit(site, NewComment("A fine report on the new bridge, thanks.")).comment
    german = service.submit(
        site, NewComment("Ein schöner Bericht über die neue Brücke, vielen Dank dafür."), "de"
    ).comment
    second = MultilingualKeywordScorer()
    both = ModerationService(
        repos,
        GuardedScorer(NewModel, timeout=5),
        clock=clock,
        language_scorers={"de": GuardedScorer(lambda: second, timeout=5)},
    )
    backfill = Backfill(repos, both, clock=clock)
    run, _ = backfill.start(Scope())
    assert sum(backfill.run_chunk(run.id, seq) for seq in backfill.open_chunks(run.id)) == 2
    after = {c.id: repos.comments.get(c.id) for c in (english, german)}
    english_model, german_model = (after[c.id].model for c in (english, german))  # type: ignore[union-attr]
    assert english_model is not None and english_model.version == "v2"
    assert german_model is not None and german_model.name == "keyword-multilingual-fake"
    assert [t for call in second.calls for t in call] == [german.text]
