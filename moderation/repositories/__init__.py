"""Persistence, one repository per aggregate; they take and return the domain's dataclasses.

Only this package knows table and column names (`moderation.db`). Each public
method is one transaction; a method that writes several tables (a comment with its
audit entry and webhook event) writes them together or not at all.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from moderation.policy import Policy
from moderation.repositories.audit import AuditLog
from moderation.repositories.authors import AuthorData
from moderation.repositories.backfills import BackfillRepository
from moderation.repositories.backlog import BacklogCounts
from moderation.repositories.base import Database
from moderation.repositories.comments import CommentRepository
from moderation.repositories.integrations import CoralPhases
from moderation.repositories.labels import LabelRepository
from moderation.repositories.model_shadow import ModelShadowScores
from moderation.repositories.outbox import Outbox
from moderation.repositories.policies import PolicyRepository, StalePolicy
from moderation.repositories.reports import ReportRepository
from moderation.repositories.schedule import Schedule
from moderation.repositories.site_models import SiteModelRepository
from moderation.repositories.sites import SiteRepository
from moderation.repositories.standing import AuthorActions
from moderation.repositories.users import UserRepository


class Repositories:
    """The repositories over one database, as the service layer gets them."""

    def __init__(self, engine: Engine, default_policy: Policy) -> None:
        self.db = Database(engine)
        self.default_policy = default_policy
        self.audit = AuditLog(self.db)
        self.outbox = Outbox(self.db)
        self.comments = CommentRepository(self.db)
        self.sites = SiteRepository(self.db, default_policy)
        self.policies = PolicyRepository(self.db, self.sites)
        self.users = UserRepository(self.db)
        self.labels = LabelRepository(self.db)
        self.authors = AuthorData(self.db)
        self.reports = ReportRepository(self.db)
        self.author_actions = AuthorActions(self.db)
        self.coral = CoralPhases(self.db)
        self.schedule = Schedule(self.db)
        self.backfills = BackfillRepository(self.db)
        self.backlog = BacklogCounts(self.db)
        self.site_models = SiteModelRepository(self.db)
        self.model_shadow = ModelShadowScores(self.db)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        self.db.ping()


__all__ = [
    "AuditLog",
    "AuthorActions",
    "AuthorData",
    "BackfillRepository",
    "BacklogCounts",
    "CommentRepository",
    "CoralPhases",
    "Database",
    "LabelRepository",
    "ModelShadowScores",
    "Outbox",
    "PolicyRepository",
    "ReportRepository",
    "Repositories",
    "Schedule",
    "SiteModelRepository",
    "SiteRepository",
    "StalePolicy",
    "UserRepository",
]
