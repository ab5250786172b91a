"""Web sign-in, sessions and CSRF, and the server-rendered pages (test client, fake model)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.services import services
from api.web import present
from moderation.comments import Reason, Span
from moderation.security import WeakPassword
from moderation.sites import Role
from tests.api.fixtures import PASSWORDS, page_token, sign_in


@pytest.fixture
def people(app: Any, site_key: str) -> dict[str, Any]:
    """A moderator and an operator of daily-bugle, with passwords set."""
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    out = {}
    for name, role in [("mod", Role.MODERATOR), ("op", Role.OPERATOR)]:
        user, _ = store.users.create(name, role, [bugle.id])
        store.users.set_password(name, PASSWORDS[name])
        out[name] = user
    return out


def held(client: Any, auth: dict[str, str], text: str) -> dict[str, Any]:
    r = client.post("/v1/comments", json={"text": text, "author": {"id": "r-1"}}, headers=auth)
    assert r.status_code == 201 and r.get_json()["status"] == "held", r.get_json()
    return r.get_json()


def test_set_password_cli(app: Any, people: dict[str, Any]) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(
        args=["users", "set-password", "mod", "--password-stdin"], input="a brand new secret\n"
    )
    assert ok.exit_code == 0, ok.output
    assert "password set for mod" in ok.output
    store = services(app).store
    assert store.users.check_password("mod", "a brand new secret") is not None
    assert store.users.check_password("mod", PASSWORDS["mod"]) is None
    with pytest.raises(WeakPassword):
        store.users.set_password("mod", "too short")
    prompted = runner.invoke(
        args=["users", "set-password", "op"], input="prompted secret\nprompted secret\n"
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(
        args=["users", "set-password", "mod", "--password-stdin"], input="eleven char\n"
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    store_before = services(app).store.users.check_password("mod", "a brand new secret")
    assert store_before is not None  # a refused password changes nothing
    store = services(app).store
    with store.db.write() as conn:
        conn.exec_driver_sql("UPDATE users SET name = 'moderator-one' WHERE name = 'mod'")
    same = runner.invoke(
        args=["users", "set-password", "moderator-one", "--password-stdin"],
        input="Moderator-One\n",
    )
    assert same.exit_code != 0 and "cannot be the user name" in same.output
    with store.db.write() as conn:
        conn.exec_driver_sql("UPDATE users SET name = 'mod' WHERE name = 'moderator-one'")
    nobody = runner.invoke(
        args=["users", "set-password", "ghost", "--password-stdin"], input="long enough secret\n"
    )
    assert nobody.exit_code != 0 and "no user named 'ghost'" in nobody.output
    # only a hash is stored
    with store.db.read() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users WHERE name = 'mod'").scalar()
    assert stored.startswith("scrypt$") and "a brand new secret" not in stored


def test_sign_in_and_out(client: Any, people: dict[str, Any]) -> None:
    wrong = sign_in(client, "mod", "not the password")
    assert wrong.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True)
    assert sign_in(client, "ghost", "whatever it is").status_code == 401
    assert client.get("/queue").status_code == 302  # still signed out
    r = sign_in(client, "mod")
    assert r.status_code == 302 and r.location.endswith("/queue")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/queue").status_code == 200
    token = page_token(client, "/queue")
    out = client.post("/signout", data={"csrf_token": token})
    assert out.status_code == 302
    assert client.get("/queue").status_code == 302
    assert client.get("/v1/queue").status_code == 401


def test_operators_land_on_settings_and_next_stays_local(
    client: Any, people: dict[str, Any]
) -> None:
    r = sign_in(client, "op")
    assert r.location.endswith("/sites")
    assert client.get("/sites").location.endswith("/sites/daily-bugle")
    client.post("/signout", data={"csrf_token": page_token(client, "/queue")})
    assert sign_in(client, "mod", next="//evil.example/x").location.endswith("/queue")
    client.post("/signout", data={"csrf_token": page_token(client, "/queue")})
    assert sign_in(client, "mod", next="/comments/abc").location.endswith("/comments/abc")


def test_forms_need_the_csrf_token(client: Any, people: dict[str, Any]) -> None:
    page_token(client)
    r = client.post("/signin", data={"name": "mod", "password": PASSWORDS["mod"]})
    assert r.status_code == 400 and "form expired" in r.get_data(as_text=True)
    r = client.post(
        "/signin", data={"csrf_token": "forged", "name": "mod", "password": PASSWORDS["mod"]}
    )
    assert r.status_code == 400
    assert client.get("/queue").status_code == 302


def test_a_session_calls_the_api_with_the_csrf_header(
    client: Any, auth: dict[str, str], people: dict[str, Any]
) -> None:
    comment = held(client, auth, "Only a nitwit says that.")
    sign_in(client, "mod")
    assert client.get("/v1/queue").status_code == 200
    body = {"action": "approve", "version": comment["version"]}
    url = f"/v1/comments/{comment['id']}/decision"
    no_header = client.post(url, json=body)
    assert no_header.status_code == 403
    assert no_header.get_json()["error"]["code"] == "forbidden"
    assert client.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    token = page_token(client, "/queue")
    ok = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.get_json()["status"] == "approved"
    # the session carries the moderator's role: operator endpoints stay closed
    assert client.get("/v1/sites/daily-bugle/policy").status_code == 403


def test_bearer_tokens_work_as_before(app: Any, client: Any, people: dict[str, Any]) -> None:
    store = services(app).store
    _, token = store.users.create("api-mod", Role.MODERATOR, sorted(people["mod"].site_ids))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/queue", headers=headers).status_code == 200
    # no CSRF header needed without a session
    assert client.post("/v1/queue/claim", json={"n": 1}, headers=headers).status_code == 200
    assert client.get("/v1/queue").status_code == 401


def test_a_new_password_ends_open_sessions(app: Any, client: Any, people: dict[str, Any]) -> None:
    sign_in(client, "mod")
    assert client.get("/queue").status_code == 200
    services(app).store.users.set_password("mod", "another long password")
    assert client.get("/queue").status_code == 302
    assert client.get("/v1/queue").status_code == 401


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Any) -> FakeClock:
    """The sign-in throttle's clock, moved by hand (tests never sleep)."""
    fake = FakeClock()
    services(app).signin_throttle.clock = fake
    return fake


