"""Hostile input on every endpoint, on SQLite and PostgreSQL: refused with a 4xx, never a 500.

Lone surrogates and NUL (text no database can store), JSON nested 10,000 deep,
chunked bodies over the limit, texts that normalize to nothing, addresses that
are not addresses; and the harmless oddities (right-to-left marks, combining
sequences, megabyte tokens) that must not break anything either.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from api.services import services
from moderation import db
from moderation.sites import Role
from tests.api.fixtures import assert_error, count_rows, page_token

SURROGATES = ("\ud800", "\udfff", "bad \udbff text")
NULS = ("\x00", "hi \x00 there")
UNSTORABLE = SURROGATES + NULS
# Harmless however odd: each is refused or accepted on its merits, never a 500.
ODD = (
    "\u200b\u200c\u2060\ufeff",  # only zero-width characters
    "\u202e\u200f",  # only right-to-left controls
    "abc \u202eevil\u202c \u200fdef",
    "e" + "\u0301\u0308\u0338" * 300,  # a combining tower
    "\u0301\u0308",  # combining marks with nothing to combine with
    "a" * 1_000_000,  # a megabyte token
    "[" * 200,  # brackets inside a string are not nesting
)
SITE_KEY_PATHS = ("/v1/comments",)
ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


@pytest.fixture
def world(app: Any, site_key: str) -> dict[str, Any]:
    """A site, its key, an admin's token and a held comment to act on."""
    store = services(app).store
    _, token = store.users.create("root", Role.ADMIN, [])
    client = app.test_client()
    created = client.post(
        "/v1/comments",
        json={"text": "You nitwit.", "author": {"id": "r-1"}},
        headers={"Authorization": f"Bearer {site_key}"},
    ).get_json()
    return {
        "key": site_key,
        "token": token,
        "site": "daily-bugle",
        "comment": created["id"],
    }


