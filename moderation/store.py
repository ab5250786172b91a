"""SqlStore: the repository behind the service, on SQLAlchemy Core (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from moderation import db
from moderation.comments import (
    Article,
    Author,
    ModelInfo,
    Reason,
    Span,
    Status,
    StoredComment,
)
from moderation.integrations import ApprovedAnswer, CoralPhase
from moderation.policy import Policy
from moderation.privacy import (
    EVENT_FIELDS,
    AuthorRecord,
    Erasure,
    Label,
    WebhookEvent,
    without_notes,
)
from moderation.security import (
    check_password_policy,
    hash_secret,
    new_id,
    new_secret,
    same_hash,
)
from moderation.sites import ApiKey, Role, Site, User


class Conflict(Exception):
    """A unique value (a site name, a user name, an external id) is taken."""


class StalePolicy(Exception):
    """The live policy changed after the version the caller read."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the policy is at version {current_version}")
        self.current_version = current_version


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# Statements that run on every comment, built once.
_INSERT_COMMENT = db.comments.insert()
_INSERT_OUTBOX = db.webhook_outbox.insert()
_INSERT_AUDIT = db.audit_log.insert()
_SITE_FOR_KEY = (
    sa.select(db.api_keys.c.key_hash, db.sites)
    .join(db.sites, db.sites.c.id == db.api_keys.c.site_id)
    .where(db.api_keys.c.key_hash == sa.bindparam("digest"), db.api_keys.c.revoked_at.is_(None))
)


