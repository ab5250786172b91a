"""Readers' personal data on SQLite and PostgreSQL: addresses kept truncated or hashed, never as sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from api.services import services
from moderation import db, migrate
from tests.api.fixtures import page_token


def every_value(app: Any) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every table, JSON included."""
    engine = services(app).store.engine
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
    with services(app).store.engine.connect() as conn:
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

    service = services(app).service
    service.addresses = AddressPolicy(AddressStorage.HASH, app.config["SECRET_KEY"])
    return app


def test_addresses_as_a_keyed_hash_per_site(
    hashing_app: Any, client: Any, auth: dict[str, str]
) -> None:
    app = hashing_app
    post_from(client, auth, "203.0.113.9")
    post_from(client, auth, "203.0.113.9")
    post_from(client, auth, "203.0.113.10")
    _, other_key = services(app).store.sites.create("other-paper")
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
    assert services(app).service.addresses.stored("203.0.113.9", "s1") is None
    services(app).store.engine.dispose()


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


# -- a reader's rights: export and erase -------------------------------------------------

ZEB = {
    "id": "reader-zeb-7",
    "name": "Zebulon Quigley-Marsh",
    "email": "zebulon.qm@example.org",
    "ip": "198.51.100.23",
}
ZEB_TEXTS = [
    "Zebulon thinks the ferry timetable is a nitwit's work.",
    "Zebulon again: the tide tables are lovely this year.",
    "Zebulon's third: what a dunderhead of a harbour master.",
]
ANA = {
    "id": "reader-ana-1",
    "name": "Ana Oyelaran",
    "email": "ana@example.org",
    "ip": "203.0.113.77",
}
ANA_TEXT = "Ana here: the ferry is fine, you nitwit."


@pytest.fixture
def people(app: Any, site_key: str) -> dict[str, dict[str, str]]:
    from moderation.sites import Role

    store = services(app).store
    site = store.sites.get("daily-bugle")
    _, op = store.users.create("olga", Role.OPERATOR, [site.id])
    _, mod = store.users.create("max", Role.MODERATOR, [site.id])
    return {
        "op": {"Authorization": f"Bearer {op}"},
        "mod": {"Authorization": f"Bearer {mod}"},
        "site": {"Authorization": f"Bearer {site_key}"},
    }