def test_failed_sign_ins_are_slowed_then_locked_out(
    app: Any, client: Any, people: dict[str, Any], clock: FakeClock
) -> None:
    assert sign_in(client, "mod", "wrong password 1").status_code == 401
    assert sign_in(client, "mod", "wrong password 2").status_code == 401
    # Too soon after the second failure: refused without looking at the password.
    early = sign_in(client, "mod")
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins. Try again in 1 second." in early.get_data(as_text=True)
    assert client.get("/queue").status_code == 302
    for wait in (1, 2, 4):
        clock.now += wait
        assert sign_in(client, "mod", "still wrong").status_code == 401
    # Five failures: the account is locked for 15 minutes, from every address.
    clock.now += 8
    for address in ("127.0.0.1", "198.51.100.20"):
        locked = sign_in(client, "mod", environ={"REMOTE_ADDR": address})
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) == 15 * 60 - 8
        assert "Try again in 15 minutes" in locked.get_data(as_text=True)
    assert client.get("/queue").status_code == 302
    # Other people are not locked out (from another address: this one has failed too).
    other = app.test_client()
    r = sign_in(other, "op", environ={"REMOTE_ADDR": "198.51.100.20"})
    assert r.status_code == 302
    clock.now += 15 * 60
    assert sign_in(client, "mod").status_code == 302
    assert client.get("/queue").status_code == 200


def test_unknown_names_are_counted_and_answered_alike(
    client: Any, people: dict[str, Any], clock: FakeClock
) -> None:
    for name in ("mod", "ghost"):
        answers = []
        for _ in range(6):
            clock.now += 60
            answers.append(sign_in(client, name, "wrong password").status_code)
        assert answers == [401, 401, 401, 401, 401, 429], name
        clock.now += 15 * 60


def test_an_address_guessing_many_names_is_locked_out(
    app: Any, client: Any, people: dict[str, Any], clock: FakeClock
) -> None:
    for i in range(20):
        clock.now += 60
        assert sign_in(client, f"user{i}", "guess").status_code == 401
    clock.now += 60
    assert sign_in(client, "mod").status_code == 429
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "mod", environ={"REMOTE_ADDR": "203.0.113.77"}).status_code == 302


