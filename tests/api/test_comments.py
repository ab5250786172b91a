"""Comment intake through the Flask test client, on SQLite and PostgreSQL, with a fake model."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from api.services import services
from moderation import db
from moderation.clock import utcnow
from moderation.comments import Decision, Status
from tests.api.fixtures import assert_error, count_rows

BENIGN = "Thanks for the write-up, the section on tide pools was lovely."
TOXIC = "Only a nitwit would write this. Otherwise the photos are nice."


def post(client: Any, auth: dict[str, str], body: Any, path: str = "/v1/comments") -> Any:
    return client.post(path, json=body, headers=auth)


def test_benign_comment_is_approved_with_all_scores(client: Any, auth: dict[str, str]) -> None:
    r = post(client, auth, {"text": BENIGN, "author": {"id": "u1", "name": "Ana"}})
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "approved"
    assert body["reasons"] == []
    assert set(body["scores"]) == {
        "toxicity",
        "severe_toxicity",
        "insult",
        "profanity",
        "threat",
        "identity_attack",
    }
    assert body["model"] == {"name": "keyword-fake", "version": "test"}
    assert body["id"].startswith("cmt_")
    assert body["language"] == "en"
    assert body["created_at"]
    assert [(s["begin"], s["end"]) for s in body["spans"]] == [(0, len(BENIGN))]


def test_toxic_comment_is_held_with_reason_and_sentence_spans(
    client: Any, auth: dict[str, str]
) -> None:
    r = post(client, auth, {"text": TOXIC})
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "held"
    insult = [x for x in body["reasons"] if x.get("category") == "insult"]
    assert insult and insult[0]["code"] == "category"
    assert insult[0]["score"] >= insult[0]["threshold"]
    spans = body["spans"]
    assert len(spans) == 2
    first, second = spans
    assert TOXIC[first["begin"] : first["end"]] == "Only a nitwit would write this."
    assert first["scores"]["insult"] > second["scores"]["insult"]


def test_spaced_out_english_is_held_as_english(client: Any, auth: dict[str, str]) -> None:
    body = post(
        client, auth, {"text": "y o u  a r e  a  n i t w i t  a n d  a  f o o l"}
    ).get_json()
    assert body["status"] == "held" and body["language"] == "en"
    assert {r["code"] for r in body["reasons"]} == {"category"}


def test_get_returns_current_status_and_other_sites_get_404(
    app: Any, client: Any, auth: dict[str, str]
) -> None:
    created = post(client, auth, {"text": TOXIC}).get_json()
    r = client.get(f"/v1/comments/{created['id']}", headers=auth)
    assert r.status_code == 200
    assert r.get_json()["status"] == "held"
    _, other_key = services(app).store.sites.create("other-paper")
    r = client.get(
        f"/v1/comments/{created['id']}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert_error(r, 404, "not_found")
    assert_error(client.get("/v1/comments/cmt_nope", headers=auth), 404, "not_found")


def test_repeated_external_id_returns_the_stored_comment(
    app: Any, client: Any, auth: dict[str, str]
) -> None:
    first = post(client, auth, {"text": BENIGN, "external_id": "wp-17"})
    again = post(client, auth, {"text": "a different text", "external_id": "wp-17"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["text"] == BENIGN
    assert count_rows(app, db.comments) == 1


def test_batch_scores_in_one_model_call_and_keeps_order(
    client: Any, auth: dict[str, str], scorer: Any
) -> None:
    texts = [BENIGN, "You blasted dunderhead.", "Nice point about the ferry schedule."]
    r = post(client, auth, {"comments": [{"text": t} for t in texts]}, "/v1/comments/batch")
    assert r.status_code == 201
    results = r.get_json()["results"]
    assert [x["comment"]["text"] for x in results] == texts
    assert [x["comment"]["status"] for x in results] == ["approved", "held", "approved"]
    assert all(x["created"] for x in results)
    assert scorer.calls[0] == texts  # the comments went to the model together


def test_batch_limit(client: Any, auth: dict[str, str], app: Any) -> None:
    r = post(client, auth, {"comments": [{"text": "hi there"}] * 101}, "/v1/comments/batch")
    error = assert_error(r, 422, "validation_error")
    assert "comments" in error["details"]
    assert count_rows(app, db.comments) == 0


def test_scorer_failure_holds_and_rescore_recovers(
    app: Any, client: Any, auth: dict[str, str], scorer: Any
) -> None:
    scorer.fail = RuntimeError("inference server down")
    r = post(client, auth, {"text": BENIGN})
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "held"
    assert body["reasons"] == [{"code": "scoring_unavailable"}]
    assert body["scoring_state"] == "pending"
    scorer.fail = None
    assert services(app).service.rescore_pending() == 1
    after = client.get(f"/v1/comments/{body['id']}", headers=auth).get_json()
    assert after["status"] == "approved"
    assert after["scoring_state"] == "scored"
    assert after["model"]["name"] == "keyword-fake"


def test_rescore_keeps_a_moderators_decision(
    app: Any, client: Any, auth: dict[str, str], scorer: Any
) -> None:
    scorer.fail = RuntimeError("down")
    cid = post(client, auth, {"text": BENIGN}).get_json()["id"]
    store = services(app).store
    held = store.comments.get(cid)
    now = utcnow()
    decision = Decision(Status.REJECTED, "usr_mod", now, "spam", None, now)
    assert store.comments.apply(cid, held.version, decision, None)
    scorer.fail = None
    assert services(app).service.rescore_pending() == 1
    after = store.comments.get(cid)
    assert after.status.value == "rejected"
    assert after.scoring_state == "scored"
    assert after.scores["toxicity"] < 0.5


def test_hanging_scorer_times_out_into_a_hold(
    app: Any, client: Any, auth: dict[str, str], scorer: Any
) -> None:
    scorer.hanging = True
    try:
        r = post(client, auth, {"text": BENIGN})
    finally:
        scorer.hang.set()
    assert r.status_code == 201
    assert r.get_json()["reasons"] == [{"code": "scoring_unavailable"}]


def test_email_is_stored_hashed(app: Any, client: Any, auth: dict[str, str]) -> None:
    post(client, auth, {"text": BENIGN, "author": {"id": "a", "email": "Reader@Example.org"}})
    with services(app).store.engine.connect() as conn:
        row = conn.execute(sa.select(db.comments)).one()
    assert row.author_email_hash and "example" not in row.author_email_hash.lower()
    assert "Reader@Example.org" not in str(row._asdict())


# -- errors: one shape, never a 500, nothing written ----------------------------------


def test_malformed_json_is_400(app: Any, client: Any, auth: dict[str, str]) -> None:
    r = client.post(
        "/v1/comments", data='{"text": "unterminated', headers=auth, content_type="application/json"
    )
    assert_error(r, 400, "bad_request")
    assert count_rows(app, db.comments) == 0


def test_field_errors_are_422_with_details(app: Any, client: Any, auth: dict[str, str]) -> None:
    cases = [
        ({}, "text"),
        ({"text": 42}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "ok", "colour": "red"}, "colour"),
        ({"text": "ok", "author": {"ip": "1" * 65}}, "author"),
        ({"text": "ok", "author": "bob"}, "author"),
        ({"text": "ok", "author": {"email": "nope"}}, "author"),
        ({"text": "x" * 20_001}, "text"),
        ([1, 2], "_schema"),
    ]
    for body, field in cases:
        error = assert_error(post(client, auth, body), 422, "validation_error")
        assert field in error["details"], (body, error)
    assert count_rows(app, db.comments) == 0


def test_empty_or_blank_text_gets_one_message(client: Any, auth: dict[str, str]) -> None:
    for text in ("", "   ", "\u3000\n"):
        error = assert_error(post(client, auth, {"text": text}), 422, "validation_error")
        assert error["details"] == {"text": ["The comment text is empty."]}, text


def test_oversized_body_is_413(app: Any, client: Any, auth: dict[str, str]) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    r = post(client, auth, {"text": "y" * 20_000})
    assert_error(r, 413, "payload_too_large")
    assert count_rows(app, db.comments) == 0


def test_wrong_content_type_is_415(client: Any, auth: dict[str, str]) -> None:
    r = client.post(
        "/v1/comments",
        data="text=hello",
        headers=auth,
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(r, 415, "unsupported_media_type")


def test_credentials(app: Any, client: Any, auth: dict[str, str]) -> None:
    body = {"text": BENIGN}
    assert_error(client.post("/v1/comments", json=body), 401, "unauthenticated")
    r = client.post("/v1/comments", json=body, headers={"Authorization": "Bearer msk_wrong"})
    assert_error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.post("/v1/comments", json=body, headers={"Authorization": "Basic abc"})
    assert_error(r, 401, "unauthenticated")
    store = services(app).store
    site = store.sites.get("daily-bugle")
    key_id, key = store.sites.create_key(site.id)
    fresh = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/comments", json=body, headers=fresh).status_code == 201
    store.sites.revoke_key(key_id)
    assert_error(client.post("/v1/comments", json=body, headers=fresh), 401, "unauthenticated")
    from moderation.sites import Role

    _, token = store.users.create("mia", Role.MODERATOR, [site.id])
    r = client.post("/v1/comments", json=body, headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 403, "forbidden")
    assert count_rows(app, db.comments) == 1


def test_unknown_route_and_wrong_method(client: Any, auth: dict[str, str]) -> None:
    assert_error(client.get("/v1/nothing-here", headers=auth), 404, "not_found")
    r = client.delete("/v1/comments", headers=auth)
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


def test_health_readiness_metrics_and_request_id(client: Any, auth: dict[str, str]) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 503  # the model is loaded lazily: not ready until it is
    assert r.get_json()["error"]["details"]["model"] == "not loaded"
    post(client, auth, {"text": TOXIC})
    assert client.get("/readyz").status_code == 200
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32
    text = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_queue_depth{site="daily-bugle"} 1.0' in text
    assert "moderation_decisions_total" in text
    assert "moderation_scoring_seconds" in text
    assert (
        'moderation_http_requests_total{endpoint="/v1/comments",method="POST",status="201"}' in text
    )


def test_openapi_and_docs(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/v1/comments" in spec["paths"]
    props = spec["components"]["schemas"]["CommentIn"]["properties"]
    assert {"text", "author", "article", "parent_id", "external_id"} <= set(props)
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/v1/comments/batch" in page.get_data(as_text=True)


def test_database_outage_is_503_with_retry_after_and_recovers(
    app: Any, client: Any, auth: dict[str, str]
) -> None:
    store = services(app).store
    healthy = store.engine
    broken = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
        if healthy.dialect.name == "postgresql"
        else "sqlite:////nonexistent-dir/x.db"
    )
    # Authentication reads the key first, so the outage shows on the very first query.
    store.db.engine, store.db._writer = broken, broken.execution_options(sqlite_write=True)
    try:
        r = post(client, auth, {"text": BENIGN})
        error = assert_error(r, 503, "unavailable")
        assert r.headers["Retry-After"] == "5"
        assert "retry" in error["message"].lower()
        assert client.get("/readyz").status_code == 503
    finally:
        store.db.engine, store.db._writer = healthy, healthy.execution_options(sqlite_write=True)
    assert post(client, auth, {"text": BENIGN}).status_code == 201
    assert count_rows(app, db.comments) == 1
