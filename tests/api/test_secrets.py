"""Secrets: keys and tokens only as hashes at rest, never in logs."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from api.services import services
from moderation import db
from moderation.security import hash_secret
from moderation.sites import Role


def dump_database(app: Any) -> str:
    """Every value of every table, as one string."""
    engine = services(app).store.engine
    out = []
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).all():
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_keys_and_tokens_are_stored_only_as_hashes(app: Any, client: Any) -> None:
    store = services(app).store
    site, key = store.sites.create("quiet-paper")
    _, second = store.sites.create_key(site.id)
    _, token = store.users.create("ines", Role.OPERATOR, [site.id])
    client.post(
        "/v1/comments", json={"text": "hello there"}, headers={"Authorization": f"Bearer {key}"}
    )
    everything = dump_database(app)
    for secret in (key, second, token):
        assert secret not in everything
        assert hash_secret(secret) in everything


def test_secrets_never_reach_the_logs(app: Any, client: Any) -> None:
    app.config["LOG_REQUESTS"] = True
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Capture()
    loggers = [logging.getLogger(), logging.getLogger("moderation.requests"), app.logger]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        store = services(app).store
        _, key = store.sites.create("loud-paper")
        _, token = store.users.create("noor", Role.ADMIN, [])
        client.post(
            "/v1/comments",
            json={"text": "A nitwit wrote this.", "author": {"email": "noor@example.org"}},
            headers={"Authorization": f"Bearer {key}"},
        )
        client.post(
            "/v1/comments", json={"text": "x"}, headers={"Authorization": "Bearer msk_wrong"}
        )
        client.get("/v1/queue", headers={"Authorization": f"Bearer {token}"})
        client.post(
            f"/v1alpha1/comments:analyze?key={key}",
            json={"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}},
        )
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = "\n".join(records)
    assert len(records) >= 4  # one line per request was written
    for secret in (key, token, "msk_wrong", "noor@example.org"):
        assert secret not in text
