"""The app's domain services, built once by create_app() and reached through one typed accessor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import Flask, current_app

from moderation.backfill import Backfill
from moderation.privacy import ReadersRights
from moderation.repositories import Repositories
from moderation.retention import RetentionJob
from moderation.review import Review
from moderation.scoring import GuardedScorer
from moderation.service import ModerationService
from moderation.site_models import SiteModels
from moderation.standing import AuthorStandings
from moderation.throttle import SignInThrottle
from moderation.tuning import HeldUnder
from moderation.webhooks import Deliverer

_EXTENSION = "moderation.services"


@dataclass(frozen=True)
class Services:
    """Everything a view, a command or a background job calls into, for one app."""

    store: Repositories
    scorer: GuardedScorer
    service: ModerationService
    review: Review
    deliverer: Deliverer
    rights: ReadersRights
    retention: RetentionJob
    signin_throttle: SignInThrottle
    held_under: HeldUnder  # the live policy's verdicts, kept for the settings page
    standings: AuthorStandings  # moderators' actions on authors
    backfill: Backfill  # re-scores of stored comments (`rescore --all`)
    site_models: SiteModels  # sites' adapted models: labels, training, promotion


def install(app: Flask, built: Services) -> None:
    """Make `built` the app's services (create_app calls this once)."""
    app.extensions[_EXTENSION] = built


def services(app: Flask | None = None) -> Services:
    """The services of `app`, or of the app handling the current request or command."""
    return cast(Services, (app if app is not None else current_app).extensions[_EXTENSION])