class SqlStore:
    """Every read and write of the domain's records; writes are short single transactions."""

    def __init__(self, engine: Engine, default_policy: Policy | None = None) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)
        self.default_policy = default_policy or Policy()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite)."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- sites and keys -------------------------------------------------------

    def _site(self, row: Any) -> Site:
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
            _aware(row.created_at) or utcnow(),
            row.retention,
        )

    def create_site(self, name: str, webhook_url: str | None = None) -> tuple[Site, str]:
        """Create a site with the default policy and its first API key; return the key once."""
        site_id = new_id("site")
        now = utcnow()
        try:
            with self.write() as conn:
                conn.execute(
                    db.sites.insert().values(
                        id=site_id,
                        name=name,
                        policy=self.default_policy.as_dict(),
                        shadow_policy=None,
                        webhook_url=webhook_url,
                        webhook_secret=new_secret("whsec_"),
                        policy_version=1,
                        created_at=now,
                        retention=None,
                    )
                )
                _, key = self._insert_key(conn, site_id)
                self.audit(
                    conn,
                    site_id=site_id,
                    actor="cli",
                    action="site.create",
                    after={"name": name, "policy": self.default_policy.as_dict()},
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"a site named {name!r} already exists") from exc
        site = self.get_site(site_id)
        assert site is not None
        return site, key

    def get_site(self, id_or_name: str) -> Site | None:
        """A site by id or by name."""
        with self.read() as conn:
            row = conn.execute(
                db.sites.select().where(
                    sa.or_(db.sites.c.id == id_or_name, db.sites.c.name == id_or_name)
                )
            ).first()
        return self._site(row) if row else None

    def list_sites(self) -> list[Site]:
        with self.read() as conn:
            rows = conn.execute(db.sites.select().order_by(db.sites.c.name)).all()
        return [self._site(r) for r in rows]

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

    def create_api_key(self, site_id: str, actor: str = "cli") -> tuple[str, str]:
        """A new API key for a site: (key id, the key itself, shown once)."""
        with self.write() as conn:
            key_id, key = self._insert_key(conn, site_id)
            self.audit(
                conn, site_id=site_id, actor=actor, action="key.create", after={"key_id": key_id}
            )
        return key_id, key

    def revoke_api_key(self, key_id: str, actor: str = "cli") -> ApiKey | None:
        """Revoke a key by id; the key stops working at once."""
        now = utcnow()
        with self.write() as conn:
            row = conn.execute(db.api_keys.select().where(db.api_keys.c.id == key_id)).first()
            if row is None:
                return None
            if row.revoked_at is None:
                conn.execute(
                    db.api_keys.update().where(db.api_keys.c.id == key_id).values(revoked_at=now)
                )
                self.audit(
                    conn,
                    site_id=row.site_id,
                    actor=actor,
                    action="key.revoke",
                    after={"key_id": key_id},
                )
        return ApiKey(
            row.id,
            row.site_id,
            row.prefix,
            _aware(row.created_at) or now,
            _aware(row.revoked_at) or now,
        )

    def list_api_keys(self, site_id: str) -> list[ApiKey]:
        with self.read() as conn:
            rows = conn.execute(
                db.api_keys.select()
                .where(db.api_keys.c.site_id == site_id)
                .order_by(db.api_keys.c.created_at)
            ).all()
        return [
            ApiKey(
                r.id, r.site_id, r.prefix, _aware(r.created_at) or utcnow(), _aware(r.revoked_at)
            )
            for r in rows
        ]

    def api_key_id(self, key: str) -> str | None:
        """The id of the key with this secret (revoked or not), or None."""
        with self.read() as conn:
            return conn.execute(
                sa.select(db.api_keys.c.id).where(db.api_keys.c.key_hash == hash_secret(key))
            ).scalar()

    def site_for_key(self, key: str) -> Site | None:
        """The site an unrevoked API key belongs to, or None (one query: it runs per request)."""
        digest = hash_secret(key)
        with self.read() as conn:
            row = conn.execute(_SITE_FOR_KEY, {"digest": digest}).first()
        if row is None or not same_hash(row.key_hash, digest):
            return None
        return self._site(row)

    # -- people ---------------------------------------------------------------

    def create_user(self, name: str, role: Role, site_ids: Sequence[str]) -> tuple[User, str]:
        """Create a person with a role and sites; return their API token once."""
        user_id = new_id("usr")
        token = new_secret("mut_")
        try:
            with self.write() as conn:
                conn.execute(
                    db.users.insert().values(
                        id=user_id,
                        name=name,
                        role=role.value,
                        token_hash=hash_secret(token),
                        password_hash=None,
                        created_at=utcnow(),
                        disabled_at=None,
                    )
                )
                for site_id in dict.fromkeys(site_ids):
                    conn.execute(db.user_sites.insert().values(user_id=user_id, site_id=site_id))
                self.audit(
                    conn,
                    site_id=None,
                    actor="cli",
                    action="user.create",
                    after={
                        "user_id": user_id,
                        "name": name,
                        "role": role.value,
                        "sites": list(site_ids),
                    },
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"a user named {name!r} already exists") from exc
        return User(user_id, name, role, frozenset(site_ids)), token

    def _user(self, conn: sa.Connection, row: Any) -> User:
        sites = (
            conn.execute(
                sa.select(db.user_sites.c.site_id).where(db.user_sites.c.user_id == row.id)
            )
            .scalars()
            .all()
        )
        return User(row.id, row.name, Role(row.role), frozenset(sites))

    def user_for_token(self, token: str) -> User | None:
        digest = hash_secret(token)
        with self.read() as conn:
            row = conn.execute(
                db.users.select().where(
                    db.users.c.token_hash == digest, db.users.c.disabled_at.is_(None)
                )
            ).first()
            if row is None or not same_hash(row.token_hash, digest):
                return None
            return self._user(conn, row)

    # -- comments -------------------------------------------------------------

    def _comment(self, row: Any) -> StoredComment:
        model = ModelInfo(row.model_name, row.model_version) if row.model_name else None
        return StoredComment(
            id=row.id,
            site_id=row.site_id,
            text=row.text,
            status=Status(row.status),
            scores=row.scores,
            reasons=tuple(Reason.from_dict(r) for r in row.reasons),
            spans=tuple(Span(s["begin"], s["end"], s["scores"]) for s in row.spans),
            model=model,
            language=row.language,
            risk=row.risk,
            version=row.version,
            created_at=_aware(row.created_at) or utcnow(),
            updated_at=_aware(row.updated_at) or utcnow(),
            external_id=row.external_id,
            parent_id=row.parent_id,
            author=Author(row.author_id, row.author_name, None, row.author_ip),
            article=Article(row.article_id, row.article_url, row.article_title),
            scoring_state=row.scoring_state,
            decided_by=row.decided_by,
            claimed_by=row.claimed_by,
            claim_expires_at=_aware(row.claim_expires_at),
            decision_reason=row.decision_reason,
            decision_note=row.decision_note,
            decided_at=_aware(row.decided_at),
            shadow_status=row.shadow_status,
            author_email_hash=row.author_email_hash,
            redacted_at=_aware(row.redacted_at),
        )

    def get_comment(self, comment_id: str, site_id: str | None = None) -> StoredComment | None:
        """A comment by id, only if it belongs to `site_id` when one is given."""
        query = db.comments.select().where(db.comments.c.id == comment_id)
        if site_id is not None:
            query = query.where(db.comments.c.site_id == site_id)
        with self.read() as conn:
            row = conn.execute(query).first()
        return self._comment(row) if row else None

    def find_external(self, site_id: str, external_id: str) -> StoredComment | None:
        with self.read() as conn:
            row = conn.execute(
                db.comments.select().where(
                    db.comments.c.site_id == site_id, db.comments.c.external_id == external_id
                )
            ).first()
        return self._comment(row) if row else None

    def insert_comment(
        self, values: Mapping[str, Any], audit: Mapping[str, Any], outbox: Mapping[str, Any] | None
    ) -> StoredComment:
        """Store a comment, its audit row and its webhook event in one transaction.

        Raises Conflict when the site already has a comment with this external id.
        """
        try:
            with self.write() as conn:
                # Parameters beside a shared insert(): SQLAlchemy reuses its compiled
                # form instead of building a statement per comment.
                conn.execute(_INSERT_COMMENT, dict(values))
                self.audit(conn, **audit)
                if outbox is not None:
                    conn.execute(_INSERT_OUTBOX, dict(outbox))
        except sa.exc.IntegrityError as exc:
            raise Conflict("external_id already stored") from exc
        # What was written, without reading it back: every column, NULL where not given.
        row = SimpleNamespace(**{c.name: None for c in db.comments.columns})
        row.__dict__.update(values)
        return self._comment(row)

    def pending_scoring(self, limit: int) -> list[StoredComment]:
        """Comments whose scoring failed, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                db.comments.select()
                .where(db.comments.c.scoring_state == "pending")
                .order_by(db.comments.c.created_at)
                .limit(limit)
            ).all()
        return [self._comment(r) for r in rows]

    def update_comment(
        self,
        comment_id: str,
        expected_version: int,
        values: Mapping[str, Any],
        audit: Mapping[str, Any] | None,
        outbox: Mapping[str, Any] | None = None,
    ) -> bool:
        """Change a comment only if nobody changed it since `expected_version` was read."""
        with self.write() as conn:
            result = conn.execute(
                db.comments.update()
                .where(db.comments.c.id == comment_id, db.comments.c.version == expected_version)
                .values(**values, version=expected_version + 1)
            )
            if result.rowcount != 1:
                return False
            if audit is not None:
                self.audit(conn, **audit)
            if outbox is not None:
                conn.execute(db.webhook_outbox.insert().values(**outbox))
        return True

    # -- audit ----------------------------------------------------------------

    @staticmethod
    def audit(
        conn: sa.Connection,
        *,
        site_id: str | None,
        actor: str,
        action: str,
        comment_id: str | None = None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Append one audit row inside the caller's transaction."""
        conn.execute(
            _INSERT_AUDIT,
            {
                "site_id": site_id,
                "comment_id": comment_id,
                "actor": actor,
                "action": action,
                "before": before,
                "after": after,
                "created_at": utcnow(),
            },
        )

    def audit_entries(
        self, *, site_id: str | None = None, comment_id: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        query = db.audit_log.select().order_by(db.audit_log.c.id.desc()).limit(limit)
        if site_id is not None:
            query = query.where(db.audit_log.c.site_id == site_id)
        if comment_id is not None:
            query = query.where(db.audit_log.c.comment_id == comment_id)
        with self.read() as conn:
            rows = conn.execute(query).all()
        return [{**r._asdict(), "created_at": _aware(r.created_at)} for r in rows]

    def held_counts(self) -> dict[str, int]:
        """Held comments per site name (the queue depth)."""
        query = (
            sa.select(db.sites.c.name, sa.func.count(db.comments.c.id))
            .join(db.comments, db.comments.c.site_id == db.sites.c.id)
            .where(db.comments.c.status == "held")
            .group_by(db.sites.c.name)
        )
        with self.read() as conn:
            return {name: n for name, n in conn.execute(query).all()}

    # -- review queue ---------------------------------------------------------

    def queue(
        self,
        site_ids: Sequence[str],
        *,
        sort: str,
        limit: int,
        after: tuple[Any, str] | None = None,
        category: str | None = None,
        reason: str | None = None,
        older_than: datetime | None = None,
        newer_than: datetime | None = None,
    ) -> list[StoredComment]:
        """Held comments of these sites, riskiest (or oldest) first, after a cursor position."""
        c = db.comments.c
        query = db.comments.select().where(c.status == "held", c.site_id.in_(list(site_ids)))
        if older_than is not None:
            query = query.where(c.created_at <= older_than)
        if newer_than is not None:
            query = query.where(c.created_at >= newer_than)
        if sort == "risk":
            query = query.order_by(c.risk.desc(), c.id)
            if after is not None:
                query = query.where(
                    sa.or_(c.risk < after[0], sa.and_(c.risk == after[0], c.id > after[1]))
                )
        else:
            query = query.order_by(c.created_at, c.id)
            if after is not None:
                query = query.where(
                    sa.or_(
                        c.created_at > after[0], sa.and_(c.created_at == after[0], c.id > after[1])
                    )
                )
        # Category and reason filters look inside the JSON reasons: filtered in
        # Python over a bounded over-fetch so the SQL stays portable.
        if category is None and reason is None:
            with self.read() as conn:
                return [self._comment(r) for r in conn.execute(query.limit(limit)).all()]
        out: list[StoredComment] = []
        offset = 0
        with self.read() as conn:
            while len(out) < limit:
                rows = conn.execute(query.limit(500).offset(offset)).all()
                if not rows:
                    break
                offset += len(rows)
                for row in rows:
                    item = self._comment(row)
                    if category and not any(r.category == category for r in item.reasons):
                        continue
                    if reason and not any(r.code == reason for r in item.reasons):
                        continue
                    out.append(item)
                    if len(out) == limit:
                        break
        return out

    def author_history(self, site_id: str, author_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per author: how many of their comments on this site were approved and rejected."""
        if not author_ids:
            return {}
        c = db.comments.c
        query = (
            sa.select(c.author_id, c.status, sa.func.count())
            .where(c.site_id == site_id, c.author_id.in_(list(author_ids)))
            .group_by(c.author_id, c.status)
        )
        out: dict[str, dict[str, int]] = {
            a: {"approved": 0, "rejected": 0, "held": 0} for a in author_ids
        }
        with self.read() as conn:
            for author, status, n in conn.execute(query).all():
                out[author][status] = n
        return out

    def claim(
        self, user_id: str, site_ids: Sequence[str], n: int, now: datetime, lease_until: datetime
    ) -> list[StoredComment]:
        """Give the user the next n held comments nobody holds a live lease on, riskiest first.

        SQLite serialises this write transaction (BEGIN IMMEDIATE); PostgreSQL
        skips rows another transaction is claiming (FOR UPDATE SKIP LOCKED).
        """
        c = db.comments.c
        free = sa.or_(c.claimed_by.is_(None), c.claim_expires_at < now, c.claimed_by == user_id)
        pick = (
            sa.select(c.id)
            .where(c.status == "held", c.site_id.in_(list(site_ids)), free)
            .order_by(c.risk.desc(), c.id)
            .limit(n)
        )
        with self.write() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = conn.execute(pick).scalars().all()
            if ids:
                conn.execute(
                    db.comments.update()
                    .where(c.id.in_(ids))
                    .values(claimed_by=user_id, claim_expires_at=lease_until)
                )
            rows = (
                conn.execute(
                    db.comments.select().where(c.id.in_(ids)).order_by(c.risk.desc(), c.id)
                ).all()
                if ids
                else []
            )
        return [self._comment(r) for r in rows]

    def renew_claims(
        self, user_id: str, ids: Sequence[str], lease_until: datetime, now: datetime
    ) -> list[str]:
        """Extend the user's live leases; returns the ids still held by the user."""
        c = db.comments.c
        with self.write() as conn:
            conn.execute(
                db.comments.update()
                .where(
                    c.id.in_(list(ids)),
                    c.claimed_by == user_id,
                    c.claim_expires_at >= now,
                    c.status == "held",
                )
                .values(claim_expires_at=lease_until)
            )
            return list(
                conn.execute(
                    sa.select(c.id).where(
                        c.id.in_(list(ids)),
                        c.claimed_by == user_id,
                        c.claim_expires_at == lease_until,
                    )
                )
                .scalars()
                .all()
            )

    def release_claims(self, user_id: str, ids: Sequence[str]) -> None:
        c = db.comments.c
        with self.write() as conn:
            conn.execute(
                db.comments.update()
                .where(c.id.in_(list(ids)), c.claimed_by == user_id)
                .values(claimed_by=None, claim_expires_at=None)
            )

    def last_decision_audit(self, comment_id: str) -> dict[str, Any] | None:
        """The newest moderator decision or undo recorded for a comment."""
        a = db.audit_log.c
        with self.read() as conn:
            row = conn.execute(
                db.audit_log.select()
                .where(
                    a.comment_id == comment_id, a.action.in_(["comment.decision", "comment.undo"])
                )
                .order_by(a.id.desc())
                .limit(1)
            ).first()
        return row._asdict() if row else None

    # -- tuning ---------------------------------------------------------------

    def comments_between(
        self, site_id: str, since: datetime | None, until: datetime | None
    ) -> list[StoredComment]:
        """Every scored comment of a site in a time window (for simulations and reports)."""
        c = db.comments.c
        query = db.comments.select().where(c.site_id == site_id, c.scoring_state == "scored")
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        with self.read() as conn:
            return [self._comment(r) for r in conn.execute(query.order_by(c.created_at)).all()]

    def shadow_rows(
        self, site_id: str, since: datetime | None, until: datetime | None
    ) -> list[Any]:
        c = db.comments.c
        query = sa.select(
            c.id, c.status, c.decided_by, c.reasons, c.shadow_status, c.created_at
        ).where(c.site_id == site_id, c.shadow_status.is_not(None))
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        with self.read() as conn:
            return list(conn.execute(query).all())

    def set_policy(
        self,
        site_id: str,
        *,
        actor: str,
        live: dict[str, Any] | None = None,
        shadow: dict[str, Any] | None = None,
        clear_shadow: bool = False,
        expected_version: int | None = None,
    ) -> None:
        """Change the live or shadow policy, with an audit row holding before and after.

        With `expected_version`, raise StalePolicy (changing nothing) unless the live policy
        is still at that version. A live policy equal to the current one is no change: no
        new version, no audit row.
        """
        s = db.sites.c
        with self.write() as conn:
            # FOR UPDATE: two writers on PostgreSQL must not both build on one version.
            row = conn.execute(db.sites.select().where(s.id == site_id).with_for_update()).one()
            if expected_version is not None and expected_version != row.policy_version:
                raise StalePolicy(row.policy_version)
            values: dict[str, Any] = {}
            if live is not None and live != self._site(row).policy.as_dict():
                values.update(policy=live, policy_version=row.policy_version + 1)
                self.audit(
                    conn,
                    site_id=site_id,
                    actor=actor,
                    action="policy.update",
                    before=row.policy,
                    after=live,
                )
            if shadow is not None or clear_shadow:
                values["shadow_policy"] = shadow
                self.audit(
                    conn,
                    site_id=site_id,
                    actor=actor,
                    action="policy.shadow_clear" if clear_shadow else "policy.shadow_set",
                    before=row.shadow_policy,
                    after=shadow,
                )
            if values:
                conn.execute(db.sites.update().where(s.id == site_id).values(**values))

    def set_webhook(
        self, site_id: str, url: str | None, *, actor: str, rotate_secret: bool = False
    ) -> None:
        s = db.sites.c
        with self.write() as conn:
            row = conn.execute(db.sites.select().where(s.id == site_id)).one()
            values: dict[str, Any] = {"webhook_url": url}
            if rotate_secret:
                values["webhook_secret"] = new_secret("whsec_")
            conn.execute(db.sites.update().where(s.id == site_id).values(**values))
            self.audit(
                conn,
                site_id=site_id,
                actor=actor,
                action="webhook.update",
                before={"url": row.webhook_url},
                after={"url": url, "secret_rotated": rotate_secret},
            )

    def labelled(self, site_id: str, since: datetime | None = None) -> list[Any]:
        """Comments a moderator decided (rejected = toxic, approved = fine), and feedback labels."""
        c = db.comments.c
        query = sa.select(
            c.id, c.text, c.status, c.decision_reason, c.decided_at, c.decided_by, c.scores
        ).where(
            c.site_id == site_id,
            c.decided_by != "auto",
            c.status.in_(["approved", "rejected"]),
            c.redacted_at.is_(None),  # the text is gone: nothing to learn from
        )
        if since is not None:
            query = query.where(c.decided_at >= since)
        with self.read() as conn:
            return list(conn.execute(query.order_by(c.decided_at, c.id)).all())

    def add_feedback(
        self,
        site_id: str,
        text: str,
        attribute: str,
        score: float,
        source: str,
        comment_id: str | None = None,
    ) -> None:
        with self.write() as conn:
            conn.execute(
                db.feedback.insert().values(
                    site_id=site_id,
                    comment_id=comment_id,
                    text=text,
                    attribute=attribute,
                    score=score,
                    source=source,
                    created_at=utcnow(),
                )
            )

    def feedback_rows(self, site_id: str) -> list[Any]:
        f = db.feedback.c
        with self.read() as conn:
            return list(
                conn.execute(db.feedback.select().where(f.site_id == site_id).order_by(f.id)).all()
            )

    # -- readers' data ---------------------------------------------------------

    def author_record(self, site_id: str, author_id: str) -> AuthorRecord:
        """Everything stored about one author of one site: comments, their audit, events, labels."""
        c, a, o, f = db.comments.c, db.audit_log.c, db.webhook_outbox.c, db.feedback.c
        with self.read() as conn:
            rows = conn.execute(
                db.comments.select()
                .where(c.site_id == site_id, c.author_id == author_id)
                .order_by(c.created_at, c.id)
            ).all()
            ids = [r.id for r in rows]
            theirs = set(ids)
            audit = conn.execute(
                db.audit_log.select().where(a.comment_id.in_(ids)).order_by(a.id)
            ).all()
            events = [
                e
                for e in conn.execute(
                    db.webhook_outbox.select().where(o.site_id == site_id).order_by(o.id)
                ).all()
                if (e.payload or {}).get("comment_id") in theirs
            ]
            labels = conn.execute(
                db.feedback.select().where(f.comment_id.in_(ids)).order_by(f.id)
            ).all()
        return AuthorRecord(
            site_id=site_id,
            author_id=author_id,
            exported_at=utcnow(),
            comments=tuple(self._comment(r) for r in rows),
            audit=tuple({**r._asdict(), "created_at": _aware(r.created_at)} for r in audit),
            webhook_events=tuple(
                WebhookEvent(
                    id=f"evt_{e.id}",
                    event=e.event,
                    payload=dict(e.payload),
                    created_at=_aware(e.created_at) or utcnow(),
                    delivered_at=_aware(e.delivered_at),
                    attempts=e.attempts,
                )
                for e in events
            ),
            feedback=tuple(
                Label(
                    comment_id=r.comment_id,
                    text=r.text,
                    attribute=r.attribute,
                    score=r.score,
                    source=r.source,
                    created_at=_aware(r.created_at) or utcnow(),
                )
                for r in labels
            ),
        )

    def record(self, *, site_id: str | None, actor: str, action: str, after: Any = None) -> None:
        """Append one audit row in a transaction of its own (for things that change nothing)."""
        with self.write() as conn:
            self.audit(conn, site_id=site_id, actor=actor, action=action, after=after)

    def erase_author(self, site_id: str, author_id: str, actor: str) -> Erasure:
        """Remove an author's comments and every copy of their words, name, e-mail hash and address.

        One transaction: the comments and the labels given on them are deleted; audit
        rows about them keep who decided what (action, status, reason) but lose the
        moderators' notes; webhook events about them keep only the fields an event is
        made of (no text could ride along). Idempotent; every call is audited.
        """
        c, a, o, f = db.comments.c, db.audit_log.c, db.webhook_outbox.c, db.feedback.c
        with self.write() as conn:
            ids = list(
                conn.execute(
                    sa.select(c.id).where(c.site_id == site_id, c.author_id == author_id)
                ).scalars()
            )
            theirs = set(ids)
            scrubbed_audit = 0
            for row in conn.execute(
                sa.select(a.id, a.before, a.after).where(a.comment_id.in_(ids))
            ).all():
                before, after = without_notes(row.before), without_notes(row.after)
                if (before, after) != (row.before, row.after):
                    conn.execute(
                        db.audit_log.update()
                        .where(a.id == row.id)
                        .values(before=before, after=after)
                    )
                    scrubbed_audit += 1
            scrubbed_events = 0
            for event in conn.execute(sa.select(o.id, o.payload).where(o.site_id == site_id)).all():
                payload = dict(event.payload or {})
                if payload.get("comment_id") in theirs:
                    kept = {k: v for k, v in payload.items() if k in EVENT_FIELDS}
                    if kept != payload:
                        conn.execute(
                            db.webhook_outbox.update().where(o.id == event.id).values(payload=kept)
                        )
                        scrubbed_events += 1
            labels = conn.execute(db.feedback.delete().where(f.comment_id.in_(ids))).rowcount
            conn.execute(db.comments.delete().where(c.id.in_(ids)))
            erasure = Erasure(author_id, len(ids), labels, scrubbed_audit, scrubbed_events)
            self.audit(
                conn,
                site_id=site_id,
                actor=actor,
                action="author.erase",
                after=erasure.as_dict(),
            )
        return erasure

    # -- retention -------------------------------------------------------------

    def set_retention(self, site_id: str, settings: Mapping[str, Any], *, actor: str) -> None:
        """Change a site's own retention settings (merged into what it had); audited."""
        s = db.sites.c
        with self.write() as conn:
            row = conn.execute(sa.select(s.retention).where(s.id == site_id)).one()
            after = {**(row.retention or {}), **settings}
            conn.execute(db.sites.update().where(s.id == site_id).values(retention=after))
            self.audit(
                conn,
                site_id=site_id,
                actor=actor,
                action="retention.update",
                before=row.retention,
                after=after,
            )

    def redact_decided(self, site_id: str, decided_before: datetime, now: datetime) -> int:
        """Remove the text and author data of comments decided before a time; returns how many.

        A batch per transaction, so a first run over years of comments never holds
        the write lock for long.
        """
        c, a = db.comments.c, db.audit_log.c
        decided = sa.func.coalesce(c.decided_at, c.created_at)
        pick = (
            sa.select(c.id)
            .where(
                c.site_id == site_id,
                c.status.in_(["approved", "rejected"]),
                c.redacted_at.is_(None),
                decided < decided_before,
            )
            .limit(500)
        )
        done = 0
        while True:
            with self.write() as conn:
                ids = list(conn.execute(pick).scalars())
                if not ids:
                    return done
                conn.execute(
                    db.comments.update()
                    .where(c.id.in_(ids))
                    .values(
                        text="",
                        author_name=None,
                        author_email_hash=None,
                        author_ip=None,
                        decision_note=None,
                        spans=[],
                        redacted_at=now,
                        updated_at=now,
                        version=c.version + 1,
                    )
                )
                for row in conn.execute(
                    sa.select(a.id, a.before, a.after).where(a.comment_id.in_(ids))
                ).all():
                    before, after = without_notes(row.before), without_notes(row.after)
                    if (before, after) != (row.before, row.after):
                        conn.execute(
                            db.audit_log.update()
                            .where(a.id == row.id)
                            .values(before=before, after=after)
                        )
                done += len(ids)

    def delete_labels(self, site_id: str, created_before: datetime) -> int:
        """Delete the labels (with their texts) a site sent before a time."""
        f = db.feedback.c
        with self.write() as conn:
            return conn.execute(
                db.feedback.delete().where(f.site_id == site_id, f.created_at < created_before)
            ).rowcount

    def delete_finished_events(
        self, site_id: str, before: datetime, max_attempts: int
    ) -> tuple[int, int]:
        """Delete webhook events delivered before a time, or given up on and made before it.

        Returns (events, attempts) deleted.
        """
        o, at = db.webhook_outbox.c, db.webhook_attempts.c
        finished = sa.or_(
            o.delivered_at < before,
            sa.and_(o.delivered_at.is_(None), o.attempts >= max_attempts, o.created_at < before),
        )
        events = attempts = 0
        while True:
            with self.write() as conn:
                ids = list(
                    conn.execute(
                        sa.select(o.id).where(o.site_id == site_id, finished).limit(500)
                    ).scalars()
                )
                if not ids:
                    return events, attempts
                attempts += conn.execute(
                    db.webhook_attempts.delete().where(at.outbox_id.in_(ids))
                ).rowcount
                events += conn.execute(db.webhook_outbox.delete().where(o.id.in_(ids))).rowcount

    # -- passwords and sign-in sessions ---------------------------------------

    def set_password(self, name: str, password: str, actor: str = "cli") -> User | None:
        """Store a scrypt hash of a person's password; None if nobody has that name.

        Raises WeakPassword when the password policy refuses it.
        """
        check_password_policy(name, password)
        digest = hash_password(password)
        with self.write() as conn:
            row = conn.execute(db.users.select().where(db.users.c.name == name)).first()
            if row is None:
                return None
            conn.execute(
                db.users.update().where(db.users.c.id == row.id).values(password_hash=digest)
            )
            self.audit(
                conn,
                site_id=None,
                actor=actor,
                action="user.password_set",
                after={"user_id": row.id, "name": name},
            )
            return self._user(conn, row)

    def check_password(self, name: str, password: str) -> tuple[User, str] | None:
        """The person and their session stamp when the password is right; else None."""
        with self.read() as conn:
            row = conn.execute(
                db.users.select().where(db.users.c.name == name, db.users.c.disabled_at.is_(None))
            ).first()
            stored = row.password_hash if row is not None else None
            # Unknown names cost the same hash as known ones, so timing tells nothing.
            if not verify_password(stored or _dummy_hash(), password) or row is None or not stored:
                return None
            return self._user(conn, row), session_stamp(stored)

    def user_for_session(self, user_id: str, stamp: str) -> User | None:
        """The signed-in person, while they are enabled and their password is unchanged."""
        with self.read() as conn:
            row = conn.execute(
                db.users.select().where(db.users.c.id == user_id, db.users.c.disabled_at.is_(None))
            ).first()
            if row is None or not row.password_hash:
                return None
            if not hmac.compare_digest(session_stamp(row.password_hash), stamp):
                return None
            return self._user(conn, row)

    def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Names of people by id (ids that are not people, like 'cli', are left out)."""
        if not user_ids:
            return {}
        with self.read() as conn:
            rows = conn.execute(
                sa.select(db.users.c.id, db.users.c.name).where(db.users.c.id.in_(list(user_ids)))
            ).all()
        return {r.id: r.name for r in rows}

    def settings_audit(self, site_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """A site's audit rows other than comment decisions (policy, keys, webhook), newest first."""
        a = db.audit_log.c
        query = (
            db.audit_log.select()
            .where(a.site_id == site_id, sa.not_(a.action.like("comment.%")))
            .order_by(a.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            rows = conn.execute(query).all()
        return [{**r._asdict(), "created_at": _aware(r.created_at)} for r in rows]

    def published_comments(
        self, site_id: str, article_id: str, limit: int = 50
    ) -> list[StoredComment]:
        """Approved comments under one article, newest first (what the site shows readers)."""
        c = db.comments.c
        query = (
            db.comments.select()
            .where(c.site_id == site_id, c.article_id == article_id, c.status == "approved")
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [self._comment(r) for r in conn.execute(query).all()]

    # -- integrations ---------------------------------------------------------

    def _coral_phase(self, row: Any) -> CoralPhase:
        return CoralPhase(
            site_id=row.site_id,
            secret=row.secret,
            previous_secret=row.previous_secret,
            previous_expires_at=_aware(row.previous_expires_at),
            approved_answer=ApprovedAnswer(row.approved_answer),
            updated_at=_aware(row.updated_at) or utcnow(),
        )

    def coral_phase(self, site_id: str) -> CoralPhase | None:
        """A site's Coral External Moderation Phase settings, if it has any."""
        with self.read() as conn:
            row = conn.execute(
                db.coral_phases.select().where(db.coral_phases.c.site_id == site_id)
            ).first()
        return self._coral_phase(row) if row else None

    def set_coral_secret(
        self,
        site_id: str,
        secret: str,
        *,
        previous_valid_for: timedelta = timedelta(0),
        actor: str = "cli",
    ) -> CoralPhase:
        """Set the secret Coral signs with; the one it replaces stays valid for `previous_valid_for`."""
        now = utcnow()
        t = db.coral_phases
        with self.write() as conn:
            row = conn.execute(t.select().where(t.c.site_id == site_id)).first()
            rotated = row is not None and row.secret != secret and previous_valid_for > timedelta(0)
            values: dict[str, Any] = {
                "secret": secret,
                "previous_secret": row.secret if rotated and row else None,
                "previous_expires_at": now + previous_valid_for if rotated else None,
                "updated_at": now,
            }
            if row is None:
                conn.execute(t.insert().values(site_id=site_id, **values))
            else:
                conn.execute(t.update().where(t.c.site_id == site_id).values(**values))
            # Never the secrets themselves: the audit trail is readable by operators.
            self.audit(
                conn,
                site_id=site_id,
                actor=actor,
                action="coral.secret",
                before={"configured": row is not None},
                after={
                    "previous_valid_until": values["previous_expires_at"].isoformat()
                    if rotated
                    else None
                },
            )
        phase = self.coral_phase(site_id)
        assert phase is not None
        return phase

    def set_coral_approved_answer(
        self, site_id: str, answer: ApprovedAnswer, *, actor: str = "cli"
    ) -> CoralPhase | None:
        """Choose how approvals are answered (None: the site has no Coral secret yet)."""
        t = db.coral_phases
        with self.write() as conn:
            row = conn.execute(t.select().where(t.c.site_id == site_id)).first()
            if row is None:
                return None
            conn.execute(
                t.update()
                .where(t.c.site_id == site_id)
                .values(approved_answer=answer.value, updated_at=utcnow())
            )
            self.audit(
                conn,
                site_id=site_id,
                actor=actor,
                action="coral.approved_answer",
                before={"approved_answer": row.approved_answer},
                after={"approved_answer": answer.value},
            )
        return self.coral_phase(site_id)


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A salted scrypt hash: `scrypt$n$r$p$salt$hash`, base64 parts."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
    )
    parts = [base64.b64encode(salt).decode(), base64.b64encode(key).decode()]
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${parts[0]}${parts[1]}"


def verify_password(stored: str, password: str) -> bool:
    """Whether the password matches a hash made by hash_password (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def session_stamp(password_hash: str) -> str:
    """A short digest of the password hash: sessions carry it, so a new password ends them."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