def bodies(world: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A valid body for every operation that takes one, with a string in every string field."""
    comment = {
        "text": "A calm remark.",
        "author": {"id": "a-1", "name": "Ana", "email": "ana@example.com", "ip": "203.0.113.9"},
        "article": {"id": "art-1", "url": "https://example.com/a", "title": "Tides"},
        "parent_id": "p-1",
        "external_id": "ext-1",
    }
    policy = {"blocked_words": ["gadzooks"], "suspect_words": ["drat"]}
    return {
        ("POST", "/v1/comments"): comment,
        ("POST", "/v1/comments/batch"): {"comments": [comment]},
        ("POST", "/v1/queue/claim"): {"n": 1, "site": world["site"]},
        ("POST", "/v1/queue/claim/renew"): {"ids": [world["comment"]]},
        ("POST", "/v1/queue/claim/release"): {"ids": [world["comment"]]},
        ("POST", "/v1/queue/decisions"): {
            "decisions": [{"id": world["comment"], "action": "approve", "version": 1, "note": "ok"}]
        },
        ("POST", "/v1/comments/{comment_id}/decision"): {
            "action": "reject",
            "version": 1,
            "reason": "insult",
            "note": "rude",
        },
        ("PUT", "/v1/sites/{site}/policy"): policy,
        ("POST", "/v1/sites/{site}/policy/simulate"): {
            "policy": policy,
            "since": "2026-01-01T00:00:00Z",
        },
        ("PUT", "/v1/sites/{site}/policy/shadow"): policy,
        ("PUT", "/v1/sites/{site}/webhook"): {"url": "https://example.com/hook"},
        ("POST", "/v1/integrations/coral/{site}"): {
            "action": "NEW",
            "comment": {"body": "A calm remark.", "parentID": "p-1"},
            "author": {"id": "a-1"},
            "story": {"id": "s-1", "url": "https://example.com/s"},
        },
        ("POST", ANALYZE): {
            "comment": {"text": "A calm remark.", "type": "PLAIN_TEXT"},
            "requestedAttributes": {"TOXICITY": {}},
            "languages": ["en"],
            "clientToken": "c-1",
            "doNotStore": True,
        },
        ("POST", SUGGEST): {
            "comment": {"text": "A calm remark."},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.5}}},
            "clientToken": "c-1",
        },
    }


QUERIES = {
    ("GET", "/v1/queue"): {"site": "daily-bugle", "reason": "category", "cursor": "x"},
    ("GET", "/v1/sites/{site}/policy/shadow-report"): {"since": "2026-01-01T00:00:00Z"},
}


def operations(client: Any) -> Iterator[tuple[str, str]]:
    """Every operation in /openapi.json, and Perspective's two."""
    spec = client.get("/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        for method in ops:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method.upper(), path
    yield "POST", ANALYZE
    yield "POST", SUGGEST


def non_json_bodies(client: Any) -> set[tuple[str, str]]:
    """Operations whose body is not JSON (the labels CSV): a JSON body there is a 415."""
    spec = client.get("/openapi.json").get_json()
    return {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict)
        and "requestBody" in op
        and "application/json" not in op["requestBody"].get("content", {})
    }


def call(
    client: Any,
    world: dict[str, Any],
    method: str,
    template: str,
    *,
    body: Any = None,
    data: bytes | None = None,
    query: dict[str, str] | None = None,
    in_path: str | None = None,
) -> Any:
    """Call an operation with the credentials it takes and real ids (or `in_path`) in its path."""
    path = template.replace("{comment_id}", in_path or world["comment"])
    path = path.replace("{site}", in_path or world["site"])
    headers = {}
    params: dict[str, str] | str = dict(query or {})
    if any(not encodable(v) for v in (query or {}).values()):
        # A URL carries bytes: a surrogate arrives as its (invalid) UTF-8 bytes, percent-encoded.
        params = "&".join(
            f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in (query or {}).items()
        )
    if template.startswith("/v1alpha1"):
        assert isinstance(params, dict)
        params["key"] = world["key"]
    elif template.startswith("/v1/comments") and "{comment_id}/" not in template:
        headers["Authorization"] = f"Bearer {world['key']}"
    elif not template.startswith("/v1/integrations"):
        headers["Authorization"] = f"Bearer {world['token']}"
    if body is not None:
        data = json.dumps(body).encode()
    return client.open(
        path,
        method=method,
        data=data,
        content_type="application/json" if data is not None else None,
        headers=headers,
        query_string=params,
    )


def encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to every string in a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from string_leaves(item, (*path, i))


def replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    """A deep copy of `value` with the string at `path` replaced."""
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return copy


def names_field(error: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Whether an error's details (ours, or Google's field violations) name the field."""
    if "fieldViolations" in json.dumps(error):
        fields = [v["field"] for d in error["details"] for v in d.get("fieldViolations", [])]
        return ".".join(map(str, path)) in fields
    node = error["details"]
    for part in path:
        if not isinstance(node, dict) or str(part) not in {str(k) for k in node}:
            return False
        node = next(v for k, v in node.items() if str(k) == str(part))
    return True


def every_string_column(app: Any) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) for every string stored anywhere, JSON columns included."""
    engine = services(app).store.engine
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    if isinstance(value, str):
                        yield table.name, column, value
                    elif isinstance(value, dict | list):
                        yield table.name, column, json.dumps(value, ensure_ascii=False)


# -- unstorable strings ---------------------------------------------------------------


def test_every_string_field_refuses_lone_surrogates_and_nul(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """Every string of every body: 422 naming the field (Perspective: Google's 400), never 500."""
    comments_before = count_rows(app, db.comments)
    for (method, template), body in bodies(world).items():
        for path in string_leaves(body):
            for bad in (SURROGATES[0], NULS[1]):
                r = call(client, world, method, template, body=replaced(body, path, bad))
                perspective = template.startswith("/v1alpha1")
                status = 400 if perspective else 422
                assert r.status_code == status, (method, template, path, r.get_data(as_text=True))
                error = r.get_json()["error"]
                assert names_field(error, path), (template, path, error)
    assert count_rows(app, db.comments) == comments_before
    for table, column, value in every_string_column(app):
        assert "\x00" not in value and not re.search("[\ud800-\udfff]", value), (table, column)


def test_object_keys_query_parameters_and_forms_are_checked_too(
    client: Any, world: dict[str, Any]
) -> None:
    r = call(
        client,
        world,
        "PUT",
        "/v1/sites/{site}/policy",
        body={"thresholds": {"toxicity\ud800": 0.5}},
    )
    assert_error(r, 422, "validation_error")
    for bad in NULS:
        r = call(client, world, "GET", "/v1/queue", query={"reason": bad})
        error = assert_error(r, 422, "validation_error")
        assert error["details"] == {
            "reason": ["Contains a NUL character (U+0000), which cannot be stored."]
        }
    # A URL cannot carry a lone surrogate: its bytes decode to replacement characters.
    r = call(client, world, "GET", "/v1/queue", query={"reason": SURROGATES[0]})
    assert r.status_code == 200
    r = call(client, world, "POST", ANALYZE, body=bodies(world)[("POST", ANALYZE)])
    assert r.status_code == 200
    r = client.post(ANALYZE, json=bodies(world)[("POST", ANALYZE)], query_string={"key": "k\x00"})
    assert r.status_code == 400 and r.get_json()["error"]["status"] == "INVALID_ARGUMENT"
    # Web forms: the sign-in name and the demo's comment; an HTML page, not a crash.
    for path, form in [
        ("/signin", {"name": "root\x00", "password": "x"}),
        ("/demo/comments", {"name": "Ana", "text": "hello \x00"}),
    ]:
        r = client.post(path, data=form)
        assert r.status_code == 422, (path, r.status_code)
        assert r.mimetype == "text/html"


def test_nul_in_a_path_is_404(client: Any, world: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {world['key']}"}
    assert_error(client.get("/v1/comments/cmt_%00", headers=headers), 404, "not_found")
    token = {"Authorization": f"Bearer {world['token']}"}
    assert_error(client.get("/v1/sites/daily%00/policy", headers=token), 404, "not_found")


def test_valid_unicode_is_kept_exactly(client: Any, world: dict[str, Any]) -> None:
    """Surrogate pairs written as escapes, RTL marks and combining marks are stored as sent."""
    text = "Nice \U0001f600 point \u202eecnarf\u202c, cafe\u0301 \u05e9\u05dc\u05d5\u05dd."
    raw = json.dumps({"text": text, "author": {"name": "Zo\u00eb \U0001f30a"}}).encode()
    assert b"\\ud83d\\ude00" in raw  # the emoji travels as an escaped surrogate pair
    r = call(client, world, "POST", "/v1/comments", data=raw)
    assert r.status_code == 201, r.get_json()
    stored = client.get(
        f"/v1/comments/{r.get_json()['id']}", headers={"Authorization": f"Bearer {world['key']}"}
    ).get_json()
    assert stored["text"] == text
    assert stored["author"]["name"] == "Zo\u00eb \U0001f30a"


# -- nesting ------------------------------------------------------------------------------


def test_json_nested_10000_deep_is_400_on_every_operation(
    client: Any, world: dict[str, Any]
) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    deep_object = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    seen = 0
    not_json = non_json_bodies(client)
    assert ("POST", "/v1/sites/{site}/labels") in not_json
    for method, template in operations(client):
        for raw in (deep, deep_object):
            r = call(client, world, method, template, data=raw)
            if (method, template) in not_json:
                assert r.status_code == 415, (method, template, r.get_data(as_text=True)[:300])
                assert r.get_json()["error"]["code"] == "unsupported_media_type"
                continue
            assert r.status_code == 400, (method, template, r.get_data(as_text=True)[:300])
            error = r.get_json()["error"]
            if template.startswith("/v1alpha1"):
                assert error["status"] == "INVALID_ARGUMENT"
            else:
                assert error["code"] == "bad_request"
            assert "deeper than 32" in error["message"]
        seen += 1
    assert seen >= 24


def test_ordinary_nesting_and_brackets_in_strings_pass(client: Any, world: dict[str, Any]) -> None:
    text = "[" * 500 + " a remark with brackets " + "}" * 500
    r = call(client, world, "POST", "/v1/comments", body={"text": text})
    assert r.status_code == 201
    assert r.get_json()["text"] == text
    body = {
        "comment": {"text": "A calm remark."},
        "requestedAttributes": {"TOXICITY": {}},
        "context": {"articleAndParentComment": {"article": {"text": "x"}}},
    }
    assert call(client, world, "POST", ANALYZE, body=body).status_code == 200


# -- size ---------------------------------------------------------------------------------


def chunked(client: Any, path: str, raw: bytes, **kwargs: Any) -> Any:
    """Send a body without Content-Length, as gunicorn hands a chunked request to the app."""
    return client.post(
        path,
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked", **kwargs.pop("headers", {})},
        **kwargs,
    )


def test_chunked_bodies_count_against_the_limit(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    auth = {"Authorization": f"Bearer {world['key']}"}
    before = count_rows(app, db.comments)
    big = json.dumps({"text": "y" * 20_000}).encode()
    assert_error(chunked(client, "/v1/comments", big, headers=auth), 413, "payload_too_large")
    r = chunked(client, ANALYZE, big, query_string={"key": world["key"]})
    assert r.status_code == 413 and r.get_json()["error"]["status"] == "INVALID_ARGUMENT"
    assert count_rows(app, db.comments) == before
    # Exactly at the limit, and well under it: read whole and accepted.
    exact = json.dumps({"text": "z" * 8_000}).encode()
    exact = exact[:-1] + b" " * (10_000 - len(exact)) + b"}"
    assert len(exact) == 10_000
    r = chunked(client, "/v1/comments", exact, headers=auth)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["text"] == "z" * 8_000


# -- meaning ------------------------------------------------------------------------------


def test_text_that_normalizes_to_nothing_is_refused_everywhere(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    before = count_rows(app, db.comments)
    for invisible in ("\u200b\u200c\u2060\ufeff", "\u202e\u200f", "\u00ad\u034f \u3000"):
        error = assert_error(
            call(client, world, "POST", "/v1/comments", body={"text": invisible}),
            422,
            "validation_error",
        )
        assert error["details"] == {"text": ["The comment text is empty."]}
        r = call(
            client,
            world,
            "POST",
            ANALYZE,
            body={"comment": {"text": invisible}, "requestedAttributes": {"TOXICITY": {}}},
        )
        assert r.status_code == 400
        assert r.get_json()["error"]["details"][0]["errorType"] == "COMMENT_EMPTY"
        token = page_token(client, "/demo")
        r = client.post("/demo/comments", data={"csrf_token": token, "text": invisible})
        assert r.status_code == 422
        assert "Write something first." in r.get_data(as_text=True)
    assert count_rows(app, db.comments) == before


@pytest.mark.parametrize(
    ("ip", "ok"),
    [
        ("203.0.113.9", True),
        ("2001:db8::1", True),
        ("::ffff:192.0.2.1", True),
        ("999.1.1.1", False),
        ("1.2.3", False),
        ("2001:db8::g", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_author_ip_must_be_an_address(
    client: Any, world: dict[str, Any], ip: str, ok: bool
) -> None:
    r = call(client, world, "POST", "/v1/comments", body={"text": "Hi.", "author": {"ip": ip}})
    if ok:
        assert r.status_code == 201
    else:
        error = assert_error(r, 422, "validation_error")
        assert error["details"] == {"author": {"ip": ["Not an IPv4 or IPv6 address."]}}


# -- the sweep ----------------------------------------------------------------------------


def test_hostile_sweep_has_no_server_error(app: Any, client: Any, world: dict[str, Any]) -> None:
    """Every odd and unstorable string in every field, query parameter and path: no 5xx."""
    statuses: dict[int, int] = {}

    def check(r: Any, where: Any) -> None:
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (where, r.get_data(as_text=True)[:300])
        assert r.is_json, where

    all_bodies = bodies(world)
    for method, template in operations(client):
        body = all_bodies.get((method, template))
        for value in UNSTORABLE + ODD:
            for path in string_leaves(body) if body is not None else []:
                check(call(client, world, method, template, body=replaced(body, path, value)), path)
            for name in QUERIES.get((method, template), {}) if len(value) < 10_000 else []:
                query = {**QUERIES[(method, template)], name: value}
                check(call(client, world, method, template, query=query), name)
        if "{" in template:
            for raw in ("%00", "%ED%A0%80", "%E2%80%AE", "a" * 5_000):
                check(call(client, world, method, template, body=body, in_path=raw), raw)
    assert statuses.get(422, 0) > 100
    assert not any(status >= 500 for status in statuses)
    for table, column, value in every_string_column(app):
        assert "\x00" not in value and not re.search("[\ud800-\udfff]", value), (table, column)
