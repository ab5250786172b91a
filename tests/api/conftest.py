"""Fixtures shared by the API tests."""

from __future__ import annotations

from typing import Any

import pytest

from api.services import services
from moderation.sites import Role


@pytest.fixture
def staff(app: Any, site_key: str) -> dict[str, dict[str, str]]:
    """Tokens for two moderators and an operator of daily-bugle, and a moderator of another site."""
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    other, _ = store.sites.create("other-paper")
    out = {}
    for name, role, site in [
        ("mod", Role.MODERATOR, bugle.id),
        ("mod2", Role.MODERATOR, bugle.id),
        ("op", Role.OPERATOR, bugle.id),
        ("stranger", Role.MODERATOR, other.id),
    ]:
        _, token = store.users.create(name, role, [site])
        out[name] = {"Authorization": f"Bearer {token}"}
    return out
