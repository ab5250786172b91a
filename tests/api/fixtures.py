"""Helpers the API tests share: error-shape checks, row counts, held comments, signing in."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from api.services import services

PASSWORDS = {"mod": "moderator-password", "op": "operator-password"}


def count_rows(app: Any, table: sa.Table) -> int:
    with services(app).store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]
    assert set(error) == {"code", "status", "message", "details"}
    return error


def held(client: Any, auth: dict[str, str], text: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/comments", json={"text": text, **extra}, headers=auth)
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "held", body
    return body


def page_token(client: Any, path: str = "/signin") -> str:
    """The CSRF token a page carries in its <meta name="csrf-token">."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in(
    client: Any,
    name: str,
    password: str | None = None,
    environ: dict[str, str] | None = None,
    **extra: str,
) -> Any:
    token = page_token(client)
    return client.post(
        "/signin",
        data={"csrf_token": token, "name": name, "password": password or PASSWORDS[name], **extra},
        environ_overrides=environ or {},
    )
