"""Authors' standing on a site: ban, premoderate, trust, with notes, expiry and audit (API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.services import services
from tests.api.fixtures import assert_error

CALM = "The harbour lights looked lovely from the pier last night."
PATH = "/v1/sites/daily-bugle/authors/reader-9"


def post(client: Any, auth: dict[str, str], text: str, author: str = "reader-9") -> dict[str, Any]:
    r = client.post("/v1/comments", json={"text": text, "author": {"id": author}}, headers=auth)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def act(client: Any, who: dict[str, str], action: str, note: str = "n", **extra: Any) -> Any:
    return client.put(PATH, json={"action": action, "note": note, **extra}, headers=who)


def test_a_banned_authors_new_comments_are_rejected(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    post(client, auth, CALM)
    r = act(client, staff["mod"], "ban", "threatened another reader")
    assert r.status_code == 200, r.get_json()
    profile = r.get_json()
    assert profile["standing"]["action"] == "ban"
    assert profile["standing"]["note"] == "threatened another reader"
    assert profile["standing"]["expires_at"] is None
    assert profile["comments"]["approved"] == 1
    c = post(client, auth, CALM)
    assert c["status"] == "rejected"
    assert {"code": "author_banned"} in c["reasons"]
    assert post(client, auth, CALM, author="reader-10")["status"] == "approved"
    # Audited, and the record reads back the same.
    entries = client.get("/v1/sites/daily-bugle/audit", headers=staff["op"]).get_json()["entries"]
    (entry,) = [e for e in entries if e["action"] == "author.standing"]
    assert entry["after"]["author_id"] == "reader-9" and entry["after"]["action"] == "ban"
    got = client.get(PATH, headers=staff["mod"]).get_json()
    assert got["standing"] == profile["standing"] and len(got["actions"]) == 1
    # Cleared: back to the policy alone.
    assert act(client, staff["mod"], "clear", "appeal accepted").get_json()["standing"] is None
    assert post(client, auth, CALM)["status"] == "approved"
    assert [a["action"] for a in client.get(PATH, headers=staff["mod"]).get_json()["actions"]] == [
        "ban",
        "clear",
    ]


def test_premoderation_holds_everything_until_it_expires(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    r = act(client, staff["mod"], "premoderate", "new here", expires_at=until.isoformat())
    assert r.status_code == 200, r.get_json()
    c = post(client, auth, CALM)
    assert c["status"] == "held" and {"code": "author_premoderated"} in c["reasons"]
    items = client.get("/v1/queue?reason=author_premoderated", headers=staff["mod"]).get_json()
    assert [i["id"] for i in items["items"]] == [c["id"]]
    assert items["items"][0]["author_standing"]["action"] == "premoderate"
    # An expiry in the past is refused; an expired action no longer applies.
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert_error(act(client, staff["mod"], "premoderate", expires_at=past), 422, "validation_error")
    service = services(app).service
    service.clock = lambda: until + timedelta(seconds=1)
    assert post(client, auth, CALM)["status"] == "approved"


def test_a_trusted_author_is_held_only_above_the_severe_thresholds(
    client: Any, auth: dict[str, str], staff: Any
) -> None:
    assert post(client, auth, "You nitwit.")["status"] == "held"
    assert act(client, staff["mod"], "trust", "regular for years").status_code == 200
    assert post(client, auth, "You nitwit.")["status"] == "approved"
    threat = post(client, auth, "I will clobber you.")
    assert threat["status"] == "held"
    assert [r["category"] for r in threat["reasons"]] == ["threat"]


def test_who_may_see_and_act_on_authors(client: Any, auth: dict[str, str], staff: Any) -> None:
    assert client.get(PATH, headers=staff["op"]).status_code == 200
    assert_error(client.get(PATH, headers=staff["stranger"]), 404, "not_found")
    assert_error(act(client, staff["stranger"], "ban"), 404, "not_found")
    assert_error(client.get(PATH, headers=auth), 403, "forbidden")
    for body in [
        {"action": "ban"},
        {"action": "smite", "note": "x"},
        {"action": "ban", "note": ""},
        {"action": "ban", "note": "x", "expires_at": "soon"},
        {"action": "ban", "note": "x", "until": "2030-01-01T00:00:00Z"},
    ]:
        assert_error(client.put(PATH, json=body, headers=staff["mod"]), 422, "validation_error")