@pytest.fixture
def zeb_and_ana(app: Any, client: Any, people: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Zeb's three comments (one decided with a note quoting him, one held, one approved), Ana's one,
    with a webhook receiver configured, so events wait in the outbox."""
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.sites.set_webhook(site.id, "http://127.0.0.1:9/hook", actor="test")
    made = []
    for text in ZEB_TEXTS:
        r = client.post("/v1/comments", json={"text": text, "author": ZEB}, headers=people["site"])
        assert r.status_code == 201
        made.append(r.get_json())
    ana = client.post(
        "/v1/comments", json={"text": ANA_TEXT, "author": ANA}, headers=people["site"]
    ).get_json()
    first = made[0]
    assert first["status"] == "held"
    r = client.post(
        f"/v1/comments/{first['id']}/decision",
        headers=people["mod"],
        json={
            "action": "reject",
            "reason": "other",
            "version": first["version"],
            "note": f"quoting: {ZEB_TEXTS[0]} ({ZEB['name']})",
        },
    )
    assert r.status_code == 200
    # A label given on one of his comments, and an event whose payload (as a later version
    # might write it) carries his words: both must go too.
    store.labels.add(site.id, ZEB_TEXTS[1], "TOXICITY", 0.1, "test", comment_id=made[1]["id"])
    with store.db.write() as conn:
        conn.execute(
            db.webhook_outbox.insert().values(
                site_id=site.id,
                event="comment.test",
                payload={"comment_id": made[2]["id"], "text": ZEB_TEXTS[2], "status": "held"},
                created_at=sa.func.now(),
                attempts=0,
                next_attempt_at=sa.func.now(),
            )
        )
    # An edit (the earlier text is kept for moderators), reports both ways with notes that
    # name him, and a ban whose note names him: all of it his data too.
    second = made[1]
    r = client.put(
        f"/v1/comments/{second['id']}",
        json={"text": ZEB_TEXTS[1], "version": second["version"]},
        headers=people["site"],
    )
    assert r.status_code == 200, r.get_json()
    for comment_id, reporter, note in [
        (second["id"], ANA["id"], f"{ZEB['name']} is at it again"),
        (ana["id"], ZEB["id"], f"from {ZEB['name']}: {ZEB_TEXTS[2]}"),
    ]:
        r = client.post(
            f"/v1/comments/{comment_id}/reports",
            json={"reporter_id": reporter, "reason": "other", "note": note},
            headers=people["site"],
        )
        assert r.status_code == 201, r.get_json()
    r = client.put(
        f"/v1/sites/daily-bugle/authors/{ZEB['id']}",
        json={"action": "ban", "note": f"{ZEB['name']} insults the harbour master"},
        headers=people["mod"],
    )
    assert r.status_code == 200, r.get_json()
    return {"site": site, "zeb": made, "ana": ana}


def zeb_traces(app: Any) -> list[str]:
    """Every form of Zeb's data as it could be stored."""
    from moderation.security import hash_email

    service = services(app).service
    site = services(app).store.sites.get("daily-bugle")
    return [
        *ZEB_TEXTS,
        ZEB["name"],
        ZEB["email"],
        hash_email(ZEB["email"], app.config["SECRET_KEY"]),
        ZEB["ip"],
        service.addresses.stored(ZEB["ip"], site.id),
    ]


def test_export_has_everything_stored_about_the_author(
    app: Any, client: Any, people: dict[str, dict[str, str]], zeb_and_ana: dict[str, Any]
) -> None:
    r = client.get(f"/v1/sites/daily-bugle/authors/{ZEB['id']}/export", headers=people["op"])
    assert r.status_code == 200, r.get_json()
    export = r.get_json()
    assert export["author_id"] == ZEB["id"]
    assert [c["text"] for c in export["comments"]] == ZEB_TEXTS
    author = export["comments"][0]["author"]
    traces = zeb_traces(app)
    assert author == {
        "id": ZEB["id"],
        "name": ZEB["name"],
        "email_hash": traces[5],
        "ip": traces[7],
    }
    assert author["ip"] == "198.51.100.0/24"
    first = export["comments"][0]
    assert first["status"] == "rejected" and first["decision_note"].startswith("quoting:")
    actions = [(e["comment_id"], e["action"]) for e in export["audit"]]
    assert (first["id"], "comment.decision") in actions
    assert {e["payload"]["comment_id"] for e in export["webhook_events"]} >= {first["id"]}
    assert [f["text"] for f in export["feedback"]] == [ZEB_TEXTS[1]]
    assert [v["text"] for v in export["revisions"]] == [ZEB_TEXTS[1]]
    assert [(x["reporter_id"], x["comment_id"]) for x in export["reports"]] == [
        (ZEB["id"], zeb_and_ana["ana"]["id"])
    ]
    assert [a["action"] for a in export["author_actions"]] == ["ban"]
    assert ANA_TEXT not in json.dumps(export)  # nothing of anyone else
    assert ANA["id"] not in json.dumps(export)  # not even who reported him
    # The access is audited; moderators may not export.
    audit = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    assert any(
        e["action"] == "author.export" and e["after"]["author_id"] == ZEB["id"] for e in audit
    )
    r = client.get(f"/v1/sites/daily-bugle/authors/{ZEB['id']}/export", headers=people["mod"])
    assert r.status_code == 403


def test_erase_leaves_no_copy_in_any_column_of_any_table(
    app: Any, client: Any, people: dict[str, dict[str, str]], zeb_and_ana: dict[str, Any]
) -> None:
    traces = zeb_traces(app)
    before = [value for _, _, value in every_value(app)]
    for trace in traces[:4] + traces[5:6] + traces[7:]:
        assert any(trace in value for value in before), trace  # they were there
    r = client.delete(f"/v1/sites/daily-bugle/authors/{ZEB['id']}", headers=people["op"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "author_id": ZEB["id"],
        "comments": 3,
        "labels": 1,
        "audit_entries_scrubbed": 2,  # the rejection's note, the ban's note
        "webhook_events_scrubbed": 1,
        "revisions": 1,
        "reports": 2,  # Ana's on his comment, his on Ana's
        "author_actions": 1,
    }
    for table, column, value in every_value(app):
        for trace in traces:
            assert trace not in value, (table, column, trace)
    # Everyone else's data stays; the audit keeps who decided what, without the note.
    everything = "\n".join(value for _, _, value in every_value(app))
    assert ANA_TEXT in everything and ANA["name"] in everything
    rejected = zeb_and_ana["zeb"][0]["id"]
    entries = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    decision = next(
        e for e in entries if e["comment_id"] == rejected and e["action"] == "comment.decision"
    )
    assert (
        decision["after"]["status"] == "rejected"
        and decision["after"]["decision_reason"] == "other"
    )
    assert decision["after"]["decision_note"] is None and decision["actor"].startswith("usr_")
    assert client.get(f"/v1/comments/{rejected}", headers=people["site"]).status_code == 404
    # Idempotent: again, nothing more to erase, the same answer shape; both calls audited.
    again = client.delete(f"/v1/sites/daily-bugle/authors/{ZEB['id']}", headers=people["op"])
    assert again.status_code == 200 and again.get_json()["comments"] == 0
    entries = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    assert sum(e["action"] == "author.erase" for e in entries) == 2
    export = client.get(f"/v1/sites/daily-bugle/authors/{ZEB['id']}/export", headers=people["op"])
    assert export.get_json()["comments"] == [] and export.get_json()["feedback"] == []
    # Moderators may not erase; another site's operator sees no such site.
    r = client.delete(f"/v1/sites/daily-bugle/authors/{ANA['id']}", headers=people["mod"])
    assert r.status_code == 403


def test_cli_exports_and_erases(app: Any, zeb_and_ana: dict[str, Any]) -> None:
    runner = app.test_cli_runner()
    out = runner.invoke(args=["authors", "export", "daily-bugle", ZEB["id"]])
    assert out.exit_code == 0, out.output
    export = json.loads(out.output)
    assert [c["text"] for c in export["comments"]] == ZEB_TEXTS
    refused = runner.invoke(args=["authors", "erase", "daily-bugle", ZEB["id"]], input="n\n")
    assert refused.exit_code != 0
    assert len(services(app).store.authors.record(zeb_and_ana["site"].id, ZEB["id"]).comments) == 3
    done = runner.invoke(args=["authors", "erase", "daily-bugle", ZEB["id"], "--yes"])
    assert done.exit_code == 0, done.output
    assert "erased 3 comment(s)" in done.output
    for _, _, value in every_value(app):
        for trace in zeb_traces(app):
            assert trace not in value
    nowhere = runner.invoke(args=["authors", "erase", "no-such-site", ZEB["id"], "--yes"])
    assert nowhere.exit_code != 0 and "no site" in nowhere.output


# -- retention -------------------------------------------------------------------------------


def set_times(app: Any, comment_id: str, *, days_ago: int, decided: bool) -> None:
    """Move a comment back in time (created, and decided if it was)."""
    from datetime import UTC, datetime, timedelta

    when = datetime.now(UTC) - timedelta(days=days_ago)
    values: dict[str, Any] = {"created_at": when, "updated_at": when}
    if decided:
        values["decided_at"] = when
    with services(app).store.db.write() as conn:
        conn.execute(db.comments.update().where(db.comments.c.id == comment_id).values(**values))


def row(app: Any, comment_id: str) -> Any:
    with services(app).store.engine.connect() as conn:
        return conn.execute(db.comments.select().where(db.comments.c.id == comment_id)).one()


def test_retention_removes_old_decided_texts_and_keeps_the_rest(
    app: Any, client: Any, people: dict[str, dict[str, str]]
) -> None:
    def post(text: str) -> dict[str, Any]:
        r = client.post("/v1/comments", json={"text": text, "author": ZEB}, headers=people["site"])
        return r.get_json()

    old_rejected = post("Old and rejected, you nitwit.")
    client.post(
        f"/v1/comments/{old_rejected['id']}/decision",
        headers=people["mod"],
        json={"action": "reject", "reason": "other", "version": 1, "note": "nitwit again"},
    )
    old_approved = post("Old and approved on arrival.")
    # Its earlier text and a reader's note on it go with its text.
    r = client.put(
        f"/v1/comments/{old_approved['id']}",
        json={"text": "Old, approved on arrival, then edited.", "version": 1},
        headers=people["site"],
    )
    assert r.get_json()["status"] == "approved"
    r = client.post(
        f"/v1/comments/{old_approved['id']}/reports",
        json={"reporter_id": "r-2", "reason": "other", "note": "Zebulon again"},
        headers=people["site"],
    )
    assert r.status_code == 201
    old_held = post("Old and still held, nitwit.")
    recent = post("Recently approved on arrival.")
    set_times(app, old_rejected["id"], days_ago=400, decided=True)
    set_times(app, old_approved["id"], days_ago=400, decided=False)
    set_times(app, old_held["id"], days_ago=400, decided=False)
    set_times(app, recent["id"], days_ago=10, decided=False)
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.labels.add(site.id, "an old label's text", "TOXICITY", 0.9, "perspective")
    with store.db.write() as conn:  # a label as old as the old comments
        conn.execute(
            db.feedback.update().values(created_at=row(app, old_approved["id"]).created_at)
        )
    runs = services(app).retention.run()
    run = next(r for r in runs if r.site_id == site.id)
    assert (run.comment_texts, run.labels) == (2, 1)
    for removed in (old_rejected, old_approved):
        r = row(app, removed["id"])
        assert r.text == "" and r.spans == [] and r.redacted_at is not None
        assert (r.author_name, r.author_email_hash, r.author_ip, r.decision_note) == (None,) * 4
        assert r.author_id == ZEB["id"] and r.scores  # the decision's facts stay
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(db.comment_revisions)).all() == []
        notes = conn.execute(sa.select(db.reports.c.reason, db.reports.c.note)).all()
    assert [tuple(n) for n in notes] == [("other", None)]
    assert row(app, old_rejected["id"]).status == "rejected"
    assert row(app, old_rejected["id"]).version == 3  # created, decided, redacted
    for kept in (old_held, recent):
        assert row(app, kept["id"]).text == kept["text"]
        assert row(app, kept["id"]).author_name == ZEB["name"]
    # What sites and operators see.
    seen = client.get(f"/v1/comments/{old_rejected['id']}", headers=people["site"]).get_json()
    assert seen["text"] == "" and seen["redacted_at"]
    store.users.set_password("olga", "operator-password")
    browser = app.test_client()
    token = page_token(browser)
    browser.post(
        "/signin", data={"csrf_token": token, "name": "olga", "password": "operator-password"}
    )
    page = browser.get(f"/comments/{old_rejected['id']}").get_data(as_text=True)
    assert "retention policy" in page and "Old and rejected" not in page
    audit = client.get(f"/v1/comments/{old_rejected['id']}/audit", headers=people["op"]).get_json()
    assert all((e["after"] or {}).get("decision_note") is None for e in audit["entries"])
    assert "nitwit again" not in json.dumps(audit)
    csv_text = client.get("/v1/sites/daily-bugle/decisions.csv", headers=people["op"]).get_data(
        as_text=True
    )
    assert old_rejected["id"] not in csv_text and "an old label" not in csv_text
    entries = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    retention = [e for e in entries if e["action"] == "retention.run"]
    assert len(retention) == 1 and retention[0]["after"]["comment_texts"] == 2
    # Idempotent: a second run removes nothing and records nothing.
    again = services(app).retention.run()
    assert not any(r.removed_anything for r in again)
    entries = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    assert sum(e["action"] == "retention.run" for e in entries) == 1


def add_event(app: Any, site_id: str, *, age_days: int, delivered: bool, attempts: int) -> int:
    from datetime import UTC, datetime, timedelta

    when = datetime.now(UTC) - timedelta(days=age_days)
    with services(app).store.db.write() as conn:
        event_id = conn.execute(
            db.webhook_outbox.insert().values(
                site_id=site_id,
                event="comment.approved",
                payload={"comment_id": "cmt_x"},
                created_at=when,
                attempts=attempts,
                next_attempt_at=when,
                delivered_at=when if delivered else None,
            )
        ).inserted_primary_key[0]
        for _ in range(attempts):
            conn.execute(
                db.webhook_attempts.insert().values(
                    outbox_id=event_id, site_id=site_id, attempted_at=when, duration_ms=1.0
                )
            )
    return int(event_id)


def outbox_ids(app: Any) -> set[int]:
    with services(app).store.engine.connect() as conn:
        return set(conn.execute(sa.select(db.webhook_outbox.c.id)).scalars())


def test_retention_deletes_finished_webhook_events_and_their_attempts(
    app: Any, people: dict[str, dict[str, str]]
) -> None:
    site = services(app).store.sites.get("daily-bugle")
    old_delivered = add_event(app, site.id, age_days=40, delivered=True, attempts=2)
    old_given_up = add_event(app, site.id, age_days=40, delivered=False, attempts=25)
    recent = add_event(app, site.id, age_days=5, delivered=True, attempts=1)
    old_pending = add_event(app, site.id, age_days=40, delivered=False, attempts=3)
    run = services(app).retention.run()[0]
    assert (run.webhook_events, run.webhook_attempts) == (2, 27)
    assert outbox_ids(app) == {recent, old_pending}
    with services(app).store.engine.connect() as conn:
        left = set(conn.execute(sa.select(db.webhook_attempts.c.outbox_id)).scalars())
    assert left == {recent, old_pending}
    assert old_delivered not in left and old_given_up not in left


def test_each_site_sets_its_own_retention(
    app: Any, client: Any, people: dict[str, dict[str, str]]
) -> None:
    r = client.get("/v1/sites/daily-bugle/retention", headers=people["op"])
    assert r.get_json() == {
        "comment_text_days": 365,
        "webhook_days": 30,
        "defaults": {"comment_text_days": 365, "webhook_days": 30},
    }
    r = client.put(
        "/v1/sites/daily-bugle/retention", headers=people["op"], json={"comment_text_days": 30}
    )
    assert r.status_code == 200 and r.get_json()["comment_text_days"] == 30
    r = client.put(
        "/v1/sites/daily-bugle/retention", headers=people["op"], json={"webhook_days": None}
    )
    assert r.get_json()["comment_text_days"] == 30 and r.get_json()["webhook_days"] is None
    for bad in (
        {"comment_text_days": 0},
        {"webhook_days": "7"},
        {"keep": True},
        {"webhook_days": 1.5},
    ):
        r = client.put("/v1/sites/daily-bugle/retention", headers=people["op"], json=bad)
        assert r.status_code == 422, bad
    assert client.get("/v1/sites/daily-bugle/retention", headers=people["mod"]).status_code == 403
    entries = client.get("/v1/sites/daily-bugle/audit", headers=people["op"]).get_json()["entries"]
    assert next(e["after"] for e in entries if e["action"] == "retention.update") == {
        "comment_text_days": 30,
        "webhook_days": None,
    }
    # A comment approved 40 days ago: gone on this site (30 days), kept on another (365).
    store = services(app).store
    _, other_key = store.sites.create("other-paper")
    mine = client.post("/v1/comments", json={"text": "Forty days old."}, headers=people["site"])
    theirs = client.post(
        "/v1/comments",
        json={"text": "Forty days old."},
        headers={"Authorization": f"Bearer {other_key}"},
    )
    for made in (mine, theirs):
        set_times(app, made.get_json()["id"], days_ago=40, decided=False)
    site = store.sites.get("daily-bugle")
    old_event = add_event(app, site.id, age_days=4000, delivered=True, attempts=1)
    services(app).retention.run()
    assert row(app, mine.get_json()["id"]).text == ""
    assert row(app, theirs.get_json()["id"]).text == "Forty days old."
    assert old_event in outbox_ids(app)  # webhook_days null: kept for ever


def test_retention_cli_and_background_job(
    app: Any, client: Any, people: dict[str, dict[str, str]]
) -> None:
    import threading

    from api import start_background

    made = client.post("/v1/comments", json={"text": "Ancient."}, headers=people["site"]).get_json()
    set_times(app, made["id"], days_ago=1000, decided=False)
    out = app.test_cli_runner().invoke(args=["retention", "run", "--site", "daily-bugle"])
    assert out.exit_code == 0, out.output
    assert "daily-bugle: removed 1 comment texts, 0 labels, 0 webhook events" in out.output
    # The background thread runs the job once it starts, and again every RETENTION_INTERVAL.
    ran = threading.Event()
    job = services(app).retention
    original = job.run

    def run(*args: Any) -> Any:
        ran.set()
        return original(*args)

    job.run = run
    app.config.update(BACKGROUND_INTERVAL=0.01, RETENTION_INTERVAL=3600)
    thread = start_background(app)
    try:
        assert thread is not None and ran.wait(10)
    finally:
        app.extensions["moderation.background_stop"].set()
        thread.join(10)
