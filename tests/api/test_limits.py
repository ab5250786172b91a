"""Per-site-key rate limits: 429 with Retry-After, shared across workers through Redis."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from api.services import services
from tests.fakes import KeywordScorer

REDIS_URL = os.environ.get("MODERATION_TEST_REDIS", "redis://127.0.0.1:6379/15")
BODY = {"text": "Thanks for the write-up, the section on tide pools was lovely."}
PERSPECTIVE = {"comment": {"text": BODY["text"]}, "requestedAttributes": {"TOXICITY": {}}}


def comment(client: Any, key: str) -> Any:
    return client.post("/v1/comments", json=BODY, headers={"Authorization": f"Bearer {key}"})


def perspective(client: Any, key: str) -> Any:
    return client.post(
        "/v1alpha1/comments:analyze",
        json={**PERSPECTIVE, "doNotStore": True},
        query_string={"key": key},
    )


def assert_retry_after(response: Any) -> int:
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    return seconds


def make_app(database_url: str, tmp_path: Any, **config: Any) -> Any:
    from api import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SCORER": KeywordScorer(),
            "SECRET_KEY": "test-secret",
            "LOG_REQUESTS": False,
            **config,
        }
    )


def test_over_the_limit_is_429_in_our_shape_per_key(app: Any, client: Any, site_key: str) -> None:
    app.config["RATE_LIMIT"] = "3/minute"
    assert [comment(client, site_key).status_code for _ in range(3)] == [201, 201, 201]
    r = comment(client, site_key)
    assert r.status_code == 429
    error = r.get_json()["error"]
    assert (error["status"], error["code"]) == (429, "rate_limited")
    assert "3 per 1 minute" in error["message"]
    assert error["details"]["retry_after"] == assert_retry_after(r)
    # Reading a comment and the batch endpoint count against the same key too.
    assert (
        client.get(
            "/v1/comments/cmt_x", headers={"Authorization": f"Bearer {site_key}"}
        ).status_code
        == 429
    )
    # Another site's key has its own count.
    _, other = services(app).store.sites.create("other-paper")
    assert comment(client, other).status_code == 201


def test_perspective_shares_the_count_and_answers_resource_exhausted(
    app: Any, client: Any, site_key: str
) -> None:
    app.config["RATE_LIMIT"] = "2/minute"
    assert comment(client, site_key).status_code == 201
    assert perspective(client, site_key).status_code == 200
    r = perspective(client, site_key)
    assert r.status_code == 429
    error = r.get_json()["error"]
    assert set(error) == {"code", "message", "status"}
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert_retry_after(r)
    assert comment(client, site_key).status_code == 429


def test_coral_signed_calls_are_never_limited_refused_ones_are(
    app: Any, client: Any, site_key: str
) -> None:
    store = services(app).store
    site = store.sites.get("daily-bugle")
    secret = "empsec_" + secrets.token_hex(32)
    store.coral.set_secret(site.id, secret)
    app.config["RATE_LIMIT"] = "2/minute"
    body = json.dumps(
        {"action": "NEW", "comment": {"body": BODY["text"], "parentID": None}}, indent=2
    ).encode()
    good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def send(header: str) -> Any:
        return client.post(
            f"/v1/integrations/coral/{site.id}",
            data=body,
            headers={"X-Coral-Signature": header},
            content_type="application/json",
        )

    # A 429 would make Coral publish the comment unmoderated: signed calls pass.
    assert [send(good).status_code for _ in range(4)] == [204, 204, 204, 204]
    assert [send("sha256=00").status_code for _ in range(2)] == [401, 401]
    r = send("sha256=00")
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "rate_limited"
    assert_retry_after(r)
    assert comment(client, site_key).status_code == 201  # the site key's own count is apart


def test_requests_without_a_key_are_counted_by_address(app: Any, client: Any) -> None:
    app.config["RATE_LIMIT"] = "2/minute"
    assert [client.post("/v1/comments", json=BODY).status_code for _ in range(2)] == [401, 401]
    assert client.post("/v1/comments", json=BODY).status_code == 429


def test_limits_can_be_switched_off(database_url: str, tmp_path: Any) -> None:
    app = make_app(database_url, tmp_path, RATE_LIMIT="1/minute", RATE_LIMIT_ENABLED=False)
    _, key = services(app).store.sites.create("daily-bugle")
    client = app.test_client()
    assert [comment(client, key).status_code for _ in range(3)] == [201, 201, 201]
    services(app).store.engine.dispose()


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def two_workers(database_url: str, tmp_path: Any) -> Iterator[tuple[Any, Any, str]]:
    """Two app instances, as two gunicorn workers are, sharing the database and Redis."""
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    first = make_app(database_url, tmp_path, RATE_LIMIT="3/minute", REDIS_URL=REDIS_URL)
    second = make_app(database_url, tmp_path, RATE_LIMIT="3/minute", REDIS_URL=REDIS_URL)
    _, key = services(first).store.sites.create("daily-bugle")
    yield first, second, key
    for app in (first, second):
        services(app).store.engine.dispose()


def test_workers_share_one_count_in_redis(two_workers: tuple[Any, Any, str]) -> None:
    first, second, key = two_workers
    a, b = first.test_client(), second.test_client()
    assert [comment(a, key).status_code, comment(b, key).status_code] == [201, 201]
    assert comment(a, key).status_code == 201
    assert comment(b, key).status_code == 429  # the 4th request overall, on the other worker
    import redis

    stored_keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).keys("*")]
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    assert any(digest in k for k in stored_keys)
    assert not any(key in k for k in stored_keys)  # the API key itself never reaches Redis


def test_redis_down_falls_back_to_memory_and_still_limits(database_url: str, tmp_path: Any) -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(
        database_url, tmp_path, RATE_LIMIT="2/minute", REDIS_URL=f"redis://127.0.0.1:{port}/0"
    )
    _, key = services(app).store.sites.create("daily-bugle")
    client = app.test_client()
    assert [comment(client, key).status_code for _ in range(3)] == [201, 201, 429]
    services(app).store.engine.dispose()


def test_sign_in_failures_are_shared_by_workers_through_redis(
    two_workers: tuple[Any, Any, str],
) -> None:
    """Five wrong passwords on one worker lock the account on the other too."""
    from moderation.sites import Role
    from tests.api.fixtures import sign_in

    first, second, _ = two_workers
    store = services(first).store
    name = "mod-" + secrets.token_hex(4)  # Redis outlives a test: counts of its own
    address = {"REMOTE_ADDR": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.9"}
    store.users.create(name, Role.ADMIN, [])
    store.users.set_password(name, "the right password")
    now = 1_800_000_000.0 + secrets.randbelow(10**6)  # time stands still: no flaky waits
    for app in (first, second):
        services(app).signin_throttle.clock = lambda: now
    a, b = first.test_client(), second.test_client()
    statuses = []
    for client in (a, b, a, b, a):
        statuses.append(sign_in(client, name, "a wrong password", environ=address).status_code)
        if statuses[-1] == 429:
            break
    # The second worker saw the first's failures: it asked for a wait after the second.
    assert statuses == [401, 401, 429]
    r = sign_in(b, name, "the right password", environ=address)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
