"""Coral Talk's External Moderation Phase: requests built and signed byte for byte as Coral does."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from api.services import services
from moderation import db
from moderation.clock import utcnow
from moderation.integrations import ApprovedAnswer

TOXIC = "Only a nitwit would write this. Otherwise the photos are nice."
BENIGN = "Thanks for the write-up, the section on tide pools was lovely."
WITHHELD_TOXIC = {
    "status": "SYSTEM_WITHHELD",
    "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}],
}


def new_secret() -> str:
    """A secret as Coral makes one: `empsec_` and 32 to 36 random bytes in hex."""
    return "empsec_" + secrets.token_hex(32 + secrets.randbelow(5))


def coral_request(body: str, action: str = "NEW", parent: str | None = None) -> dict[str, Any]:
    """Coral's ExternalModerationRequest, fields in Coral's order."""
    return {
        "action": action,
        "comment": {"body": body, "parentID": parent},
        "author": {"id": "c0ffee-user", "role": "COMMENTER"},
        "story": {"id": "story-42", "url": "https://news.example/tide-pools"},
        "site": {"id": "coral-site-1"},
        "tenantID": "tenant-1",
        "tenantDomain": "comments.news.example",
    }


def stringify(obj: Any) -> bytes:
    """The bytes of JSON.stringify(obj, null, 2): two-space indent, no ASCII escaping."""
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


def signature(body: bytes, *keys: str) -> str:
    """X-Coral-Signature as Coral's generateSignatures builds it: one sha256= per active secret."""
    return ",".join(
        "sha256=" + hmac.new(k.encode(), body, hashlib.sha256).hexdigest() for k in keys
    )


@pytest.fixture
def site(app: Any, site_key: str) -> Any:
    return services(app).store.sites.get("daily-bugle")


@pytest.fixture
def secret(app: Any, site: Any) -> str:
    value = new_secret()
    services(app).store.coral.set_secret(site.id, value)
    return value


def send(
    client: Any,
    site_ref: str,
    body: bytes,
    header: str | None,
    content_type: str = "application/json",
) -> Any:
    headers = {"X-Coral-Signature": header} if header is not None else {}
    return client.post(
        f"/v1/integrations/coral/{site_ref}", data=body, headers=headers, content_type=content_type
    )


def stored(app: Any) -> list[Any]:
    with services(app).store.engine.connect() as conn:
        return list(conn.execute(sa.select(db.comments).order_by(db.comments.c.created_at)).all())


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert set(error) == {"code", "status", "message", "details"}
    return error


# -- answers --------------------------------------------------------------------


