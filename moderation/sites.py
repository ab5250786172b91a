"""Sites, their API keys, and the people who moderate them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moderation.policy import Policy


class Role(enum.StrEnum):
    MODERATOR = "moderator"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    policy: Policy
    shadow_policy: Policy | None
    webhook_url: str | None
    webhook_secret: str
    policy_version: int
    created_at: datetime
    # The site's own retention settings (moderation.retention); None: the defaults.
    retention: Mapping[str, Any] | None = None
    # The version of its adapted model that scores the site's comments; None: the base model.
    model_version: int | None = None
    # A version of its adapted model that also scores its comments, never acted on; None: none.
    shadow_model_version: int | None = None


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role
    site_ids: frozenset[str]

    def can_access(self, site_id: str) -> bool:
        """Admins see every site; moderators and operators only their own."""
        return self.role is Role.ADMIN or site_id in self.site_ids


@dataclass(frozen=True)
class ApiKey:
    id: str
    site_id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
