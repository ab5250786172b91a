"""/demo: an article page whose comment form goes through a tiny "site backend" to the service.

The backend plays the part of a real site's server for a site named "demo" (made
on first use, or by `scripts/serve.sh`, which prints its API key once). It runs
inside the service, so it submits comments for that site directly: it needs no
API key, and none is kept for it (a key file would be a secret in plain text,
where every other key exists only as a hash).
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from api.services import services
from api.web import present
from api.web.common import blueprint
from moderation.audit import Actor
from moderation.comments import Article, Author, NewComment, Status, StoredComment
from moderation.errors import Conflict, DomainError, NotFound
from moderation.reports import NewReport, ReportReason
from moderation.repositories import Repositories
from moderation.sites import Site
from moderation.text import is_blank

bp = blueprint("web_demo")

SITE_NAME = "demo"
ARTICLE_ID = "river-market"
ARTICLE_TITLE = "The night the river market moved uphill"
MINE = "demo_mine"  # session key: ids of this visitor's comments, newest last
VISITOR = "demo_visitor"  # session key: this browser's reader id, for its reports


def demo_site() -> Site:
    """The demo site, made on first use (its first API key, unseen, lives only as a hash)."""
    site = services().store.sites.get(SITE_NAME)
    if site is None:
        with contextlib.suppress(Conflict):  # another worker made it a moment ago
            site, _ = services().store.sites.create(SITE_NAME)
        site = site or services().store.sites.get(SITE_NAME)
    assert site is not None
    return site


def retire_plain_key(store: Repositories, path: Path) -> None:
    """Revoke and delete the plain-text demo key file that earlier versions kept."""
    if not path.exists():
        return
    key = path.read_text().strip()
    key_id = store.sites.key_id(key) if key else None
    if key_id is not None:
        store.sites.revoke_key(key_id, actor=Actor.DEMO)
    path.unlink(missing_ok=True)


def _written(text: str) -> None:
    if is_blank(text):
        raise ma.ValidationError("Write something first.")


class DemoCommentSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # the CSRF token travels in the same form

    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=80))
    text = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(max=2000, error="Keep it under 2,000 characters."),
            _written,
        ],
        error_messages={"required": "Write something first."},
    )


def reader(name: str) -> Author:
    """The comment's author as a site without accounts knows them: by the name they typed.

    Two readers who type different names are two authors (each with their own history in
    the queue), whichever browser they use; no name, no identity, so no history.
    """
    shown = " ".join(name.split())
    if not shown:
        return Author(name="Anonymous reader")
    return Author(id=f"demo-reader:{shown.casefold()}", name=shown)


def _mine(site: Site) -> list[StoredComment]:
    out = []
    for comment_id in session.get(MINE, []):
        try:
            out.append(services().service.get(site, comment_id))
        except NotFound:
            continue
    return out


def _page(site: Site, errors: Any, form: Any) -> str:
    """The article with its published comments and this visitor's comments in review."""
    published = services().store.comments.published(site.id, ARTICLE_ID)
    waiting = [c for c in _mine(site) if c.status is not Status.APPROVED]
    return render_template(
        "web/demo.html",
        title=ARTICLE_TITLE,
        published=published,
        waiting=waiting,
        errors=errors,
        form=form,
        report_reasons={r.value: present.REPORT_LABELS[r.value] for r in ReportReason},
    )


@bp.get("/demo")
def article() -> ResponseReturnValue:
    """The article, its published comments, and this visitor's own comments still in review."""
    return _page(demo_site(), errors={}, form={})


@bp.post("/demo/comments")
def post_comment() -> ResponseReturnValue:
    """Submit the reader's comment to the service, as the site's backend would."""
    site = demo_site()
    try:
        form = DemoCommentSchema().load(request.form)
    except ma.ValidationError as exc:
        return _page(site, errors=exc.messages, form=request.form), 422
    result = services().service.submit(
        site,
        NewComment(
            text=form["text"],
            author=reader(form["name"]),
            article=Article(
                id=ARTICLE_ID, url=url_for("web_demo.article", _external=True), title=ARTICLE_TITLE
            ),
        ),
    )
    c = result.comment
    session[MINE] = [*session.get(MINE, [])[-9:], c.id]
    if c.status is Status.APPROVED:
        flash("The service approved your comment: it is published below.", "ok")
    elif c.status is Status.REJECTED:
        why = "; ".join(present.reason_text(r) for r in c.reasons)
        flash(f"The service rejected your comment ({why}).", "error")
    else:
        why = "; ".join(present.reason_text(r) for r in c.reasons)
        flash(f"The service held your comment for review ({why}).", "held")
    return redirect(url_for("web_demo.article") + "#comments")


@bp.post("/demo/comments/<string:comment_id>/report")
def report(comment_id: str) -> ResponseReturnValue:
    """Relay this visitor's report to the service, as the site's backend would."""
    site = demo_site()
    reason = request.form.get("reason", "")
    if reason not in {r.value for r in ReportReason}:
        flash("Choose why you report it.", "error")
        return redirect(url_for("web_demo.article") + "#comments")
    visitor = session.get(VISITOR)
    if not isinstance(visitor, str):
        visitor = session[VISITOR] = secrets.token_urlsafe(12)
    try:
        services().service.report(
            site, comment_id, NewReport(f"demo-visitor:{visitor}", ReportReason(reason))
        )
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("Thanks: the moderators will see your report.", "ok")
    return redirect(url_for("web_demo.article") + "#comments")
