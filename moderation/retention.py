"""Retention: nothing is kept longer than it should be.

Per site, with installation-wide defaults:

- `comment_text_days`: a decided comment's text (approved or rejected; held ones wait
  for a moderator) is removed that many days after its decision (after it was posted,
  for comments approved on arrival), with its author's name, e-mail hash and address,
  its sentence spans and the moderators' notes on it, here and in the audit. What
  was decided, the scores and the author's id stay: the site's statistics and the
  tuning of its thresholds still count the comment. Labels sent with
  SuggestCommentScore (`feedback`) are deleted after the same time.
- `webhook_days`: webhook events delivered that many days ago, and events given up
  on (every attempt failed) that were made that long ago, are deleted with their
  delivery attempts.

`None` keeps for ever. The job runs in every worker's background thread (each run
is idempotent, so workers never conflict) and from `flask --app api retention run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from moderation.audit import Actor, AuditAction, AuditEntry

if TYPE_CHECKING:
    from moderation.repositories import Repositories
    from moderation.sites import Site

DEFAULT_COMMENT_TEXT_DAYS = 365
DEFAULT_WEBHOOK_DAYS = 30


@dataclass(frozen=True)
class Retention:
    """How long a site keeps what it no longer needs, in days (None: for ever)."""

    comment_text_days: int | None = DEFAULT_COMMENT_TEXT_DAYS
    webhook_days: int | None = DEFAULT_WEBHOOK_DAYS

    def as_dict(self) -> dict[str, int | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def merged(self, overrides: Mapping[str, Any] | None) -> Retention:
        """This policy with a site's own settings in place of the defaults they name."""
        names = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in (overrides or {}).items() if k in names})


@dataclass(frozen=True)
class RetentionRun:
    """What one run removed from one site."""

    site_id: str
    comment_texts: int = 0
    labels: int = 0
    webhook_events: int = 0
    webhook_attempts: int = 0

    @property
    def removed_anything(self) -> bool:
        return any((self.comment_texts, self.labels, self.webhook_events, self.webhook_attempts))

    def as_dict(self) -> dict[str, int]:
        return {
            "comment_texts": self.comment_texts,
            "labels": self.labels,
            "webhook_events": self.webhook_events,
            "webhook_attempts": self.webhook_attempts,
        }


class RetentionJob:
    """Remove, site by site, what each site's retention policy no longer keeps."""

    def __init__(
        self,
        repos: Repositories,
        defaults: Retention,
        max_webhook_attempts: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.repos = repos
        self.defaults = defaults
        self.max_webhook_attempts = max_webhook_attempts
        self.clock = clock

    def policy(self, site: Site) -> Retention:
        """The retention a site runs under: its own settings over the defaults."""
        return self.defaults.merged(site.retention)

    def run(self, sites: list[Site] | None = None) -> list[RetentionRun]:
        """One pass over the given sites (all of them by default); audited where it removed something."""
        now = self.clock()
        runs = []
        for site in sites if sites is not None else self.repos.sites.all():
            policy = self.policy(site)
            run = RetentionRun(site.id)
            if policy.comment_text_days is not None:
                cutoff = now - timedelta(days=policy.comment_text_days)
                run = replace(
                    run,
                    comment_texts=self.repos.comments.redact_decided(site.id, cutoff, now),
                    labels=self.repos.labels.delete_before(site.id, cutoff),
                )
            if policy.webhook_days is not None:
                cutoff = now - timedelta(days=policy.webhook_days)
                events, attempts = self.repos.outbox.delete_finished(
                    site.id, cutoff, self.max_webhook_attempts
                )
                run = replace(run, webhook_events=events, webhook_attempts=attempts)
            if run.removed_anything:
                self.repos.audit.record(
                    AuditEntry(
                        AuditAction.RETENTION_RUN,
                        Actor.SYSTEM,
                        site_id=site.id,
                        after={**run.as_dict(), "policy": policy.as_dict()},
                    )
                )
            runs.append(run)
        return runs
