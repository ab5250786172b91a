"""Readers' reports, edits and withdrawals through the API (fake model, SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from api.services import services
from moderation.sites import Role
from tests.api.fixtures import assert_error, held

CALM = "The harbour lights looked lovely from the pier last night."


@pytest.fixture
def people(app: Any, site_key: str) -> dict[str, dict[str, str]]:
    """A moderator of daily-bugle, and the key of another site."""
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    store.sites.set_webhook(bugle.id, "http://127.0.0.1:9/hook", actor="test")
    _, other_key = store.sites.create("other-paper")
    _, token = store.users.create("mod", Role.MODERATOR, [bugle.id])
    return {
        "mod": {"Authorization": f"Bearer {token}"},
        "other": {"Authorization": f"Bearer {other_key}"},
    }


def set_policy(app: Any, **changes: Any) -> None:
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.policies.change(site.id, actor="t", live=replace(site.policy, **changes))


def published(client: Any, auth: dict[str, str], text: str = CALM, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/comments", json={"text": text, **extra}, headers=auth)
    assert r.status_code == 201 and r.get_json()["status"] == "approved", r.get_json()
    return r.get_json()


def report(client: Any, auth: dict[str, str], comment_id: str, reporter: str, **extra: Any) -> Any:
    body = {"reporter_id": reporter, "reason": "abusive", **extra}
    return client.post(f"/v1/comments/{comment_id}/reports", json=body, headers=auth)


def queue(client: Any, people: Any, query: str = "") -> list[dict[str, Any]]:
    r = client.get(f"/v1/queue{query}", headers=people["mod"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def events(app: Any) -> list[tuple[str, str]]:
    site = services(app).store.sites.get("daily-bugle")
    found = services(app).store.outbox.recent(site.id)
    return [(e.event, e.payload["comment_id"]) for e in reversed(found)]


def test_reports_up_to_the_threshold_put_a_published_comment_in_the_queue(
    app: Any, client: Any, auth: dict[str, str], people: Any
) -> None:
    set_policy(app, report_threshold=2.0)
    c = published(client, auth)
    first = report(client, auth, c["id"], "reader-a", note="rude to the harbour master")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["report"]["reporter_id"] == "reader-a" and body["report"]["weight"] == 1.0
    assert body["reports"] == {"count": 1, "weight": 1.0, "reasons": {"abusive": 1}}
    assert body["status"] == "approved" and body["queued"] is False
    # The same reader again: nothing new, the same report.
    again = report(client, auth, c["id"], "reader-a", reason="spam")
    assert again.status_code == 200
    assert (
        again.get_json()["report"] == body["report"] and again.get_json()["reports"]["count"] == 1
    )
    assert queue(client, people) == []
    second = report(client, auth, c["id"], "reader-b", reason="harassment")
    assert second.status_code == 201
    assert second.get_json()["queued"] is True
    # Published still (hide_on_reports is off), and in the queue with reason `reported`.
    assert second.get_json()["status"] == "approved"
    items = queue(client, people, "?reason=reported")
    assert [i["id"] for i in items] == [c["id"]]
    item = items[0]
    assert item["status"] == "approved"
    assert {"code": "reported", "count": 2} in item["reasons"]
    assert item["reports"] == {
        "count": 2,
        "weight": 2.0,
        "reasons": {"abusive": 1, "harassment": 1},
    }
    assert queue(client, people, "?reason=category") == []
    assert ("comment.reported", c["id"]) in events(app)
    # A moderator's approval takes it out of the queue; the readers were overruled.
    r = client.post(
        f"/v1/comments/{c['id']}/decision",
        json={"action": "approve", "version": item["version"]},
        headers=people["mod"],
    )
    assert r.status_code == 200, r.get_json()
    assert queue(client, people) == []


def test_hide_on_reports_holds_the_comment_until_a_moderator_decides(
    app: Any, client: Any, auth: dict[str, str], people: Any
) -> None:
    set_policy(app, report_threshold=1.0, hide_on_reports=True)
    c = published(client, auth)
    r = report(client, auth, c["id"], "reader-a", reason="hate")
    assert r.get_json()["status"] == "held" and r.get_json()["queued"] is True
    assert client.get(f"/v1/comments/{c['id']}", headers=auth).get_json()["status"] == "held"
    (item,) = queue(client, people)
    r = client.post(
        f"/v1/comments/{c['id']}/decision",
        json={"action": "reject", "reason": "hate_speech", "version": item["version"]},
        headers=people["mod"],
    )
    assert r.status_code == 200
    assert client.get(f"/v1/comments/{c['id']}", headers=auth).get_json()["status"] == "rejected"


def test_reporters_whom_moderators_overrule_count_for_less(
    app: Any, client: Any, auth: dict[str, str], people: Any
) -> None:
    set_policy(app, report_threshold=0.25)  # while the record builds up: any report queues
    for n in range(3):
        c = published(client, auth, f"{CALM} Number {n}.")
        assert report(client, auth, c["id"], "grumpy").get_json()["queued"] is True
        (item,) = queue(client, people)
        r = client.post(
            f"/v1/comments/{c['id']}/decision",
            json={"action": "approve", "version": item["version"]},
            headers=people["mod"],
        )
        assert r.status_code == 200
    set_policy(app, report_threshold=1.0)
    c = published(client, auth, f"{CALM} Once more.")
    body = report(client, auth, c["id"], "grumpy").get_json()
    # Three reports dismissed, none upheld: (0 + 1) / (0 + 3 + 1).
    assert body["report"]["weight"] == 0.25 and body["queued"] is False
    assert queue(client, people) == []
    # A reader with no record counts in full.
    assert report(client, auth, c["id"], "fresh").get_json()["queued"] is True


def test_a_report_on_another_sites_comment_is_404_and_bad_reports_are_422(
    client: Any, auth: dict[str, str], people: Any
) -> None:
    c = published(client, auth)
    assert_error(report(client, people["other"], c["id"], "reader-a"), 404, "not_found")
    assert_error(report(client, auth, "cmt_nope", "reader-a"), 404, "not_found")
    bad = [
        {"reporter_id": "a", "reason": "boring"},
        {"reason": "spam"},
        {"reporter_id": "", "reason": "spam"},
        {"reporter_id": "a", "reason": "spam", "colour": "red"},
        {"reporter_id": 7, "reason": "spam"},
    ]
    for body in bad:
        r = client.post(f"/v1/comments/{c['id']}/reports", json=body, headers=auth)
        assert_error(r, 422, "validation_error")


def test_an_edit_is_rescored_and_redecided_and_the_earlier_text_kept(
    app: Any, client: Any, auth: dict[str, str], people: Any
) -> None:
    c = published(client, auth, external_id="site-42")
    r = client.put(
        f"/v1/comments/{c['id']}", json={"text": "Edited: you nitwit.", "version": 1}, headers=auth
    )
    assert r.status_code == 200, r.get_json()
    edited = r.get_json()
    assert edited["status"] == "held" and edited["version"] == 2 and edited["edited_at"]
    assert edited["scores"]["insult"] > 0.9 and edited["reasons"][0]["code"] == "category"
    assert ("comment.edited", c["id"]) in events(app)
    # Stale: the author's second tab still had version 1.
    stale = client.put(
        f"/v1/comments/{c['id']}", json={"text": "Something else.", "version": 1}, headers=auth
    )
    assert_error(stale, 409, "conflict")
    # Moderators see the earlier text; the site's own answer does not carry it.
    (item,) = queue(client, people)
    assert item["text"] == "Edited: you nitwit."
    assert [(v["version"], v["text"]) for v in item["revisions"]] == [(1, CALM)]
    assert "revisions" not in client.get(f"/v1/comments/{c['id']}", headers=auth).get_json()
    # Edited back into something civil: published again.
    r = client.put(f"/v1/comments/{c['id']}", json={"text": CALM, "version": 2}, headers=auth)
    assert r.get_json()["status"] == "approved" and r.get_json()["version"] == 3


def test_an_edit_does_not_undo_a_moderators_rejection(
    client: Any, auth: dict[str, str], people: Any
) -> None:
    c = held(client, auth, "You nitwit.")
    r = client.post(
        f"/v1/comments/{c['id']}/decision",
        json={"action": "reject", "reason": "abusive", "version": 1},
        headers=people["mod"],
    )
    assert r.status_code == 200
    r = client.put(f"/v1/comments/{c['id']}", json={"text": CALM, "version": 2}, headers=auth)
    assert r.status_code == 200
    assert r.get_json()["status"] == "rejected" and r.get_json()["text"] == CALM


def test_edits_for_another_sites_comment_are_404_and_bad_edits_422(
    client: Any, auth: dict[str, str], people: Any
) -> None:
    c = published(client, auth)
    r = client.put(
        f"/v1/comments/{c['id']}", json={"text": "x", "version": 1}, headers=people["other"]
    )
    assert_error(r, 404, "not_found")
    r = client.delete(f"/v1/comments/{c['id']}", headers=people["other"])
    assert_error(r, 404, "not_found")
    for body in [
        {"text": "x"},
        {"text": " ", "version": 1},
        {"text": "x", "version": "1"},
        {"text": "x", "version": 1, "author": {}},
    ]:
        r = client.put(f"/v1/comments/{c['id']}", json=body, headers=auth)
        assert_error(r, 422, "validation_error")


def test_a_withdrawn_comment_leaves_the_queue_and_stays_withdrawn(
    app: Any, client: Any, auth: dict[str, str], people: Any
) -> None:
    c = held(client, auth, "You nitwit.")
    assert [i["id"] for i in queue(client, people)] == [c["id"]]
    r = client.delete(f"/v1/comments/{c['id']}", headers=auth)
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    assert queue(client, people) == []
    # Idempotent; and nobody can edit, report or decide it any more.
    assert (
        client.delete(f"/v1/comments/{c['id']}", headers=auth).get_json()["status"] == "withdrawn"
    )
    version = r.get_json()["version"]
    r = client.put(f"/v1/comments/{c['id']}", json={"text": CALM, "version": version}, headers=auth)
    assert_error(r, 409, "conflict")
    assert_error(report(client, auth, c["id"], "reader-a"), 409, "conflict")
    r = client.post(
        f"/v1/comments/{c['id']}/decision",
        json={"action": "approve", "version": version},
        headers=people["mod"],
    )
    assert_error(r, 409, "conflict")
    assert ("comment.withdrawn", c["id"]) in events(app)