def test_sign_in_rotates_the_session(app: Any, client: Any, people: dict[str, Any]) -> None:
    """A session planted before the sign-in (fixation) is worth nothing after it."""
    planted_token = page_token(client)
    with client.session_transaction() as before:
        planted = dict(before)
    attacker = app.test_client()
    with attacker.session_transaction() as sess:
        sess.update(planted)
    # The victim signs in carrying the planted session.
    assert sign_in(client, "mod").status_code == 302
    with client.session_transaction() as after:
        assert after["sid"] and after.get("sid") != planted.get("sid")
        assert after["csrf"] != planted["csrf"]
        assert after["user_id"] == people["mod"].id
    # The attacker's copy stays signed out, and its CSRF token opens nothing.
    assert attacker.get("/queue").status_code == 302
    assert attacker.get("/v1/queue").status_code == 401
    assert client.post("/signout", data={"csrf_token": planted_token}).status_code == 400
    # Signing in again gives yet another session id.
    with client.session_transaction() as first:
        first_sid = first["sid"]
    client.post("/signout", data={"csrf_token": page_token(client, "/queue")})
    sign_in(client, "mod")
    with client.session_transaction() as second:
        assert second["sid"] != first_sid


def test_pages_send_security_headers(client: Any) -> None:
    r = client.get("/signin")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"
    css = client.get("/static/web/app.css")
    assert css.status_code == 200 and css.headers["X-Content-Type-Options"] == "nosniff"
    for script in ("web.js", "queue.js", "settings.js"):
        assert client.get(f"/static/web/{script}").status_code == 200
    html = r.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "http://" not in html


def test_role_checks_on_pages(client: Any, people: dict[str, Any]) -> None:
    assert client.get("/sites/daily-bugle").status_code == 302
    sign_in(client, "mod")
    r = client.get("/sites/daily-bugle")
    assert r.status_code == 403 and "for operators" in r.get_data(as_text=True)
    assert client.get("/comments/cmt_nope").status_code == 404


def test_highlight_marks_trigger_sentences_and_listed_words() -> None:
    text = "Nice photos. You are a nitwit and a cheat."
    spans = [
        Span(0, 12, {"insult": 0.05}),
        Span(13, len(text), {"insult": 0.93}),
    ]
    reasons = [
        Reason(code="category", category="insult", score=0.93, threshold=0.8),
        Reason(code="suspect_word", word="cheat", begin=text.index("cheat"), end=len(text) - 1),
    ]
    segments = present.highlight(text, spans, reasons)
    assert "".join(p.text for s in segments for p in s.pieces) == text
    triggers = [s for s in segments if s.trigger]
    assert len(triggers) == 1
    assert "".join(p.text for p in triggers[0].pieces) == "You are a nitwit and a cheat."
    assert triggers[0].note == "Insult 0.93"
    assert [p.text for p in triggers[0].pieces if p.word == "suspect"] == ["cheat"]
    # no sentence crosses the threshold alone: the highest-scoring one is marked
    quiet = [Span(0, 12, {"insult": 0.5}), Span(13, len(text), {"insult": 0.7})]
    marked = [s for s in present.highlight(text, quiet, reasons[:1]) if s.trigger]
    assert "".join(p.text for p in marked[0].pieces).startswith("You are")
    assert present.safe_url("javascript:alert(1)") is None
    assert present.safe_url("https://news.example/a") == "https://news.example/a"


def test_queue_page_claims_a_batch_and_highlights(
    app: Any, client: Any, auth: dict[str, str], people: dict[str, Any]
) -> None:
    comment = held(client, auth, "Thanks for the report. Only a nitwit parks there.")
    sign_in(client, "mod")
    html = client.get("/queue").get_data(as_text=True)
    assert '<mark class="trigger"' in html
    assert re.search(r'<mark class="trigger"[^>]*>Only a nitwit parks there\.</mark>', html)
    assert "Insult 0.97 ≥ " in html and "by you" in html
    stored = services(app).store.comments.get(comment["id"])
    assert stored.claimed_by == people["mod"].id
    page = client.get(f"/comments/{comment['id']}").get_data(as_text=True)
    assert "Decided automatically" in page and "Only a nitwit parks there." in page
    bad = client.get("/queue?category=nonsense")
    assert bad.status_code == 400


def test_only_a_moderators_view_of_the_queue_claims(
    app: Any, client: Any, auth: dict[str, str], people: dict[str, Any]
) -> None:
    store = services(app).store
    comments = [held(client, auth, f"Only a nitwit parks there, number {i}.") for i in range(3)]
    for viewer in ("op", "admin"):
        if viewer == "admin":
            store.users.create("root", Role.ADMIN, [])
            store.users.set_password("root", "admin-password")
            sign_in(client, "root", "admin-password")
        else:
            sign_in(client, viewer)
        page = client.get("/queue").get_data(as_text=True)
        assert "3 held" in page and "without claiming" in page and "by you" not in page
        assert all(store.comments.get(c["id"]).claimed_by is None for c in comments), viewer
        client.post("/signout", data={"csrf_token": page_token(client, "/queue")})
    sign_in(client, "mod")
    page = client.get("/queue").get_data(as_text=True)
    assert "3 claimed by you" in page and "without claiming" not in page
    assert {store.comments.get(c["id"]).claimed_by for c in comments} == {people["mod"].id}


