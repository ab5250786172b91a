"""Versions of sites' adapted models, and which one serves each site."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import AuditAction, AuditEntry
from moderation.clock import aware, utcnow
from moderation.errors import Conflict, NotFound
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.site_models import PROMOTABLE, ModelSettings, ModelState, SiteModel


def model_from_row(row: Any) -> SiteModel:
    """A site_models row as the domain's SiteModel."""
    return SiteModel(
        site_id=row.site_id,
        version=row.version,
        state=ModelState(row.state),
        requested_by=row.requested_by,
        created_at=aware(row.created_at) or utcnow(),
        labels=row.labels,
        progress=row.progress,
        metrics=row.metrics or {},
        error=row.error,
        path=row.path,
        auto_promote=bool(row.auto_promote),
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        promoted_at=aware(row.promoted_at),
        previous_version=row.previous_version,
    )


def _with_thresholds(
    conn: sa.Connection, site: Any, thresholds: dict[str, Any], actor: str
) -> dict[str, Any]:
    """The site row's new policy with `thresholds`, its audit row appended (a promotion's or
    a rollback's threshold change)."""
    policy = {**(site.policy or {}), "thresholds": thresholds}
    AuditLog.append(
        conn,
        AuditEntry(
            AuditAction.POLICY_UPDATE, actor, site_id=site.id, before=site.policy, after=policy
        ),
    )
    return {"policy": policy, "policy_version": site.policy_version + 1}


def _trained(conn: sa.Connection, site_id: str, version: int, rule: str) -> Any:
    """The site's row, locked, once `version` is a trained version that does not serve
    (NotFound: no such version; Conflict, saying `rule`: it cannot)."""
    m, s = db.site_models.c, db.sites.c
    site = conn.execute(db.sites.select().where(s.id == site_id).with_for_update()).one()
    row = conn.execute(
        db.site_models.select().where(m.site_id == site_id, m.version == version)
    ).first()
    if row is None:
        raise NotFound(f"The site has no model version v{version}.")
    if ModelState(row.state) not in PROMOTABLE:
        raise Conflict(f"v{version} is {row.state}: {rule}")
    return site


def _shadow_stopped(conn: sa.Connection, site_id: str, version: int, actor: str, why: str) -> None:
    AuditLog.append(
        conn,
        AuditEntry(
            AuditAction.MODEL_SHADOW_STOP,
            actor,
            site_id=site_id,
            before={"shadow_version": version},
            after={"shadow_version": None, "why": why},
        ),
    )


