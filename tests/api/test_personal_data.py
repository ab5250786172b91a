"""Readers' personal data on SQLite and PostgreSQL: addresses kept truncated or hashed, never as sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from moderation import db, migrate


def every_value(app: Any) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every table, JSON included."""
    engine = app.extensions["moderation.store"].engine
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    yield table.name, column, str(value)


def stored_ips(app: Any) -> list[str | None]:
    with app.extensions["moderation.store"].engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(db.comments.c.author_ip).order_by(db.comments.c.created_at)
            ).scalars()
        )


ADDRESSES = ["203.0.113.9", "2001:db8:1234:5678::1", "::ffff:198.51.100.7"]


def post_from(client: Any, auth: dict[str, str], address: str, text: str = "Hello there.") -> Any:
    r = client.post(
        "/v1/comments", json={"text": text, "author": {"id": "r-1", "ip": address}}, headers=auth
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_addresses_are_stored_truncated_by_default(
    app: Any, client: Any, auth: dict[str, str]
) -> None:
    for address in ADDRESSES:
        post_from(client, auth, address)
    assert stored_ips(app) == ["203.0.113.0/24", "2001:db8:1234::/48", "198.51.100.0/24"]
    for table, column, value in every_value(app):
        for address in ADDRESSES:
            assert address not in value, (table, column)


@pytest.fixture
def hashing_app(app: Any) -> Any:
    from moderation.privacy import AddressPolicy, AddressStorage

    service = app.extensions["moderation.service"]
    service.addresses = AddressPolicy(AddressStorage.HASH, app.config["SECRET_KEY"])
    return app


def test_addresses_as_a_keyed_hash_per_site(
    hashing_app: Any, client: Any, auth: dict[str, str]
) -> None:
    app = hashing_app
    post_from(client, auth, "203.0.113.9")
    post_from(client, auth, "203.0.113.9")
    post_from(client, auth, "203.0.113.10")
    _, other_key = app.extensions["moderation.store"].create_site("other-paper")
    post_from(client, {"Authorization": f"Bearer {other_key}"}, "203.0.113.9")
    first, again, neighbour, elsewhere = stored_ips(app)
    assert first == again and len(first) == 64
    assert neighbour != first and elsewhere != first
    assert not any("203.0.113" in value for _, _, value in every_value(app))


def test_the_setting_is_checked_at_start(database_url: str, tmp_path: Any) -> None:
    from api import create_app

    with pytest.raises(SystemExit, match="AUTHOR_IP"):
        create_app({"DATABASE_URL": database_url, "AUTHOR_IP": "plain", "MODEL": str(tmp_path)})
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "AUTHOR_IP": "none",
            "MODEL": str(tmp_path),
            "SECRET_KEY": "s",
        }
    )
    assert app.extensions["moderation.service"].addresses.stored("203.0.113.9", "s1") is None
    app.extensions["moderation.store"].engine.dispose()


def test_migration_truncates_addresses_stored_in_plain_text(database_url: str) -> None:
    from moderation.db import make_engine

    engine = make_engine(database_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sites (id, name, policy, webhook_secret, policy_version, created_at) "
                "VALUES ('site_1', 'old-paper', '{}', 'whsec_x', 1, :now)"
            ),
            {"now": "2026-01-01 00:00:00+00:00"},
        )
        for i, address in enumerate(["203.0.113.9", "2001:db8:1234:5678::1", "garbage", None]):
            conn.execute(
                sa.text(
                    "INSERT INTO comments (id, site_id, text, author_ip, status, decided_by, "
                    "scoring_state, scores, reasons, spans, risk, version, created_at, updated_at) "
                    "VALUES (:id, 'site_1', 'old', :ip, 'approved', 'auto', 'scored', '{}', '[]', "
                    "'[]', 0, 1, :now, :now)"
                ),
                {"id": f"cmt_{i}", "ip": address, "now": "2026-01-01 00:00:00+00:00"},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        kept = dict(conn.execute(sa.text("SELECT id, author_ip FROM comments")).all())
    assert kept == {
        "cmt_0": "203.0.113.0/24",
        "cmt_1": "2001:db8:1234::/48",
        "cmt_2": None,
        "cmt_3": None,
    }
    engine.dispose()
