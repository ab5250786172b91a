"""Who may do what: every role against every /v1 endpoint, on its own site and another site.

The endpoint list comes from the app's URL map, so an endpoint added later is
walked too (and fails here until its access rule is written down below).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.services import services
from moderation.sites import Role

# Which credentials may use each endpoint, by blueprint.
SITE_KEY = {"own_key"}
MODERATORS = {"own_moderator", "own_operator", "admin"}
OPERATORS = {"own_operator", "admin"}
ALLOWED = {
    "comments": SITE_KEY,
    "queue": MODERATORS,
    "sites": OPERATORS,
    "authors": OPERATORS,
    "site_models": OPERATORS,
}
# Where one endpoint's methods differ from its blueprint's rule: moderators read an
# author's record and act on it; only operators export or erase the author's data.
ALLOWED_METHOD = {("authors.Author", "GET"): MODERATORS, ("authors.Author", "PUT"): MODERATORS}
# Posting creates a comment on the caller's own site: any valid site key may.
ANY_SITE_KEY = {"comments.Comments", "comments.CommentBatch"}
# Endpoints that only ever touch the caller's own sites or claims.
SCOPED_TO_CALLER = {
    "queue.Queue",
    "queue.Claim",
    "queue.RenewClaim",
    "queue.ReleaseClaim",
    "queue.BulkDecisions",
}
# Tested with their own protocols' credentials in test_perspective.py and test_coral.py.
OTHER_PROTOCOLS = {"coral"}

BODIES: dict[str, Any] = {
    "comments.Comments": {"text": "A calm remark about the weather."},
    "comments.CommentBatch": {"comments": [{"text": "Another calm remark."}]},
    "queue.Claim": {"n": 1},
    "queue.RenewClaim": {"ids": ["{comment_id}"]},
    "queue.ReleaseClaim": {"ids": ["{comment_id}"]},
    "queue.BulkDecisions": {
        "decisions": [{"id": "{comment_id}", "action": "approve", "version": 1}]
    },
    "queue.Decision": {"action": "approve", "version": 1},
    "sites.SitePolicy": {"thresholds": {"threat": 0.5}},
    "sites.Simulate": {"policy": {"thresholds": {"threat": 0.5}}},
    "sites.Shadow": {"premoderation": True},
    "sites.Webhook": {"url": None},
    "sites.SiteRetention": {"webhook_days": 30},
    "comments.CommentReports": {"reporter_id": "reader-2", "reason": "spam"},
    "comments.CommentById": {"text": "A calmer remark, edited.", "version": 1},
    "authors.Author": {"action": "trust", "note": "a regular"},
    "site_models.Models": {"auto_promote": False},
    "site_models.Promote": {"recalibrate": False},
    "site_models.ModelSettings": {"retrain_after_labels": None},
}
# Bodies sent as CSV rather than JSON.
CSV_BODIES = {"site_models.Labels": "text,label\nA calm remark.,0\n"}

CREDENTIALS = [
    "none",
    "revoked_key",
    "own_key",
    "other_key",
    "own_moderator",
    "other_moderator",
    "own_operator",
    "other_operator",
    "admin",
]


@pytest.fixture
def world(app: Any) -> dict[str, Any]:
    """Two sites, a held comment on the first, and a credential of every kind."""
    store = services(app).store
    own, own_key = store.sites.create("own-site")
    other, other_key = store.sites.create("other-site")
    revoked_id, revoked = store.sites.create_key(own.id)
    store.sites.revoke_key(revoked_id)
    tokens = {}
    for name, role, site in [
        ("own_moderator", Role.MODERATOR, own.id),
        ("other_moderator", Role.MODERATOR, other.id),
        ("own_operator", Role.OPERATOR, own.id),
        ("other_operator", Role.OPERATOR, other.id),
        ("admin", Role.ADMIN, None),
    ]:
        _, tokens[name] = store.users.create(name, role, [site] if site else [])
    client = app.test_client()
    # A version of the site's model to read and (refused: it is still queued) promote.
    store.site_models.create(own.id, requested_by="test", labels=0, auto_promote=False)
    comment = client.post(
        "/v1/comments", json={"text": "You nitwit."}, headers={"Authorization": f"Bearer {own_key}"}
    ).get_json()
    assert comment["status"] == "held"
    headers = {
        "none": {},
        "revoked_key": revoked,
        "own_key": own_key,
        "other_key": other_key,
        **tokens,
    }
    return {
        "site": own.name,
        "comment": comment["id"],
        "headers": {
            k: ({"Authorization": f"Bearer {v}"} if isinstance(v, str) else v)
            for k, v in headers.items()
        },
    }


def _operations(app: Any) -> list[tuple[str, str, str]]:
    ops = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            ops.append((rule.endpoint, method, rule.rule))
    return sorted(ops)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def test_every_role_against_every_endpoint(app: Any, world: dict[str, Any]) -> None:
    client = app.test_client()
    ids = {
        "comment_id": world["comment"],
        "site": world["site"],
        "author_id": "r-1",
        "version": "v1",
    }
    operations = _operations(app)
    assert len(operations) >= 20
    # A site's stored model settings: read and changed by operators only.
    assert {(e, m) for e, m, _ in operations if e == "site_models.ModelSettings"} == {
        ("site_models.ModelSettings", m) for m in ("GET", "PUT")
    }
    # A version of the site's model in shadow: start, stop, report (operators only).
    assert {(e, m) for e, m, _ in operations if e == "site_models.ModelShadow"} == {
        ("site_models.ModelShadow", m) for m in ("DELETE", "GET", "POST")
    }
    unauthorised, denied_owner, checked = [], [], 0
    for endpoint, method, rule in operations:
        blueprint = endpoint.split(".")[0]
        if blueprint in OTHER_PROTOCOLS:
            continue
        assert blueprint in ALLOWED, f"no access rule written down for {endpoint}"
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids[m.group(1)], rule)
        body = _fill(BODIES.get(endpoint), ids)
        for who in CREDENTIALS:
            if endpoint in CSV_BODIES and method == "POST":
                r = client.open(
                    path,
                    method=method,
                    data=CSV_BODIES[endpoint],
                    content_type="text/csv",
                    headers=world["headers"][who],
                )
            else:
                r = client.open(path, method=method, json=body, headers=world["headers"][who])
            checked += 1
            rule_for = ALLOWED_METHOD.get((endpoint, method), ALLOWED[blueprint])
            allowed = who in rule_for or (endpoint in ANY_SITE_KEY and who == "other_key")
            if not allowed and who.startswith("other_") and r.status_code < 300:
                # Endpoints that act on the caller's own things answer success with nothing
                # of ours in it: their own (empty) queue, no lease renewed, each decision 404.
                data = r.get_json(silent=True) or {}
                leaked = (
                    any(i["id"] == world["comment"] for i in data.get("items", []))
                    or data.get("ids")
                    or any(x["status"] != 404 for x in data.get("results", []))
                )
                if endpoint in SCOPED_TO_CALLER and not leaked:
                    continue
            if not allowed and r.status_code < 400:
                unauthorised.append((method, path, who, r.status_code))
            if (
                not allowed
                and who.startswith("other_")
                and blueprint != "comments"
                and r.status_code not in (403, 404)
            ):
                unauthorised.append((method, path, who, f"expected 403/404, got {r.status_code}"))
            if not allowed and who == "none" and r.status_code != 401:
                unauthorised.append((method, path, who, f"expected 401, got {r.status_code}"))
            if allowed and r.status_code in (401, 403, 404):
                denied_owner.append((method, path, who, r.status_code))
    assert checked >= 150
    assert unauthorised == [], "\n".join(map(str, unauthorised))
    # The rightful owners are not locked out (a 404 here would mean the walk tests nothing).
    allowed_404 = {("POST", f"/v1/comments/{world['comment']}/undo")}  # nothing to undo
    assert [d for d in denied_owner if (d[0], d[1]) not in allowed_404] == []


def test_other_sites_comment_ids_are_404_for_site_keys(app: Any, world: dict[str, Any]) -> None:
    client = app.test_client()
    r = client.get(f"/v1/comments/{world['comment']}", headers=world["headers"]["other_key"])
    assert r.status_code == 404
