"""A reader's data on a site (operator or admin token): export everything held, or erase it.

The site's backend relays its readers' requests (GDPR articles 15 and 17, CCPA):
`author_id` is the id the site sent as `author.id`.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import site_for_user, user_required
from api.review_schemas import AuthorExportSchema, ErasureSchema
from api.services import services
from moderation.sites import Role

blp = Blueprint(
    "authors",
    __name__,
    url_prefix="/v1/sites",
    description="A reader's data: export it, erase it (operator or admin token).",
)
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
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, ErasureSchema)
    def delete(self, site: str, author_id: str) -> Any:
        """Erase the author's comments, names, e-mail hashes and addresses everywhere; audited.

        Decisions stay in the audit trail (who decided what), without notes or text.
        Erasing again erases nothing more and answers the same way.
        """
        return services().rights.erase(site_for_user(g.user, site).id, author_id, actor=g.user.id)
