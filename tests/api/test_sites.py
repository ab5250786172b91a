"""Operator endpoints: policy, simulate, shadow, audit, export and signed webhooks."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from api.services import services
from models.evaluate import read_csv
from moderation.sites import Role
from moderation.webhooks import SIGNATURE_HEADER, http_post, verify
from tests.api.fixtures import assert_error, held


@pytest.fixture
def op(app: Any, site_key: str) -> dict[str, str]:
    store = services(app).store
    _, token = store.users.create("olga", Role.OPERATOR, [store.sites.get("daily-bugle").id])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def mod(app: Any, site_key: str) -> dict[str, str]:
    store = services(app).store
    _, token = store.users.create("max", Role.MODERATOR, [store.sites.get("daily-bugle").id])
    return {"Authorization": f"Bearer {token}"}


def test_policy_get_put_is_validated_and_audited(client: Any, op: dict[str, str]) -> None:
    r = client.get("/v1/sites/daily-bugle/policy", headers=op)
    assert r.status_code == 200
    before = r.get_json()
    assert before["policy"]["thresholds"]["toxicity"] == 0.8
    r = client.put(
        "/v1/sites/daily-bugle/policy",
        headers=op,
        json={"thresholds": {"threat": 0.3}, "blocked_words": ["grr"]},
    )
    assert r.status_code == 200
    after = r.get_json()
    assert after["policy"]["thresholds"]["threat"] == 0.3
    assert after["policy"]["thresholds"]["toxicity"] == 0.8
    assert after["policy_version"] == before["policy_version"] + 1
    for bad in (
        {"thresholds": {"threat": 1.5}},
        {"thresholds": {"spite": 0.5}},
        {"max_links": -1},
        {"colour": "blue"},
        {"premoderation": "maybe"},
    ):
        assert_error(
            client.put("/v1/sites/daily-bugle/policy", headers=op, json=bad),
            422,
            "validation_error",
        )
    entries = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    update = next(e for e in entries if e["action"] == "policy.update")
    assert update["before"]["thresholds"]["threat"] == 0.8
    assert update["after"]["thresholds"]["threat"] == 0.3
    assert sum(e["action"] == "policy.update" for e in entries) == 1
    assert_error(client.get("/v1/sites/nope/policy", headers=op), 404, "not_found")


def _policy_updates(client: Any, op: dict[str, str]) -> int:
    entries = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    return sum(e["action"] == "policy.update" for e in entries)


def test_a_policy_read_and_written_back_is_accepted_and_versioned(
    client: Any, op: dict[str, str]
) -> None:
    url = "/v1/sites/daily-bugle/policy"
    read = client.get(url, headers=op).get_json()
    assert set(read) == {"policy", "policy_version", "shadow_policy"}
    # Unchanged: accepted, and nothing changed (no new version, no audit row).
    same = client.put(url, headers=op, json=read)
    assert same.status_code == 200, same.get_json()
    assert same.get_json() == read
    assert _policy_updates(client, op) == 0

    # Changed and sent back with the version read: saved as the next version.
    edited = json.loads(json.dumps(read))
    edited["policy"]["thresholds"]["threat"] = 0.3
    edited["policy"]["blocked_words"] = ["grr"]
    saved = client.put(url, headers=op, json=edited)
    assert saved.status_code == 200, saved.get_json()
    after = saved.get_json()
    assert after["policy_version"] == read["policy_version"] + 1
    assert after["policy"]["thresholds"]["threat"] == 0.3
    assert after["policy"]["blocked_words"] == ["grr"]

    # The same edit from someone who read the old version: 409, and nothing is saved.
    edited["policy"]["thresholds"]["threat"] = 0.9
    stale = client.put(url, headers=op, json=edited)
    error = assert_error(stale, 409, "conflict")
    assert f"version {after['policy_version']}" in error["message"]
    assert error["details"] == {
        "policy_version": [f"stale: the current version is {after['policy_version']}"]
    }
    assert client.get(url, headers=op).get_json() == after
    assert _policy_updates(client, op) == 1
    # The fields on their own, with or without a version, still work as before.
    flat = client.put(
        url, headers=op, json={"max_links": 3, "policy_version": after["policy_version"]}
    )
    assert flat.status_code == 200 and flat.get_json()["policy"]["max_links"] == 3
    assert_error(
        client.put(url, headers=op, json={"max_links": 4, "policy_version": 1}), 409, "conflict"
    )
    mixed = client.put(url, headers=op, json={"policy": {"max_links": 1}, "max_links": 2})
    assert assert_error(mixed, 422, "validation_error")["details"].keys() == {"max_links"}


def test_a_shadow_policy_sent_back_must_be_unchanged(client: Any, op: dict[str, str]) -> None:
    url = "/v1/sites/daily-bugle/policy"
    client.put(f"{url}/shadow", headers=op, json={"premoderation": True})
    read = client.get(url, headers=op).get_json()
    assert read["shadow_policy"]["premoderation"] is True
    read["policy"]["max_links"] = 2
    saved = client.put(url, headers=op, json=read)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["policy"]["max_links"] == 2
    assert saved.get_json()["shadow_policy"] == read["shadow_policy"]
    # Changing the shadow here is refused, not silently ignored: it has its own endpoint.
    read["policy_version"] = saved.get_json()["policy_version"]
    read["shadow_policy"]["premoderation"] = False
    refused = client.put(url, headers=op, json=read)
    error = assert_error(refused, 422, "validation_error")
    assert "/policy/shadow" in error["message"] and "shadow_policy" in error["details"]
    assert client.get(url, headers=op).get_json()["shadow_policy"]["premoderation"] is True


def test_concurrent_policy_writes_from_one_version_save_once(app: Any, op: dict[str, str]) -> None:
    url = "/v1/sites/daily-bugle/policy"
    version = app.test_client().get(url, headers=op).get_json()["policy_version"]
    start = threading.Barrier(6)
    statuses: list[int] = []

    def write(threshold: float) -> None:
        client = app.test_client()
        start.wait()
        body = {"thresholds": {"threat": threshold}, "policy_version": version}
        statuses.append(client.put(url, headers=op, json=body).status_code)

    threads = [threading.Thread(target=write, args=(0.1 * (i + 1),)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 5
    client = app.test_client()
    assert client.get(url, headers=op).get_json()["policy_version"] == version + 1
    assert _policy_updates(client, op) == 1


def test_new_policy_applies_to_new_comments(client: Any, auth: dict[str, str], op: Any) -> None:
    client.put("/v1/sites/daily-bugle/policy", headers=op, json={"premoderation": True})
    r = client.post("/v1/comments", json={"text": "Lovely photos."}, headers=auth)
    assert r.get_json()["reasons"] == [{"code": "premoderation"}]


def test_simulate_matches_a_hand_computed_example(
    app: Any, client: Any, auth: dict[str, str], op: Any, mod: Any
) -> None:
    # Four comments with known insult scores (the fake model: 0.97 for nitwit, else 0.02),
    # labelled by a moderator: two toxic, one fine, one never reviewed.
    toxic1 = held(client, auth, "nitwit one")
    toxic2 = held(client, auth, "nitwit two")
    fine = held(client, auth, "nitwit, said affectionately")
    client.post("/v1/comments", json={"text": "A calm remark."}, headers=auth)
    unseen_benign = client.post(
        "/v1/comments", json={"text": "Another calm remark."}, headers=auth
    ).get_json()
    for c, action in ((toxic1, "reject"), (toxic2, "reject"), (fine, "approve")):
        body = {
            "action": action,
            "version": 1,
            **({"reason": "abusive"} if action == "reject" else {}),
        }
        assert (
            client.post(f"/v1/comments/{c['id']}/decision", json=body, headers=mod).status_code
            == 200
        )
    # A moderator rejects a comment the model let through: a miss at any threshold above 0.02.
    missed = client.post(
        f"/v1/comments/{unseen_benign['id']}/decision",
        headers=mod,
        json={"action": "reject", "reason": "spam", "version": 1},
    )
    assert missed.status_code == 200
    r = client.post(
        "/v1/sites/daily-bugle/policy/simulate",
        headers=op,
        json={"policy": {"thresholds": {"insult": 0.5}}, "target_precision": 0.6},
    )
    assert r.status_code == 200
    sim = r.get_json()
    insult = sim["proposed"]["categories"]["insult"]
    # held at 0.5: the three 'nitwit' comments -> tp=2, fp=1; missed: 1; tn: 0
    assert (insult["held"], insult["true_holds"], insult["false_holds"], insult["missed"]) == (
        3,
        2,
        1,
        1,
    )
    assert insult["precision"] == round(2 / 3, 4)
    assert insult["recall"] == round(2 / 3, 4)
    assert insult["false_hold_rate"] == 1.0
    assert insult["hold_rate"] == round(3 / 5, 4)
    assert len(insult["curve"]) == 19
    assert insult["suggested_threshold"] == 0.05  # precision 2/3 >= 0.6 from the lowest point
    assert sim["proposed"]["overall"]["comments"] == 5
    assert sim["current"]["held"] == 3
    assert_error(
        client.post(
            "/v1/sites/daily-bugle/policy/simulate",
            headers=op,
            json={"policy": {"thresholds": {"insult": 2}}},
        ),
        422,
        "validation_error",
    )


def test_simulate_takes_a_target_precision_or_a_target_recall_not_both(
    client: Any, op: dict[str, str]
) -> None:
    url = "/v1/sites/daily-bugle/policy/simulate"
    policy = {"thresholds": {"insult": 0.5}}
    for target in ({"target_precision": 0.6}, {"target_recall": 0.6}, {}):
        assert client.post(url, headers=op, json={"policy": policy, **target}).status_code == 200
    both = {"policy": policy, "target_precision": 0.6, "target_recall": 0.6}
    error = assert_error(client.post(url, headers=op, json=both), 422, "validation_error")
    assert error["details"].keys() == {"target_precision", "target_recall"}
    one = {"policy": policy, "target_precision": 0.6, "target_recall": None}
    assert client.post(url, headers=op, json=one).status_code == 200


def test_shadow_policy_decides_but_never_acts(client: Any, auth: dict[str, str], op: Any) -> None:
    r = client.put("/v1/sites/daily-bugle/policy/shadow", headers=op, json={"premoderation": True})
    assert r.get_json()["shadow_policy"]["premoderation"] is True
    ok = client.post("/v1/comments", json={"text": "Nice one."}, headers=auth).get_json()
    assert ok["status"] == "approved"  # the shadow would hold it, but live decides
    held(client, auth, "nitwit")
    report = client.get("/v1/sites/daily-bugle/policy/shadow-report", headers=op).get_json()
    assert report["comments"] == 2
    assert report["matrix"]["live_approve_shadow_hold"] == 1
    assert report["matrix"]["live_hold_shadow_hold"] == 1
    assert report["agreement"] == 0.5
    client.delete("/v1/sites/daily-bugle/policy/shadow", headers=op)
    client.post("/v1/comments", json={"text": "Nice two."}, headers=auth)
    assert (
        client.get("/v1/sites/daily-bugle/policy/shadow-report", headers=op).get_json()["comments"]
        == 2
    )


def test_decisions_csv_exports_moderator_labels(
    client: Any, auth: dict[str, str], op: Any, mod: Any
) -> None:
    a = held(client, auth, 'nitwit, "quoted", with a comma')
    b = held(client, auth, "nitwit but fine")
    held(client, auth, "nitwit never reviewed")
    client.post(
        f"/v1/comments/{a['id']}/decision",
        headers=mod,
        json={"action": "reject", "reason": "abusive", "version": 1},
    )
    client.post(
        f"/v1/comments/{b['id']}/decision", headers=mod, json={"action": "approve", "version": 1}
    )
    r = client.get("/v1/sites/daily-bugle/decisions.csv", headers=op)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert {(x["text"], x["label"]) for x in rows} == {(a["text"], "1"), (b["text"], "0")}


FORMULAS = [
    '=HYPERLINK("http://evil.example", "nitwit")',
    "+1+1 nitwit",
    "-2+3 nitwit",
    "@SUM(1) nitwit",
    "\tnitwit tab",
    "\r=1 nitwit",
    "'=already quoted nitwit",
]


def test_decisions_csv_has_no_formula_cell_and_times_carry_their_offset(
    client: Any, auth: dict[str, str], op: Any, mod: Any, site_key: str, tmp_path: Any
) -> None:
    for text in FORMULAS:
        c = held(client, auth, text)
        client.post(
            f"/v1/comments/{c['id']}/decision",
            headers=mod,
            json={"action": "reject", "reason": "abusive", "version": 1},
        )
    suggested = {
        "comment": {"text": "=cmd|' /C calc'!A0"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.9}}},
    }
    r = client.post(
        "/v1alpha1/comments:suggestscore", json=suggested, query_string={"key": site_key}
    )
    assert r.status_code == 200
    r = client.get("/v1/sites/daily-bugle/decisions.csv", headers=op)
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    header, body = rows[0], rows[1:]
    assert len(body) == len(FORMULAS) + 1
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
        decided_at = datetime.fromisoformat(row[header.index("decided_at")])
        assert decided_at.utcoffset() == timedelta(0)
    # models.evaluate (and models.train) read back exactly the texts that were stored.
    export = tmp_path / "decisions.csv"
    export.write_bytes(r.get_data())
    texts = read_csv(export, "text", "label").texts
    assert sorted(texts) == sorted([*FORMULAS, suggested["comment"]["text"]])


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that answers 503 until told to recover."""

    up = False
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not type(self).up:
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhooks_survive_a_receiver_outage(
    app: Any, client: Any, auth: dict[str, str], op: Any, mod: Any
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.up, _Receiver.received = False, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        r = client.put("/v1/sites/daily-bugle/webhook", headers=op, json={"url": url})
        assert r.status_code == 200
        secret = r.get_json()["secret"]
        deliverer = services(app).deliverer
        deliverer.post = http_post(timeout=5)
        c = held(client, auth, "nitwit")
        client.post(
            f"/v1/comments/{c['id']}/decision",
            headers=mod,
            json={"action": "reject", "reason": "abusive", "version": 1},
        )
        assert deliverer.deliver_due() == 0  # receiver down: both attempts fail
        log = client.get("/v1/sites/daily-bugle/webhook", headers=op).get_json()["deliveries"]
        assert {e["event"] for e in log} == {"comment.held", "comment.rejected"}
        assert all(e["attempts"] == 1 and e["last_error"] == "HTTP 503" for e in log)
        # Times in the log are ISO 8601 with their offset, like every other timestamp.
        for e in log:
            for when in (e["created_at"], e["next_attempt_at"], e["history"][0]["attempted_at"]):
                assert datetime.fromisoformat(when).utcoffset() == timedelta(0), e
        # An hour later the receiver is back: everything is delivered, once.
        real = deliverer.clock
        deliverer.clock = lambda: real() + timedelta(hours=1)
        _Receiver.up = True
        assert deliverer.deliver_due() == 2
        assert deliverer.deliver_due() == 0
        bodies = [json.loads(b) for _, b in _Receiver.received]
        assert [b["event"] for b in bodies] == ["comment.held", "comment.rejected"]
        assert bodies[1]["comment_id"] == c["id"] and bodies[1]["status"] == "rejected"
        for headers, body in _Receiver.received:
            assert verify(secret, headers[SIGNATURE_HEADER], body, now=real().timestamp() + 3600)
            assert not verify(
                "wrong-secret", headers[SIGNATURE_HEADER], body, now=real().timestamp() + 3600
            )
        # A replay ten minutes later fails: the signed timestamp is too old.
        headers, body = _Receiver.received[0]
        assert not verify(secret, headers[SIGNATURE_HEADER], body, now=real().timestamp() + 4200)
    finally:
        server.shutdown()