class SiteModelRepository:
    """The registry: one row per version of a site's model; `sites.model_version` says which serves."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def create(
        self, site_id: str, *, requested_by: str, labels: int, auto_promote: bool
    ) -> SiteModel:
        """A new queued version, numbered after the site's last one; audited."""
        m = db.site_models.c
        now = utcnow()
        with self.db.write() as conn:
            # Lock the site's row: two requests at once must not take the same number, nor
            # both start training (an operator's and the periodic retraining's).
            conn.execute(db.sites.select().where(db.sites.c.id == site_id).with_for_update())
            busy = conn.execute(
                sa.select(m.version, m.state)
                .where(
                    m.site_id == site_id,
                    m.state.in_([ModelState.QUEUED.value, ModelState.TRAINING.value]),
                )
                .limit(1)
            ).first()
            if busy is not None:
                raise Conflict(
                    f"Version v{busy.version} of the site's model is still {busy.state}."
                )
            last = conn.execute(
                sa.select(sa.func.max(m.version)).where(m.site_id == site_id)
            ).scalar()
            version = (last or 0) + 1
            conn.execute(
                db.site_models.insert().values(
                    site_id=site_id,
                    version=version,
                    state=ModelState.QUEUED.value,
                    requested_by=requested_by,
                    labels=labels,
                    progress=0.0,
                    metrics={},
                    auto_promote=auto_promote,
                    created_at=now,
                )
            )
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.MODEL_TRAIN,
                    requested_by,
                    site_id=site_id,
                    after={"version": version, "labels": labels, "auto_promote": auto_promote},
                ),
            )
        found = self.get(site_id, version)
        assert found is not None
        return found

    def get(self, site_id: str, version: int) -> SiteModel | None:
        m = db.site_models.c
        with self.db.read() as conn:
            row = conn.execute(
                db.site_models.select().where(m.site_id == site_id, m.version == version)
            ).first()
        return model_from_row(row) if row is not None else None

    def for_site(self, site_id: str) -> list[SiteModel]:
        """The site's versions, newest first."""
        m = db.site_models.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.site_models.select().where(m.site_id == site_id).order_by(m.version.desc())
            ).all()
        return [model_from_row(r) for r in rows]

    def _update(self, site_id: str, version: int, **values: Any) -> None:
        m = db.site_models.c
        with self.db.write() as conn:
            conn.execute(
                db.site_models.update()
                .where(m.site_id == site_id, m.version == version)
                .values(**values)
            )

    def start(self, site_id: str, version: int) -> None:
        self._update(
            site_id, version, state=ModelState.TRAINING.value, started_at=utcnow(), progress=0.0
        )

    def set_progress(self, site_id: str, version: int, progress: float) -> None:
        self._update(site_id, version, progress=progress)

    def finish(self, site_id: str, version: int, *, path: str, metrics: Mapping[str, Any]) -> None:
        self._update(
            site_id,
            version,
            state=ModelState.READY.value,
            path=path,
            metrics=dict(metrics),
            progress=1.0,
            finished_at=utcnow(),
        )

    def fail(self, site_id: str, version: int, error: str) -> None:
        self._update(
            site_id, version, state=ModelState.FAILED.value, error=error, finished_at=utcnow()
        )

    def promote(
        self,
        site_id: str,
        version: int,
        *,
        actor: str,
        thresholds: Mapping[str, float] | None,
    ) -> SiteModel:
        """Serve `version` (the serving one retires), with new thresholds if given; audited.

        One transaction: the model rows, the site's pointer and policy, the audit entries.
        """
        m, s = db.site_models.c, db.sites.c
        now = utcnow()
        with self.db.write() as conn:
            site = _trained(conn, site_id, version, "only a trained version can serve.")
            previous = site.model_version
            if previous is not None:
                conn.execute(
                    db.site_models.update()
                    .where(m.site_id == site_id, m.version == previous)
                    .values(state=ModelState.RETIRED.value)
                )
            site_values: dict[str, Any] = {"model_version": version}
            if site.shadow_model_version == version:
                # It serves now: nothing left to shadow.
                site_values["shadow_model_version"] = None
                _shadow_stopped(conn, site_id, version, actor, "promoted")
            policy = dict(site.policy or {})
            old_thresholds = dict(policy.get("thresholds") or {})
            changes_policy = thresholds is not None and dict(thresholds) != old_thresholds
            if changes_policy:
                assert thresholds is not None
                site_values.update(_with_thresholds(conn, site, dict(thresholds), actor))
            conn.execute(db.sites.update().where(s.id == site_id).values(**site_values))
            conn.execute(
                db.site_models.update()
                .where(m.site_id == site_id, m.version == version)
                .values(
                    state=ModelState.SERVING.value,
                    promoted_at=now,
                    previous_version=previous,
                    previous_thresholds=old_thresholds if changes_policy else None,
                )
            )
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.MODEL_PROMOTE,
                    actor,
                    site_id=site_id,
                    before={"version": previous},
                    after={
                        "version": version,
                        "thresholds": dict(thresholds) if changes_policy and thresholds else None,
                    },
                ),
            )
        found = self.get(site_id, version)
        assert found is not None
        return found

    def rollback(self, site_id: str, *, actor: str) -> SiteModel | None:
        """Serve what served before the current version (None: the base model); audited.

        Thresholds the current version's promotion changed are restored with it.
        """
        m, s = db.site_models.c, db.sites.c
        with self.db.write() as conn:
            site = conn.execute(db.sites.select().where(s.id == site_id).with_for_update()).one()
            if site.model_version is None:
                raise Conflict("No adapted model serves the site: nothing to roll back.")
            current = conn.execute(
                db.site_models.select().where(m.site_id == site_id, m.version == site.model_version)
            ).one()
            restore = current.previous_version
            conn.execute(
                db.site_models.update()
                .where(m.site_id == site_id, m.version == current.version)
                .values(state=ModelState.RETIRED.value)
            )
            if restore is not None:
                conn.execute(
                    db.site_models.update()
                    .where(m.site_id == site_id, m.version == restore)
                    .values(state=ModelState.SERVING.value)
                )
            site_values: dict[str, Any] = {"model_version": restore}
            if restore is not None and site.shadow_model_version == restore:
                site_values["shadow_model_version"] = None
                _shadow_stopped(conn, site_id, restore, actor, "serves again (rollback)")
            if current.previous_thresholds is not None:
                site_values.update(_with_thresholds(conn, site, current.previous_thresholds, actor))
            conn.execute(db.sites.update().where(s.id == site_id).values(**site_values))
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.MODEL_ROLLBACK,
                    actor,
                    site_id=site_id,
                    before={"version": current.version},
                    after={"version": restore},
                ),
            )
        return self.get(site_id, restore) if restore is not None else None

    def start_shadow(self, site_id: str, version: int, *, actor: str) -> SiteModel:
        """Score the site's comments with `version` in shadow too; audited.

        Conflict: the version cannot serve (not trained, or serving already), or another
        version is in shadow (at most one per site: stop it first).
        """
        s = db.sites.c
        with self.db.write() as conn:
            site = _trained(
                conn,
                site_id,
                version,
                "only a trained version that does not serve can run in shadow.",
            )
            current = site.shadow_model_version
            if current is not None and current != version:
                raise Conflict(
                    f"v{current} is in shadow; a site shadows one version at a time: stop it first."
                )
            if current is None:
                conn.execute(
                    db.sites.update().where(s.id == site_id).values(shadow_model_version=version)
                )
                AuditLog.append(
                    conn,
                    AuditEntry(
                        AuditAction.MODEL_SHADOW_START,
                        actor,
                        site_id=site_id,
                        before={"shadow_version": None},
                        after={"shadow_version": version},
                    ),
                )
        found = self.get(site_id, version)
        assert found is not None
        return found

    def stop_shadow(self, site_id: str, version: int, *, actor: str) -> None:
        """Stop scoring in shadow with `version` (Conflict: it is not in shadow); audited."""
        s = db.sites.c
        with self.db.write() as conn:
            site = conn.execute(db.sites.select().where(s.id == site_id).with_for_update()).one()
            if site.shadow_model_version != version:
                raise Conflict(f"v{version} is not in shadow.")
            conn.execute(db.sites.update().where(s.id == site_id).values(shadow_model_version=None))
            _shadow_stopped(conn, site_id, version, actor, "stopped")

    # -- the site's model settings ---------------------------------------------

    def settings(self, site_id: str) -> ModelSettings:
        """The site's stored model settings; the defaults when it has none."""
        c = db.site_model_settings.c
        with self.db.read() as conn:
            row = conn.execute(db.site_model_settings.select().where(c.site_id == site_id)).first()
        return _settings_from_row(row) if row is not None else ModelSettings()

    def set_settings(self, site_id: str, settings: ModelSettings, *, actor: str) -> None:
        """Store the site's model settings (one row per site); audited with before and after."""
        c = db.site_model_settings.c
        values = {**settings.as_dict(), "updated_at": utcnow()}
        with self.db.write() as conn:
            # The site's row locked: two changes at once are applied one after the other.
            conn.execute(db.sites.select().where(db.sites.c.id == site_id).with_for_update())
            row = conn.execute(db.site_model_settings.select().where(c.site_id == site_id)).first()
            before = _settings_from_row(row) if row is not None else ModelSettings()
            if row is None:
                conn.execute(db.site_model_settings.insert().values(site_id=site_id, **values))
            else:
                conn.execute(
                    db.site_model_settings.update().where(c.site_id == site_id).values(**values)
                )
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.MODEL_SETTINGS,
                    actor,
                    site_id=site_id,
                    before=before.as_dict(),
                    after=settings.as_dict(),
                ),
            )

    def retraining(self) -> dict[str, ModelSettings]:
        """The settings of every site that retrains on new labels, by site id."""
        c = db.site_model_settings.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.site_model_settings.select().where(c.retrain_after_labels.is_not(None))
            ).all()
        return {r.site_id: _settings_from_row(r) for r in rows}


def _settings_from_row(row: Any) -> ModelSettings:
    return ModelSettings(
        auto_promote=bool(row.auto_promote), retrain_after_labels=row.retrain_after_labels
    )
