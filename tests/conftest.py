"""Shared fixtures: every API test runs against a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from api.services import services
from tests.fakes import KeywordScorer

PG_URL = os.environ.get("MODERATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """ONNX exports go to a folder of this test run: every run makes (and so tests) its own.

    Set in the environment, so the services the tests start share it too.
    """
    folder = tmp_path_factory.mktemp("model-cache")
    previous = os.environ.get("MODERATION_MODEL_CACHE")
    os.environ["MODERATION_MODEL_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("MODERATION_MODEL_CACHE", None)
    else:
        os.environ["MODERATION_MODEL_CACHE"] = previous


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = "t_" + secrets.token_hex(6)
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def scorer() -> KeywordScorer:
    return KeywordScorer()


@pytest.fixture
def app(database_url: str, scorer: KeywordScorer, tmp_path: Any) -> Iterator[Any]:
    from api import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SCORER": scorer,
            # The fake model has no calibrated thresholds: new sites get the fallback 0.8.
            "MODEL": str(tmp_path / "no-checkpoint"),
            # Only English unless a test serves a second model (tests/api/test_languages.py).
            "MULTILINGUAL_MODEL": "off",
            "SECRET_KEY": "test-secret",
            "SCORING_TIMEOUT": 2.0,
            "LOG_REQUESTS": False,
        }
    )
    yield app
    services(app).store.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def site_key(app: Any) -> str:
    """A site named 'daily-bugle' and its API key."""
    _, key = services(app).store.sites.create("daily-bugle")
    return key


@pytest.fixture
def auth(site_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site_key}"}
