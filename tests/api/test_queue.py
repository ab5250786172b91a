"""Moderator queue, decisions, undo, audit and webhooks through the API (fake model, real databases)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from api.services import services
from tests.api.fixtures import assert_error, held


def test_queue_sorts_by_risk_and_pages_with_a_cursor(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.policies.change(site.id, actor="t", live=replace(site.policy, blocked_words=("grr",)))
    a = held(client, auth, "You nitwit.", author={"id": "reader-1"})
    b = held(client, auth, "grr, a nitwit again", author={"id": "reader-2"})
    c = held(client, auth, "What a dunderhead.")
    r = client.get("/v1/queue?limit=2", headers=staff["mod"])
    assert r.status_code == 200
    page = r.get_json()
    assert page["items"][0]["id"] == b["id"]  # the blocked word outranks score-only holds
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(
        f"/v1/queue?limit=2&cursor={page['next_cursor']}", headers=staff["mod"]
    ).get_json()
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert sorted(ids) == sorted([a["id"], b["id"], c["id"]]) and len(set(ids)) == 3
    assert rest["next_cursor"] is None
    by_age = client.get("/v1/queue?sort=age", headers=staff["mod"]).get_json()["items"]
    assert [i["id"] for i in by_age] == [a["id"], b["id"], c["id"]]
    item = by_age[0]
    assert item["author_history"] == {"approved": 0, "rejected": 0, "held": 1, "withdrawn": 0}
    assert item["version"] == 1 and item["reasons"] and item["spans"]
    assert (
        client.get("/v1/queue?reason=blocked_word", headers=staff["mod"]).get_json()["items"][0][
            "id"
        ]
        == b["id"]
    )
    only = client.get("/v1/queue?category=insult", headers=staff["mod"]).get_json()["items"]
    assert {i["id"] for i in only} == {a["id"], b["id"], c["id"]}
    assert client.get("/v1/queue", headers=staff["stranger"]).get_json()["items"] == []
    assert_error(
        client.get("/v1/queue?cursor=garbage", headers=staff["mod"]), 422, "validation_error"
    )
    assert_error(client.get("/v1/queue?sort=random", headers=staff["mod"]), 422, "validation_error")


def test_claims_never_overlap_and_expire(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    for i in range(6):
        held(client, auth, f"nitwit number {i}")
    first = client.post("/v1/queue/claim", json={"n": 4}, headers=staff["mod"]).get_json()
    second = client.post("/v1/queue/claim", json={"n": 4}, headers=staff["mod2"]).get_json()
    mine = {i["id"] for i in first["items"]}
    theirs = {i["id"] for i in second["items"]}
    assert len(mine) == 4 and len(theirs) == 2 and not mine & theirs
    assert first["lease_seconds"] == 300
    # mod2 cannot decide what mod holds
    item = first["items"][0]
    r = client.post(
        f"/v1/comments/{item['id']}/decision",
        json={"action": "approve", "version": item["version"]},
        headers=staff["mod2"],
    )
    assert_error(r, 409, "conflict")
    renewed = client.post("/v1/queue/claim/renew", json={"ids": list(mine)}, headers=staff["mod"])
    assert set(renewed.get_json()["ids"]) == mine
    # once the lease lapses, the comments go back to the queue
    review = services(app).review
    from datetime import timedelta

    real_clock = review.clock
    review.clock = lambda: real_clock() + timedelta(minutes=11)
    later = client.post("/v1/queue/claim", json={"n": 10}, headers=staff["mod2"]).get_json()
    assert mine <= {i["id"] for i in later["items"]}


def test_claim_renew_and_release_take_the_documented_bodies(
    client: Any, auth: dict[str, str], staff: Any
) -> None:
    for i in range(3):
        held(client, auth, f"nitwit number {i}")
    claimed = client.post(
        "/v1/queue/claim", json={"n": 2, "site": "daily-bugle"}, headers=staff["mod"]
    )
    assert claimed.status_code == 200
    ids = [i["id"] for i in claimed.get_json()["items"]]
    assert len(ids) == 2 and claimed.get_json()["lease_seconds"] == 300
    renew = client.post("/v1/queue/claim/renew", json={"ids": ids}, headers=staff["mod"])
    assert renew.status_code == 200 and sorted(renew.get_json()["ids"]) == sorted(ids)
    released = client.post("/v1/queue/claim/release", json={"ids": ids[:1]}, headers=staff["mod"])
    assert released.status_code == 204
    # The released one is anyone's again; the kept one still the moderator's.
    renew = client.post("/v1/queue/claim/renew", json={"ids": ids}, headers=staff["mod"])
    assert renew.get_json()["ids"] == ids[1:]
    theirs = client.post("/v1/queue/claim", json={"n": 10}, headers=staff["mod2"]).get_json()
    assert ids[0] in {i["id"] for i in theirs["items"]}
    for path in ("renew", "release"):
        missing = client.post(f"/v1/queue/claim/{path}", json={}, headers=staff["mod"])
        assert "ids" in assert_error(missing, 422, "validation_error")["details"]


def test_query_string_errors_name_the_parameter(client: Any, staff: Any) -> None:
    cases = {
        "sort=bogus": ("sort", "The query parameter 'sort' is not valid: Must be one of"),
        "limit=100000": ("limit", "The query parameter 'limit' is not valid: Must be"),
        "colour=red": ("colour", "The query parameter 'colour' is not valid: Unknown field."),
        "sort=bogus&limit=0": (
            "limit",
            "The query parameters 'limit', 'sort' are not valid; see details for each.",
        ),
        # One value each: which of two would count is a guess the service does not make.
        "max_age_minutes=5&max_age_minutes=50": (
            "max_age_minutes",
            "The query parameter 'max_age_minutes' is not valid: Given more than once.",
        ),
    }
    for query, (name, message) in cases.items():
        error = assert_error(
            client.get(f"/v1/queue?{query}", headers=staff["mod"]), 422, "validation_error"
        )
        assert error["message"].startswith(message), (query, error)
        assert "body" not in error["message"]
        assert name in error["details"]
    # A body's errors still say it is the body.
    body = client.post("/v1/queue/claim", json={"n": 0}, headers=staff["mod"])
    assert "request body" in assert_error(body, 422, "validation_error")["message"]


def test_decide_with_version_then_stale_is_409_and_undo(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    c = held(client, auth, "You nitwit.", author={"id": "reader-9"})
    url = f"/v1/comments/{c['id']}/decision"
    assert_error(
        client.post(url, json={"action": "reject", "version": 1}, headers=staff["mod"]),
        422,
        "validation_error",
    )  # a rejection needs a reason
    r = client.post(
        url, json={"action": "reject", "reason": "abusive", "version": 1}, headers=staff["mod"]
    )
    assert r.status_code == 200
    assert r.get_json()["status"] == "rejected" and r.get_json()["version"] == 2
    stale = client.post(url, json={"action": "approve", "version": 1}, headers=staff["mod2"])
    assert_error(stale, 409, "conflict")
    assert client.get(f"/v1/comments/{c['id']}", headers=auth).get_json()["status"] == "rejected"
    undone = client.post(f"/v1/comments/{c['id']}/undo", headers=staff["mod"])
    assert undone.status_code == 200 and undone.get_json()["status"] == "held"
    assert_error(client.post(f"/v1/comments/{c['id']}/undo", headers=staff["mod"]), 409, "conflict")
    audit = client.get(f"/v1/comments/{c['id']}/audit", headers=staff["mod"]).get_json()["entries"]
    assert [e["action"] for e in audit] == [
        "comment.undo",
        "comment.decision",
        "comment.auto_decision",
    ]
    decision = audit[1]
    assert decision["before"]["status"] == "held" and decision["after"]["status"] == "rejected"
    assert decision["after"]["decision_reason"] == "abusive"
    assert decision["actor"].startswith("usr_")
    # author history reflects decisions
    client.post(url, json={"action": "approve", "version": 3}, headers=staff["mod"])
    held(client, auth, "another nitwit", author={"id": "reader-9"})
    items = client.get("/v1/queue", headers=staff["mod"]).get_json()["items"]
    assert items[0]["author_history"]["approved"] == 1


def test_other_reason_needs_a_note(client: Any, auth: dict[str, str], staff: Any) -> None:
    c = held(client, auth, "You nitwit.")
    url = f"/v1/comments/{c['id']}/decision"
    r = client.post(
        url, json={"action": "reject", "reason": "other", "version": 1}, headers=staff["mod"]
    )
    assert_error(r, 422, "validation_error")
    r = client.post(
        url,
        json={"action": "reject", "reason": "other", "note": "spam ring", "version": 1},
        headers=staff["mod"],
    )
    assert r.status_code == 200


def test_bulk_decisions_report_each(client: Any, auth: dict[str, str], staff: Any) -> None:
    a = held(client, auth, "nitwit a")
    b = held(client, auth, "nitwit b")
    r = client.post(
        "/v1/queue/decisions",
        headers=staff["mod"],
        json={
            "decisions": [
                {"id": a["id"], "action": "approve", "version": 1},
                {"id": b["id"], "action": "reject", "reason": "spam", "version": 7},
                {"id": "cmt_missing", "action": "approve", "version": 1},
            ]
        },
    )
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert [x["status"] for x in results] == [200, 409, 404]
    assert results[0]["comment"]["status"] == "approved"


def test_other_sites_comments_are_404(client: Any, auth: dict[str, str], staff: Any) -> None:
    c = held(client, auth, "nitwit")
    for path, body in [
        (f"/v1/comments/{c['id']}/decision", {"action": "approve", "version": 1}),
        (f"/v1/comments/{c['id']}/undo", None),
    ]:
        assert_error(client.post(path, json=body, headers=staff["stranger"]), 404, "not_found")
    assert_error(
        client.get(f"/v1/comments/{c['id']}/audit", headers=staff["stranger"]), 404, "not_found"
    )
    assert_error(
        client.get("/v1/queue?site=daily-bugle", headers=staff["stranger"]), 404, "not_found"
    )
    # site keys and moderators cannot use each other's endpoints
    assert_error(client.get("/v1/queue", headers=auth), 403, "forbidden")
    assert_error(client.get("/v1/sites/daily-bugle/policy", headers=staff["mod"]), 403, "forbidden")


def test_concurrent_decisions_decide_each_comment_once(
    app: Any, client: Any, auth: dict[str, str], staff: Any
) -> None:
    ids = [held(client, auth, f"nitwit {i}")["id"] for i in range(20)]
    results: dict[str, list[int]] = {"mod": [], "mod2": []}

    def work(who: str) -> None:
        local = app.test_client()
        for cid in ids:
            r = local.post(
                f"/v1/comments/{cid}/decision",
                headers=staff[who],
                json={"action": "reject", "reason": "abusive", "version": 1},
            )
            results[who].append(r.status_code)

    threads = [threading.Thread(target=work, args=(w,)) for w in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = results["mod"] + results["mod2"]
    assert codes.count(200) == 20 and codes.count(409) == 20
    entries = services(app).store.audit.entries(
        site_id=services(app).store.sites.get("daily-bugle").id, limit=1000
    )
    assert sum(e.action == "comment.decision" for e in entries) == 20
