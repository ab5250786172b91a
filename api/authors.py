"""Authors of a site: their standing (moderators), their data (operators).

Moderators read an author's record and ban, premoderate, trust or clear them. The
site's backend relays its readers' requests (GDPR articles 15 and 17, CCPA) through
an operator: export everything held, or erase it. `author_id` is the id the site sent
as `author.id`.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import site_for_user, user_required
from api.review_schemas import (
    AuthorActionInSchema,
    AuthorExportSchema,
    AuthorProfileSchema,
    ErasureSchema,
)
from api.services import services
from moderation.sites import Role
from moderation.standing import NewAuthorAction

blp = Blueprint(
    "authors",
    __name__,
    url_prefix="/v1/sites",
    description=(
        "Authors: their standing (moderator token), their data: export it, erase it "
        "(operator or admin token)."
    ),
)
MODERATORS = (Role.MODERATOR, Role.OPERATOR)
OPERATORS = (Role.OPERATOR,)


@blp.route("/<string:site>/authors/<string:author_id>/export")
class AuthorExport(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, AuthorExportSchema)
    def get(self, site: str, author_id: str) -> Any:
        """Everything stored about the author on this site, as JSON; audited."""
        return services().rights.export(site_for_user(g.user, site).id, author_id, actor=g.user.id)


@blp.route("/<string:site>/authors/<string:author_id>")
class Author(MethodView):
    # Each method its own roles: moderators act on authors, only operators erase them.

    @user_required(*MODERATORS)
    @blp.response(200, AuthorProfileSchema)
    def get(self, site: str, author_id: str) -> Any:
        """The author on this site: the action in force, every action taken, their comments."""
        return services().standings.profile(site_for_user(g.user, site).id, author_id)

    @user_required(*MODERATORS)
    @blp.arguments(AuthorActionInSchema())
    @blp.response(200, AuthorProfileSchema)
    def put(self, action: NewAuthorAction, site: str, author_id: str) -> Any:
        """Ban (new comments rejected), premoderate (all held), trust (held only when severe),
        or clear; with a note and an optional expiry. Audited."""
        site_id = site_for_user(g.user, site).id
        return services().standings.act(site_id, author_id, action, actor=g.user.id)

    @user_required(*OPERATORS)
    @blp.response(200, ErasureSchema)
    def delete(self, site: str, author_id: str) -> Any:
        """Erase the author's comments, names, e-mail hashes and addresses everywhere; audited.

        Decisions stay in the audit trail (who decided what), without notes or text.
        Erasing again erases nothing more and answers the same way.
        """
        return services().rights.erase(site_for_user(g.user, site).id, author_id, actor=g.user.id)
