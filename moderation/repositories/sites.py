"""Sites and their API keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import Actor, AuditAction, AuditEntry
from moderation.clock import aware, utcnow
from moderation.errors import Conflict
from moderation.policy import Policy
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.security import hash_secret, new_id, new_secret, same_hash
from moderation.sites import ApiKey, Site

_SITE_FOR_KEY = (
    sa.select(db.api_keys.c.key_hash, db.sites)
    .join(db.sites, db.sites.c.id == db.api_keys.c.site_id)
    .where(db.api_keys.c.key_hash == sa.bindparam("digest"), db.api_keys.c.revoked_at.is_(None))
)


def _key(row: Any, revoked_at: Any = None) -> ApiKey:
    return ApiKey(
        row.id,
        row.site_id,
        row.prefix,
        aware(row.created_at) or utcnow(),
        aware(row.revoked_at) or revoked_at,
    )


class SiteRepository:
    """Sites (their policy, webhook and retention settings) and their API keys."""

    def __init__(self, database: Database, default_policy: Policy) -> None:
        self.db = database
        self.default_policy = default_policy

    def from_row(self, row: Any) -> Site:
        """A sites row as the domain's site; policies fill in what they leave out from the default."""
        policy = Policy.from_dict(row.policy, self.default_policy)
        shadow = Policy.from_dict(row.shadow_policy, policy) if row.shadow_policy else None
        return Site(
            row.id,
            row.name,
            policy,
            shadow,
            row.webhook_url,
            row.webhook_secret,
            row.policy_version,
            aware(row.created_at) or utcnow(),
            row.retention,
            row.model_version,
            row.shadow_model_version,
        )

    # -- sites -----------------------------------------------------------------

    def create(self, name: str, webhook_url: str | None = None) -> tuple[Site, str]:
        """Create a site with the default policy and its first API key; return the key once.

        Raises Conflict when the name is taken.
        """
        site_id = new_id("site")
        try:
            with self.db.write() as conn:
                conn.execute(
                    db.sites.insert().values(
                        id=site_id,
                        name=name,
                        policy=self.default_policy.as_dict(),
                        shadow_policy=None,
                        webhook_url=webhook_url,
                        webhook_secret=new_secret("whsec_"),
                        policy_version=1,
                        created_at=utcnow(),
                        retention=None,
                    )
                )
                _, key = self._insert_key(conn, site_id)
                AuditLog.append(
                    conn,
                    AuditEntry(
                        AuditAction.SITE_CREATE,
                        Actor.CLI,
                        site_id=site_id,
                        after={"name": name, "policy": self.default_policy.as_dict()},
                    ),
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"a site named {name!r} already exists") from exc
        site = self.get(site_id)
        assert site is not None
        return site, key

    def get(self, id_or_name: str) -> Site | None:
        """A site by id or by name."""
        s = db.sites.c
        with self.db.read() as conn:
            row = conn.execute(
                db.sites.select().where(sa.or_(s.id == id_or_name, s.name == id_or_name))
            ).first()
        return self.from_row(row) if row else None

    def all(self) -> list[Site]:
        """Every site, by name."""
        with self.db.read() as conn:
            rows = conn.execute(db.sites.select().order_by(db.sites.c.name)).all()
        return [self.from_row(r) for r in rows]

    def for_key(self, key: str) -> Site | None:
        """The site an unrevoked API key belongs to, or None (one query: it runs per request)."""
        digest = hash_secret(key)
        with self.db.read() as conn:
            row = conn.execute(_SITE_FOR_KEY, {"digest": digest}).first()
        if row is None or not same_hash(row.key_hash, digest):
            return None
        return self.from_row(row)

    def set_webhook(
        self, site_id: str, url: str | None, *, actor: str, rotate_secret: bool = False
    ) -> None:
        """Set (or clear) the webhook URL, optionally with a new signing secret; audited."""
        s = db.sites.c
        with self.db.write() as conn:
            row = conn.execute(db.sites.select().where(s.id == site_id)).one()
            values: dict[str, Any] = {"webhook_url": url}
            if rotate_secret:
                values["webhook_secret"] = new_secret("whsec_")
            conn.execute(db.sites.update().where(s.id == site_id).values(**values))
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.WEBHOOK_UPDATE,
                    actor,
                    site_id=site_id,
                    before={"url": row.webhook_url},
                    after={"url": url, "secret_rotated": rotate_secret},
                ),
            )

    def set_retention(self, site_id: str, settings: Mapping[str, Any], *, actor: str) -> None:
        """Change a site's own retention settings (merged into what it had); audited."""
        s = db.sites.c
        with self.db.write() as conn:
            row = conn.execute(sa.select(s.retention).where(s.id == site_id)).one()
            after = {**(row.retention or {}), **settings}
            conn.execute(db.sites.update().where(s.id == site_id).values(retention=after))
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.RETENTION_UPDATE,
                    actor,
                    site_id=site_id,
                    before=row.retention,
                    after=after,
                ),
            )

    # -- API keys --------------------------------------------------------------

    def _insert_key(self, conn: sa.Connection, site_id: str) -> tuple[str, str]:
        key = new_secret("msk_")
        key_id = new_id("key")
        conn.execute(
            db.api_keys.insert().values(
                id=key_id,
                site_id=site_id,
                key_hash=hash_secret(key),
                prefix=key[:8],
                created_at=utcnow(),
                revoked_at=None,
            )
        )
        return key_id, key

    def create_key(self, site_id: str, actor: str = Actor.CLI) -> tuple[str, str]:
        """A new API key for a site: (key id, the key itself, shown once)."""
        with self.db.write() as conn:
            key_id, key = self._insert_key(conn, site_id)
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.KEY_CREATE, actor, site_id=site_id, after={"key_id": key_id}
                ),
            )
        return key_id, key

    def revoke_key(self, key_id: str, actor: str = Actor.CLI) -> ApiKey | None:
        """Revoke a key by id; the key stops working at once."""
        now = utcnow()
        k = db.api_keys.c
        with self.db.write() as conn:
            row = conn.execute(db.api_keys.select().where(k.id == key_id)).first()
            if row is None:
                return None
            if row.revoked_at is None:
                conn.execute(db.api_keys.update().where(k.id == key_id).values(revoked_at=now))
                AuditLog.append(
                    conn,
                    AuditEntry(
                        AuditAction.KEY_REVOKE, actor, site_id=row.site_id, after={"key_id": key_id}
                    ),
                )
        return _key(row, revoked_at=now)

    def keys(self, site_id: str) -> list[ApiKey]:
        """A site's keys, revoked ones included, oldest first."""
        k = db.api_keys.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.api_keys.select().where(k.site_id == site_id).order_by(k.created_at)
            ).all()
        return [_key(r) for r in rows]

    def key_id(self, key: str) -> str | None:
        """The id of the key with this secret (revoked or not), or None."""
        with self.db.read() as conn:
            return conn.execute(
                sa.select(db.api_keys.c.id).where(db.api_keys.c.key_hash == hash_secret(key))
            ).scalar()
