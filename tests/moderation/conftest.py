"""Fixtures for the domain's unit tests: real repositories on a real database, no HTTP, no model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from moderation import migrate
from moderation.comments import NewComment, Status, StoredComment
from moderation.db import make_engine
from moderation.policy import Policy
from moderation.repositories import Repositories
from moderation.review import Review
from moderation.scoring import GuardedScorer
from moderation.service import ModerationService
from moderation.sites import Role, Site, User
from tests.fakes import CATEGORIES, Clock, KeywordScorer

HOOK = "https://receiver.example/hook"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repos(database_url: str) -> Iterator[Repositories]:
    """Repositories over a migrated, empty database (a SQLite file, or a PostgreSQL schema)."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield Repositories(engine, Policy(thresholds=dict.fromkeys(CATEGORIES, 0.8)))
    engine.dispose()


@pytest.fixture
def site(repos: Repositories) -> Site:
    """A site with a webhook URL: every decision on it writes an outbox event."""
    created, _ = repos.sites.create("harbour-news", webhook_url=HOOK)
    return created


@pytest.fixture
def service(repos: Repositories, clock: Clock) -> ModerationService:
    scorer = KeywordScorer()
    return ModerationService(repos, GuardedScorer(lambda: scorer, timeout=5), clock=clock)


@pytest.fixture
def review(repos: Repositories, clock: Clock) -> Review:
    return Review(repos, clock=clock)


@pytest.fixture
def moderator(repos: Repositories, site: Site) -> User:
    user, _ = repos.users.create("mia", Role.MODERATOR, [site.id])
    return user


@pytest.fixture
def held(service: ModerationService, site: Site) -> Callable[[str], StoredComment]:
    """Submit a comment the fake model holds (it must name a trigger word)."""

    def submit(text: str) -> StoredComment:
        comment = service.submit(site, NewComment(text=text)).comment
        assert comment.status is Status.HELD
        return comment

    return submit
