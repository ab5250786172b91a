"""A site's live and shadow policy: versioned, every change audited with before and after."""

from __future__ import annotations

from typing import Any

from moderation import db
from moderation.audit import AuditAction, AuditEntry
from moderation.errors import Stale
from moderation.policy import Policy
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.repositories.sites import SiteRepository


class StalePolicy(Stale):
    """The live policy changed after the version the caller read."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the policy is at version {current_version}")
        self.current_version = current_version


class PolicyRepository:
    """Changes to sites' policies (reading them is reading the site)."""

    def __init__(self, database: Database, sites: SiteRepository) -> None:
        self.db = database
        self.sites = sites

    def change(
        self,
        site_id: str,
        *,
        actor: str,
        live: Policy | None = None,
        shadow: Policy | None = None,
        clear_shadow: bool = False,
        expected_version: int | None = None,
    ) -> None:
        """Change the live or shadow policy, with an audit entry holding before and after.

        With `expected_version`, raise StalePolicy (changing nothing) unless the live policy
        is still at that version. A live policy equal to the current one is no change: no
        new version, no audit entry.
        """
        s = db.sites.c
        with self.db.write() as conn:
            # FOR UPDATE: two writers on PostgreSQL must not both build on one version.
            row = conn.execute(db.sites.select().where(s.id == site_id).with_for_update()).one()
            if expected_version is not None and expected_version != row.policy_version:
                raise StalePolicy(row.policy_version)
            values: dict[str, Any] = {}
            live_dict = live.as_dict() if live is not None else None
            if live_dict is not None and live_dict != self.sites.from_row(row).policy.as_dict():
                values.update(policy=live_dict, policy_version=row.policy_version + 1)
                AuditLog.append(
                    conn,
                    AuditEntry(
                        AuditAction.POLICY_UPDATE,
                        actor,
                        site_id=site_id,
                        before=row.policy,
                        after=live_dict,
                    ),
                )
            if shadow is not None or clear_shadow:
                shadow_dict = shadow.as_dict() if shadow is not None else None
                values["shadow_policy"] = shadow_dict
                AuditLog.append(
                    conn,
                    AuditEntry(
                        AuditAction.POLICY_SHADOW_CLEAR
                        if clear_shadow
                        else AuditAction.POLICY_SHADOW_SET,
                        actor,
                        site_id=site_id,
                        before=row.shadow_policy,
                        after=shadow_dict,
                    ),
                )
            if values:
                conn.execute(db.sites.update().where(s.id == site_id).values(**values))
