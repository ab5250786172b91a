"""People: moderators, operators and admins, their sites, API tokens and passwords."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import Actor, AuditAction, AuditEntry
from moderation.clock import utcnow
from moderation.errors import Conflict
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.security import (
    check_password_policy,
    dummy_password_hash,
    hash_password,
    hash_secret,
    new_id,
    new_secret,
    same_hash,
    session_stamp,
    verify_password,
)
from moderation.sites import Role, User


class UserRepository:
    """People and how they prove who they are (a token for the API, a password for the pages)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def create(self, name: str, role: Role, site_ids: Sequence[str]) -> tuple[User, str]:
        """Create a person with a role and sites; return their API token once."""
        user_id = new_id("usr")
        token = new_secret("mut_")
        try:
            with self.db.write() as conn:
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
                AuditLog.append(
                    conn,
                    AuditEntry(
                        site_id=None,
                        actor=Actor.CLI,
                        action=AuditAction.USER_CREATE,
                        after={
                            "user_id": user_id,
                            "name": name,
                            "role": role.value,
                            "sites": list(site_ids),
                        },
                    ),
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

    def for_token(self, token: str) -> User | None:
        digest = hash_secret(token)
        with self.db.read() as conn:
            row = conn.execute(
                db.users.select().where(
                    db.users.c.token_hash == digest, db.users.c.disabled_at.is_(None)
                )
            ).first()
            if row is None or not same_hash(row.token_hash, digest):
                return None
            return self._user(conn, row)

    def set_password(self, name: str, password: str, actor: str = Actor.CLI) -> User | None:
        """Store a scrypt hash of a person's password; None if nobody has that name.

        Raises WeakPassword when the password policy refuses it.
        """
        check_password_policy(name, password)
        digest = hash_password(password)
        with self.db.write() as conn:
            row = conn.execute(db.users.select().where(db.users.c.name == name)).first()
            if row is None:
                return None
            conn.execute(
                db.users.update().where(db.users.c.id == row.id).values(password_hash=digest)
            )
            AuditLog.append(
                conn,
                AuditEntry(
                    site_id=None,
                    actor=actor,
                    action=AuditAction.USER_PASSWORD_SET,
                    after={"user_id": row.id, "name": name},
                ),
            )
            return self._user(conn, row)

    def check_password(self, name: str, password: str) -> tuple[User, str] | None:
        """The person and their session stamp when the password is right; else None."""
        with self.db.read() as conn:
            row = conn.execute(
                db.users.select().where(db.users.c.name == name, db.users.c.disabled_at.is_(None))
            ).first()
            stored = row.password_hash if row is not None else None
            # Unknown names cost the same hash as known ones, so timing tells nothing.
            if (
                not verify_password(stored or dummy_password_hash(), password)
                or row is None
                or not stored
            ):
                return None
            return self._user(conn, row), session_stamp(stored)

    def for_session(self, user_id: str, stamp: str) -> User | None:
        """The signed-in person, while they are enabled and their password is unchanged."""
        with self.db.read() as conn:
            row = conn.execute(
                db.users.select().where(db.users.c.id == user_id, db.users.c.disabled_at.is_(None))
            ).first()
            if row is None or not row.password_hash:
                return None
            if not hmac.compare_digest(session_stamp(row.password_hash), stamp):
                return None
            return self._user(conn, row)

    def names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Names of people by id (ids that are not people, like 'cli', are left out)."""
        if not user_ids:
            return {}
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(db.users.c.id, db.users.c.name).where(db.users.c.id.in_(list(user_ids)))
            ).all()
        return {r.id: r.name for r in rows}
