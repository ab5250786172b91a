"""/demo: an article page whose comment form goes through a tiny "site backend" to the service.

The backend plays the part of a real site's server: it holds a site API key (for a site
named "demo", made on first use) and submits each comment with it. The key lives in the
instance folder, readable only by the service, so every worker uses the same one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, cast

import marshmallow as ma
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from api.web import present
from api.web.common import blueprint, store
from moderation.comments import Article, Author, NewComment, Status, StoredComment
from moderation.service import ModerationService, NotFound
from moderation.sites import Site
from moderation.store import Conflict, SqlStore
from moderation.text import is_blank

bp = blueprint("web_demo")

SITE_NAME = "demo"
ARTICLE_ID = "river-market"
ARTICLE_TITLE = "The night the river market moved uphill"
MINE = "demo_mine"  # session key: ids of this visitor's comments, newest last


class DemoSite:
    """The demo site's backend: finds or makes the site and an API key, and submits comments."""

    def __init__(self, store: SqlStore, key_path: Path) -> None:
        self.store = store
        self.key_path = key_path
        self._key: str | None = None
        self._lock = threading.Lock()

    def _valid(self, key: str | None) -> Site | None:
        site = self.store.site_for_key(key) if key else None
        return site if site is not None and site.name == SITE_NAME else None

    def site(self) -> Site:
        """The demo site, authenticated with its API key as any site backend would be."""
        with self._lock:
            site = self._valid(self._key)
            if site is not None:
                return site
            saved = self.key_path.read_text().strip() if self.key_path.exists() else None
            site = self._valid(saved)
            if site is not None:
                self._key = saved
                return site
            self._key = self._new_key()
            site = self._valid(self._key)
            assert site is not None
            return site

    def _new_key(self) -> str:
        existing = self.store.get_site(SITE_NAME)
        key: str | None = None
        if existing is None:
            try:
                _, key = self.store.create_site(SITE_NAME)
            except Conflict:  # another worker made it a moment ago
                existing = self.store.get_site(SITE_NAME)
        if key is None:
            assert existing is not None
            _, key = self.store.create_api_key(existing.id, actor="demo")
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.key_path.with_suffix(f".{os.getpid()}")
        tmp.write_text(key)
        tmp.chmod(0o600)
        os.replace(tmp, self.key_path)
        return key


def demo_site() -> DemoSite:
    ext = current_app.extensions
    if "web.demo" not in ext:
        ext["web.demo"] = DemoSite(store(), ext["web.demo_key_path"])
    return cast(DemoSite, ext["web.demo"])


def service() -> ModerationService:
    return cast(ModerationService, current_app.extensions["moderation.service"])


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
            out.append(service().get(site, comment_id))
        except NotFound:
            continue
    return out


def _page(site: Site, errors: Any, form: Any) -> str:
    """The article with its published comments and this visitor's comments in review."""
    published = store().published_comments(site.id, ARTICLE_ID)
    waiting = [c for c in _mine(site) if c.status is not Status.APPROVED]
    return render_template(
        "web/demo.html",
        title=ARTICLE_TITLE,
        published=published,
        waiting=waiting,
        errors=errors,
        form=form,
    )


@bp.get("/demo")
def article() -> ResponseReturnValue:
    """The article, its published comments, and this visitor's own comments still in review."""
    return _page(demo_site().site(), errors={}, form={})


@bp.post("/demo/comments")
def post_comment() -> ResponseReturnValue:
    """Submit the reader's comment to the service, as the site's backend would."""
    site = demo_site().site()
    try:
        form = DemoCommentSchema().load(request.form)
    except ma.ValidationError as exc:
        return _page(site, errors=exc.messages, form=request.form), 422
    result = service().submit(
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
    else:
        why = "; ".join(present.reason_text(r) for r in c.reasons)
        flash(f"The service held your comment for review ({why}).", "held")
    return redirect(url_for("web_demo.article") + "#comments")