def test_decide_and_undo_with_forms(
    app: Any, client: Any, auth: dict[str, str], people: dict[str, Any]
) -> None:
    comment = held(client, auth, "What a dunderhead.")
    sign_in(client, "mod")
    token = page_token(client, "/queue")
    url = f"/comments/{comment['id']}/decide"
    r = client.post(url, data={"csrf_token": token, "action": "reject", "version": "1"})
    assert r.status_code == 302  # no reason: not decided
    store = services(app).store
    assert store.comments.get(comment["id"]).status.value == "held"
    client.post(
        url, data={"csrf_token": token, "action": "reject", "version": "1", "reason": "abusive"}
    )
    assert store.comments.get(comment["id"]).status.value == "rejected"
    page = client.get("/queue").get_data(as_text=True)
    assert "Rejected the comment." in page and f"/comments/{comment['id']}/undo" in page
    client.post(f"/comments/{comment['id']}/undo", data={"csrf_token": token})
    assert store.comments.get(comment["id"]).status.value == "held"


def test_operator_saves_a_policy_and_sees_the_audit(
    app: Any, client: Any, auth: dict[str, str], people: dict[str, Any]
) -> None:
    held(client, auth, "Only a nitwit parks there.")
    sign_in(client, "op")
    page = client.get("/sites/daily-bugle").get_data(as_text=True)
    assert 'id="threshold-insult"' in page and '<svg id="chart"' in page
    token = page_token(client, "/sites/daily-bugle")
    form = {f"threshold-{c}": "0.8" for c in present.CATEGORY_LABELS}
    form.update(
        {
            "csrf_token": token,
            "threshold-insult": "0.65",
            "blocked_words": "grr\nbah, grr",
            "max_links": "2",
            "premoderation": "on",
            "other_languages": "hold",
            "target": "live",
        }
    )
    r = client.post("/sites/daily-bugle/policy", data=form)
    assert r.status_code == 302
    site = services(app).store.sites.get("daily-bugle")
    assert site.policy.thresholds["insult"] == 0.65
    assert site.policy.blocked_words == ("grr", "bah") and site.policy.max_links == 2
    assert site.policy.premoderation is True
    page = client.get("/sites/daily-bugle").get_data(as_text=True)
    assert "Policy saved" in page and "Insult threshold 0.80 → 0.65" in page
    assert "Pre-moderation on" in page
    r = client.post("/sites/daily-bugle/policy", data={**form, "target": "shadow"})
    assert services(app).store.sites.get("daily-bugle").shadow_policy is not None
    bad = client.post("/sites/daily-bugle/policy", data={**form, "threshold-insult": "7"})
    assert bad.status_code == 422 and "not saved" in bad.get_data(as_text=True)