def test_toxic_comment_is_withheld_and_flagged_and_stored_held(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    body = stringify(coral_request(TOXIC, parent="parent-7"))
    r = send(client, site.id, body, signature(body, secret))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == WITHHELD_TOXIC
    [row] = stored(app)
    assert (row.text, row.status, row.site_id) == (TOXIC, "held", site.id)
    assert (row.author_id, row.article_id, row.article_url, row.parent_id) == (
        "c0ffee-user",
        "story-42",
        "https://news.example/tide-pools",
        "parent-7",
    )
    audit = services(app).store.audit.entries(comment_id=row.id)
    assert [a.action for a in audit] == ["comment.auto_decision"]
    queue = services(app).store.comments.queue([site.id], sort="risk", limit=5)
    assert [c.id for c in queue] == [row.id]


def test_approval_is_204_by_default_and_approved_when_the_site_asks(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    body = stringify(coral_request(BENIGN))
    r = send(client, site.id, body, signature(body, secret))
    assert r.status_code == 204
    assert r.get_data() == b""
    services(app).store.coral.set_approved_answer(site.id, ApprovedAnswer.STATUS)
    body = stringify(coral_request(BENIGN + " Again.", action="EDIT"))
    r = send(client, site.id, body, signature(body, secret))
    assert r.status_code == 200
    assert r.get_json() == {"status": "APPROVED"}
    assert [row.status for row in stored(app)] == ["approved", "approved"]


def test_holds_by_other_rules_use_coral_spellings(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    store = services(app).store
    store.policies.change(site.id, actor="test", live=replace(site.policy, max_links=0))
    body = stringify(coral_request("Cheap watches at https://spam.example today"))
    assert send(client, site.id, body, signature(body, secret)).get_json() == {
        "status": "SYSTEM_WITHHELD",
        "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}],
    }
    store.policies.change(site.id, actor="test", live=replace(site.policy, premoderation=True))
    body = stringify(coral_request(BENIGN))
    # Held for premoderation: withheld, but not flagged as toxic, which it is not.
    assert send(client, site.id, body, signature(body, secret)).get_json() == {
        "status": "SYSTEM_WITHHELD"
    }


def test_site_may_be_named_by_id_or_name(client: Any, site: Any, secret: str) -> None:
    body = stringify(coral_request(BENIGN))
    assert send(client, "daily-bugle", body, signature(body, secret)).status_code == 204


def test_non_ascii_bytes_emoji_and_line_separator(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    text = "Ça alors 🎉 quel nitwit\u2028second line 👩🏽‍💻 «fin»"
    body = stringify(coral_request(text))
    assert "\u2028".encode() in body and "🎉".encode() in body  # raw UTF-8, as Node sends it
    r = send(client, site.id, body, signature(body, secret))
    assert r.get_json() == WITHHELD_TOXIC
    assert stored(app)[0].text == text


def test_html_body_is_stored_as_text(app: Any, client: Any, site: Any, secret: str) -> None:
    body = stringify(coral_request("<p>You <b>nitwit</b>.</p><p>Bye &amp; thanks</p>"))
    assert send(client, site.id, body, signature(body, secret)).get_json() == WITHHELD_TOXIC
    assert stored(app)[0].text == "You nitwit.\nBye & thanks"
    plain = "I <3 tide pools & a < b > c, see <https://x.example>"  # plain text stays as sent
    body = stringify(coral_request(plain))
    assert send(client, site.id, body, signature(body, secret)).status_code == 204
    assert stored(app)[1].text == plain


# -- signatures -----------------------------------------------------------------


def test_rotated_pair_is_accepted_with_either_secret(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    store = services(app).store
    newer = new_secret()
    store.coral.set_secret(site.id, newer, previous_valid_for=timedelta(hours=1))
    for keys in ((newer, secret), (secret,), (newer,), (secret, newer)):
        body = stringify(coral_request(f"{BENIGN} {len(keys)} {keys[0][-6:]}"))
        assert send(client, site.id, body, signature(body, *keys)).status_code == 204, keys


def test_expired_secret_is_refused(app: Any, client: Any, site: Any, secret: str) -> None:
    store = services(app).store
    newer = new_secret()
    store.coral.set_secret(site.id, newer, previous_valid_for=timedelta(hours=1))
    with store.db.write() as conn:  # an hour goes by
        conn.execute(
            db.coral_phases.update().values(previous_expires_at=utcnow() - timedelta(seconds=1))
        )
    body = stringify(coral_request(BENIGN))
    assert_error(send(client, site.id, body, signature(body, secret)), 401, "unauthenticated")
    assert send(client, site.id, body, signature(body, secret, newer)).status_code == 204
    # Rotating with no overlap retires the old secret at once.
    newest = new_secret()
    store.coral.set_secret(site.id, newest, previous_valid_for=timedelta(0))
    assert_error(send(client, site.id, body, signature(body, newer)), 401, "unauthenticated")
    assert send(client, site.id, body, signature(body, newest)).status_code == 204


def test_unsigned_missigned_and_tampered_requests_are_401(
    app: Any, client: Any, site: Any, secret: str
) -> None:
    body = stringify(coral_request(TOXIC))
    good = signature(body, secret)
    tampered = body.replace(b"nitwit", b"nitwiT")
    compact = json.dumps(coral_request(TOXIC), separators=(",", ":")).encode()
    cases = [
        (body, None),
        (body, ""),
        (body, "sha256="),
        (body, good.replace("sha256=", "sha1=")),
        (body, "sha256=" + "0" * 64),
        (body, signature(body, new_secret())),
        (body, signature(body, secret[:-1])),
        (body, good[:-2]),
        (tampered, good),
        (compact, good),  # the same object re-serialised: Coral signs the exact bytes
        (body, ",".join(["sha256=" + "f" * 64] * 8 + [good])),  # past the cap on values
        (body, "sha256=ünïcode"),
    ]
    for data, header in cases:
        r = send(client, site.id, data, header)
        error = assert_error(r, 401, "unauthenticated")
        assert "X-Coral-Signature" in error["message"], header
        assert r.headers["WWW-Authenticate"].startswith("X-Coral-Signature")
    assert stored(app) == []
    assert (
        send(client, site.id, body, good.upper().replace("SHA256=", "sha256=")).status_code == 200
    )


def test_unknown_site_and_site_without_secret_are_401(app: Any, client: Any, secret: str) -> None:
    other, _ = services(app).store.sites.create("no-coral")
    body = stringify(coral_request(BENIGN))
    for ref in ("site_nope", other.id, "no-coral"):
        assert_error(send(client, ref, body, signature(body, secret)), 401, "unauthenticated")
    assert stored(app) == []


# -- bodies -----------------------------------------------------------------------


def test_signed_but_invalid_bodies(app: Any, client: Any, site: Any, secret: str) -> None:
    cases: list[tuple[Any, str]] = [
        ({**coral_request(BENIGN), "action": "DELETE"}, "action"),
        ({k: v for k, v in coral_request(BENIGN).items() if k != "comment"}, "comment"),
        (coral_request("   "), "comment"),
        (coral_request("<p> </p>"), "comment"),
        (coral_request("\u200b\u2060<p>\u200d</p>"), "comment"),
        (coral_request("x" * 20_001), "comment"),
        ({**coral_request(BENIGN), "comment": {"parentID": None}}, "comment"),
        ({**coral_request(BENIGN), "comment": "hello"}, "comment"),
        ([coral_request(BENIGN)], "_schema"),
    ]
    for obj, field in cases:
        body = stringify(obj)
        error = assert_error(
            send(client, site.id, body, signature(body, secret)), 422, "validation_error"
        )
        assert field in error["details"], (obj, error)
    body = b'{"action": "NEW", "comment": {"body": "lone \\ud800"}}'
    error = assert_error(
        send(client, site.id, body, signature(body, secret)), 422, "validation_error"
    )
    assert "comment" in error["details"]
    body = b'{"action": "NEW", "comment": '
    assert_error(send(client, site.id, body, signature(body, secret)), 400, "bad_request")
    body = stringify(coral_request(BENIGN))
    r = send(client, site.id, body, signature(body, secret), content_type="text/plain")
    assert_error(r, 415, "unsupported_media_type")
    assert stored(app) == []


def test_fields_coral_may_add_later_are_ignored(client: Any, site: Any, secret: str) -> None:
    obj = coral_request(BENIGN)
    obj["comment"]["media"] = {"type": "giphy"}
    obj["future"] = True
    body = stringify(obj)
    assert send(client, site.id, body, signature(body, secret)).status_code == 204


def test_only_post_and_documented_in_openapi(client: Any, site: Any, secret: str) -> None:
    r = client.get(f"/v1/integrations/coral/{site.id}")
    assert_error(r, 405, "method_not_allowed")
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/v1/integrations/coral/{site}"]["post"]
    assert {"200", "204", "401"} <= set(operation["responses"])
    assert operation["security"] == []


# -- CLI ------------------------------------------------------------------------------


def test_cli_sets_rotates_and_shows_without_printing_secrets(app: Any, site: Any) -> None:
    runner = app.test_cli_runner()
    first, second = new_secret(), new_secret()
    r = runner.invoke(args=["coral", "secret", "daily-bugle", "--secret-stdin"], input=first + "\n")
    assert r.exit_code == 0, r.output
    assert f"/v1/integrations/coral/{site.id}" in r.output
    r = runner.invoke(
        args=["coral", "secret", site.id, "--secret-stdin", "--keep-previous", "1d"],
        input=second + "\n",
    )
    assert r.exit_code == 0, r.output
    assert "previous secret is accepted until" in r.output
    phase = services(app).store.coral.get(site.id)
    assert (phase.secret, phase.previous_secret) == (second, first)
    assert timedelta(hours=23) < phase.previous_expires_at - utcnow() <= timedelta(days=1)
    r = runner.invoke(args=["coral", "approved-answer", "daily-bugle", "APPROVED"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["coral", "show", "daily-bugle"])
    assert "approvals answered with APPROVED" in r.output
    assert "previous secret accepted until" in r.output
    audit = services(app).store.audit.entries(site_id=site.id)
    everything = r.output + json.dumps([a.after for a in audit] + [a.before for a in audit])
    assert first not in everything and second not in everything


def test_cli_refusals(app: Any, site: Any) -> None:
    runner = app.test_cli_runner()
    r = runner.invoke(args=["coral", "approved-answer", "daily-bugle", "204"])
    assert r.exit_code != 0 and "set a Coral secret" in r.output
    r = runner.invoke(
        args=["coral", "secret", "daily-bugle", "--secret-stdin"], input="whsec_abc\n"
    )
    assert r.exit_code != 0 and "not a Coral signing secret" in r.output
    r = runner.invoke(
        args=["coral", "secret", "daily-bugle", "--secret-stdin", "--keep-previous", "soon"],
        input=new_secret() + "\n",
    )
    assert r.exit_code != 0 and "use 0, 90s, 10m, 1h or 1d" in r.output
    r = runner.invoke(args=["coral", "secret", "nowhere", "--secret-stdin"], input=new_secret())
    assert r.exit_code != 0 and "no site" in r.output
    r = runner.invoke(args=["coral", "show", "daily-bugle"])
    assert "no Coral secret set" in r.output
    assert services(app).store.coral.get(site.id) is None