def test_a_settings_page_opened_before_another_save_does_not_overwrite_it(
    app: Any, client: Any, people: dict[str, Any]
) -> None:
    sign_in(client, "op")
    page = client.get("/sites/daily-bugle").get_data(as_text=True)
    opened = re.search(r'name="policy_version" value="(\d+)"', page).group(1)
    token = page_token(client, "/sites/daily-bugle")
    form = {f"threshold-{c}": "0.8" for c in present.CATEGORY_LABELS}
    form.update({"csrf_token": token, "policy_version": opened, "target": "live"})
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.policies.change(site.id, actor="someone", live=replace(site.policy, max_links=1))
    stale = client.post("/sites/daily-bugle/policy", data={**form, "threshold-insult": "0.5"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "not saved" in html and "someone saved version" in html
    assert store.sites.get("daily-bugle").policy.thresholds["insult"] == 0.8
    fresh = {**form, "threshold-insult": "0.5", "policy_version": str(int(opened) + 1)}
    assert client.post("/sites/daily-bugle/policy", data=fresh).status_code == 302
    assert store.sites.get("daily-bugle").policy.thresholds["insult"] == 0.5


def test_operator_creates_and_revokes_keys(app: Any, client: Any, people: dict[str, Any]) -> None:
    sign_in(client, "op")
    token = page_token(client, "/sites/daily-bugle")
    r = client.post("/sites/daily-bugle/keys", data={"csrf_token": token})
    key = re.search(r'id="new-key">(msk_[^<]+)<', r.get_data(as_text=True)).group(1)
    store = services(app).store
    assert store.sites.for_key(key).name == "daily-bugle"
    assert key not in client.get("/sites/daily-bugle").get_data(as_text=True)  # shown once
    key_id = next(
        k.id
        for k in store.sites.keys(store.sites.get("daily-bugle").id)
        if key.startswith(k.prefix) and not k.revoked_at
    )
    client.post(f"/sites/daily-bugle/keys/{key_id}/revoke", data={"csrf_token": token})
    assert store.sites.for_key(key) is None
    other, _ = store.sites.create("other-paper")
    other_key = store.sites.keys(other.id)[0].id
    r = client.post(f"/sites/daily-bugle/keys/{other_key}/revoke", data={"csrf_token": token})
    assert r.status_code == 404


def test_demo_posts_through_a_demo_site(app: Any, client: Any, tmp_path: Path) -> None:
    page = client.get("/demo")
    assert page.status_code == 200 and "Leave a comment" in page.get_data(as_text=True)
    store = services(app).store
    demo = store.sites.get("demo")
    assert demo is not None and len(store.sites.keys(demo.id)) == 1
    # No key is kept in plain text for the demo's backend, in the instance folder or anywhere.
    assert not (Path(app.instance_path) / "demo_site_key").exists()
    token = page_token(client, "/demo")
    client.post(
        "/demo/comments",
        data={"csrf_token": token, "name": "Ann", "text": "Lovely to see the volunteers."},
    )
    client.post(
        "/demo/comments", data={"csrf_token": token, "text": "You nitwit, the market was fine."}
    )
    html = client.get("/demo").get_data(as_text=True)
    assert "Lovely to see the volunteers." in html
    assert "Your comment is awaiting review." in html
    assert "The service held your comment" in html
    empty = client.post("/demo/comments", data={"csrf_token": token, "text": "   "})
    assert empty.status_code == 422 and "Write something first." in empty.get_data(as_text=True)
    assert len(store.sites.keys(demo.id)) == 1  # no key was made per request either


def test_a_plain_demo_key_left_by_an_earlier_version_is_revoked_and_deleted(
    database_url: str, scorer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import create_app

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SCORER": scorer,
        "MODEL": str(tmp_path / "no-checkpoint"),
        "SECRET_KEY": "test-secret",
        "LOG_REQUESTS": False,
    }
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(tmp_path / "instance"))
    first = create_app(config)
    store = services(first).store
    _, key = store.sites.create("demo")
    key_file = tmp_path / "instance" / "demo_site_key"
    key_file.write_text(key)  # what the previous version left behind
    assert store.sites.for_key(key) is not None
    second = create_app(config)  # the next start (or any worker's)
    assert not key_file.exists()
    assert store.sites.for_key(key) is None
    assert second.test_client().get("/demo").status_code == 200  # the demo still works
    for app in (first, second):
        services(app).store.engine.dispose()


def test_demo_authors_are_the_names_they_type(app: Any, tmp_path: Path) -> None:
    first, second = app.test_client(), app.test_client()  # two browsers

    def post(browser: Any, name: str, text: str) -> None:
        token = page_token(browser, "/demo")
        r = browser.post("/demo/comments", data={"csrf_token": token, "name": name, "text": text})
        assert r.status_code == 302

    post(first, "Ann", "You nitwit, the market was fine.")
    post(first, "Bob", "What a dunderhead of a council.")  # same browser, another author
    post(second, "  ANN ", "Nitwit, again.")  # another browser, the same author
    post(second, "", "Blasted rain.")
    store = services(app).store
    site = store.sites.get("demo")
    authors = {c.text: c.author for c in store.comments.scored_between(site.id, None, None)}
    ann = authors["You nitwit, the market was fine."].id
    assert ann is not None and authors["Nitwit, again."].id == ann
    assert authors["Nitwit, again."].name == "ANN"
    assert authors["What a dunderhead of a council."].id not in (None, ann)
    assert authors["Blasted rain."].id is None  # no name: no identity, no shared record
    assert authors["Blasted rain."].name == "Anonymous reader"
    assert store.comments.author_history(site.id, [ann])[ann]["held"] == 2
